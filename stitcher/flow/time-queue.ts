/** A binary min-heap of items by time (ties: first pushed first out is not promised). */
export class TimeQueue<T> {
  private readonly items: T[] = [];
  private readonly times: bigint[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: T, ts: bigint): void {
    let i = this.items.length;
    this.items.push(item);
    this.times.push(ts);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= ts) break;
      this.move(parent, i);
      i = parent;
    }
    this.items[i] = item;
    this.times[i] = ts;
  }

  /** The item with the earliest time, or undefined when empty. */
  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0];
    const lastItem = this.items.pop()!;
    const lastTs = this.times.pop()!;
    if (n > 1) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n - 1) break;
        const right = left + 1;
        const child = right < n - 1 && this.times[right]! < this.times[left]! ? right : left;
        if (this.times[child]! >= lastTs) break;
        this.move(child, i);
        i = child;
      }
      this.items[i] = lastItem;
      this.times[i] = lastTs;
    }
    return top;
  }

  private move(from: number, to: number): void {
    this.items[to] = this.items[from]!;
    this.times[to] = this.times[from]!;
  }
}
