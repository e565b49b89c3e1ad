import { expect } from 'chai';
import { planFlows } from '../../stitcher/generator/plan.js';
import type { FlowPlan } from '../../stitcher/generator/plan.js';
import { SeededRandom } from '../../stitcher/generator/random.js';
import { parseFilePath } from '../../stitcher/generator/servers.js';
import type { GenerateOptions } from '../../stitcher/generator/options.js';
import type { ObjectStore } from '../../stitcher/store/store.js';

const plan = (options: Partial<GenerateOptions>, seed = 'p'): FlowPlan[] =>
  planFlows({ traffic: {} as ObjectStore, flows: 200, ...options }, new SeededRandom(seed));

describe('generator: planFlows', function () {
  it('plans the same flows for a seed and other flows for another', function () {
    expect(plan({})).to.deep.equal(plan({}));
    expect(plan({}, 'q').map((p) => p.flowId.toString('hex'))).to.not.deep.equal(plan({}).map((p) => p.flowId.toString('hex')));
  });

  it('follows the shares it is given', function () {
    const flows = plan({ ipv6Share: 0.25, httpsShare: 0.6, h2Share: 0.25, gateways: 4 });
    const share = (test: (p: FlowPlan) => boolean): number => flows.filter(test).length / flows.length;
    expect(share((p) => p.ipVersion === 6)).to.be.within(0.15, 0.35);
    expect(share((p) => p.protocol !== 'http')).to.be.within(0.5, 0.7);
    expect(share((p) => p.protocol === 'h2')).to.be.within(0.08, 0.22);
    expect([...new Set(flows.map((p) => p.gateway))].sort()).to.deep.equal([0, 1, 2, 3]);
    expect(plan({ ipv6Share: 0, httpsShare: 0 }).filter((p) => !(p.ipVersion === 4 && p.protocol === 'http'))).to.deep.equal([]);
  });

  it('serves paths that name their body and sizes within bodyBytes', function () {
    for (const flow of plan({ bodyBytes: 5000 })) {
      for (const spec of flow.objects) {
        expect(parseFilePath(spec.path)).to.deep.equal(spec);
        expect(spec.size).to.be.within(0, 5000);
      }
    }
    const sizes = plan({ bodyBytes: [7, 70000] }).flatMap((p) => p.objects.map((o) => o.size));
    expect([...new Set(sizes)].sort((a, b) => a - b)).to.deep.equal([7, 70000]);
  });

  it('keeps HTTP/2 off suites RFC 7540 forbids and its closes on the client', function () {
    for (const flow of plan({ httpsShare: 1, h2Share: 0.5, rstShare: 0.5 })) {
      if (flow.protocol !== 'h2') continue;
      expect(flow.suite).to.include({ h2: true });
      expect(['fin-client', 'rst-client']).to.include(flow.close);
    }
  });

  it('plans bulk transfers that add up to totalBytes', function () {
    const bulk = plan({ totalBytes: 10_000_000, bulkBodyBytes: 3_000_000 });
    expect(bulk.map((p) => p.objects[0]!.size)).to.deep.equal([3_000_000, 3_000_000, 3_000_000, 1_000_000]);
    expect(bulk.map((p) => p.protocol)).to.deep.equal(['http', 'https', 'http', 'https']);
  });

  it('plans every bulk transfer over one suite when bulkCipher names it, and refuses an unknown one', function () {
    const bulk = plan({ totalBytes: 10_000_000, bulkBodyBytes: 3_000_000, bulkCipher: 'TLS_AES_128_GCM_SHA256' });
    expect(bulk.map((p) => `${p.protocol} ${p.suite?.cipher}`)).to.deep.equal(Array(4).fill('https TLS_AES_128_GCM_SHA256'));
    expect(() => plan({ totalBytes: 1000, bulkCipher: 'RC4-MD5' })).to.throw(RangeError, /bulkCipher is RC4-MD5/);
  });
});
