/**
 * The TLS session keys and the memory of key log lines passed on count against
 * the memory budget (issue 13, point 1): each holds at most its share, drops the
 * oldest when over, and says how many it dropped.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { budgetShares } from '../../stitcher/cli/memory-budget.js';
import { objectKey } from '../../stitcher/format/object-key.js';
import { BlockCodec, ObjectKind, RecordType } from '../../stitcher/format/records.js';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { SEEN_LINE_BUDGET_BYTES, SeenKeyLines } from '../../stitcher/ingest/seen-key-lines.js';
import { silentLogger } from '../../stitcher/observe/log.js';
import { stitch } from '../../stitcher/run/stitch.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { KEY_SESSION_BYTES, KeyStore } from '../../stitcher/tls/key-store.js';
import type { KeyLogEntry } from '../../stitcher/tls/keylog.js';

const NOW_NS = 1_765_000_000_000_000_000n;
const MIB = 1024 * 1024;
const TLS13_LABELS = ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0', 'EXPORTER_SECRET'] as const;

/** A client random as the key log parser hands it on: a flat string of its own (padStart may leave a cons string). */
function random(n: number): string {
  return Buffer.from(n.toString(16).padStart(64, '0'), 'latin1').toString('latin1');
}

/** A TLS 1.3 session's five secrets of 48 bytes: the most a session costs. */
function session(clientRandom: string): KeyLogEntry[] {
  return TLS13_LABELS.map((label) => ({ label, clientRandom, secret: randomBytes(48) }));
}

/** Heap in use after a full collection (the test process may lack --expose-gc: turn it on for this). */
function heapUsed(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/**
 * The heap that dropping a holder frees: measured as the drop, not as growth since before it was filled, so
 * what other suites' timers allocate meanwhile does not count.
 */
function heldBy(drop: () => void): number {
  const holding = heapUsed();
  drop();
  return holding - heapUsed();
}

describe('run: the key memory counts against the budget', function () {
  this.timeout(120_000);

  it('shares the whole budget out, key sessions and key lines included, and no more', () => {
    for (const total of [16 * MIB, 64 * MIB, 256 * MIB]) {
      const s = budgetShares(total, undefined);
      expect(s.keySessionsBytes, 'key sessions have a share').to.be.greaterThan(0);
      expect(s.keyLinesBytes, 'key lines have a share').to.be.greaterThan(0);
      expect(s.flowTableBytes + s.keyGateBytes + s.decryptorBytes + s.keySessionsBytes + s.keyLinesBytes).to.be.at.most(total);
    }
  });

  it('keeps the session keys within their bytes, the newest kept, the dropped counted', () => {
    const store = new KeyStore({ maxBytes: 100 * KEY_SESSION_BYTES });
    for (let n = 0; n < 1000; n++) store.add(session(random(n)));
    expect(store.size).to.equal(100);
    expect(store.sessionsDropped).to.equal(900);
    expect(store.get(random(999)), 'the newest').not.to.equal(undefined);
    expect(store.get(random(899)), 'the oldest are gone').to.equal(undefined);
  });

  it('holds the heap the session keys take to their share (KEY_SESSION_BYTES is honest)', () => {
    const share = 4 * MIB;
    let store: KeyStore | undefined = new KeyStore({ maxBytes: share });
    for (let n = 0; n < 50_000; n++) store.add(session(random(n)));
    expect(store.sessionsDropped, 'the flood went past the share').to.be.greaterThan(0);
    const grown = heldBy(() => { store = undefined; });
    expect(grown, `${(grown / MIB).toFixed(1)} MiB for a share of ${share / MIB} MiB`).to.be.below(share * 1.25);
  });

  it('holds the heap the lines passed on take to their share (SEEN_LINE_BUDGET_BYTES is honest)', () => {
    const share = 2 * MIB;
    let seen: SeenKeyLines | undefined = new SeenKeyLines({ maxBytes: share, maxLines: 10_000_000 });
    for (let n = 0; n < 100_000; n++) seen.firstSighting(`CLIENT_RANDOM ${random(n)} ${'ee'.repeat(48)}`);
    expect(seen.size).to.equal(Math.floor(share / SEEN_LINE_BUDGET_BYTES));
    const grown = heldBy(() => { seen = undefined; });
    expect(grown, `${(grown / MIB).toFixed(1)} MiB for a share of ${share / MIB} MiB`).to.be.below(share * 1.25);
  });

  it('stitch() drops the oldest keys and forgets the oldest lines past their shares, and counts both', async () => {
    const store = new LocalFolderStore(await mkdtemp(join(tmpdir(), 'cloudtap-key-budget-')));
    const lines = Array.from({ length: 1000 }, (_, n) => `CLIENT_RANDOM ${random(n)} ${'ee'.repeat(48)}\n`).join('');
    const records = [{ type: RecordType.TlsKeys as const, tsNs: NOW_NS, flowId: Buffer.alloc(16), lines }];
    await store.write(objectKey('', ObjectKind.Keys, 'gw', 0n, NOW_NS), encodeCtapObject({ kind: ObjectKind.Keys, gateway: 'gw', seq: 0n, createdNs: NOW_NS }, records, { codec: BlockCodec.None }));
    const stats = await stitch({
      source: store, outputs: [], once: true, logger: silentLogger(),
      keySessionsMaxBytes: 100 * KEY_SESSION_BYTES, keyLinesMaxBytes: 50 * SEEN_LINE_BUDGET_BYTES,
    });
    expect(stats.keyLines).to.equal(1000);
    expect(stats.keySessionsDropped).to.equal(900);
    expect(stats.keyLinesForgotten).to.equal(950);
  });
});
