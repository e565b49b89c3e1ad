import { expect } from 'chai';
import { tls12Prf, tls13NextSecret, tls13TrafficKeys } from '../../stitcher/tls/kdf.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('key derivation', () => {
  it('derives the TLS 1.3 record key and IV of RFC 8448 (simple 1-RTT, server handshake)', () => {
    const secret = hex('b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38');
    const keys = tls13TrafficKeys('sha256', secret, 16);
    expect(keys.key.toString('hex')).to.equal('3fce516009c21727d0f2e4e86ee403bc');
    expect(keys.iv.toString('hex')).to.equal('5d313eb2671276ee13000b30');
  });

  it('computes the TLS 1.2 PRF (SHA-256) test vector', () => {
    const out = tls12Prf('sha256', hex('9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35'), 'test label',
      hex('a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c'), 100);
    expect(out.toString('hex')).to.equal(hex(`e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4
      e6 1e db 5a 6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab 4f bc 91 66 6e
      9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01 87 34 7b 66`).toString('hex'));
  });

  it('moves a TLS 1.3 secret on at KeyUpdate to a new secret of the same length', () => {
    const secret = Buffer.alloc(48, 1);
    const next = tls13NextSecret('sha384', secret);
    expect(next.length).to.equal(48);
    expect(next).to.not.deep.equal(secret);
    expect(tls13NextSecret('sha384', secret)).to.deep.equal(next);
  });
});
