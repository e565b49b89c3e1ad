/**
 * The generator's openssl stack: `openssl s_client` against `openssl s_server
 * -HTTP` through the tapping relay. What the tapped bytes say (the ServerHello's
 * suite and extensions, the ClientHello random) is read here independently of the
 * stitcher and compared with the manifest and the key objects.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { bodySha256, type BodySpec } from '../../stitcher/generator/bodies.js';
import { generateTraffic, type GenerateResult } from '../../stitcher/generator/generate.js';
import { planFlows } from '../../stitcher/generator/plan.js';
import { SeededRandom } from '../../stitcher/generator/random.js';
import { OPENSSL_SUITES } from '../../stitcher/generator/suites.js';
import type { ObjectStore } from '../../stitcher/store/store.js';
import { LocalFolderStore } from '../../stitcher/store/local.js';
import { onPath } from '../support/run.js';
import { keyRecords, readAllObjects, reassemble, recordsByFlow, type FlowRecords, type ReadObject } from './read-back.js';

/** IANA code points of the OpenSSL names (RFC 8446, RFC 5288, RFC 5289, RFC 7905, RFC 5246). */
const SUITE_IDS: Record<string, number> = {
  TLS_AES_128_GCM_SHA256: 0x1301, TLS_AES_256_GCM_SHA384: 0x1302, TLS_CHACHA20_POLY1305_SHA256: 0x1303,
  'ECDHE-RSA-AES128-GCM-SHA256': 0xc02f, 'ECDHE-RSA-AES256-GCM-SHA384': 0xc030, 'ECDHE-RSA-CHACHA20-POLY1305': 0xcca8,
  'ECDHE-RSA-AES128-SHA256': 0xc027, 'ECDHE-RSA-AES256-SHA': 0xc014, 'ECDHE-RSA-AES256-SHA384': 0xc028,
  'AES128-GCM-SHA256': 0x009c, 'AES256-SHA': 0x0035, 'AES128-SHA256': 0x003c,
};
const ENCRYPT_THEN_MAC = 0x0016;
const SUPPORTED_VERSIONS = 0x002b;

interface ServerHello {
  readonly suite: number;
  readonly extensions: Map<number, Buffer>;
}

