import { expect } from 'chai';
import type { FlowOpenRecord } from '../../stitcher/format/records.js';
import { AddressRemapper, createRemapper, parseRemapRule } from '../../stitcher/export/remap.js';
import { cidrContains, parseAddress, parseCidr } from '../../stitcher/flow/cidr.js';

function open(client: string, server: string): FlowOpenRecord {
  const clientIp = parseAddress(client);
  return {
    type: 1,
    flowId: Buffer.alloc(16, 7),
    tsNs: 1n,
    ipVersion: clientIp.length === 4 ? 4 : 6,
    l4: 6,
    clientIp,
    clientPort: 50000,
    serverIp: parseAddress(server),
    serverPort: 443,
    tags: { user: 'alice@corp.example' },
  };
}

describe('export/remap', () => {
  const specs = ['client:100.64.0.0/10', 'server:198.18.0.0/15', 'client:fd00:aaaa::/32', 'server:fd00:bbbb:1::/48'];

  it('moves IPv4 and IPv6 clients and servers into their prefixes, ports and tags untouched', () => {
    const remapper = createRemapper(specs)!;
    for (const [client, server] of [['10.1.2.3', '172.16.5.5'], ['2001:db8::1', '2001:db8:ffff::443']]) {
      const before = open(client!, server!);
      const after = remapper.remapOpen(before);
      const family = before.ipVersion === 4 ? 0 : 2;
      expect(cidrContains(parseCidr(specs[family]!.slice(7)), after.clientIp), `client ${client}`).to.equal(true);
      expect(cidrContains(parseCidr(specs[family + 1]!.slice(7)), after.serverIp), `server ${server}`).to.equal(true);
      expect(after.clientIp.length).to.equal(before.clientIp.length);
      expect(after).to.include({ clientPort: 50000, serverPort: 443, ipVersion: before.ipVersion, tags: before.tags });
      expect(before.clientIp, 'the input record is left alone').to.deep.equal(parseAddress(client!));
    }
  });

  it('is deterministic: same address, same result, in another remapper with the same key', () => {
    const a = createRemapper(specs)!;
    const b = createRemapper(specs)!;
    for (const address of ['10.0.0.1', '192.168.77.4', 'fe80::1', '2001:db8::abcd']) {
      const first = a.mapAddress('client', parseAddress(address));
      expect(a.mapAddress('client', parseAddress(address))).to.deep.equal(first);
      expect(b.mapAddress('client', parseAddress(address))).to.deep.equal(first);
    }
    const otherKey = createRemapper(specs, { key: 'another secret' })!;
    expect(otherKey.mapAddress('client', parseAddress('10.0.0.1'))).to.not.deep.equal(a.mapAddress('client', parseAddress('10.0.0.1')));
  });

  it('gives distinct addresses distinct results in a large prefix', () => {
    const remapper = createRemapper(['client:100.64.0.0/10', 'client:fd00::/16'])!;
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      seen.add(remapper.mapAddress('client', parseAddress(`10.0.${i >> 8}.${i & 255}`)).toString('hex'));
      seen.add(remapper.mapAddress('client', parseAddress(`2001:db8::${i.toString(16)}`)).toString('hex'));
    }
    expect(seen.size).to.equal(1000);
  });

  it('never picks the network or broadcast address of a small IPv4 prefix', () => {
    const remapper = createRemapper(['server:192.0.2.4/30'])!;
    const hosts = new Set<string>();
    for (let i = 0; i < 200; i++) hosts.add([...remapper.mapAddress('server', parseAddress(`10.0.0.${i}`))].join('.'));
    expect([...hosts].sort()).to.deep.equal(['192.0.2.5', '192.0.2.6']);
  });

  it('leaves a family or side without a rule alone, and skips remapping without rules', () => {
    const remapper = createRemapper(['client:100.64.0.0/10'])!;
    const v6 = open('2001:db8::1', '2001:db8::2');
    expect(remapper.remapOpen(v6)).to.equal(v6);
    const v4 = remapper.remapOpen(open('10.0.0.1', '10.0.0.2'));
    expect([...v4.serverIp].join('.')).to.equal('10.0.0.2');
    expect(createRemapper([])).to.equal(undefined);
  });

  it('names the rule at fault', () => {
    expect(() => parseRemapRule('sideways:10.0.0.0/8')).to.throw(/^remap sideways:10\.0\.0\.0\/8: expected client:<cidr> or server:<cidr>$/);
    expect(() => parseRemapRule('client:10.0.0.0/33')).to.throw(/^remap client:10\.0\.0\.0\/33: 10\.0\.0\.0\/33: prefix length 33 is not 0 to 32$/);
    expect(() => parseRemapRule('server:fd00::zz/8')).to.throw(/not an IPv4 or IPv6 address/);
    expect(() => new AddressRemapper([parseRemapRule('client:10.0.0.0/8'), parseRemapRule('client:11.0.0.0/8')])).to.throw(/two rules for the client IPv4 addresses/);
  });
});
