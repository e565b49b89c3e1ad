import { expect } from 'chai';
import { buildConfigMap, stitcherConfig } from '../../../operator/specs/config.js';
import { outputUrl, storeUrl } from '../../../operator/specs/urls.js';
import { cloudTapWith } from '../support.js';

const allowedKeys = ['source', 'keys', 'credentials', 'keysCredentials', 'outputs', 'select', 'pollInterval', 'keyWait', 'logLevel', 'checkpoint', 'metricsPort', 'maxBuffer'];

describe('operator/specs/config', () => {
  it('writes only the keys the stitcher CLI reads', () => {
    const config = stitcherConfig(
      cloudTapWith({
        keys: { provider: 'gcs', bucket: 'k', credentialsSecretRef: { name: 'kc' } },
        selection: { users: ['*@corp.example'], ports: [443], subnets: ['10.0.0.0/8'] },
      }),
    );
    expect(Object.keys(config)).to.have.members(allowedKeys);
    expect(config.checkpoint).to.equal('configmap://ns1/tap');
    expect(config.credentials).to.equal('/var/run/cloudtap/source/credentials.json');
    expect(config.keysCredentials).to.equal('/var/run/cloudtap/keys/credentials.json');
  });

  it('leaves out credentials, keys and select when not asked for', () => {
    const config = stitcherConfig(cloudTapWith({ source: { provider: 's3', bucket: 'b' } }));
    expect(config).to.not.have.any.keys('credentials', 'keys', 'keysCredentials', 'select');
  });

  it('carries the config as JSON in the ConfigMap', () => {
    const configMap = buildConfigMap(cloudTapWith({}));
    expect(JSON.parse(configMap.data!['config.json']!)).to.deep.equal(JSON.parse(JSON.stringify(stitcherConfig(cloudTapWith({})))));
  });
});

describe('operator/specs/urls', () => {
  it('builds store URLs per provider', () => {
    const s3 = new URL(storeUrl({ provider: 's3', bucket: 'b', prefix: 'p/q/', region: 'eu-west-1', endpoint: 'http://minio:9000' }));
    expect([s3.protocol, s3.host, s3.pathname]).to.deep.equal(['s3:', 'b', '/p/q/']);
    expect(s3.searchParams.get('region')).to.equal('eu-west-1');
    expect(s3.searchParams.get('endpoint')).to.equal('http://minio:9000');
    const gcs = new URL(storeUrl({ provider: 'gcs', bucket: 'g', prefix: '' }));
    expect([gcs.protocol, gcs.host, gcs.pathname, gcs.search]).to.deep.equal(['gs:', 'g', '/', '']);
    const azure = new URL(storeUrl({ provider: 'azure', account: 'acct', bucket: 'cont', prefix: 'x/' }));
    expect([azure.protocol, azure.host, azure.pathname]).to.deep.equal(['azblob:', 'acct', '/cont/x/']);
  });

  it('builds output URLs with default ports and the options given', () => {
    const vxlan = new URL(outputUrl({ name: 'a', type: 'vxlan', host: 'sensor', vni: 9, rate: 100, remap: { client: '100.64.0.0/10' } }));
    expect([vxlan.protocol, vxlan.hostname, vxlan.port]).to.deep.equal(['vxlan:', 'sensor', '4789']);
    expect(Object.fromEntries(vxlan.searchParams)).to.deep.equal({ vni: '9', mtu: '1500', rate: '100', variant: 'original', remap: 'client:100.64.0.0/10' });
    expect(new URL(outputUrl({ name: 'g', type: 'geneve', host: 'h', vni: 1 })).port).to.equal('6081');
    expect(new URL(outputUrl({ name: 'p', type: 'pcapOverIp', host: 'h' })).protocol).to.equal('pcap-over-ip:');
    const volume = new URL(outputUrl({ name: 'arch', type: 'pcapVolume', claimName: 'c' }));
    expect([volume.protocol, volume.pathname, volume.searchParams.get('rotate-size')]).to.deep.equal(['pcapng:', '/var/lib/cloudtap/pcap/arch/', '100M']);
    const bucket = outputUrl({ name: 'b', type: 'pcapBucket', store: { provider: 's3', bucket: 'out', prefix: 'pcap/', region: 'us-east-1' } });
    expect(bucket.slice(0, 'pcapng+s3://out/pcap/?'.length), bucket).to.equal('pcapng+s3://out/pcap/?');
    expect(new URL(bucket.slice('pcapng+'.length)).searchParams.get('region')).to.equal('us-east-1');
  });
});
