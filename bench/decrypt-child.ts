/**
 * One decryption measurement in a process of its own (bench/decrypt.ts pins it
 * to one core). `cleartext`: the stitcher turns the TLS traffic into the
 * clear-text variant of a pcap (decrypting every record). `raw`: Node's
 * AES-128-GCM alone, one decipher per record as TLS needs, over records of the
 * same sizes as the tapped ones (the tapped bytes re-encrypted under a known key
 * beforehand, untimed). Prints one JSON line.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { openFileOutput } from '../stitcher/export/file-output.js';
import { readCtapObject } from '../stitcher/format/reader.js';
import { RecordType } from '../stitcher/format/records.js';
import { silentLogger } from '../stitcher/observe/log.js';
import { stitch } from '../stitcher/run/stitch.js';
import { LocalFolderStore } from '../stitcher/store/local.js';
import { listAll } from '../stitcher/store/store.js';

export interface DecryptChildResult {
  readonly seconds: number;
  /** Tapped bytes (cleartext) or TLS record bytes, headers included (raw). */
  readonly bytes: number;
  /** TLS flows decrypted (cleartext) or records decrypted (raw). */
  readonly count: number;
  /** raw: record sizes (header and tag included) by the bytes they carry, largest share first. */
  readonly recordSizes?: readonly { readonly size: number; readonly bytes: number }[];
}

const TAG_BYTES = 16;
const HEADER_BYTES = 5;
const APPLICATION_DATA = 23;

async function measureCleartext(bucket: string, keys: string, output: string): Promise<DecryptChildResult> {
  const started = process.hrtime.bigint();
  const sink = await openFileOutput(`pcap://${output}`);
  const logger = silentLogger();
  const stats = await stitch({
    source: new LocalFolderStore(bucket), keys: new LocalFolderStore(keys), cleartext: {}, once: true, logger,
    outputs: [{ sink, options: { url: output, variant: 'cleartext', remap: [] } }],
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, bytes: stats.flows.exported, count: stats.tls?.decryptedFlows ?? 0 };
}

/** Each tapped direction's bytes in stream order, by flow and direction. */
async function tappedStreams(bucket: string): Promise<Buffer[]> {
  const store = new LocalFolderStore(bucket);
  const pieces = new Map<string, { offset: bigint; payload: Buffer }[]>();
  for await (const info of listAll(store, '')) {
    if (!info.key.endsWith('.ctap')) continue;
    for await (const event of readCtapObject(info.key, await store.read(info.key))) {
      if (event.kind !== 'records') continue;
      for (const record of event.records) {
        if (record.type !== RecordType.Data) continue;
        const key = `${record.flowId.toString('hex')}/${record.dir}`;
        let list = pieces.get(key);
        if (list === undefined) pieces.set(key, (list = []));
        list.push({ offset: record.offset, payload: Buffer.from(record.payload) });
      }
    }
  }
  return [...pieces.values()].map((list) => Buffer.concat(list.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((p) => p.payload)));
}

interface SealedRecord {
  readonly header: Buffer;
  readonly nonce: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

/** The application-data records of a stream, re-encrypted under `key` with their sizes kept. */
function sealRecords(stream: Buffer, key: Buffer, into: SealedRecord[]): void {
  for (let at = 0; at + HEADER_BYTES <= stream.length; ) {
    const length = stream.readUInt16BE(at + 3);
    const end = at + HEADER_BYTES + length;
    if (end > stream.length) break;
    if (stream[at] === APPLICATION_DATA && length > TAG_BYTES) {
      const header = stream.subarray(at, at + HEADER_BYTES);
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-128-gcm', key, nonce).setAAD(header);
      const body = Buffer.concat([cipher.update(stream.subarray(at + HEADER_BYTES, end - TAG_BYTES)), cipher.final()]);
      into.push({ header, nonce, body, tag: cipher.getAuthTag() });
    }
    at = end;
  }
}

async function measureRaw(bucket: string): Promise<DecryptChildResult> {
  const key = randomBytes(16);
  const records: SealedRecord[] = [];
  for (const stream of await tappedStreams(bucket)) sealRecords(stream, key, records);
  let bytes = 0;
  const bySize = new Map<number, number>();
  for (const record of records) {
    const size = HEADER_BYTES + record.body.length + TAG_BYTES;
    bySize.set(size, (bySize.get(size) ?? 0) + size);
  }
  const recordSizes = [...bySize].sort((a, b) => b[1] - a[1]).map(([size, sizeBytes]) => ({ size, bytes: sizeBytes }));
  // The key as a KeyObject made once, as the stitcher holds it: a Buffer key is turned into one on every
  // call, which halved this loop's speed (and so flattered the ratio against it).
  const keyObject = createSecretKey(key);
  const started = process.hrtime.bigint();
  for (const record of records) {
    const decipher = createDecipheriv('aes-128-gcm', keyObject, record.nonce).setAAD(record.header).setAuthTag(record.tag);
    decipher.update(record.body);
    decipher.final();
    bytes += HEADER_BYTES + record.body.length + TAG_BYTES;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, bytes, count: records.length, recordSizes };
}

const [mode, bucket, keys, output] = process.argv.slice(2);
if (bucket === undefined || keys === undefined || output === undefined) throw new Error('usage: decrypt-child cleartext|raw <bucket> <keys> <output>');
const result = mode === 'cleartext' ? await measureCleartext(bucket, keys, output) : await measureRaw(bucket);
process.stdout.write(`${JSON.stringify(result)}\n`);
