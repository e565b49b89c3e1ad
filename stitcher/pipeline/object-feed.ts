/**
 * Finds the CTAP objects of every gateway in a store and hands them out in the
 * order they must be read: per gateway by <seq> (which runs across hours), the
 * gateways interleaved hour by hour so the output stays roughly in time order.
 * A gateway's cursor (the next <seq> expected) makes every poll list only what is new.
 */
import { ObjectKind } from '../format/records.js';
import { parseObjectKey } from '../format/object-key.js';
import { listAll, listPrefixes, type ObjectStore } from '../store/store.js';

export interface FeedObject {
  readonly key: string;
  readonly gateway: string;
  readonly seq: bigint;
  readonly hourPrefix: string;
  readonly size: number;
}

export interface SeqGap {
  readonly gateway: string;
  readonly fromSeq: bigint;
  readonly toSeq: bigint;
}

export class ObjectFeed {
  /** Per gateway, the next <seq> to hand out. */
  private readonly nextSeq = new Map<string, bigint>();
  /** Per gateway, the last key handed out, for start-after listings. */
  private readonly lastKey = new Map<string, string>();
  listRequests = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly kind: ObjectKind,
  ) {}

  /**
   * Everything new since the last call, in reading order. With `passGaps`, a missing
   * <seq> is skipped over (and reported through `onGap`); otherwise a gateway stops at
   * its first missing <seq> until it shows up.
   */
  async poll(passGaps: boolean, onGap: (gap: SeqGap) => void): Promise<FeedObject[]> {
    const perGateway = new Map<string, FeedObject[]>();
    for (const hour of await this.listHours()) {
      for (const gatewayPrefix of await this.listed(listPrefixes(this.store, hour))) {
        const gateway = gatewayPrefix.slice(hour.length, -1);
        for (const object of await this.listGatewayHour(gatewayPrefix)) {
          const parsed = parseObjectKey(object.key);
          if (parsed === undefined || parsed.kind !== this.kind || parsed.gateway !== gateway) continue;
          if (parsed.seq < (this.nextSeq.get(gateway) ?? 0n)) continue;
          const list = perGateway.get(gateway) ?? [];
          list.push({ key: object.key, gateway, seq: parsed.seq, hourPrefix: hour, size: object.size });
          perGateway.set(gateway, list);
        }
      }
    }
    const ready: FeedObject[][] = [];
    for (const [gateway, objects] of perGateway) {
      ready.push(this.takeInOrder(gateway, objects, passGaps, onGap));
    }
    return interleaveByHour(ready);
  }

  private takeInOrder(gateway: string, objects: FeedObject[], passGaps: boolean, onGap: (gap: SeqGap) => void): FeedObject[] {
    objects.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    const taken: FeedObject[] = [];
    let next = this.nextSeq.get(gateway) ?? 0n;
    for (const object of objects) {
      if (object.seq < next) continue; // listed twice (a prefix seen in two hours)
      if (object.seq > next) {
        if (!passGaps) break;
        onGap({ gateway, fromSeq: next, toSeq: object.seq - 1n });
      }
      taken.push(object);
      next = object.seq + 1n;
    }
    this.nextSeq.set(gateway, next);
    const last = taken.at(-1);
    if (last !== undefined) this.lastKey.set(gateway, last.key);
    return taken;
  }

  /** Hour prefixes `yyyy/mm/dd/hh/`, oldest first. */
  private async listHours(): Promise<string[]> {
    let level = [''];
    for (let depth = 0; depth < 4; depth++) {
      const next: string[] = [];
      for (const prefix of level) next.push(...(await this.listed(listPrefixes(this.store, prefix))));
      level = next.filter((p) => /^\d+\/$/.test(p.slice(p.lastIndexOf('/', p.length - 2) + 1)));
    }
    return level.sort();
  }

  private async listGatewayHour(gatewayPrefix: string): Promise<{ key: string; size: number }[]> {
    const objects: { key: string; size: number }[] = [];
    const gateway = gatewayPrefix.split('/').at(-2) ?? '';
    const last = this.lastKey.get(gateway);
    // start-after only helps within the hour of the last object read
    const startAfter = last !== undefined && last.startsWith(gatewayPrefix) ? last : undefined;
    this.listRequests++;
    for await (const object of listAll(this.store, gatewayPrefix, startAfter)) objects.push(object);
    return objects;
  }

  private async listed<T>(request: Promise<T>): Promise<T> {
    this.listRequests++;
    return request;
  }
}

/** Round-robin over gateways, never taking a later hour while another gateway still has an earlier one. */
function interleaveByHour(perGateway: FeedObject[][]): FeedObject[] {
  const order: FeedObject[] = [];
  const cursors = perGateway.map(() => 0);
  for (;;) {
    let earliest: string | undefined;
    perGateway.forEach((objects, i) => {
      const hour = objects[cursors[i]!]?.hourPrefix;
      if (hour !== undefined && (earliest === undefined || hour < earliest)) earliest = hour;
    });
    if (earliest === undefined) return order;
    perGateway.forEach((objects, i) => {
      const object = objects[cursors[i]!];
      if (object !== undefined && object.hourPrefix === earliest) {
        order.push(object);
        cursors[i]!++;
      }
    });
  }
}
