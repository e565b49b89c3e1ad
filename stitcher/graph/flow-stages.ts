/**
 * Small FlowConsumers that sit between reassembly and synthesis: a tee to
 * several branches, the --select filter, and address remapping. Each passes
 * events on synchronously, so payload views stay valid (see flow/events.ts).
 */
import type { FlowConsumer, FlowEvent, FlowIdentity } from '../flow/events.js';
import type { FlowSelection } from '../flow/selection.js';
import type { AddressRemapper } from '../export/remap.js';

/** Hands every flow to every branch. */
export class FlowTee implements FlowConsumer {
  constructor(private readonly branches: readonly FlowConsumer[]) {}

  openFlow(flow: FlowIdentity): void {
    for (const branch of this.branches) branch.openFlow(flow);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    for (const branch of this.branches) branch.flowEvent(flow, event);
  }
}

/** Passes on only the flows the selection takes; the selection counts the rest. */
export class SelectedFlows implements FlowConsumer {
  private readonly taken = new Set<string>();

  constructor(private readonly selection: FlowSelection, private readonly next: FlowConsumer) {}

  openFlow(flow: FlowIdentity): void {
    if (!this.selection.matches(flow.open)) return;
    this.taken.add(flowKey(flow));
    this.next.openFlow(flow);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    const key = flowKey(flow);
    if (!this.taken.has(key)) return;
    if (event.kind === 'close') this.taken.delete(key);
    this.next.flowEvent(flow, event);
  }
}

/** Passes on only the flows the TLS decryptor decrypted (the clear-text copy of variant `both`). */
export class DecryptedFlows implements FlowConsumer {
  constructor(private readonly next: FlowConsumer) {}

  openFlow(flow: FlowIdentity): void {
    if (flow.decrypted === true) this.next.openFlow(flow);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    if (flow.decrypted === true) this.next.flowEvent(flow, event);
  }
}

/** Rewrites the FLOW_OPEN addresses of every flow before the synthesiser sees them. */
export class RemappedFlows implements FlowConsumer {
  private readonly mapped = new Map<string, FlowIdentity>();

  constructor(private readonly remapper: AddressRemapper, private readonly next: FlowConsumer) {}

  openFlow(flow: FlowIdentity): void {
    const mapped: FlowIdentity = { ...flow, open: this.remapper.remapOpen(flow.open) };
    this.mapped.set(flowKey(flow), mapped);
    this.next.openFlow(mapped);
  }

  flowEvent(flow: FlowIdentity, event: FlowEvent): void {
    const key = flowKey(flow);
    const mapped = this.mapped.get(key) ?? flow;
    if (event.kind === 'close') this.mapped.delete(key);
    this.next.flowEvent(mapped, event);
  }
}

function flowKey(flow: FlowIdentity): string {
  return `${flow.gateway}/${flow.key}`;
}
