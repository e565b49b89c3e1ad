/**
 * Judges a stitched capture against the generator's manifest with tshark and
 * Suricata: what every end-to-end suite (local folder, each cloud) asks of it.
 */
import { expect } from 'chai';
import type { FlowManifest, GenerateResult } from '../../stitcher/generator/generate.js';
import { captureProblems, exportedObjectHashes, tsharkFields, type TsharkOptions } from '../support/tshark.js';
import { haveSuricata, runSuricata } from '../support/suricata.js';

/** Warnings a correct capture may carry: the RST of a flow the gateway saw reset, the loss of a flow with a GAP. */
function expectedWarning(message: string, flow: FlowManifest | undefined): boolean {
  if (flow === undefined) return false;
  if (message.includes('Connection reset (RST)')) return flow.close.startsWith('rst');
  if (flow.gaps.length > 0) return /previous segment\(s\) not captured|ACKed segment that wasn't captured|Retransmission|out-of-order/i.test(message);
  return false;
}

/** Flow of a frame by its client endpoint as the manifest writes it (`10.0.0.1:5000` or `[fd00::1]:5000`). */
function endpointIndex(result: GenerateResult): Map<string, FlowManifest> {
  const byEndpoint = new Map<string, FlowManifest>();
  for (const flow of result.flows) {
    byEndpoint.set(flow.client, flow);
  }
  return byEndpoint;
}

/** The innermost address and port (an encapsulated frame lists the outer ones first). */
function endpoint(ip4: string, ip6: string, port: string): string {
  const inner = (value: string): string => value.split(',').at(-1) ?? '';
  return ip6 !== '' ? `[${inner(ip6)}]:${inner(port)}` : `${inner(ip4)}:${inner(port)}`;
}

/** No malformed frame, no bad checksum, no expert warning but those the manifest explains. */
export async function expectCleanCapture(file: string, result: GenerateResult, options: TsharkOptions = {}): Promise<void> {
  const problems = await captureProblems(file, options);
  if (problems.length === 0) return;
  const rows = await tsharkFields(file, `frame.number in {${problems.map((p) => p.frame).join(',')}}`,
    ['frame.number', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport'], options);
  const flows = endpointIndex(result);
  const unexplained = problems.filter((problem, i) => {
    const [, s4 = '', s6 = '', sp = '', d4 = '', d6 = '', dp = ''] = rows[i] ?? [];
    const flow = flows.get(endpoint(s4, s6, sp)) ?? flows.get(endpoint(d4, d6, dp));
    return !problem.messages.split(',').every((message) => expectedWarning(message, flow));
  });
  expect(unexplained.slice(0, 10), `${unexplained.length} frames with problems`).to.deep.equal([]);
}

/** Every HTTP/1 object served (plain and, when decrypted, over TLS) carved out byte for byte. */
export async function expectHttpObjects(file: string, result: GenerateResult, include: (flow: FlowManifest) => boolean, options: TsharkOptions = {}): Promise<void> {
  const expected = result.flows.filter((flow) => flow.protocol !== 'h2' && flow.gaps.length === 0 && include(flow))
    .flatMap((flow) => flow.objects.map((object) => object.sha256)).sort();
  expect(expected.length, 'the run served HTTP objects').to.be.greaterThan(0);
  expect(await exportedObjectHashes(file, 'http', options)).to.deep.equal(expected);
}

/** Per flow and direction, the TCP payload bytes in the capture equal what the gateway tapped. */
export async function expectBothDirections(file: string, result: GenerateResult, options: TsharkOptions = {}): Promise<void> {
  const rows = await tsharkFields(file, 'tcp.len > 0', ['ip.src', 'ipv6.src', 'tcp.srcport', 'tcp.len'], options);
  const bytesFrom = new Map<string, number>();
  for (const [s4 = '', s6 = '', port = '', len = '0'] of rows) {
    const key = endpoint(s4, s6, port);
    bytesFrom.set(key, (bytesFrom.get(key) ?? 0) + Number(len));
  }
  for (const flow of result.flows) {
    const lost = (dir: 'c2s' | 's2c'): number => flow.gaps.filter((g) => g.dir === dir).reduce((n, g) => n + g.length, 0);
    expect(bytesFrom.get(flow.client), `client bytes of flow ${flow.index} (${flow.client})`).to.equal(flow.bytesC2s - lost('c2s'));
  }
  const serverBytes = [...bytesFrom.entries()].filter(([key]) => !endpointIndex(result).has(key)).reduce((n, [, b]) => n + b, 0);
  const expectedServer = result.flows.reduce((n, f) => n + f.bytesS2c - f.gaps.filter((g) => g.dir === 's2c').reduce((m, g) => m + g.length, 0), 0);
  expect(serverBytes, 'server-to-client bytes of all flows').to.equal(expectedServer);
}

/** Suricata reassembles every flow with no gap or invalid packet, and hashes every plain-HTTP file exactly. */
export async function expectSuricataAgrees(file: string, result: GenerateResult): Promise<void> {
  if (!haveSuricata()) return;
  const report = await runSuricata(file);
  const plain = result.flows.filter((flow) => flow.protocol === 'http' && flow.gaps.length === 0);
  const expected = plain.flatMap((flow) => flow.objects.filter((o) => o.size > 0).map((object) => object.sha256)).sort();
  const seen = report.files.filter((f) => f.state === 'CLOSED').map((f) => f.sha256).sort();
  expect(seen, 'Suricata file hashes').to.deep.equal(expected);
  expect(report.counters.get('flow.tcp'), 'Suricata TCP flows').to.equal(result.flows.length);
  expect(report.counters.get('tcp.reassembly_gap'), 'Suricata reassembly gaps').to.equal(result.flows.filter((f) => f.gaps.length > 0).length);
  expect(report.counters.get('decoder.invalid') ?? 0, 'Suricata invalid packets').to.equal(0);
  expect(report.anomalies.filter((a) => JSON.stringify(a).includes('"type":"decode"')), 'decode anomalies').to.deep.equal([]);
}
