import { expect } from 'chai';
import { manifestToJson } from '../../stitcher/generator/manifest.js';
import type { GenerateResult } from '../../stitcher/generator/options.js';

describe('generator: manifestToJson', function () {
  it('writes big integers as exact decimal strings', function () {
    const startNs = 1_764_068_399_750_000_123n;
    const result: GenerateResult = {
      root: '', keyRoot: '', gateways: ['gw-a1'], flows: [],
      objects: [{ key: 'k', kind: 'traffic', gateway: 'gw-a1', seq: 18_446_744_073_709_551_615n, createdNs: startNs, bytes: 1, records: 1 }],
      trafficObjects: 1, keyObjects: 0, objectBytes: 1, tappedBytes: 0, startNs, endNs: startNs + 1n,
    };
    const parsed = JSON.parse(manifestToJson(result)) as { startNs: string; objects: { seq: string }[] };
    expect(BigInt(parsed.startNs)).to.equal(startNs);
    expect(BigInt(parsed.objects[0]!.seq)).to.equal(18_446_744_073_709_551_615n);
  });
});
