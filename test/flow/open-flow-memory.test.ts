/**
 * What an idle open flow costs: 20,000 flows each open with a request and a
 * response handed on (reassembly and packet synthesis both keep the flow), and
 * nothing held any more. The heap and off-heap memory they add after a full
 * GC, per flow, stays under a bound; the bench measures the same at 100,000
 * flows through the whole pipeline (goal 2 KB). Before the direction buffers
 * dropped their empty heaps it was 3.7 KB.
 */
import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FlowTable } from '../../stitcher/flow/flow-table.js';
import { TcpSynthesizer } from '../../stitcher/flow/tcp-synthesizer.js';
import type { CtapRecord } from '../../stitcher/format/records.js';
import { Direction, data, flowId, open } from './records.js';

const FLOWS = 20_000;
const BOUND_BYTES_PER_FLOW = 2600;
const SECOND_NS = 1_000_000_000n;

function fullGc(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

function heapAndExternal(): number {
  fullGc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

describe('flow/open-flow-memory', function () {
  this.timeout(120_000);

  it(`keeps an idle open flow (reassembly and synthesis) under ${BOUND_BYTES_PER_FLOW} B at ${FLOWS} flows`, () => {
    let packets = 0;
    const synthesizer = new TcpSynthesizer(() => void packets++);
    const table = new FlowTable(synthesizer);
    const request = Buffer.from('GET / HTTP/1.1\r\nHost: idle.example\r\n\r\n');
    const response = Buffer.from('HTTP/1.1 204 No Content\r\n\r\n');
    const before = heapAndExternal();
    for (let first = 0; first < FLOWS; first += 1000) {
      const records: CtapRecord[] = [];
      for (let i = first; i < first + 1000; i++) {
        const id = flowId(i);
        const tsNs = SECOND_NS + BigInt(i) * 1000n;
        records.push(open(id, { tsNs, clientPort: 1024 + (i % 60000) }));
        records.push(data(id, Direction.ClientToServer, 0, request, tsNs + 1n));
        records.push(data(id, Direction.ServerToClient, 0, response, tsNs + 2n));
      }
      table.ingestBlock('gw-idle', records);
      table.endOfObject('gw-idle', SECOND_NS);
    }
    // The gateway's clock passes the reorder window: every flow hands on its bytes and goes idle, still open.
    table.endOfObject('gw-idle', SECOND_NS + 60n * SECOND_NS);
    expect(table.stats.flowsOpen).to.equal(FLOWS);
    expect(table.stats.bufferedBytes).to.equal(0);
    expect(packets).to.be.at.least(FLOWS * 5); // handshake (3), then the request and the response
    const perFlow = (heapAndExternal() - before) / FLOWS;
    expect(perFlow, `${perFlow.toFixed(0)} B per idle open flow`).to.be.at.most(BOUND_BYTES_PER_FLOW);
    // Kept reachable until measured.
    expect(table.openFlowCount('gw-idle') + synthesizer.stats.flows).to.equal(2 * FLOWS);
  });
});
