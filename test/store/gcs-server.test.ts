/**
 * Proves the GCS test server with the real @google-cloud/storage client: if
 * the server answered differently from GCS, the client (which checks hashes,
 * follows pages and parses errors) would fail here. The same checks run on
 * fake-gcs-server, the community's emulator, so the in-repo server is held to
 * what a GCS peer we did not write does (checks that look inside the in-repo
 * server, at its request log or its stored hashes, run on it alone).
 */
import { Storage, type GetFilesResponse } from '@google-cloud/storage';
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { crc32c } from '../servers/crc32c.js';
import { GcsTestServer } from '../servers/gcs-server.js';
import { startFakeGcs } from '../servers/fake-gcs.js';

interface Peer {
  readonly name: string;
  start(): Promise<{ apiEndpoint: string; stop: () => Promise<void>; inRepo?: GcsTestServer }>;
}

const peers: Peer[] = [
  {
    name: 'GCS test server',
    start: async () => {
      const inRepo = new GcsTestServer({ buckets: ['judge'], maxPageSize: 1000 });
      return { apiEndpoint: await inRepo.start(), stop: () => inRepo.stop(), inRepo };
    },
  },
  {
    name: 'fake-gcs-server',
    start: async () => {
      const fake = await startFakeGcs(['judge']);
      return { apiEndpoint: fake.endpoint, stop: () => fake.stop() };
    },
  },
];

describe('the GCS test server\'s CRC-32C', () => {
  it('computes CRC-32C as the standard check value says', () => {
    // The CRC-32C of "123456789" is 0xE3069283 (RFC 3720, B.4; the catalogue's check value).
    expect(crc32c(Buffer.from('123456789'))).to.equal(0xe3069283);
  });
});

for (const peer of peers) describe(`${peer.name}, judged by @google-cloud/storage`, () => {
  let server: GcsTestServer | undefined;
  let stop: () => Promise<void>;
  let storage: Storage;

  before(async () => {
    const started = await peer.start();
    server = started.inRepo;
    stop = started.stop;
    storage = new Storage({ apiEndpoint: started.apiEndpoint, projectId: 'cloudtap-test', retryOptions: { autoRetry: false } });
  });

  after(() => stop());

  it('takes a multipart upload and serves it back with hashes the client validates', async () => {
    const data = randomBytes(200_000);
    await storage.bucket('judge').file('multi/part.bin').save(data, { resumable: false, validation: 'crc32c' });
    const [metadata] = await storage.bucket('judge').file('multi/part.bin').getMetadata();
    expect(metadata.md5Hash).to.equal(createHash('md5').update(data).digest('base64'));
    expect(Number(metadata.size)).to.equal(data.length);
    const [read] = await storage.bucket('judge').file('multi/part.bin').download({ validation: 'md5' });
    expect(read).to.deep.equal(data);
    if (server === undefined) return;
    const multipart = server.requests.find((r) => r.query.get('uploadType') === 'multipart');
    expect(multipart?.path).to.equal('/upload/storage/v1/b/judge/o');
  });

  it('takes a resumable upload through its session Location', async () => {
    const data = randomBytes(300_000);
    await storage.bucket('judge').file('resumable.bin').save(data, { resumable: true });
    const [read] = await storage.bucket('judge').file('resumable.bin').download();
    expect(read).to.deep.equal(data);
    if (server !== undefined) expect(server.requests.some((r) => r.method === 'PUT' && r.query.has('upload_id')), server.requests.map((r) => r.method).join(' ')).to.equal(true);
  });

  it('fails the client-side hash check when the stored hash is wrong', async function () {
    if (server === undefined) this.skip();
    await storage.bucket('judge').file('tampered.bin').save(Buffer.from('the original bytes'), { resumable: false });
    const stored = server!.objects.get('judge', 'tampered.bin')!;
    Object.assign(stored, { crc32c: 'AAAAAA==' });
    const failure = await storage.bucket('judge').file('tampered.bin').download({ validation: 'crc32c' })
      .then(() => undefined, (error: unknown) => error as Error);
    expect(failure?.message).to.match(/mismatch|match/i);
  });

  it('answers ranges with 206 and the bytes asked for', async () => {
    const data = randomBytes(10_000);
    await storage.bucket('judge').file('range.bin').save(data, { resumable: false });
    const [middle] = await storage.bucket('judge').file('range.bin').download({ start: 1000, end: 1999 });
    expect(middle).to.deep.equal(data.subarray(1000, 2000));
    const [tail] = await storage.bucket('judge').file('range.bin').download({ start: 9_000 });
    expect(tail).to.deep.equal(data.subarray(9_000));
  });

  it('lists with prefix, delimiter, startOffset and pages', async () => {
    const bucket = storage.bucket('judge');
    const names = ['list/a/1', 'list/a/2', 'list/b/1', 'list/c', 'list/d/1', 'list/e'];
    for (const name of names) await bucket.file(name).save(Buffer.from(name), { resumable: false });
    const [, , grouped] = await bucket.getFiles({ prefix: 'list/', delimiter: '/', autoPaginate: false });
    expect((grouped as { prefixes?: string[] }).prefixes).to.deep.equal(['list/a/', 'list/b/', 'list/d/']);
    const all: string[] = [];
    let pageToken: string | undefined;
    do {
      const response: GetFilesResponse = await bucket.getFiles({
        prefix: 'list/', maxResults: 2, autoPaginate: false, ...(pageToken !== undefined ? { pageToken } : {}),
      });
      all.push(...response[0].map((f) => f.name));
      pageToken = (response[1] as { pageToken?: string } | null)?.pageToken;
    } while (pageToken !== undefined);
    expect(all).to.deep.equal(names);
    const [after] = await bucket.getFiles({ prefix: 'list/', startOffset: 'list/b/1' });
    expect(after.map((f) => f.name)).to.deep.equal(names.slice(2));
    if (server === undefined) return;
    const pages = server.requests.filter((r) => r.query.get('maxResults') === '2');
    expect(pages.length).to.equal(3);
  });

  it('refuses ifGenerationMatch=0 on an existing object with 412', async () => {
    const file = storage.bucket('judge').file('once.bin');
    await file.save(Buffer.from('first'), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const failure = await file.save(Buffer.from('second'), { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })
      .then(() => undefined, (error: unknown) => error as { code?: number });
    expect(failure?.code).to.equal(412);
    const [read] = await file.download();
    expect(read.toString()).to.equal('first');
  });

  it('answers a missing object and bucket with 404 in Google\'s error shape', async () => {
    const [exists] = await storage.bucket('judge').file('nothing-here').exists();
    expect(exists).to.equal(false);
    const failure = await storage.bucket('no-such-bucket').getFiles()
      .then(() => undefined, (error: unknown) => error as { code?: number; errors?: { reason: string }[] });
    expect(failure?.code).to.equal(404);
    expect(failure?.errors?.[0]?.reason).to.equal('notFound');
  });

  it('deletes with 204', async () => {
    const file = storage.bucket('judge').file('doomed.bin');
    await file.save(Buffer.from('x'), { resumable: false });
    await file.delete();
    expect((await file.exists())[0]).to.equal(false);
  });
});
