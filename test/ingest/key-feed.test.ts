import { expect } from 'chai';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyFeed, type KeyLogBatch, type KeyObjectReport } from '../../stitcher/ingest/key-feed.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { objectKey } from '../../stitcher/format/object-key.js';
import { BlockCodec, ObjectKind, RecordType } from '../../stitcher/format/records.js';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { floodLine, keyFlood, malformedKeyLines } from '../support/hostile-objects.js';

const NOW_NS = 1_765_000_000_000_000_000n;
const RANDOM = 'C0'.repeat(32);
const SECRET = 'ee'.repeat(48);

async function bucket(): Promise<LocalFolderStore> {
  return new LocalFolderStore(await mkdtemp(join(tmpdir(), 'cloudtap-keyfeed-')));
}

/** A key object of one gateway whose TLS_KEYS records hold these texts. */
async function putKeys(store: LocalFolderStore, gateway: string, seq: bigint, texts: readonly string[]): Promise<string> {
  const key = objectKey('', ObjectKind.Keys, gateway, seq, NOW_NS);
  const records = texts.map((lines) => ({ type: RecordType.TlsKeys as const, tsNs: NOW_NS, flowId: Buffer.alloc(16), lines }));
  await store.write(key, encodeCtapObject({ kind: ObjectKind.Keys, gateway, seq, createdNs: NOW_NS }, records, { codec: BlockCodec.None }));
  return key;
}

function listen(feed: KeyFeed): { batches: KeyLogBatch[]; reports: KeyObjectReport[] } {
  const batches: KeyLogBatch[] = [];
  const reports: KeyObjectReport[] = [];
  feed.onKeyLog = (batch) => batches.push(batch);
  feed.onDropped = (report) => reports.push(report);
  return { batches, reports };
}

const poll = (feed: KeyFeed): Promise<number> => feed.poll(true, () => undefined, () => undefined);

describe('KeyFeed', () => {
  it('passes on only validated lines, in their validated form, once; tells one report per object without content', async () => {
    const store = await bucket();
    const secretOfBadLine = 'ab12'.repeat(24);
    const key = await putKeys(store, 'gw-a', 0n, [
      `# comment\nCLIENT_RANDOM ${RANDOM} ${SECRET}\nCLIENT_RANDOM ${RANDOM} ${secretOfBadLine}zz\n`,
      `CLIENT_RANDOM\t${RANDOM}  ${SECRET}\r\nBOGUS_LABEL ${RANDOM} ${secretOfBadLine}\nCLIENT_TRAFFIC_SECRET_0 ${RANDOM} ${'11'.repeat(40)}\n`,
    ]);
    const feed = new KeyFeed(store);
    const { batches, reports } = listen(feed);
    expect(await poll(feed)).to.equal(1);
    const exported = batches.map((b) => b.fresh).join('');
    expect(exported).to.equal(`CLIENT_RANDOM ${RANDOM.toLowerCase()} ${SECRET}\n`);
    expect(batches.flatMap((b) => b.entries).length, 'the repeat refreshes the key store').to.equal(2);
    expect(reports).to.have.length(1);
    expect(reports[0]).to.deep.include({ objectKey: key, valid: 2, invalid: 3, firstInvalidLine: 3, bytesSkipped: 0, cut: false });
    expect(reports[0]!.problems).to.deep.equal({ 'secret-hex': 1, 'unknown-label': 1, 'secret-length': 1 });
    expect(JSON.stringify(reports)).not.to.include(secretOfBadLine.slice(0, 12));
    expect(feed.stats).to.deep.include({ objects: 1, lines: 1, duplicates: 1, invalid: 3 });
  });

  it('reads a record of four million malformed lines into counts only: one report, nothing passed on', async () => {
    const store = await bucket();
    const hostile = malformedKeyLines({ gateway: 'gw-bad', createdNs: NOW_NS }, 4_000_000);
    await store.write(hostile.key, hostile.bytes);
    await putKeys(store, 'gw-good', 0n, [`CLIENT_RANDOM ${RANDOM} ${SECRET}\n`]);
    const feed = new KeyFeed(store);
    const { batches, reports } = listen(feed);
    expect(await poll(feed)).to.equal(1);
    expect(batches.map((b) => b.objectKey)).to.deep.equal([batches[0]!.objectKey]);
    expect(reports).to.have.length(1);
    expect(reports[0]).to.deep.include({ objectKey: hostile.key, valid: 0, invalid: 4_000_000, firstInvalidLine: 1 });
  });

  it('takes at most maxBytesPerObject of key log from one object, reads no further and counts it', async () => {
    const store = await bucket();
    const flood = keyFlood({ gateway: 'gw-flood', createdNs: NOW_NS }, 120_000); // three records of about 8 MiB
    await store.write(flood.key, flood.bytes);
    const feed = new KeyFeed(store, undefined, { maxBytesPerObject: 10 * 1024 * 1024 });
    const { batches, reports } = listen(feed);
    const passed = await poll(feed);
    const perRecord = Math.floor((8 * 1024 * 1024 - 29) / floodLine(0).length); // record and TLS_KEYS headers: 29 bytes
    expect(passed, 'the first record fits, the rest does not').to.equal(perRecord);
    expect(batches.filter((b) => b.entries.length > 4096), 'handed on in batches').to.deep.equal([]);
    expect(batches.map((b) => b.fresh).join('').slice(0, floodLine(0).length)).to.equal(floodLine(0));
    expect(reports).to.have.length(1);
    expect(reports[0]!.invalid).to.equal(0);
    expect(reports[0]).to.include({ cut: true });
    expect(reports[0]!.bytesSkipped, 'the record that went over').to.equal(perRecord * floodLine(0).length);
    expect(feed.stats.objectsCut).to.equal(1);
  });

  it('remembers a bounded number of lines across polls', async () => {
    const store = await bucket();
    const feed = new KeyFeed(store, undefined, { seen: { maxLines: 1000 } });
    const { batches } = listen(feed);
    for (let seq = 0n; seq < 5n; seq++) {
      const lines = Array.from({ length: 800 }, (_, i) => floodLine(Number(seq) * 800 + i)).join('');
      await putKeys(store, 'gw-long', seq, [lines]);
      expect(await poll(feed)).to.equal(800);
      expect(feed.rememberedLines).to.be.at.most(1000);
    }
    // The last object again under another gateway: all of its lines are known.
    await putKeys(store, 'gw-again', 0n, [Array.from({ length: 800 }, (_, i) => floodLine(4 * 800 + i)).join('')]);
    expect(await poll(feed)).to.equal(0);
    expect(batches.at(-1)!.fresh).to.equal('');
  });
});
