import { expect } from 'chai';
import { clientAddress, formatEndpoint, serverAddress } from '../../stitcher/generator/addresses.js';
import { SeededRandom } from '../../stitcher/generator/random.js';

describe('generator: addresses', function () {
  it('picks clients in 10/8 and fd00::/8, servers in documentation ranges', function () {
    const random = new SeededRandom(1);
    for (let i = 0; i < 200; i++) {
      expect(clientAddress(random, 4)[0]).to.equal(10);
      expect(clientAddress(random, 6)[0]).to.equal(0xfd);
      const v4 = [...serverAddress(random, 4).subarray(0, 3)].join('.');
      expect(['198.51.100', '203.0.113']).to.include(v4);
      expect(serverAddress(random, 6).subarray(0, 4).toString('hex')).to.equal('20010db8');
    }
  });

  it('formats endpoints as the WHATWG URL parser canonicalises them', function () {
    const random = new SeededRandom(2);
    const samples: Buffer[] = [Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.from('fd000000000100000000000000000000', 'hex'), Buffer.alloc(16)];
    for (let i = 0; i < 50; i++) samples.push(clientAddress(random, 6));
    for (const address of samples) {
      const groups = Array.from({ length: 8 }, (_, g) => address.readUInt16BE(g * 2).toString(16)).join(':');
      const canonical = new URL(`http://[${groups}]:8080/`).host;
      expect(formatEndpoint(address, 8080)).to.equal(canonical);
    }
    expect(formatEndpoint(Buffer.from([10, 0, 0, 1]), 80)).to.equal('10.0.0.1:80');
  });
});
