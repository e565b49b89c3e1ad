import { expect } from 'chai';
import { headroom, maxShards, mbpsPerShardBeyondTable, measuredMbpsPerCore, plannedMbpsPerCore, sizeFor, sizingTable } from '../../../operator/specs/sizing.js';

/** CPU as millicores, to compare quantities like 1500m and 2. */
function millicores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

describe('operator/specs/sizing', () => {
  it('never gives less capacity for more throughput', () => {
    let previous = { shards: 0, cpu: 0 };
    for (const mbps of [1, 50, 100, 101, 300, 301, 1000, 2999, 3000, 10000, 20000, 100000]) {
      const size = sizeFor({ expectedThroughputMbps: mbps });
      const capacity = { shards: size.shards, cpu: size.shards * millicores(size.resources.requests.cpu!) };
      expect(capacity.shards, `shards at ${mbps} Mbit/s`).to.be.at.least(previous.shards);
      expect(capacity.cpu, `total CPU at ${mbps} Mbit/s`).to.be.at.least(previous.cpu);
      previous = capacity;
    }
  });

  it('uses each table row up to its limit and caps the shards beyond it', () => {
    for (const row of sizingTable) expect(sizeFor({ expectedThroughputMbps: row.upToMbps }).shards).to.equal(row.shards);
    expect(sizeFor({ expectedThroughputMbps: 10_000_000 }).shards).to.equal(maxShards);
  });

  it('plans no core above half the measured rate, and no shard above one core', () => {
    expect(plannedMbpsPerCore).to.be.above(0).and.at.most(headroom * measuredMbpsPerCore);
    for (const row of sizingTable) {
      const cores = millicores(row.cpu) / 1000;
      expect(cores, `CPU per shard up to ${row.upToMbps} Mbit/s`).to.be.at.most(1);
      expect(row.shards * cores * plannedMbpsPerCore, `planned capacity up to ${row.upToMbps} Mbit/s`).to.be.at.least(row.upToMbps);
    }
    const last = sizingTable.at(-1)!;
    expect(mbpsPerShardBeyondTable).to.be.at.most((millicores(last.cpu) / 1000) * plannedMbpsPerCore);
    for (const mbps of [last.upToMbps + 1, 7777, 19_200]) {
      expect(sizeFor({ expectedThroughputMbps: mbps }).shards * plannedMbpsPerCore, `capacity at ${mbps} Mbit/s`).to.be.at.least(mbps);
    }
  });

  it('lets explicit shards and resources override the table key by key', () => {
    const size = sizeFor({ expectedThroughputMbps: 5000, shards: 2, resources: { limits: { cpu: '4' } } });
    expect(size.shards).to.equal(2);
    expect(size.resources.limits).to.include({ cpu: '4' });
    expect(size.resources.limits.memory).to.be.a('string');
    expect(size.resources.requests.cpu).to.be.a('string');
  });
});
