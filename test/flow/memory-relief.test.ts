import { expect } from 'chai';
import { FlowTable, HELD_ITEM_COST_BYTES, OPEN_FLOW_COST_BYTES } from '../../stitcher/flow/flow-table.js';
import { data, Direction, flowId, open, RecordingConsumer } from './records.js';

const closedKeys = (consumer: RecordingConsumer): string[] =>
  consumer.events.filter((seen) => seen.event.kind === 'close').map((seen) => seen.flow.slice(-2));

describe('flow/memory-relief', () => {
  it('makes the gateway with the most open flows pay for one more: its quietest flow is closed, not another gateway\'s', () => {
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer, { maxOpenFlows: 4 });
    // The quiet flow of the good gateway is the quietest of all: still it stays open.
    table.ingestBlock('good', [open(flowId(0x01), { tsNs: 1n })]);
    table.ingestBlock('flood', [open(flowId(0x11), { tsNs: 2n }), open(flowId(0x12), { tsNs: 3n }), open(flowId(0x13), { tsNs: 4n })]);
    table.ingestBlock('flood', [open(flowId(0x14), { tsNs: 5n })]);
    expect(closedKeys(consumer)).to.deep.equal(['11']);
    expect(table.stats).to.include({ flowsOpen: 4, flowsClosedForFlowCap: 1 });
  });

  it('under the budget, first lets the quietest flows hand on what they hold, and only then gives up what they miss', () => {
    const consumer = new RecordingConsumer();
    const table = new FlowTable(consumer, { maxTotalBufferBytes: 2 * OPEN_FLOW_COST_BYTES + 2 * HELD_ITEM_COST_BYTES + 600 });
    const [a, b] = [flowId(0x21), flowId(0x22)];
    // a holds contiguous bytes (waiting only for the reorder window); b holds bytes after a hole.
    table.ingestBlock('gw', [open(a, { tsNs: 1n }), data(a, Direction.ClientToServer, 0, Buffer.alloc(300), 1n)]);
    table.ingestBlock('gw', [open(b, { tsNs: 2n }), data(b, Direction.ClientToServer, 10, Buffer.alloc(400), 2n)]);
    expect(table.stats.forcedReleases, 'a handed on early').to.be.greaterThan(0);
    expect(table.stats.forcedFlushesTotalCap, 'nothing given up: releasing a was enough').to.equal(0);
    expect(consumer.stream(a, Direction.ClientToServer).bytes.length).to.equal(300);
    expect(consumer.stream(b, Direction.ClientToServer).holes).to.deep.equal([]);
  });
});
