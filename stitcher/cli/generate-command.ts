/** `cloudtap generate`: a simulated gateway taps real HTTP and HTTPS sessions into CTAP objects. */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generateTraffic, type GenerateOptions, type GenerateResult } from '../generator/generate.js';
import { manifestToJson } from '../generator/manifest.js';
import { openStore } from '../store/open.js';
import { formatBytes, formatCount, Progress } from './progress.js';
import { parseCount, parseSize, UsageError } from './usage-error.js';

export const GENERATE_USAGE = `usage: cloudtap generate --output <url> [--flows N] [options]
  --output <url>         where traffic objects go: file:///abs/dir, s3://, gs://, azblob://
  --keys-output <url>    where key objects go (default: the output)
  --credentials <file>   credentials for the output store; --keys-credentials for the keys store
  --flows <n>            connections to run (default 20)
  --gateways <n>         gateways sharing them (default 2)
  --seed <text>          every choice repeats for a seed (default 1)
  --ipv6-share <0..1>    share of IPv6 flows (default 0.25)
  --https-share <0..1>   share of TLS flows (default 0.6)
  --openssl-share <0..1> share of HTTPS flows run with openssl s_client/s_server instead of Node's TLS (default 0)
  --object-size <size>   traffic object size before a new one starts (default 1M)
  --max-body <size>      largest HTTP body (default 4M)
  --total-bytes <size>   bulk mode for benchmarks: a few large transfers until this many bytes
  --shuffle              shuffle records inside each object
  --duplicates <0..1>    share of DATA records written twice
  --scatter <0..1>       share of DATA records written 1 to 3 objects later (before their flow's FLOW_CLOSE)
  --drop <n>             leave out n server-to-client DATA chunks without a GAP record (listed in the manifest)
  --manifest <file>      write what was served and tapped (JSON) there
  --quiet                no progress line`;

export async function generateCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      output: { type: 'string' }, 'keys-output': { type: 'string' }, credentials: { type: 'string' },
      'keys-credentials': { type: 'string' }, flows: { type: 'string' }, gateways: { type: 'string' },
      seed: { type: 'string' }, 'ipv6-share': { type: 'string' }, 'https-share': { type: 'string' }, 'openssl-share': { type: 'string' },
      'object-size': { type: 'string' }, 'max-body': { type: 'string' }, 'total-bytes': { type: 'string' },
      shuffle: { type: 'boolean' }, duplicates: { type: 'string' }, scatter: { type: 'string' }, drop: { type: 'string' }, manifest: { type: 'string' }, quiet: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.output === undefined) throw new UsageError('generate: --output <url> is required (e.g. file:///tmp/tap)');
  const traffic = await openStore(values.output, { credentialsFile: values.credentials, role: 'output' });
  const keys = values['keys-output'] === undefined
    ? undefined
    : await openStore(values['keys-output'], { credentialsFile: values['keys-credentials'], role: 'output' });
  const progress = new Progress(process.stderr, values.quiet !== true);
  const options: GenerateOptions = {
    traffic,
    ...(keys !== undefined ? { keys } : {}),
    flows: parseCount(values.flows ?? '20', '--flows', 1, 1_000_000),
    gateways: parseCount(values.gateways ?? '2', '--gateways', 1, 1000),
    seed: values.seed ?? 1,
    ...(values['ipv6-share'] !== undefined ? { ipv6Share: parseShare(values['ipv6-share'], '--ipv6-share') } : {}),
    ...(values['https-share'] !== undefined ? { httpsShare: parseShare(values['https-share'], '--https-share') } : {}),
    ...(values['openssl-share'] !== undefined ? { opensslShare: parseShare(values['openssl-share'], '--openssl-share') } : {}),
    ...(values['object-size'] !== undefined ? { objectBytes: parseSize(values['object-size'], '--object-size') } : {}),
    ...(values['max-body'] !== undefined ? { bodyBytes: parseSize(values['max-body'], '--max-body') } : {}),
    ...(values['total-bytes'] !== undefined ? { totalBytes: parseSize(values['total-bytes'], '--total-bytes') } : {}),
    ...(values.duplicates !== undefined ? { duplicateShare: parseShare(values.duplicates, '--duplicates') } : {}),
    ...(values.scatter !== undefined ? { scatterShare: parseShare(values.scatter, '--scatter') } : {}),
    ...(values.drop !== undefined ? { dropChunks: parseCount(values.drop, '--drop', 0, 1_000_000) } : {}),
    shuffle: values.shuffle === true,
    onProgress: (p) => progress.update(`generating: ${p.flowsDone}/${p.flowsTotal} flows, ${formatBytes(p.tappedBytes)} tapped, ${p.objectsWritten} objects`),
  };
  try {
    const result = await generateTraffic(options);
    progress.done();
    if (values.manifest !== undefined) await writeFile(values.manifest, manifestToJson(result));
    process.stdout.write(summary(result, values.output, values.manifest));
    return 0;
  } finally {
    await Promise.all([traffic.close?.(), keys?.close?.()]);
  }
}

function parseShare(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new UsageError(`${what}: '${text}' is not a share from 0 to 1`);
  return value;
}

function summary(result: GenerateResult, output: string, manifest: string | undefined): string {
  const tls = result.flows.filter((flow) => flow.tls !== undefined).length;
  const v6 = result.flows.filter((flow) => flow.ipVersion === 6).length;
  const lines = [
    `cloudtap generate: ${formatCount(result.flows.length)} flows (${tls} TLS, ${v6} IPv6) through ${result.gateways.length} gateways`,
    `  objects   ${formatCount(result.trafficObjects)} traffic, ${formatCount(result.keyObjects)} keys, ${formatBytes(result.objectBytes)} in ${output}`,
    `  tapped    ${formatCount(result.tappedBytes)} bytes`,
  ];
  if (manifest !== undefined) lines.push(`  manifest  ${manifest}`);
  return lines.join('\n') + '\n';
}
