/**
 * `openWireOutput(url)`: an `--output` URL for a wire target in, a ready sink
 * out (host resolved, listener bound, first connection tried), with pacing in
 * front when `pace=realtime` or `rate=` asks for it.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { createGeneveSink } from './geneve.js';
import { encapsulationOf, encapsulationOverhead } from './mtu.js';
import { pacedSink } from './pacing.js';
import { connectPcapOverIp, listenPcapOverIp } from './pcap-over-ip.js';
import { createVxlanSink } from './vxlan.js';
import type { WireSink } from './wire-sink.js';
import type { WireUrl } from './wire-url.js';
import { parseWireUrl } from './wire-url.js';

const ethernetHeaderLength = 14;

/**
 * Opens the sink an `--output` URL names (see wire-url.ts for the parameters).
 * @throws Error `output <url>: <parameter>: <what is wrong>` for a bad URL, or
 *   `output <url>: resolving <host>: ...` / `listening on ...` when it cannot start
 */
export async function openWireOutput(url: string): Promise<WireSink> {
  const wire = parseWireUrl(url);
  const description = redactedDescription(wire.url);
  if (wire.kind === 'pcap-over-ip') {
    const sink = await openPcapOverIp(wire, description);
    return pacedSink(sink, { pace: wire.pace, rateMbps: wire.rateMbps, queuePackets: wire.queuePackets });
  }
  const { address, family } = await resolve(wire);
  const tunnel = {
    address,
    family,
    port: wire.port,
    sourcePorts: wire.sourcePorts,
    queuePackets: wire.queuePackets,
    vni: wire.vni,
    mtu: wire.mtu,
    description,
  };
  const sink = wire.kind === 'vxlan' ? createVxlanSink(tunnel) : createGeneveSink({ ...tunnel, inner: wire.inner, options: wire.options });
  await sink.open?.();
  // The rate counts outer bytes: what the tunnel adds, less the inner Ethernet header the frame already has.
  const overheadBytes = encapsulationOverhead(encapsulationOf(wire), family) - ethernetHeaderLength;
  return pacedSink(sink, { pace: wire.pace, rateMbps: wire.rateMbps, overheadBytes, queuePackets: wire.queuePackets });
}

async function openPcapOverIp(wire: WireUrl, description: string): Promise<WireSink> {
  const options = { host: wire.host, port: wire.port, description, mtu: wire.mtu };
  if (!wire.listen) {
    // A name that does not resolve is a wrong URL, not a peer that is down: fail at start
    // instead of dropping every packet. Reconnections resolve again (the peer may move).
    await resolve(wire);
    return connectPcapOverIp(options);
  }
  try {
    return await listenPcapOverIp(options);
  } catch (error) {
    throw new Error(`output ${wire.url}: ${(error as Error).message}`, { cause: error });
  }
}

/** Resolves the peer once: every datagram then goes to one address. */
async function resolve(wire: WireUrl): Promise<{ address: string; family: 4 | 6 }> {
  const literal = isIP(wire.host);
  if (literal !== 0) return { address: wire.host, family: literal as 4 | 6 };
  try {
    const found = await lookup(wire.host);
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (error) {
    throw new Error(`output ${wire.url}: resolving ${wire.host}: ${(error as Error).message}`, { cause: error });
  }
}

/** URLs carry no secrets today; drop any user:password anyway before it reaches logs. */
function redactedDescription(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
