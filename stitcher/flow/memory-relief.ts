/**
 * What the flow table gives up when it holds too much, each step counted with
 * its reason: a flow over its own cap hands on what is contiguous, then gives up
 * the bytes it misses; past the table's budget, in the order
 * FlowLimits.maxTotalBufferBytes states, the flows quiet the longest hand on what
 * they hold, then give up what they miss as holes, then records waiting for a
 * FLOW_OPEN are dropped as orphans, then the gateway with the most open flows has
 * its quietest flows closed. Kept apart from reassembly: it runs only under
 * pressure, and it reads the table's own state through `ReliefAccess`.
 */
import type { FlowTableStats } from './flow-stats.js';
import type { FlowState } from './flow-state.js';

/** What the relief needs of the flow table: its own state (not a copy) and the steps it may take. `G` is one gateway's flows. */
export interface ReliefAccess<G> {
  readonly stats: FlowTableStats;
  /** What the table holds now, by its costs (FlowTable.memoryBytes). */
  memoryBytes(): number;
  /** Every open flow with its gateway's flows, the one quiet the longest first. */
  readonly quietest: ReadonlyMap<FlowState, G>;
  gateways(): Iterable<G>;
  openFlowCount(flows: G): number;
  /** Hands on what `flow` can release in `mode` now. */
  releaseNow(flows: G, flow: FlowState, mode: 'all' | 'flush'): void;
  /** Drops the gateway's records waiting for a FLOW_OPEN as orphans; returns how many. */
  dropEarly(flows: G): number;
  /** Closes these flows now, their missing bytes as holes. */
  closeFlows(flows: G, closing: readonly FlowState[]): void;
}

export interface ReliefLimits {
  readonly maxFlowBufferBytes: number;
  readonly maxTotalBufferBytes: number;
  /** What one open flow costs, to know how many to close to get back under the budget. */
  readonly openFlowCostBytes: number;
}

export class MemoryRelief<G> {
  constructor(private readonly table: ReliefAccess<G>, private readonly limits: ReliefLimits) {}

  /** A flow over its cap hands on what is contiguous; if still over, it gives up the bytes it misses. */
  relieveFlow(flows: G, flow: FlowState): void {
    this.releaseEarly(flows, flow, 'all');
    if (flow.bufferedBytes <= this.limits.maxFlowBufferBytes) return;
    this.releaseEarly(flows, flow, 'flush');
    this.table.stats.forcedFlushesFlowCap++;
  }

  /** Over the budget: gives up state in the order FlowLimits.maxTotalBufferBytes states, until under it. */
  relieveTotal(): void {
    const { table } = this;
    const limit = this.limits.maxTotalBufferBytes;
    const holding = [...table.quietest].filter(([flow]) => flow.pending && flow.heldItems > 0);
    for (const mode of ['all', 'flush'] as const) {
      for (const [flow, flows] of holding) {
        if (table.memoryBytes() <= limit) return;
        if (flow.finished || flow.heldItems === 0) continue;
        this.releaseEarly(flows, flow, mode);
        if (mode === 'flush') table.stats.forcedFlushesTotalCap++;
      }
    }
    for (const flows of table.gateways()) {
      if (table.memoryBytes() <= limit) return;
      table.stats.earlyDroppedForMemory += table.dropEarly(flows);
    }
    if (table.memoryBytes() > limit) {
      // Down to 90%, so that a flood of opens does not come back here at every flow.
      const over = table.memoryBytes() - Math.floor(limit * 0.9);
      this.closeQuietest(Math.ceil(over / this.limits.openFlowCostBytes), 'memory');
    }
  }

  /**
   * Closes `count` flows (their missing bytes as holes), counted by why: those of
   * the gateway with the most open flows, quietest first, so that a gateway that
   * floods the table with opens pays for it and the others' flows go on.
   */
  closeQuietest(count: number, why: 'flowCap' | 'memory'): void {
    const { table } = this;
    let heaviest: G | undefined;
    for (const flows of table.gateways()) if (heaviest === undefined || table.openFlowCount(flows) > table.openFlowCount(heaviest)) heaviest = flows;
    if (heaviest === undefined) return;
    const chosen: FlowState[] = [];
    for (const [flow, flows] of table.quietest) {
      if (chosen.length >= count) break;
      if (flows === heaviest) chosen.push(flow);
    }
    table.closeFlows(heaviest, chosen);
    if (why === 'flowCap') table.stats.flowsClosedForFlowCap += chosen.length;
    else table.stats.flowsClosedForMemory += chosen.length;
  }

  private releaseEarly(flows: G, flow: FlowState, mode: 'all' | 'flush'): void {
    this.table.stats.forcedReleases++;
    this.table.releaseNow(flows, flow, mode);
  }
}
