/**
 * The CRD refuses, on the real apiserver, the mistakes users make, and says
 * what to fix: its structural schema and CEL rules (isCIDR, isIP, isURL,
 * isQuantity) are judged by kube-apiserver itself, not by our reading of them.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { joinCluster, type Cluster } from './shared.js';
import { kubectlAs } from './kubectl.js';

type Json = Record<string, unknown>;

const namespace = 'validation';

function tap(name: string, patch: (spec: Json) => void = () => undefined): Json {
  const spec: Json = {
    source: { provider: 's3', bucket: 'taps', region: 'eu-west-1', endpoint: 'https://minio.example:9000', credentialsSecretRef: { name: 'tap-creds' } },
    targets: [{ name: 'sensor', type: 'vxlan', host: 'zeek.monitoring.svc', vni: 5, remap: { client: '10.0.0.0/8', server: 'fd00::/8' } }],
    selection: { subnets: ['192.168.0.0/16'], ports: [443] },
    sizing: { resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: 2 } } },
    stitcher: { pollInterval: '1m30s', keyWait: '500ms' },
  };
  patch(spec);
  return { apiVersion: 'cloudtap.io/v1alpha1', kind: 'CloudTap', metadata: { name, namespace }, spec };
}

const target = (spec: Json) => (spec.targets as Json[])[0]!;

describe('cluster: the CRD refuses what users get wrong, with a message that says what to fix', function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let admin: (...args: string[]) => ReturnType<typeof kubectlAs>;

  before(async function () {
    cluster = await joinCluster(this);
    admin = (...args) => kubectlAs(cluster, cluster.plane.adminKubeconfig, ...args);
    expect((await admin('apply', '--server-side', '--force-conflicts', '-f', 'crds/cloudtap.io_cloudtaps.yaml')).stderr).to.equal('');
    await admin('wait', '--for=condition=Established', 'crd/cloudtaps.cloudtap.io', '--timeout=30s');
    await admin('create', 'namespace', namespace);
  });

  after(async () => {
    if (cluster) await admin('delete', 'namespace', namespace, '--wait=false');
  });

  async function dryRun(object: Json): Promise<{ ok: boolean; stderr: string }> {
    const file = join(cluster.plane.dir, `${String((object.metadata as Json).name)}-${Date.now()}.yaml`);
    writeFileSync(file, stringify(object));
    return admin('create', '--dry-run=server', '-f', file);
  }

  it('accepts a CloudTap that uses every checked field well', async () => {
    const result = await dryRun(tap('good'));
    expect(result.stderr).to.equal('');
    expect(result.ok, result.stderr).to.equal(true);
  });

  const refused: [string, Json, string][] = [
    ['a name that is not a DNS-1035 label (its Service would be refused)', tap('1tap'), 'metadata.name must start with a lower-case letter'],
    ['a remap prefix past /32', tap('cidr', (spec) => (target(spec).remap = { client: '10.0.0.0/33' })), 'remap.client must be a CIDR like 10.0.0.0/8'],
    ['a remap octet past 255', tap('octet', (spec) => (target(spec).remap = { server: '999.1.1.1/8' })), 'remap.server must be a CIDR'],
    ['a selection subnet that is an address, not a CIDR', tap('subnet', (spec) => (spec.selection = { subnets: ['10.1.2.3'] })), 'each subnet must be a CIDR'],
    ['a host with spaces', tap('host', (spec) => (target(spec).host = 'not a host!')), 'host must be an IP address or a DNS name'],
    ['a host with a port', tap('hostport', (spec) => (target(spec).host = 'zeek:4789')), 'host must be an IP address or a DNS name'],
    ['a quantity that is a word', tap('cpu', (spec) => (spec.sizing = { resources: { limits: { cpu: 'lots' } } })), 'must be a quantity like 500m'],
    ['a port past 65535', tap('port', (spec) => (target(spec).port = 70000)), 'should be less than or equal to 65535'],
    ['a selection port of 0', tap('selport', (spec) => (spec.selection = { ports: [0] })), 'should be greater than or equal to 1'],
    ['a duration without a unit', tap('poll', (spec) => (spec.stitcher = { pollInterval: '10' })), 'must be a duration like 500ms, 10s or 1m30s'],
    ['a rotate size in words', tap('rotate', (spec) => (spec.targets = [{ name: 'files', type: 'pcapVolume', claimName: 'pcaps', rotateSize: 'big' }])), 'rotateSize must be a whole number of bytes'],
    ['an endpoint that is no URL', tap('endpoint', (spec) => ((spec.source as Json).endpoint = 'minio:9000')), 'endpoint must be an http or https URL'],
    ['a Secret name that no Secret can have', tap('secret', (spec) => ((spec.source as Json).credentialsSecretRef = { name: 'My Creds' })), 'credentialsSecretRef.name must be a Secret name'],
  ];
  const hardening = (securityContext: Json) => tap('hardening', (spec) => (spec.stitcher = { securityContext }));
  refused.push(
    ['a privileged stitcher', hardening({ privileged: true }), 'securityContext.privileged must not be true'],
    ['a stitcher running as root', hardening({ runAsUser: 0 }), 'securityContext.runAsUser must not be 0 (root)'],
    ['runAsNonRoot false', hardening({ runAsNonRoot: false }), 'securityContext.runAsNonRoot must not be false'],
    ['privilege escalation', hardening({ allowPrivilegeEscalation: true }), 'securityContext.allowPrivilegeEscalation must not be true'],
    ['a writable root filesystem', hardening({ readOnlyRootFilesystem: false }), 'securityContext.readOnlyRootFilesystem must not be false'],
    ['added capabilities', hardening({ capabilities: { add: ['NET_ADMIN'] } }), 'securityContext.capabilities.add must be empty'],
    ['an Unconfined seccomp profile', hardening({ seccompProfile: { type: 'Unconfined' } }), 'securityContext.seccompProfile.type must not be Unconfined'],
  );

  it('accepts a securityContext that keeps the hardening (another non-root user, a Localhost profile)', async () => {
    const result = await dryRun(hardening({ runAsUser: 20000, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'Localhost', localhostProfile: 'cloudtap.json' } }));
    expect(result.stderr).to.equal('');
  });

  for (const [what, object, message] of refused) {
    it(`refuses ${what}`, async () => {
      const result = await dryRun(object);
      expect(result.ok, result.stderr).to.equal(false);
      expect(result.stderr).to.include(message);
    });
  }
});
