/**
 * The flows waiting for their secrets, found by client random when keys arrive
 * (without a scan of every waiting flow) and all together for the deadline check.
 */
export class WaitingFlows<T> {
  private readonly all = new Map<T, string>();
  private readonly byRandom = new Map<string, Set<T>>();

  get size(): number {
    return this.all.size;
  }

  has(flow: T): boolean {
    return this.all.has(flow);
  }

  /** `clientRandom` may be '' while unknown: such a flow only waits for its deadline. */
  add(flow: T, clientRandom: string): void {
    if (this.all.has(flow)) return;
    this.all.set(flow, clientRandom);
    let flows = this.byRandom.get(clientRandom);
    if (flows === undefined) this.byRandom.set(clientRandom, (flows = new Set()));
    flows.add(flow);
  }

  delete(flow: T): void {
    const random = this.all.get(flow);
    if (random === undefined) return;
    this.all.delete(flow);
    const flows = this.byRandom.get(random);
    flows?.delete(flow);
    if (flows?.size === 0) this.byRandom.delete(random);
  }

  /** A snapshot: safe to change the set while going through it. */
  withRandom(clientRandom: string): T[] {
    return [...(this.byRandom.get(clientRandom) ?? [])];
  }

  /** A snapshot of every waiting flow. */
  snapshot(): T[] {
    return [...this.all.keys()];
  }
}
