/** Checkpoint files: atomic replacement, every shard's found, URLs parsed or refused with a reason. */
import { expect } from 'chai';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKPOINT_VERSION, encodeCheckpoint } from '../../stitcher/checkpoint/checkpoint.js';
import { FileCheckpointStore, parseCheckpointUrl } from '../../stitcher/checkpoint/checkpoint-store.js';

function text(index: number, nextSeq: string): string {
  return encodeCheckpoint({
    version: CHECKPOINT_VERSION, shard: { index, count: 3 }, writtenAt: new Date().toISOString(),
    gateways: { [`gw-${index}`]: { resumeSeq: '0', nextSeq, closed: [], flows: [] } },
  }).text;
}

describe('pipeline/checkpoint-store', () => {
  it('writes each shard to its own file and reads every shard back', async () => {
    const folder = join(await mkdtemp(join(tmpdir(), 'cloudtap-ckpt-')), 'nested');
    expect(await new FileCheckpointStore(folder, 0).readAll()).to.deep.equal([]);
    await new FileCheckpointStore(folder, 0).write(text(0, '5'));
    await new FileCheckpointStore(folder, 2).write(text(2, '7'));
    await new FileCheckpointStore(folder, 0).write(text(0, '6'));
    const found = await new FileCheckpointStore(folder, 1).readAll();
    expect(found.map((f) => [f.index, f.checkpoint.gateways[`gw-${f.index}`]?.nextSeq])).to.deep.equal([[0, '6'], [2, '7']]);
    expect((await readdir(folder)).sort()).to.deep.equal(['shard-0.json', 'shard-2.json']);
  });

  it('names the file of a checkpoint it cannot read', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cloudtap-ckpt-'));
    await writeFile(join(folder, 'shard-4.json'), '{"version": 7}');
    try {
      await new FileCheckpointStore(folder, 0).readAll();
      expect.fail('a checkpoint of another version was read');
    } catch (error) {
      expect((error as Error).message).to.equal(`checkpoint file://${join(folder, 'shard-4.json')} has version 7; this stitcher reads version 1`);
    }
  });

  it('parses file and configmap URLs and refuses others', () => {
    expect(parseCheckpointUrl('file:///var/lib/cloudtap/')).to.deep.equal({ kind: 'file', folder: '/var/lib/cloudtap' });
    expect(parseCheckpointUrl('configmap://tapping/corp-tap')).to.deep.equal({ kind: 'configmap', namespace: 'tapping', cloudTap: 'corp-tap' });
    expect(() => parseCheckpointUrl('s3://bucket/ckpt')).to.throw(/neither file:\/\/\/abs\/dir nor configmap:\/\/<namespace>\/<cloudtap name>/);
    expect(() => parseCheckpointUrl('configmap://Bad_NS/x')).to.throw(/neither/);
  });
});
