/**
 * The operator's output URLs read back by the stitcher's own parsers, option by
 * option: what the operator asked for is what the stitcher will do. (The real
 * stitcher runs each config in real-stitcher.test.ts; this names the option at fault.)
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Target } from '../../operator/api/types.js';
import { defaultTarget } from '../../operator/api/defaults.js';
import { configText } from '../../operator/specs/config.js';
import { outputUrl, storeUrl } from '../../operator/specs/urls.js';
import { splitOutputOptions } from '../../stitcher/graph/output-options.js';
import { isWireUrl, parseWireUrl } from '../../stitcher/export/wire-url.js';
import { parseFileOutputUrl } from '../../stitcher/export/file-url.js';
import { isBucketOutputUrl, parseBucketOutputUrl } from '../../stitcher/export/bucket-output.js';
import { parseStoreUrl } from '../../stitcher/store/store-url.js';
import { resolveStitchConfig } from '../../stitcher/cli/stitch-config.js';
import { buildOutputUrl, splitRemapRule } from '../../contract/output-url.js';
import { checkStitcherConfig } from '../../contract/stitcher-config.js';
import { allCases } from './cases.js';

function expectedRemap(target: Target): string[] {
  return (['client', 'server'] as const).flatMap((side) => (target.remap?.[side] ? [`${side}:${target.remap[side]}`] : []));
}

describe('contract: output URLs the operator writes, read by the stitcher', () => {
  for (const { name, cloudTap } of allCases()) {
    describe(name, () => {
      for (const target of cloudTap.spec.targets) {
        it(`${target.type} ${target.name}: every option arrives, nothing the stitcher refuses`, () => {
          const full = defaultTarget(target);
          const url = outputUrl(target);
          const options = splitOutputOptions(url);
          expect(options.variant, 'variant').to.equal(full.variant);
          expect(options.remap, 'remap, one parameter per side').to.deep.equal(expectedRemap(target));
          if (isWireUrl(options.url)) {
            const wire = parseWireUrl(options.url);
            expect(wire.host, 'host').to.equal(target.host);
            expect(wire.port, 'port').to.equal(full.port);
            expect(wire.mtu, 'mtu').to.equal(full.mtu);
            expect(wire.rateMbps, 'rate').to.equal(target.rate);
            if (target.type !== 'pcapOverIp') expect(wire.vni, 'vni').to.equal(target.vni);
            return;
          }
          // Capture files: no mtu, no rate (the exporters would refuse them); rotation as asked.
          if (isBucketOutputUrl(options.url)) {
            const bucket = parseBucketOutputUrl(options.url);
            expect(bucket.format).to.equal('pcapng');
            expect(new URLSearchParams(bucket.rotation).get('rotate-size'), 'rotate-size').to.equal(full.rotateSize);
            const store = parseStoreUrl(bucket.storeUrl);
            expect(store, 'the bucket store, region and endpoint kept').to.deep.equal(parseStoreUrl(storeUrl(target.store!)));
            parseFileOutputUrl(`pcapng:///scratch/?${bucket.rotation}`);
            return;
          }
          const file = parseFileOutputUrl(options.url);
          expect(file.folder, 'a folder output').to.equal(true);
          expect(file.path).to.equal(`/var/lib/cloudtap/pcap/${target.name}/`);
          expect(new URL(options.url).searchParams.get('rotate-size'), 'rotate-size').to.equal(full.rotateSize);
        });
      }

      it('writes a config file the stitcher accepts as it is', () => {
        const text = configText(cloudTap);
        checkStitcherConfig(JSON.parse(text), 'config');
        const path = join(mkdtempSync(join(tmpdir(), 'cloudtap-contract-')), 'config.json');
        writeFileSync(path, text);
        const config = resolveStitchConfig({ config: path }, { SHARD_INDEX: '0', SHARD_COUNT: '1' });
        expect(config.outputs).to.deep.equal(cloudTap.spec.targets.map(outputUrl));
        expect(config.checkpoint).to.equal(`configmap://${cloudTap.metadata.namespace}/${cloudTap.metadata.name}`);
      });
    });
  }
});

describe('contract: output URL builder', () => {
  it('writes remap as one parameter per side, never joined', () => {
    const url = buildOutputUrl({ kind: 'folder', format: 'pcap', folder: '/x', remap: { client: '100.64.0.0/10', server: 'fd00::/64' } });
    const remap = new URL(url).searchParams.getAll('remap');
    expect(remap).to.deep.equal(['client:100.64.0.0/10', 'server:fd00::/64']);
    expect(remap.map(splitRemapRule)).to.deep.equal([{ side: 'client', cidr: '100.64.0.0/10' }, { side: 'server', cidr: 'fd00::/64' }]);
  });

  it('refuses what the stitcher would refuse, naming it', () => {
    expect(() => buildOutputUrl({ kind: 'folder', format: 'pcap', folder: 'relative' })).to.throw("output folder 'relative' is not an absolute path");
    expect(() => buildOutputUrl({ kind: 'folder', format: 'pcap', folder: '/x', rotateSize: '100MB' })).to.throw("rotateSize '100MB'");
    expect(() => buildOutputUrl({ kind: 'wire', scheme: 'vxlan', host: 'h', keylog: 'keys.log' })).to.throw("keylog 'keys.log'");
    expect(() => splitRemapRule('client=10.0.0.0/8')).to.throw('remap client=10.0.0.0/8: expected client:<cidr> or server:<cidr>');
  });
});

describe('contract: the config file schema', () => {
  it('refuses an unknown key or a wrong type, naming the key and not the value', () => {
    expect(() => checkStitcherConfig({ source: 'file:///x', output: ['pcap:///x'] }, 'cfg')).to.throw("cfg: unknown key 'output'");
    expect(() => checkStitcherConfig({ credentials: 42 }, 'cfg')).to.throw('cfg: credentials: expected a string');
    expect(() => checkStitcherConfig({ outputs: 'pcap:///x' }, 'cfg')).to.throw('cfg: outputs: expected a list of strings');
    expect(() => checkStitcherConfig({ select: { ports: [0] } }, 'cfg')).to.throw('cfg: select: ports: expected a list of port numbers');
    expect(() => checkStitcherConfig({ select: { user: ['a'] } }, 'cfg')).to.throw("unknown key 'user'");
    expect(() => checkStitcherConfig([], 'cfg')).to.throw('cfg must hold a JSON object');
    expect(() => checkStitcherConfig({ keysCredentials: { secret: 'hunter2' } }, 'cfg')).to.throw().with.property('message').that.does.not.include('hunter2');
  });

  it('is what the stitcher checks its --config file with', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'cloudtap-contract-')), 'config.json');
    writeFileSync(path, JSON.stringify({ source: 'file:///x', outputs: ['pcap:///x.pcap'], pollIntervall: '1s' }));
    expect(() => resolveStitchConfig({ config: path }, {})).to.throw(`stitch: --config ${path}: unknown key 'pollIntervall'`);
  });
});
