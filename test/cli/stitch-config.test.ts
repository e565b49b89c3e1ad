/**
 * The stitch command's settings: defaults, flags over the config file the operator
 * mounts, the environment the operator sets, and a clear error naming the setting at fault.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveStitchConfig, type StitchFlags } from '../../stitcher/cli/stitch-config.js';
import { UsageError } from '../../stitcher/cli/usage-error.js';
import type { StitcherConfigFile } from '../../contract/stitcher-config.js';

const REQUIRED: StitchFlags = { source: 'file:///data/tap', output: ['pcapng:///tmp/out.pcapng'] };

describe('cli/stitch-config', () => {
  let folder: string;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'cloudtap-stitch-config-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  const configFile = (name: string, content: StitcherConfigFile | string): string => {
    const path = join(folder, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  it('fills every default when only the source and an output are given', () => {
    const config = resolveStitchConfig(REQUIRED, {});
    expect(config).to.deep.include({
      source: 'file:///data/tap', outputs: ['pcapng:///tmp/out.pcapng'], once: false, quiet: false, logLevel: 'info',
      pollIntervalMs: 10_000, keyWaitMs: 30_000, cleartextPorts: '443:80', shard: { index: 0, count: 1 },
      reorderWaitMs: 300_000, flowIdleMs: 3_600_000, reorderWindowMs: 30_000, checkpointIntervalMs: 10_000,
      leaseDurationSeconds: 15, select: [], hours: { kind: 'look-back', ms: 3 * 3_600_000 },
    });
    expect(config).to.deep.include({ checkpoint: undefined, metricsPort: undefined, maxTotalBufferBytes: undefined, keysCredentials: undefined });
  });

  it('requires a source and an output, naming the flag', () => {
    expect(() => resolveStitchConfig({ output: REQUIRED.output }, {})).to.throw(UsageError, '--source <url> is required');
    expect(() => resolveStitchConfig({ source: REQUIRED.source }, {})).to.throw(UsageError, 'at least one --output <url> is required');
    expect(() => resolveStitchConfig({ ...REQUIRED, output: [] }, {})).to.throw(UsageError, '--output');
  });

  it('takes the config file where a flag is absent, and the flag where both say something', () => {
    const path = configFile('both.json', {
      source: 'file:///from/file', outputs: ['pcap:///file.pcap'], pollInterval: '1m', logLevel: 'debug', metricsPort: 9090,
      keyWait: '5s', maxBuffer: '200M', leaseDuration: '30s', checkpoint: 'configmap://tap/my-tap',
      select: { users: ['alice', 'bob'], ports: [443], subnets: [] },
    });
    const fromFile = resolveStitchConfig({ config: path }, {});
    expect(fromFile).to.deep.include({
      source: 'file:///from/file', outputs: ['pcap:///file.pcap'], pollIntervalMs: 60_000, logLevel: 'debug', metricsPort: 9090,
      keyWaitMs: 5000, maxTotalBufferBytes: 200 * 1024 * 1024, leaseDurationSeconds: 30, checkpoint: 'configmap://tap/my-tap',
      select: ['user=alice,bob', 'port=443'],
    });
    const flagsWin = resolveStitchConfig({ config: path, source: 'file:///from/flag', 'poll-interval': '2s', 'metrics-port': '9100', select: ['port=80'] }, {});
    expect(flagsWin).to.deep.include({ source: 'file:///from/flag', outputs: ['pcap:///file.pcap'], pollIntervalMs: 2000, metricsPort: 9100, select: ['port=80'] });
  });

  it('says which config file is at fault: unreadable, not JSON, or a key of the wrong kind', () => {
    const missing = join(folder, 'absent.json');
    expect(() => resolveStitchConfig({ config: missing }, {})).to.throw(UsageError, `cannot read --config ${missing}: ENOENT`);
    const broken = configFile('broken.json', '{"source": ');
    expect(() => resolveStitchConfig({ config: broken }, {})).to.throw(UsageError, `--config ${broken} is not valid JSON`);
    const wrongKind = configFile('wrong-kind.json', '{"source": "file:///x", "outputs": ["pcap:///x.pcap"], "metricsPort": "9090"}');
    expect(() => resolveStitchConfig({ config: wrongKind }, {})).to.throw(UsageError, `--config ${wrongKind}`);
  });

  it('takes SHARD_MODULUS, as the operator sets it, as the count of a power-of-two layout, and refuses one that is not', () => {
    expect(resolveStitchConfig(REQUIRED, { SHARD_INDEX: '0', SHARD_MODULUS: '4' }).shard).to.deep.equal({ index: 0, count: 4 });
    expect(resolveStitchConfig({ ...REQUIRED, 'shard-index': '1', 'shard-count': '3' }, { SHARD_INDEX: '0', SHARD_MODULUS: '4' }).shard).to.deep.equal({ index: 1, count: 3 });
    expect(() => resolveStitchConfig(REQUIRED, { SHARD_INDEX: '1', SHARD_MODULUS: '3' })).to.throw(UsageError, 'SHARD_MODULUS: shard modulus 3 is not a power of two');
  });

  it('takes the shard from the flags, else from SHARD_INDEX and SHARD_COUNT, and only both together', () => {
    expect(resolveStitchConfig(REQUIRED, { SHARD_INDEX: '2', SHARD_COUNT: '4' }).shard).to.deep.equal({ index: 2, count: 4 });
    expect(resolveStitchConfig({ ...REQUIRED, 'shard-index': '1', 'shard-count': '3' }, { SHARD_INDEX: '2', SHARD_COUNT: '4' }).shard).to.deep.equal({ index: 1, count: 3 });
    expect(() => resolveStitchConfig({ ...REQUIRED, 'shard-index': '1' }, {})).to.throw(UsageError, '--shard-index and --shard-count go together');
    expect(() => resolveStitchConfig(REQUIRED, { SHARD_COUNT: '2' })).to.throw(UsageError, 'go together');
    expect(() => resolveStitchConfig(REQUIRED, { SHARD_INDEX: '4', SHARD_COUNT: '4' })).to.throw(UsageError, "--shard-index: '4' is not a whole number from 0 to 3");
  });

  it('lists every hour for a one-off run, a range for --from/--to, and a look-back window otherwise', () => {
    expect(resolveStitchConfig({ ...REQUIRED, once: true }, {}).hours).to.deep.equal({ kind: 'all' });
    expect(resolveStitchConfig({ ...REQUIRED, once: true, 'look-back': '2h' }, {}).hours).to.deep.equal({ kind: 'look-back', ms: 7_200_000 });
    const range = resolveStitchConfig({ ...REQUIRED, from: '2026-11-25T14:00Z', to: '2026-11-25T16:00Z' }, {}).hours;
    expect(range).to.deep.equal({ kind: 'range', from: new Date('2026-11-25T14:00Z'), to: new Date('2026-11-25T16:00Z') });
    expect(() => resolveStitchConfig({ ...REQUIRED, from: '2026-11-25T16:00Z', to: '2026-11-25T14:00Z' }, {})).to.throw(UsageError, 'is before --from');
    expect(() => resolveStitchConfig({ ...REQUIRED, from: 'yesterday' }, {})).to.throw(UsageError, "--from 'yesterday' is not a time");
  });

  it('uses the traffic credentials for keys in the same kind of store, and none for keys elsewhere', () => {
    const s3 = { source: 's3://traffic/tap', output: REQUIRED.output, credentials: '/creds/aws.json' };
    expect(resolveStitchConfig({ ...s3, keys: 's3://keys/tap' }, {}).keysCredentials).to.equal('/creds/aws.json');
    expect(resolveStitchConfig({ ...s3, keys: 'gs://keys/tap' }, {}).keysCredentials).to.equal(undefined);
    expect(resolveStitchConfig({ ...s3, keys: 'gs://keys/tap', 'keys-credentials': '/creds/gcp.json' }, {}).keysCredentials).to.equal('/creds/gcp.json');
  });

  it('refuses values it cannot use, naming the flag and the value', () => {
    const refused: [StitchFlags, string][] = [
      [{ 'log-level': 'loud' }, "--log-level 'loud' is not one of"],
      [{ 'poll-interval': 'often' }, "--poll-interval: 'often' is not a duration"],
      [{ 'flow-idle-timeout': '0s' }, "--flow-idle-timeout: '0s' must be longer than zero"],
      [{ 'checkpoint-interval': '0' }, "--checkpoint-interval: '0' must be longer than zero"],
      [{ 'max-buffer': 'lots' }, "--max-buffer: 'lots' is not a size"],
      [{ 'max-open-flows': '0' }, "--max-open-flows '0' is not a whole number of at least 1"],
      [{ 'max-open-flows': '1.5' }, "--max-open-flows '1.5'"],
      [{ 'metrics-port': '70000' }, "--metrics-port: '70000' is not a whole number from 1 to 65535"],
      [{ checkpoint: 'http://example.com/x' }, '--checkpoint: checkpoint URL'],
    ];
    for (const [flags, message] of refused) {
      expect(() => resolveStitchConfig({ ...REQUIRED, ...flags }, {}), JSON.stringify(flags)).to.throw(UsageError, message);
    }
    expect(resolveStitchConfig({ ...REQUIRED, 'max-open-flows': '5000', 'max-flow-buffer': '8M' }, {})).to.deep.include({ maxOpenFlows: 5000, maxFlowBufferBytes: 8 * 1024 * 1024 });
  });
});
