/** Free TCP ports for servers the tests start. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The kernel's ephemeral range: where bind(0) and outgoing connections take their ports from. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && low > 0) return [low, high];
  } catch {
    // not Linux: the IANA range
  }
  return [49152, 65535];
}

const handedOut = new Set<number>();

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port free on every address now, chosen below the kernel's ephemeral
 * range, so no other socket's bind(0) or outgoing connection takes it before
 * the caller binds it (a port from bind(0) is free only until then).
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow - 1);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await bindable(port, '0.0.0.0') && await bindable(port, '127.0.0.1')) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port from ${low} to ${high} after 200 tries`);
}
