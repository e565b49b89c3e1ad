import { expect } from 'chai';
import { validateName, validateSpec } from '../../../operator/api/validate.js';
import { cloudTapWith, loadExamples } from '../support.js';

describe('operator/api/validate', () => {
  it('accepts every example', () => {
    for (const example of loadExamples()) expect(validateSpec(example.cloudTap.spec), example.file).to.deep.equal([]);
  });

  it('names the field at fault', () => {
    const spec = cloudTapWith({
      source: { provider: 'gcs', bucket: 'b', region: 'x' },
      targets: [
        { name: 'a', type: 'vxlan', host: 'h' },
        { name: 'a', type: 'pcapVolume' },
      ],
      stitcher: { pollInterval: 'soon' },
    }).spec;
    expect(validateSpec(spec).map((problem) => problem.field)).to.have.members([
      'spec.source.region',
      'spec.targets[0].vni',
      'spec.targets[1].name',
      'spec.targets[1].claimName',
      'spec.stitcher.pollInterval',
    ]);
  });

  it('refuses a send rate on capture-file targets (only wire exports have one)', () => {
    const spec = cloudTapWith({
      targets: [
        { name: 'vol', type: 'pcapVolume', claimName: 'c', rate: 10 },
        { name: 'vx', type: 'vxlan', host: 'h', vni: 1, rate: 10 },
      ],
    }).spec;
    expect(validateSpec(spec)).to.deep.equal([{ field: 'spec.targets[0].rate', message: 'applies only to vxlan, geneve and pcapOverIp targets, not pcapVolume' }]);
  });

  it('refuses resource quantities the apiserver would refuse in the Deployment', () => {
    const spec = (requests: Record<string, string>) => cloudTapWith({
      source: { provider: 'gcs', bucket: 'b' }, targets: [{ name: 't', type: 'pcapOverIp', host: 'h' }], sizing: { resources: { requests } },
    }).spec;
    expect(validateSpec(spec({ cpu: '500m', memory: '1Gi' }))).to.deep.equal([]);
    expect(validateSpec(spec({ cpu: '1.5', memory: '1e9' }))).to.deep.equal([]);
    expect(validateSpec(spec({ cpu: 'lots' })).map((problem) => problem.field)).to.deep.equal(['spec.sizing.resources.requests.cpu']);
    expect(validateSpec(spec({ memory: '1GB' })).map((problem) => problem.field)).to.deep.equal(['spec.sizing.resources.requests.memory']);
  });

  it('limits names so that child names stay valid', () => {
    expect(validateName('a'.repeat(40))).to.deep.equal([]);
    expect(validateName('a'.repeat(41))).to.have.length(1);
    expect(validateName('Bad_Name')).to.have.length(1);
  });
});

describe('operator/api/validate: the formats the CRD checks with CEL, checked again', () => {
  const target = { name: 't', type: 'vxlan' as const, host: 'zeek.monitoring.svc', vni: 1 };
  const fields = (spec: Parameters<typeof cloudTapWith>[0]) => validateSpec(cloudTapWith(spec).spec).map((problem) => `${problem.field}: ${problem.message}`);

  it('refuses a name that cannot name a Service (DNS-1035: a letter first)', () => {
    expect(validateName('1tap')[0]?.message).to.include('must start with a lower-case letter');
    expect(validateName('tap-1')).to.deep.equal([]);
  });

  it('refuses CIDRs with a prefix or an octet out of range, and plain addresses', () => {
    expect(fields({ targets: [{ ...target, remap: { client: '10.0.0.0/33', server: '999.1.1.1/8' } }] })).to.deep.equal([
      'spec.targets[0].remap.client: "10.0.0.0/33" is not a CIDR like 10.0.0.0/8',
      'spec.targets[0].remap.server: "999.1.1.1/8" is not a CIDR like 10.0.0.0/8',
    ]);
    expect(fields({ targets: [target], selection: { subnets: ['10.1.2.3', 'fd00::/8', '10.0.0.0/8'] } })).to.deep.equal(['spec.selection.subnets[0]: "10.1.2.3" is not a CIDR like 10.0.0.0/8']);
  });

  it('refuses hosts that are neither an address nor a DNS name', () => {
    expect(fields({ targets: [{ ...target, host: 'not a host!' }] })).to.deep.equal(['spec.targets[0].host: "not a host!" is not an IP address or a DNS name like zeek.monitoring.svc']);
    expect(fields({ targets: [{ ...target, host: 'fd00::1' }] })).to.deep.equal([]);
  });

  it('refuses quantities, endpoints, Secret names and sizes in the wrong form', () => {
    expect(fields({ targets: [target], sizing: { resources: { limits: { cpu: 'lots', memory: '1Gi' }, requests: { cpu: '500m' } } } })).to.deep.equal([
      'spec.sizing.resources.limits.cpu: "lots" is not a quantity like 500m, 2, 512Mi or 1Gi',
    ]);
    expect(fields({ source: { provider: 'gcs', bucket: 'b', endpoint: 'minio:9000', credentialsSecretRef: { name: 'My Creds' } }, targets: [target] })).to.deep.equal([
      'spec.source.endpoint: "minio:9000" is not an http or https URL with a host, like https://minio.example:9000',
      'spec.source.credentialsSecretRef.name: "My Creds" is not a Secret name',
    ]);
    expect(fields({ targets: [{ name: 'f', type: 'pcapVolume', claimName: 'c', rotateSize: 'big' }] })).to.deep.equal(['spec.targets[0].rotateSize: "big" is not a size like 100M']);
  });
});

describe('operator/api/validate: hardening a CloudTap cannot lower', () => {
  it('names each lowering field, as the CRD does', () => {
    const spec = cloudTapWith({
      targets: [{ name: 't', type: 'pcapOverIp', host: 'h' }],
      stitcher: { securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: true, readOnlyRootFilesystem: false, capabilities: { add: ['NET_ADMIN'] }, seccompProfile: { type: 'Unconfined' } } },
    }).spec;
    expect(validateSpec(spec).map((problem) => problem.field.replace('spec.stitcher.securityContext.', ''))).to.deep.equal([
      'privileged', 'runAsUser', 'runAsNonRoot', 'allowPrivilegeEscalation', 'readOnlyRootFilesystem', 'capabilities.add', 'seccompProfile.type',
    ]);
    expect(validateSpec(cloudTapWith({ targets: [{ name: 't', type: 'pcapOverIp', host: 'h' }], stitcher: { securityContext: { runAsUser: 20000 } } }).spec)).to.deep.equal([]);
  });
});
