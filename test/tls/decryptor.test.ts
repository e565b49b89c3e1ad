import { expect } from 'chai';
import { captureNodeSession, testBytes } from './support/node-session.js';
import { decryptorRun, feed } from './support/run.js';
import { testFlow } from './support/capture.js';

interface SuiteCase {
  readonly name: string;
  readonly server: Record<string, unknown>;
  readonly client?: Record<string, unknown>;
}

const TLS13: SuiteCase[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_CCM_SHA256']
  .map((suite) => ({ name: suite, server: { ciphers: suite, minVersion: 'TLSv1.3' }, client: { ciphers: suite } }));

const TLS12: SuiteCase[] = [
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA256', 'AES256-SHA256'],
].map(([name, openssl]) => ({ name, server: { ciphers: openssl, maxVersion: 'TLSv1.2' } }));

describe('TlsDecryptor with Node TLS sessions', () => {
  for (const suite of [...TLS13, ...TLS12]) {
    it(`decrypts ${suite.name} to exactly the bytes sent`, async () => {
      const request = testBytes(5000, 1);
      const response = testBytes(40000, 2);
      const session = await captureNodeSession({ server: suite.server, client: suite.client, request, response });
      expect(session.cipher).to.equal(suite.name);
      const run = decryptorRun(session.keylog);
      const flow = testFlow();
      feed(run.decryptor, flow, session.events);
      expect(run.outcomes.get(flow.key)).to.include({ decrypted: true, suite: suite.name });
      expect(run.clientToServer(flow).equals(request)).to.equal(true);
      expect(run.serverToClient(flow).equals(response)).to.equal(true);
      expect(run.downstream.events.get(flow.key)?.at(-1)?.kind).to.equal('close');
      expect(run.decryptor.stats.authFailures).to.equal(0);
    });
  }
});
