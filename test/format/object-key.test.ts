import { expect } from 'chai';
import { gatewayPrefix, hourPrefix, objectKey, parseObjectKey } from '../../stitcher/format/object-key.js';
import { ObjectKind } from '../../stitcher/format/records.js';

/** 2026-11-25T15:59:59.999999999Z in ns. */
const LATE_IN_HOUR = BigInt(Date.UTC(2026, 10, 25, 15, 59, 59, 999)) * 1_000_000n + 999_999n;

describe('format/object-key', () => {
  it('builds the key from the UTC hour, the gateway and a 20-digit seq', () => {
    expect(objectKey('tap/eu', ObjectKind.Traffic, 'gw-1', 7n, LATE_IN_HOUR)).to.equal('tap/eu/2026/11/25/15/gw-1/00000000000000000007.ctap');
    expect(objectKey('', ObjectKind.Keys, 'gw-1', 0n, 0n)).to.equal('1970/01/01/00/gw-1/00000000000000000000.keys');
    expect(objectKey('/keys/', ObjectKind.Keys, 'a', (1n << 64n) - 1n, 0n)).to.equal('keys/1970/01/01/00/a/18446744073709551615.keys');
  });

  it('round-trips through parseObjectKey', () => {
    for (const [root, kind, gateway, seq] of [
      ['tap/eu', ObjectKind.Traffic, 'gw-1.eu_2', 123456789n],
      ['', ObjectKind.Keys, '0', 0n],
      ['a/b/c/d/e/f/g', ObjectKind.Traffic, 'x'.repeat(63), (1n << 64n) - 1n],
    ] as const) {
      const key = objectKey(root, kind, gateway, seq, LATE_IN_HOUR);
      const parsed = parseObjectKey(key);
      expect(parsed, key).to.deep.equal({
        root,
        hourPrefix: hourPrefix(root, new Date(Date.UTC(2026, 10, 25, 15))),
        hour: new Date(Date.UTC(2026, 10, 25, 15)),
        gateway,
        seq,
        kind,
      });
      expect(key.slice(0, (parsed?.hourPrefix ?? '?').length), key).to.equal(parsed?.hourPrefix ?? '?');
    }
  });

  it('sorts keys of one gateway in seq order', () => {
    const keys = [0n, 9n, 10n, 99n, 100n, 12345n].map((seq) => objectKey('r', ObjectKind.Traffic, 'g', seq, 0n));
    expect([...keys].sort()).to.deep.equal(keys);
  });

  it('gives the prefixes a reader lists', () => {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(hourPrefix('tap', date)).to.equal('tap/2026/01/02/03/');
    expect(hourPrefix('', date)).to.equal('2026/01/02/03/');
    expect(gatewayPrefix('tap/', date, 'gw')).to.equal('tap/2026/01/02/03/gw/');
  });

  it('refuses to build keys from bad parts', () => {
    expect(() => objectKey('r', ObjectKind.Traffic, 'Gw', 0n, 0n)).to.throw(RangeError, /gateway "Gw"/);
    expect(() => objectKey('r', ObjectKind.Traffic, '-gw', 0n, 0n)).to.throw(/gateway/);
    expect(() => objectKey('r', ObjectKind.Traffic, 'g'.repeat(64), 0n, 0n)).to.throw(/gateway/);
    expect(() => objectKey('r', ObjectKind.Traffic, 'gw', -1n, 0n)).to.throw(/seq -1/);
    expect(() => objectKey('r', ObjectKind.Traffic, 'gw', 1n << 64n, 0n)).to.throw(/seq/);
    expect(() => objectKey('r', 3 as ObjectKind, 'gw', 0n, 0n)).to.throw(/kind 3/);
    expect(() => hourPrefix('r', new Date(Number.NaN))).to.throw(/4-digit/);
  });

  it('rejects keys that are not CTAP object keys', () => {
    for (const key of [
      '',
      'tap/2026/11/25/15/gw/00000000000000000007.txt',
      'tap/2026/11/25/15/gw/0000000000000000007.ctap', // 19 digits
      'tap/2026/11/25/15/gw/000000000000000000007.ctap', // 21 digits
      'tap/2026/11/25/15/gw/99999999999999999999.ctap', // over u64
      'tap/2026/11/25/15/GW/00000000000000000007.ctap',
      'tap/2026/11/25/15/_gw/00000000000000000007.ctap',
      'tap/2026/13/25/15/gw/00000000000000000007.ctap',
      'tap/2026/02/30/15/gw/00000000000000000007.ctap',
      'tap/2026/11/25/24/gw/00000000000000000007.ctap',
      'tap/2026/11/5/15/gw/00000000000000000007.ctap',
      '2026/11/25/15/00000000000000000007.ctap',
      '/2026/11/25/15/gw/00000000000000000007.ctap',
      'tap//2026/11/25/15/gw/00000000000000000007.ctap',
      'tap/2026/11/25/15/gw/00000000000000000007.ctap/',
    ]) {
      expect(parseObjectKey(key), key).to.equal(undefined);
    }
  });
});
