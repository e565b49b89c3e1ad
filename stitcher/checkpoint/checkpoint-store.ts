/**
 * Where shard checkpoints live, behind one small interface: a folder on one
 * machine (`file:///abs/dir`, one `shard-<i>.json` per shard) or, in a cluster,
 * one ConfigMap per shard (`configmap://<namespace>/<cloudtap>`, see
 * checkpoint-configmap.ts). Every shard can read every other shard's
 * checkpoint: that is how a re-shard hands gateways over.
 */
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCheckpoint, type Checkpoint } from './checkpoint.js';

export interface CheckpointStore {
  /** `file:///var/lib/cloudtap`, `configmap://ns/name`: for messages, never a secret. */
  readonly description: string;
  /** Whether the operator reads a status report beside the checkpoint (then one goes with every write). */
  readonly carriesReports?: boolean;
  /** Every shard's checkpoint found (for a re-shard), each with its shard index. */
  readAll(): Promise<ShardCheckpoint[]>;
  /**
   * Replaces this shard's checkpoint with `text` (whole, atomically). `report` is the
   * shard's status report for the operator (status-report.ts), kept beside it where
   * the operator reads it (the ConfigMap); a folder has no reader for it.
   */
  write(text: string, report?: string): Promise<void>;
}

export interface ShardCheckpoint {
  readonly index: number;
  readonly checkpoint: Checkpoint;
}

const SHARD_FILE = /^shard-(\d+)\.json$/;

/** Checkpoints as files in a folder, replaced atomically (write, fsync, rename). */
export class FileCheckpointStore implements CheckpointStore {
  readonly description: string;

  constructor(private readonly folder: string, private readonly shardIndex: number) {
    this.description = `file://${folder}`;
  }

  async readAll(): Promise<ShardCheckpoint[]> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`while listing checkpoints in ${this.description}: ${(error as Error).message}`);
    }
    const found: ShardCheckpoint[] = [];
    for (const name of names.sort()) {
      const match = SHARD_FILE.exec(name);
      if (match === null) continue;
      const path = join(this.folder, name);
      found.push({ index: Number(match[1]), checkpoint: decodeCheckpoint(await readFile(path, 'utf8'), `file://${path}`) });
    }
    return found;
  }

  async write(text: string): Promise<void> {
    const path = join(this.folder, `shard-${this.shardIndex}.json`);
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      await mkdir(this.folder, { recursive: true });
      // Checkpoints name users, hosts and flows: readable by the owner only, like the captures.
      const handle = await open(temporary, 'w', 0o600);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, path);
    } catch (error) {
      throw new Error(`while writing checkpoint file://${path}: ${(error as Error).message}`);
    }
  }
}

/** Where a checkpoint URL points. */
export type CheckpointLocation =
  | { readonly kind: 'file'; readonly folder: string }
  | { readonly kind: 'configmap'; readonly namespace: string; readonly cloudTap: string };

/**
 * Parses `file:///abs/dir` or `configmap://<namespace>/<cloudtap name>`.
 * @throws Error naming the URL and what is wrong with it
 */
export function parseCheckpointUrl(url: string): CheckpointLocation {
  if (url.startsWith('file://')) {
    let folder: string;
    try {
      folder = fileURLToPath(url);
    } catch (error) {
      throw new Error(`checkpoint URL ${url}: ${(error as Error).message}`);
    }
    return { kind: 'file', folder: folder.replace(/\/+$/, '') || '/' };
  }
  const match = /^configmap:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/?$/.exec(url);
  if (match !== null) return { kind: 'configmap', namespace: match[1]!, cloudTap: match[3]! };
  throw new Error(`checkpoint URL '${url}' is neither file:///abs/dir nor configmap://<namespace>/<cloudtap name>`);
}
