import { expect } from 'chai';
import { KeyStore } from '../../stitcher/tls/key-store.js';
import type { KeyLogEntry } from '../../stitcher/tls/keylog.js';

function entry(n: number, label: KeyLogEntry['label'] = 'CLIENT_RANDOM'): KeyLogEntry {
  return { label, clientRandom: n.toString(16).padStart(64, '0'), secret: Buffer.alloc(48, n) };
}

describe('KeyStore', () => {
  it('finds secrets by client random in either hex case and tells subscribers', () => {
    const store = new KeyStore();
    const heard: string[] = [];
    const unsubscribe = store.subscribe((random) => heard.push(random));
    store.add([entry(0xab), entry(0xab, 'EXPORTER_SECRET')]);
    expect(store.get(entry(0xab).clientRandom.toUpperCase())?.get('CLIENT_RANDOM')?.[0]).to.equal(0xab);
    expect(store.get(entry(0xab).clientRandom)?.size).to.equal(2);
    expect(heard).to.deep.equal([entry(0xab).clientRandom]);
    unsubscribe();
    store.add([entry(1)]);
    expect(heard).to.have.length(1);
    expect(store.get(entry(2).clientRandom)).to.equal(undefined);
  });

  it('keeps at most maxSessions, dropping the oldest', () => {
    const store = new KeyStore({ maxSessions: 3 });
    for (let i = 1; i <= 5; i++) store.add([entry(i)]);
    expect(store.size).to.equal(3);
    expect(store.get(entry(1).clientRandom)).to.equal(undefined);
    expect(store.get(entry(2).clientRandom)).to.equal(undefined);
    expect(store.get(entry(5).clientRandom)).not.to.equal(undefined);
  });

  it('forgets secrets older than maxAgeMs on its clock', () => {
    let now = 0n;
    const store = new KeyStore({ maxAgeMs: 1000, nowNs: () => now });
    store.add([entry(1)]);
    now = 900_000_000n;
    store.add([entry(2)]);
    expect(store.get(entry(1).clientRandom)).not.to.equal(undefined);
    now = 1_500_000_000n;
    expect(store.get(entry(1).clientRandom)).to.equal(undefined);
    expect(store.get(entry(2).clientRandom)).not.to.equal(undefined);
    now = 5_000_000_000n;
    store.evict();
    expect(store.size).to.equal(0);
  });

  it('adds the valid lines of a key log and tallies the malformed ones', () => {
    const store = new KeyStore();
    const random = 'Ab'.repeat(32);
    const tally = store.addKeyLog(`CLIENT_RANDOM ${random} ${'11'.repeat(48)}\r\nCLIENT_RANDOM nonsense\r\n`);
    expect(store.get(random)?.get('CLIENT_RANDOM')?.length).to.equal(48);
    expect(tally.invalid).to.equal(1);
    expect(tally.firstInvalidLine).to.equal(2);
  });
});
