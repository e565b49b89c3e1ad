import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetShares, cgroupMemoryLimit, CGROUP_SHARE, DEFAULT_BUDGET_BYTES } from '../../stitcher/cli/memory-budget.js';
import { quantityBytes, sizeFor, stitcherBudget } from '../../operator/specs/sizing.js';

const MIB = 1024 * 1024;

describe('cli/memory-budget', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudtap-cgroup-'));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('reads the cgroup v2 limit, and v1 where v2 is absent; "max" and v1\'s huge number mean no limit', () => {
    expect(cgroupMemoryLimit([file('v2', '536870912\n')])).to.equal(512 * MIB);
    expect(cgroupMemoryLimit([join(dir, 'absent'), file('v1', '268435456\n')])).to.equal(256 * MIB);
    expect(cgroupMemoryLimit([file('v2max', 'max\n')])).to.equal(undefined);
    expect(cgroupMemoryLimit([file('v1none', '9223372036854771712\n')])).to.equal(undefined);
    expect(cgroupMemoryLimit([join(dir, 'nothing')])).to.equal(undefined);
  });

  it('takes --max-buffer, else a share of the cgroup limit, else 256M, and shares it out without exceeding it', () => {
    expect(budgetShares(64 * MIB, 512 * MIB)).to.include({ totalBytes: 64 * MIB, source: '--max-buffer' });
    const pod = budgetShares(undefined, 512 * MIB);
    expect(pod).to.include({ totalBytes: Math.floor(512 * MIB * CGROUP_SHARE), source: 'cgroup' });
    expect(budgetShares(undefined, undefined)).to.include({ totalBytes: DEFAULT_BUDGET_BYTES, source: 'default' });
    expect(pod.flowTableBytes + pod.keyGateBytes + pod.decryptorBytes).to.be.at.most(pod.totalBytes);
  });

  it('the operator passes each shard a budget that fits the memory it gives the pod', () => {
    expect(quantityBytes('512Mi')).to.equal(512 * MIB);
    expect(quantityBytes('1G')).to.equal(1e9);
    expect(quantityBytes('lots')).to.equal(undefined);
    for (const mbps of [50, 200, 500, 1000, 2500]) {
      const size = sizeFor({ expectedThroughputMbps: mbps });
      const budget = stitcherBudget(size)!;
      const memory = quantityBytes(String(size.resources.limits.memory))!;
      expect(Number(budget.slice(0, -1)) * MIB, `${mbps} Mbit/s: ${budget} of ${size.resources.limits.memory}`).to.be.at.most(memory / 2);
    }
  });
});
