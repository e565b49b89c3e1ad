/** Rewrites the CTAP objects of a local bucket record by record: for tests that damage keys or traffic on purpose. */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCtapObject } from '../../stitcher/format/reader.js';
import { encodeCtapObject } from '../../stitcher/format/writer.js';
import { RecordType, type CtapRecord, type ObjectHeader } from '../../stitcher/format/records.js';

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function objectFiles(dir: string, suffix: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix)) files.push(join(entry.parentPath, entry.name));
  }
  return files.sort();
}

/**
 * Applies `change` to every record of every object with that suffix; `undefined`
 * drops the record. Objects whose records did not change are left as they are.
 */
export async function rewriteRecords(dir: string, suffix: '.ctap' | '.keys', change: (record: CtapRecord) => CtapRecord | undefined): Promise<number> {
  let changed = 0;
  for (const file of await objectFiles(dir, suffix)) {
    let header: ObjectHeader | undefined;
    const records: CtapRecord[] = [];
    let touched = false;
    for await (const event of readCtapObject(file, once(await readFile(file)))) {
      if (event.kind === 'header') header = event.header;
      if (event.kind !== 'records') continue;
      for (const record of event.records) {
        const copy = record.type === RecordType.Data ? { ...record, payload: Buffer.from(record.payload) } : record;
        const next = change(copy);
        if (next !== copy) touched = true;
        if (next !== undefined) records.push(next);
      }
    }
    if (!touched || header === undefined) continue;
    await writeFile(file, encodeCtapObject(header, records));
    changed++;
  }
  return changed;
}
