/**
 * The CloudTaps the contract tests render: every example in examples/, and
 * CloudTaps that together use every target type and every target option
 * (mtu, rate, vni, port, variant, remap client/server/both, rotateSize, IPv6
 * hosts and CIDRs, a separate key store, a selection, several shards).
 */
import type { CloudTap, CloudTapSpec, Target } from '../../operator/api/types.js';
import { cloudTapWith, loadExamples } from '../operator/support.js';

export interface ContractCase {
  readonly name: string;
  readonly cloudTap: CloudTap;
}

function cloudTap(name: string, spec: Partial<CloudTapSpec> & Pick<CloudTapSpec, 'targets'>): CloudTap {
  return cloudTapWith(spec, name, 'contract');
}

const wireTargets: readonly Target[] = [
  { name: 'vx', type: 'vxlan', host: '10.0.0.9', vni: 42, port: 4790, mtu: 9000, rate: 200, variant: 'cleartext', remap: { client: '100.64.0.0/10', server: '198.18.0.0/15' } },
  { name: 'gen', type: 'geneve', host: 'fd00::9', vni: 7, mtu: 1400, variant: 'both', remap: { server: 'fd00:5::/64' } },
  { name: 'poip', type: 'pcapOverIp', host: 'zeek.example', mtu: 1500, rate: 50, variant: 'original', remap: { client: '100.64.0.0/10' } },
];

const fileTargets: readonly Target[] = [
  { name: 'vol', type: 'pcapVolume', claimName: 'pcap', rotateSize: '1M', mtu: 1500, variant: 'both', remap: { client: '100.64.0.0/10', server: 'fd00:6::/64' } },
  { name: 'arch-s3', type: 'pcapBucket', rotateSize: '500K', variant: 'cleartext', store: { provider: 's3', bucket: 'pcaps', prefix: 'out/', region: 'us-east-2', endpoint: 'http://127.0.0.1:9000' } },
  { name: 'arch-gcs', type: 'pcapBucket', store: { provider: 'gcs', bucket: 'pcaps', prefix: 'gcs/', endpoint: 'http://127.0.0.1:4443' }, remap: { server: '198.18.0.0/15' } },
  { name: 'arch-az', type: 'pcapBucket', mtu: 9000, store: { provider: 'azure', account: 'acct', bucket: 'pcaps', prefix: 'az' } },
];

/** The synthetic cases: one per target (so each runs alone), and one with all of them at once. */
export function syntheticCases(): ContractCase[] {
  const single = [...wireTargets, ...fileTargets].map((target) => ({
    name: `target ${target.type} ${target.name}`,
    cloudTap: cloudTap(`c-${target.name}`, { targets: [target] }),
  }));
  return [
    ...single,
    {
      name: 'every target at once, keys elsewhere, a selection, 3 shards',
      cloudTap: cloudTap('c-all', {
        keys: { provider: 'gcs', bucket: 'keys', prefix: 'k/', credentialsSecretRef: { name: 'key-creds' } },
        targets: [...wireTargets, ...fileTargets],
        selection: { users: ['*@corp.example.com'], ports: [80, 443], subnets: ['10.0.0.0/8', 'fd00::/8'] },
        sizing: { shards: 3 },
        stitcher: { pollInterval: '2s', keyWait: '5s', logLevel: 'warn' },
      }),
    },
  ];
}

export function exampleCases(): ContractCase[] {
  return loadExamples().map((example) => ({ name: `examples/${example.file}`, cloudTap: example.cloudTap }));
}

export function allCases(): ContractCase[] {
  return [...exampleCases(), ...syntheticCases()];
}
