import { expect } from 'chai';
import { buildRole } from '../../../operator/specs/role.js';
import { buildRoleBinding } from '../../../operator/specs/rolebinding.js';
import { buildMetricsService } from '../../../operator/specs/service.js';
import { cloudTapWith } from '../support.js';

describe('operator/specs/role', () => {
  it('grants leases and the shard checkpoint ConfigMaps, nothing more', () => {
    const role = buildRole(cloudTapWith({}), 2);
    const resources = new Set(role.rules!.flatMap((rule) => rule.resources ?? []));
    expect([...resources].sort()).to.deep.equal(['configmaps', 'leases']);
    for (const rule of role.rules!) {
      expect(rule.verbs).to.not.include.members(['list', 'watch', 'delete', '*']);
      if (!rule.verbs.includes('create')) expect(rule.resourceNames?.length ?? 0, 'every verb but create names its objects').to.be.greaterThan(0);
    }
    const writable = (resource: string): string[] => role.rules!
      .filter((rule) => rule.resources?.includes(resource) && rule.verbs.includes('update')).flatMap((rule) => rule.resourceNames ?? []);
    expect(writable('leases')).to.deep.equal(['tap-shard-0', 'tap-shard-1']);
    expect(writable('configmaps')).to.deep.equal(['tap-shard-0-checkpoint', 'tap-shard-1-checkpoint']);
    // after a re-shard the new shards read the old shards' checkpoints, and only read them
    const readOnly = role.rules!.filter((rule) => rule.resources?.includes('configmaps') && rule.verbs.join() === 'get').flatMap((rule) => rule.resourceNames ?? []);
    expect(readOnly[0]).to.equal('tap-shard-2-checkpoint');
    expect(readOnly.at(-1)).to.equal('tap-shard-63-checkpoint');
  });

  it('never grants every ConfigMap, however many shards', () => {
    const role = buildRole(cloudTapWith({}), 64);
    for (const rule of role.rules!) {
      if (!rule.verbs.includes('create')) expect(rule.resourceNames).to.have.length(64);
    }
  });

  it('binds the Role to the stitcher ServiceAccount in its namespace', () => {
    const binding = buildRoleBinding(cloudTapWith({}));
    expect(binding.roleRef.name).to.equal(buildRole(cloudTapWith({}), 1).metadata?.name);
    expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'tap-stitcher', namespace: 'ns1' }]);
  });

  it('exposes the metrics port of every shard', () => {
    const service = buildMetricsService(cloudTapWith({}));
    expect(service.spec?.ports?.[0]).to.include({ port: 9090, targetPort: 'metrics' });
    expect(service.spec?.selector).to.not.have.property('cloudtap.io/shard');
  });
});
