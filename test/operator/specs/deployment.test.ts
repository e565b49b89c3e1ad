import { restrictedContainer } from '../../../operator/specs/security.js';
import { expect } from 'chai';
import type { V1Deployment } from '@kubernetes/client-node';
import { desiredState } from '../../../operator/specs/desired.js';
import { buildShardDeployment } from '../../../operator/specs/deployment.js';
import { configHashAnnotation, shardLabel } from '../../../operator/specs/names.js';
import { cloudTapWith } from '../support.js';

const secrets = { creds: { 'credentials.json': Buffer.from('{"access_key_id":"a","secret_access_key":"b"}').toString('base64') } };

function deployments(state: ReturnType<typeof desiredState>): V1Deployment[] {
  return state.objects.filter((object) => object.kind === 'Deployment') as V1Deployment[];
}

describe('operator/specs/deployment', () => {
  it('runs one Recreate Deployment of one replica per shard, with its shard in env and labels', () => {
    const state = desiredState(cloudTapWith({ sizing: { shards: 3 } }), secrets);
    const built = deployments(state);
    expect(built.map((deployment) => deployment.metadata?.name)).to.deep.equal(['tap-shard-0', 'tap-shard-1', 'tap-shard-2']);
    built.forEach((deployment, shard) => {
      expect(deployment.spec?.replicas).to.equal(1);
      expect(deployment.spec?.strategy?.type).to.equal('Recreate');
      const env = Object.fromEntries((deployment.spec?.template.spec?.containers[0]?.env ?? []).map((variable) => [variable.name, variable.value]));
      expect(env.SHARD_INDEX).to.equal(String(shard));
      // Linear hashing at 3: shards 0 and 2 split (mod 4), shard 1 not yet (mod 2); no count.
      expect(env.SHARD_MODULUS).to.equal(['4', '2', '4'][shard]);
      expect(env).to.not.have.property('SHARD_COUNT');
      expect(deployment.spec?.selector.matchLabels?.[shardLabel]).to.equal(String(shard));
      expect(deployment.spec?.template.metadata?.labels).to.deep.equal(deployment.spec?.selector.matchLabels);
    });
  });

  it('changes, when a shard is added or removed, the pod template of the one shard whose gateways move', () => {
    const templates = (shards: number) => deployments(desiredState(cloudTapWith({ sizing: { shards } }), secrets)).map((deployment) => JSON.stringify(deployment.spec?.template));
    for (let count = 1; count < 12; count++) {
      const before = templates(count);
      const after = templates(count + 1);
      const changed = before.filter((template, shard) => template !== after[shard]);
      expect(changed, `${count} -> ${count + 1}`).to.have.length(1);
    }
  });

  it('is restricted by default: non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp', () => {
    const deployment = buildShardDeployment(cloudTapWith({}), { shard: 0, configHash: 'h', image: 'i' });
    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0]?.securityContext;
    expect(pod?.securityContext).to.include({ runAsNonRoot: true });
    expect(container).to.include({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container?.capabilities?.drop).to.deep.equal(['ALL']);
    expect(container?.seccompProfile?.type).to.equal('RuntimeDefault');
  });

  it('takes the user\'s user and seccomp profile, and never what would lower the hardening', () => {
    const cloudTap = cloudTapWith({ stitcher: { securityContext: { runAsUser: 2000, seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' }, capabilities: { add: ['NET_RAW'], drop: ['NET_RAW'] } } } });
    const container = buildShardDeployment(cloudTap, { shard: 0, configHash: 'h', image: 'i' }).spec?.template.spec?.containers[0]?.securityContext;
    expect(container?.runAsUser).to.equal(2000);
    expect(container?.seccompProfile).to.deep.equal({ type: 'Localhost', localhostProfile: 'p.json' });
    expect(container?.capabilities).to.deep.equal({ drop: ['ALL', 'NET_RAW'] });
    const lowered = cloudTapWith({ stitcher: { securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: true, readOnlyRootFilesystem: false, seccompProfile: { type: 'Unconfined' } } } });
    const kept = buildShardDeployment(lowered, { shard: 0, configHash: 'h', image: 'i' }).spec?.template.spec?.containers[0]?.securityContext;
    expect(kept).to.deep.equal(restrictedContainer);
  });

  it('mounts the credentials Secret read-only where the config says', () => {
    const deployment = buildShardDeployment(cloudTapWith({}), { shard: 0, configHash: 'h', image: 'i' });
    const pod = deployment.spec?.template.spec;
    const mount = pod?.containers[0]?.volumeMounts?.find((volumeMount) => volumeMount.name === 'source-credentials');
    expect(mount).to.include({ mountPath: '/var/run/cloudtap/source', readOnly: true });
    const volume = pod?.volumes?.find((candidate) => candidate.name === 'source-credentials');
    expect(volume?.secret?.secretName).to.equal('creds');
    expect(volume?.secret?.items).to.deep.equal([{ key: 'credentials.json', path: 'credentials.json' }]);
  });

  it('gives each shard its own folder of a pcapVolume claim', () => {
    const cloudTap = cloudTapWith({ sizing: { shards: 2 }, targets: [{ name: 'archive', type: 'pcapVolume', claimName: 'pcaps' }] });
    const mounts = [0, 1].map((shard) =>
      buildShardDeployment(cloudTap, { shard, configHash: 'h', image: 'i' }).spec?.template.spec?.containers[0]?.volumeMounts?.find((mount) => mount.name === 'pcap-archive'),
    );
    expect(mounts.map((mount) => mount?.mountPath)).to.deep.equal(['/var/lib/cloudtap/pcap/archive', '/var/lib/cloudtap/pcap/archive']);
    expect(new Set(mounts.map((mount) => mount?.subPath)).size).to.equal(2);
  });

  it('mounts nothing for ambient identity', () => {
    const cloudTap = cloudTapWith({ source: { provider: 'gcs', bucket: 'b' } });
    const pod = buildShardDeployment(cloudTap, { shard: 0, configHash: 'h', image: 'i' }).spec?.template.spec;
    expect(pod?.volumes?.map((volume) => volume.name)).to.deep.equal(['config', 'tmp']);
  });

  it('changes the pod template hash when the referenced Secret changes, not when an unrelated key does', () => {
    const cloudTap = cloudTapWith({});
    const hashWith = (data: Record<string, string>) =>
      deployments(desiredState(cloudTap, { creds: data }))[0]?.spec?.template.metadata?.annotations?.[configHashAnnotation];
    const original = hashWith(secrets.creds);
    expect(hashWith({ 'credentials.json': Buffer.from('{"access_key_id":"c"}').toString('base64') })).to.not.equal(original);
    expect(hashWith({ ...secrets.creds, unrelated: 'eA==' })).to.equal(original);
  });

  it('changes the pod template hash when the config changes', () => {
    const hashOf = (logLevel: 'info' | 'debug') =>
      deployments(desiredState(cloudTapWith({ stitcher: { logLevel } }), secrets))[0]?.spec?.template.metadata?.annotations?.[configHashAnnotation];
    expect(hashOf('debug')).to.not.equal(hashOf('info'));
  });
});

describe('operator/specs/image', () => {
  it('runs the operator\'s image unless the operator allows an override', async () => {
    const { imageFor, imageProblem } = await import('../../../operator/specs/image.js');
    const plain = cloudTapWith({});
    const custom = cloudTapWith({ stitcher: { image: 'other/image:1' } });
    const strict = { defaultImage: 'cloudtap:2', allowOverride: false };
    expect(imageFor(plain, strict)).to.equal('cloudtap:2');
    expect(imageFor(custom, strict)).to.equal('cloudtap:2');
    expect(imageProblem(custom, strict)).to.include('remove spec.stitcher.image');
    expect(imageProblem(plain, strict)).to.equal(undefined);
    expect(imageFor(custom, { ...strict, allowOverride: true })).to.equal('other/image:1');
    expect(imageProblem(custom, { ...strict, allowOverride: true })).to.equal(undefined);
  });
});

describe('operator/specs/pod-template', () => {
  it('merges the podTemplate into the pod without replacing the operator\'s labels, annotations, env or hardening', () => {
    const cloudTap = cloudTapWith({
      stitcher: {
        podTemplate: {
          labels: { team: 'soc', 'app.kubernetes.io/instance': 'hijack' },
          annotations: { 'azure.workload.identity/use': 'true', 'cloudtap.io/config-hash': 'forged' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ndr', effect: 'NoSchedule' }],
          priorityClassName: 'ndr-high',
          imagePullSecrets: [{ name: 'registry' }],
          env: [{ name: 'HTTPS_PROXY', value: 'http://proxy:3128' }, { name: 'SHARD_INDEX', value: '7' }],
          caBundle: { configMapName: 'corp-ca' },
        },
      },
    });
    const pod = buildShardDeployment(cloudTap, { shard: 0, configHash: 'h', image: 'i' }).spec!.template;
    expect(pod.metadata?.labels?.team).to.equal('soc');
    expect(pod.metadata?.labels?.['app.kubernetes.io/instance']).to.equal(cloudTap.metadata.name);
    expect(pod.metadata?.annotations?.['azure.workload.identity/use']).to.equal('true');
    expect(pod.metadata?.annotations?.['cloudtap.io/config-hash']).to.equal('h');
    expect(pod.spec?.tolerations).to.deep.equal([{ key: 'dedicated', operator: 'Equal', value: 'ndr', effect: 'NoSchedule' }]);
    expect(pod.spec?.priorityClassName).to.equal('ndr-high');
    expect(pod.spec?.imagePullSecrets).to.deep.equal([{ name: 'registry' }]);
    const container = pod.spec!.containers[0]!;
    expect(container.env?.filter((entry) => entry.name === 'SHARD_INDEX').map((entry) => entry.value)).to.deep.equal(['0']);
    expect(container.env?.find((entry) => entry.name === 'HTTPS_PROXY')?.value).to.equal('http://proxy:3128');
    expect(container.env?.find((entry) => entry.name === 'NODE_EXTRA_CA_CERTS')?.value).to.equal('/etc/cloudtap/ca/ca.crt');
    expect(container.volumeMounts?.find((mount) => mount.name === 'ca-bundle')).to.deep.equal({ name: 'ca-bundle', mountPath: '/etc/cloudtap/ca', readOnly: true });
    expect(pod.spec?.volumes?.find((volume) => volume.name === 'ca-bundle')?.configMap).to.deep.equal({ name: 'corp-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] });
    expect(container.securityContext).to.deep.equal(restrictedContainer);
  });
});