/** The ServerHello at the start of a server-to-client stream (it opens the first record). */
function parseServerHello(s2c: Buffer): ServerHello {
  expect(s2c[0], 'a handshake record').to.equal(0x16);
  expect(s2c[5], 'a ServerHello').to.equal(2);
  let at = 5 + 4 + 2 + 32;
  at += 1 + s2c[at]!;
  const suite = s2c.readUInt16BE(at);
  at += 3;
  const end = at + 2 + s2c.readUInt16BE(at);
  const extensions = new Map<number, Buffer>();
  for (at += 2; at < end; ) {
    const length = s2c.readUInt16BE(at + 2);
    extensions.set(s2c.readUInt16BE(at), s2c.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { suite, extensions };
}

describe('generator: flows run with openssl s_client and s_server', function () {
  this.timeout(60_000);
  let folder: string;
  let result: GenerateResult;
  let objects: ReadObject[];
  let flows: Map<string, FlowRecords>;

  before(async function () {
    if (!onPath('openssl')) this.skip();
    folder = await mkdtemp(join(tmpdir(), 'cloudtap-generator-openssl-'));
    const store = new LocalFolderStore(folder);
    result = await generateTraffic({
      traffic: store, flows: 16, seed: 'openssl-gen', gatewayPrefix: 'gw-ossl', httpsShare: 0.8, h2Share: 0, opensslShare: 1, bodyBytes: 40_000,
      duplicateShare: 0.1, objectBytes: 32 * 1024,
    });
    objects = await readAllObjects(store);
    flows = recordsByFlow(objects);
  });

  after(async function () {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  });

  const openssl = (): GenerateResult['flows'] => result.flows.filter((flow) => flow.stack === 'openssl');

  it('names its gateways with the prefix it is given', function () {
    expect(result.gateways).to.deep.equal(['gw-ossl1', 'gw-ossl2']);
    expect(new Set(objects.map((object) => object.header.gateway))).to.deep.equal(new Set(result.gateways));
  });

  it('says in the manifest which stack ran each flow', function () {
    expect(openssl().length).to.be.at.least(OPENSSL_SUITES.length);
    for (const flow of result.flows) expect(flow.stack, `flow ${flow.index}`).to.equal(flow.protocol === 'https' ? 'openssl' : 'node');
  });

  it('negotiates each suite of OPENSSL_SUITES, with encrypt-then-MAC as planned, as the tapped ServerHello shows', function () {
    const seen = new Set<string>();
    for (const flow of openssl()) {
      const hello = parseServerHello(reassemble(flows.get(flow.flowId)!.data, 1, flow.bytesS2c).bytes);
      expect(hello.suite, `flow ${flow.index} suite`).to.equal(SUITE_IDS[flow.tls!.cipher]);
      const tls13 = hello.extensions.get(SUPPORTED_VERSIONS)?.readUInt16BE(0) === 0x0304;
      expect(tls13 ? 'TLSv1.3' : 'TLSv1.2', `flow ${flow.index} version`).to.equal(flow.tls!.version);
      if (flow.tls!.encryptThenMac !== undefined) {
        expect(hello.extensions.has(ENCRYPT_THEN_MAC), `flow ${flow.index} ${flow.tls!.cipher} etm`).to.equal(flow.tls!.encryptThenMac);
      }
      seen.add(`${flow.tls!.cipher}/${String(flow.tls!.encryptThenMac)}`);
    }
    expect([...seen].sort()).to.deep.equal(OPENSSL_SUITES.map((s) => `${s.cipher}/${String(s.encryptThenMac)}`).sort());
  });

  it('serves the deterministic body of each path, and writes the client\'s key log for its ClientHello', function () {
    const keys = keyRecords(objects);
    for (const flow of openssl()) {
      const [object] = flow.objects;
      const match = /-(\d+)\.(txt|bin)$/.exec(object!.path)!;
      const spec: BodySpec = { path: object!.path, size: Number(match[1]), kind: match[2] === 'txt' ? 'text' : 'binary' };
      expect(object!.sha256, `flow ${flow.index} body`).to.equal(bodySha256('openssl-gen', spec));
      const c2s = reassemble(flows.get(flow.flowId)!.data, 0, flow.bytesC2s).bytes;
      const random = c2s.subarray(11, 43).toString('hex');
      expect(flow.clientRandom).to.equal(random);
      const lines = keys.filter((k) => k.record.lines.toLowerCase().includes(random));
      expect(lines, `flow ${flow.index} key records`).to.have.length(1);
      const labels = lines[0]!.record.lines.split('\n').filter((l) => /^[A-Z]/.test(l)).map((l) => l.split(' ')[0]);
      expect(labels).to.include(flow.tls!.version === 'TLSv1.3' ? 'SERVER_TRAFFIC_SECRET_0' : 'CLIENT_RANDOM');
    }
  });
});

describe('generator: planning openssl flows', function () {
  const plan = (share?: number): ReturnType<typeof planFlows> => planFlows({
    traffic: {} as ObjectStore, flows: 100, httpsShare: 0.7, h2Share: 0.2, ...(share === undefined ? {} : { opensslShare: share }),
  }, new SeededRandom('o'));

  it('leaves plans as they were without openssl, and gives openssl flows the suites in turn', function () {
    const none = plan(0);
    expect(none.filter((p) => p.stack !== 'node')).to.deep.equal([]);
    expect(none).to.deep.equal(plan());
    const withOpenssl = plan(0.5).filter((p) => p.stack === 'openssl');
    expect(withOpenssl.length).to.be.within(10, 56);
    expect(withOpenssl.filter((p) => !(p.protocol === 'https' && p.objects.length === 1))).to.deep.equal([]);
    expect(withOpenssl.map((p) => p.suite)).to.deep.equal(withOpenssl.map((_, i) => OPENSSL_SUITES[i % OPENSSL_SUITES.length]));
  });
});

describe('generator: options of openssl flows and gateway names', function () {
  const refusal = async (options: Partial<Parameters<typeof generateTraffic>[0]>): Promise<Error | undefined> => {
    try {
      await generateTraffic({ traffic: {} as ObjectStore, flows: 1, ...options });
    } catch (error) {
      return error as Error;
    }
    return undefined;
  };

  it('refuses a share out of range and a prefix that cannot start a gateway name, naming the option', async function () {
    const share = await refusal({ opensslShare: 1.5 });
    expect(share).to.be.instanceOf(RangeError);
    expect(share!.message).to.match(/opensslShare is 1\.5/);
    const prefix = await refusal({ gatewayPrefix: 'GW/a' });
    expect(prefix).to.be.instanceOf(RangeError);
    expect(prefix!.message).to.match(/gatewayPrefix 'GW\/a'/);
  });
});
