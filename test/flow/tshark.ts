/** Test-only: run tshark on a capture and read its answers. */
import { execFileSync } from 'node:child_process';

const CHECKS = [
  '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.relative_sequence_numbers:TRUE',
  // The payloads are random bytes: judge TCP, not what an HTTP or TLS dissector makes of noise.
  '--disable-protocol', 'http', '--disable-protocol', 'tls',
];

export function tshark(file: string, args: readonly string[]): string {
  return execFileSync('tshark', ['-n', '-r', file, ...CHECKS, ...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** One row per packet with the named fields, split on tabs. */
export function fields(file: string, names: readonly string[], filter?: string): string[][] {
  const args = ['-T', 'fields', '-E', 'separator=/t', ...names.flatMap((name) => ['-e', name])];
  if (filter !== undefined) args.push('-Y', filter);
  return tshark(file, args).split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
}

/** The bytes of each direction of each TCP stream, by stream number, as `-z follow,tcp,raw` gives them back. */
export function followRaw(file: string, streams: readonly number[]): Map<number, { client: Buffer; server: Buffer }> {
  const output = tshark(file, ['-q', ...streams.flatMap((n) => ['-z', `follow,tcp,raw,${n}`])]);
  const result = new Map<number, { client: Buffer; server: Buffer }>();
  for (const section of output.split(/^=+$/m)) {
    const stream = /^Filter: tcp\.stream eq (\d+)$/m.exec(section);
    if (stream === null) continue;
    const client: Buffer[] = [];
    const server: Buffer[] = [];
    for (const line of section.split('\n')) {
      if (/^\t[0-9a-f]+$/.test(line)) server.push(Buffer.from(line.slice(1), 'hex'));
      else if (/^[0-9a-f]+$/.test(line)) client.push(Buffer.from(line, 'hex'));
    }
    result.set(Number(stream[1]), { client: Buffer.concat(client), server: Buffer.concat(server) });
  }
  return result;
}
