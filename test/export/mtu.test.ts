import { expect } from 'chai';
import { maxInnerSegmentPayload } from '../../stitcher/export/mtu.js';

describe('export/mtu', () => {
  it('leaves 50 bytes for VXLAN over IPv4, as AWS documents (1500 link: 1450 inner IP packet)', () => {
    expect(maxInnerSegmentPayload(1500, { kind: 'vxlan' }, 4, 4) + 20 + 20).to.equal(1450);
    expect(maxInnerSegmentPayload(1500, { kind: 'vxlan' }, 6, 4) + 40 + 20).to.equal(1450);
    // IPv6 outside costs 20 bytes more.
    expect(maxInnerSegmentPayload(1500, { kind: 'vxlan' }, 4, 6)).to.equal(maxInnerSegmentPayload(1500, { kind: 'vxlan' }, 4, 4) - 20);
  });

  it('counts GENEVE options, and no inner Ethernet header with inner=ip', () => {
    const plain = maxInnerSegmentPayload(9001, { kind: 'geneve', inner: 'ethernet', optionsLength: 0 }, 4, 4);
    expect(maxInnerSegmentPayload(9001, { kind: 'geneve', inner: 'ethernet', optionsLength: 32 }, 4, 4)).to.equal(plain - 32);
    expect(maxInnerSegmentPayload(9001, { kind: 'geneve', inner: 'ip', optionsLength: 0 }, 4, 4)).to.equal(plain + 14);
  });


  it('refuses an MTU with no room for payload', () => {
    expect(() => maxInnerSegmentPayload(100, { kind: 'vxlan' }, 6, 6)).to.throw(/MTU 100 leaves no room/);
  });
});
