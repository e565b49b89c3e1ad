/**
 * Suricata 7, a real NDR engine, as the strictest judge of an exported capture:
 * it must reassemble every TCP flow without gaps or invalid packets and hash
 * every plain-HTTP file it sees.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath, runOk } from './run.js';

export function haveSuricata(): boolean {
  return onPath('suricata');
}

export interface SuricataFile {
  readonly sha256: string;
  readonly size: number;
  readonly state: string;
  readonly url?: string;
}

export interface SuricataReport {
  readonly files: SuricataFile[];
  /** The last `stats` record's counters, flattened with dots (`tcp.reassembly_gap`). */
  readonly counters: Map<string, number>;
  readonly anomalies: Record<string, unknown>[];
  readonly flows: Record<string, unknown>[];
}

function config(logDir: string, extra: string): string {
  return `%YAML 1.1
---
default-log-dir: ${logDir}
stats:
  enabled: yes
  interval: 100000
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - files:
            force-hash: [sha256]
        - anomaly:
            enabled: yes
        - flow
        - stats:
            totals: yes
            threads: no
            deltas: no
app-layer:
  protocols:
    http:
      enabled: yes
      libhtp:
        default-config:
          personality: IDS
          request-body-limit: 0
          response-body-limit: 0
    tls:
      enabled: yes
      detection-ports:
        dp: 443
    http2:
      enabled: yes
stream:
  memcap: 1gb
  checksum-validation: yes
  reassembly:
    memcap: 2gb
    depth: 0
flow:
  memcap: 512mb
${extra}`;
}

/** Runs Suricata over a capture file with no rules and reads back its eve.json. */
export async function runSuricata(capture: string, extraYaml = ''): Promise<SuricataReport> {
  const dir = await mkdtemp(join(tmpdir(), 'cloudtap-suricata-'));
  const configFile = join(dir, 'suricata.yaml');
  await writeFile(configFile, config(dir, extraYaml));
  await writeFile(join(dir, 'empty.rules'), '');
  await runOk('suricata', ['-c', configFile, '-r', capture, '-k', 'none', '-l', dir, '-S', join(dir, 'empty.rules'), '--runmode', 'single'], { timeoutMs: 600_000 });
  const events = (await readFile(join(dir, 'eve.json'), 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const files: SuricataFile[] = [];
  const anomalies: Record<string, unknown>[] = [];
  const flows: Record<string, unknown>[] = [];
  let counters = new Map<string, number>();
  for (const event of events) {
    if (event.event_type === 'fileinfo') {
      const info = event.fileinfo as { sha256: string; size: number; state: string };
      const http = event.http as { url?: string } | undefined;
      files.push({ sha256: info.sha256, size: info.size, state: info.state, ...(http?.url !== undefined ? { url: http.url } : {}) });
    } else if (event.event_type === 'anomaly') {
      anomalies.push(event);
    } else if (event.event_type === 'flow') {
      flows.push(event);
    } else if (event.event_type === 'stats') {
      counters = flatten(event.stats as Record<string, unknown>);
    }
  }
  return { files, counters, anomalies, flows };
}

function flatten(object: Record<string, unknown>, prefix = '', into = new Map<string, number>()): Map<string, number> {
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === 'number') into.set(prefix + key, value);
    else if (typeof value === 'object' && value !== null) flatten(value as Record<string, unknown>, `${prefix}${key}.`, into);
  }
  return into;
}
