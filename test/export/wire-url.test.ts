import { expect } from 'chai';
import { isWireUrl, parseWireUrl } from '../../stitcher/export/wire-url.js';
import { openWireOutput } from '../../stitcher/export/wire-output.js';

describe('export/wire-url', () => {
  it('fills the defaults: IANA ports, MTU 1500, asap, no rate, 64 source ports', () => {
    const vxlan = parseWireUrl('vxlan://sensor.example');
    expect(vxlan).to.include({ kind: 'vxlan', host: 'sensor.example', port: 4789, vni: 0, mtu: 1500, pace: 'asap', sourcePorts: 64, listen: false });
    expect(vxlan.rateMbps).to.equal(undefined);
    expect(parseWireUrl('geneve://10.0.0.1').port).to.equal(6081);
    expect(parseWireUrl('pcap-over-ip://10.0.0.1').port).to.equal(57012);
  });

  it('reads every parameter, IPv6 hosts without brackets, repeated remap= and opt=', () => {
    const wire = parseWireUrl(
      'geneve://[fd00::7]:7000?vni=0xffffff&mtu=9001&pace=realtime&rate=250.5&inner=ip&opt=0x0108:0x01:0000002a&opt=0x0108:2:00000000deadbeef&ports=16384&queue=100&remap=client:100.64.0.0/10&remap=server:fd00:5::/64&variant=decrypted',
    );
    expect(wire).to.include({ host: 'fd00::7', port: 7000, vni: 0xffffff, mtu: 9001, pace: 'realtime', rateMbps: 250.5, inner: 'ip', sourcePorts: 16384, queuePackets: 100, variant: 'decrypted' });
    expect(wire.remap).to.deep.equal(['client:100.64.0.0/10', 'server:fd00:5::/64']);
    expect(wire.options.map((o) => [o.optionClass, o.type, o.data.toString('hex')])).to.deep.equal([
      [0x0108, 1, '0000002a'],
      [0x0108, 2, '00000000deadbeef'],
    ]);
    expect(parseWireUrl('pcap-over-ip://0.0.0.0:57012?listen')).to.include({ listen: true });
  });

  it('says which URL and which parameter is wrong, in one line', () => {
    const cases: [string, RegExp][] = [
      ['vxlan://h?vni=16777216', /^output vxlan:\/\/h\?vni=16777216: vni=16777216: expected an integer from 0 to 16777215$/],
      ['vxlan://h?vnii=3', /vnii: unknown parameter for vxlan/],
      ['vxlan://h?inner=ip', /inner: unknown parameter for vxlan/],
      ['geneve://h?pace=fast', /pace=fast: expected asap or realtime/],
      ['geneve://h?rate=-1', /rate=-1: expected a positive number/],
      ['geneve://h?mtu=100', /mtu=100: expected an integer from 576/],
      ['geneve://h?opt=0x0108:1:abc', /opt=0x0108:1:abc: data abc: expected hex bytes/],
      ['geneve://h?opt=0x0108:1:aabbcc', /multiple of 4/],
      ['geneve://h?opt=0x10000:1:00000000', /class 0x10000/],
      ['geneve://h?vni=1&vni=2', /vni: given 2 times/],
      ['udp://h:1', /scheme udp: is not/],
      ['vxlan://h/path', /path \/path: not allowed/],
      ['vxlan://h?remap=client:10.0.0.0/40', /^output vxlan:\/\/h\?remap=client:10\.0\.0\.0\/40: remap client:10\.0\.0\.0\/40: 10\.0\.0\.0\/40: prefix length 40 is not 0 to 32$/],
      ['vxlan://h?remap=edge:10.0.0.0/8', /: remap edge:10\.0\.0\.0\/8: expected client:<cidr> or server:<cidr>$/],
    ];
    for (const [url, message] of cases) {
      expect(() => parseWireUrl(url), url).to.throw(message);
      try {
        parseWireUrl(url);
      } catch (error) {
        expect((error as Error).message).to.not.include('\n');
        expect((error as Error).message).to.include(url);
      }
    }
    const tooMany = Array.from({ length: 8 }, () => 'opt=1:1:' + '00'.repeat(32)).join('&');
    expect(() => parseWireUrl(`geneve://h?${tooMany}`)).to.throw(/options take 288 bytes, GENEVE allows 252/);
  });

  it('recognises wire URLs and nothing else', () => {
    expect(isWireUrl('VXLAN://h'), 'VXLAN://h').to.equal(true);
    expect(isWireUrl('pcap-over-ip://h'), 'pcap-over-ip://h').to.equal(true);
    expect(isWireUrl('pcapng:///tmp/x'), 'pcapng:///tmp/x').to.equal(false);
  });

  it('openWireOutput rejects a host it cannot resolve with the URL in the message', async () => {
    const error = await openWireOutput('vxlan://no-such-host.invalid:4789?vni=1').then(() => undefined, (e: Error) => e);
    expect(error?.message).to.match(/^output vxlan:\/\/no-such-host\.invalid:4789\?vni=1: resolving no-such-host\.invalid: /);
  });

  it('openWireOutput rejects a pcap-over-ip peer it cannot resolve instead of dropping every packet', async () => {
    const error = await openWireOutput('pcap-over-ip://no-such-host.invalid:57012').then(() => undefined, (e: Error) => e);
    expect(error?.message).to.match(/^output pcap-over-ip:\/\/no-such-host\.invalid:57012: resolving no-such-host\.invalid: /);
  });
});
