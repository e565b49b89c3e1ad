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
      expect(run.clientToServer(flow)).to.deep.equal(request);
      expect(run.serverToClient(flow)).to.deep.equal(response);
      expect(run.downstream.events.get(flow.key)?.at(-1)?.kind).to.equal('close');
      expect(run.decryptor.stats.authFailures).to.equal(0);
    });
  }
});

describe('TlsDecryptor with Node TLS handshakes that differ', () => {
  const request = testBytes(2000, 5);
  const response = testBytes(9000, 6);

  it('decrypts after a HelloRetryRequest (server accepts only P-384)', async () => {
    const session = await captureNodeSession({ server: { ecdhCurve: 'P-384' }, request, response });
    const serverStart = session.events.find((event) => event.kind === 'data' && event.dir === 1);
    // The HelloRetryRequest random (RFC 8446 4.1.3) right after record and handshake headers and version.
    expect(serverStart?.kind === 'data' && serverStart.payload.subarray(11, 15).toString('hex')).to.equal('cf21ad74');
    const run = decryptorRun(session.keylog);
    const flow = testFlow();
    feed(run.decryptor, flow, session.events);
    expect(run.clientToServer(flow)).to.deep.equal(request);
    expect(run.serverToClient(flow)).to.deep.equal(response);
  });

  for (const [name, secureOptions] of [['a session ticket', 0], ['a session ID', 0x4000 /* SSL_OP_NO_TICKET */]] as const) {
    it(`decrypts a resumed TLS 1.2 session (${name}) with the CLIENT_RANDOM line of the resumption`, async () => {
      const sessions = new Map<string, Buffer>();
      // Two server instances: the same ticket keys let the second resume the first's ticket.
      const ticketKeys = Buffer.alloc(48, 3);
      const server = { maxVersion: 'TLSv1.2' as const, secureOptions, ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', ticketKeys };
      const first = await captureNodeSession({ server, request, response, sessionCache: sessions });
      const second = await captureNodeSession({ server, request, response, sessionCache: sessions, client: { session: first.session } });
      expect(second).to.include({ reused: true });
      const run = decryptorRun(first.keylog + second.keylog);
      const flows = [testFlow(), testFlow()];
      feed(run.decryptor, flows[0], first.events);
      feed(run.decryptor, flows[1], second.events);
      for (const flow of flows) {
        expect(run.clientToServer(flow)).to.deep.equal(request);
        expect(run.serverToClient(flow)).to.deep.equal(response);
      }
    });
  }

  it('keeps many interleaved flows apart', async () => {
    const captured = await Promise.all([1, 2, 3, 4].map((n) =>
      captureNodeSession({ request: testBytes(1000 * n, n), response: testBytes(3000 * n, 10 + n), server: n % 2 ? { maxVersion: 'TLSv1.2' } : {} })));
    const run = decryptorRun(captured.map((session) => session.keylog).join(''));
    const flows = captured.map(() => testFlow());
    flows.forEach((flow) => run.decryptor.openFlow(flow));
    const longest = Math.max(...captured.map((session) => session.events.length));
    for (let i = 0; i < longest; i++) {
      captured.forEach((session, n) => {
        if (i < session.events.length) run.decryptor.flowEvent(flows[n], session.events[i]);
      });
    }
    captured.forEach((_session, n) => {
      expect(run.clientToServer(flows[n])).to.deep.equal(testBytes(1000 * (n + 1), n + 1));
      expect(run.serverToClient(flows[n])).to.deep.equal(testBytes(3000 * (n + 1), 11 + n));
    });
    expect(run.decryptor.stats.decryptedFlows).to.equal(4);
    expect(run.decryptor.stats.byVersion).to.deep.equal({ 'TLS 1.2': 2, 'TLS 1.3': 2 });
  });
});

describe('TlsDecryptor: what it reports', () => {
  it('names the server, the offered ALPN, version and suite of a decrypted flow', async () => {
    const session = await captureNodeSession({
      server: { ALPNProtocols: ['h2'] },
      client: { ALPNProtocols: ['h2', 'http/1.1'], servername: 'files.tap.test' },
      request: testBytes(10, 1),
      response: testBytes(10, 2),
    });
    const run = decryptorRun(session.keylog);
    const flow = testFlow();
    feed(run.decryptor, flow, session.events);
    expect(run.outcomes.get(flow.key)).to.deep.include({
      decrypted: true, serverName: 'files.tap.test', offeredAlpn: ['h2', 'http/1.1'], version: 'TLS 1.3', suite: session.cipher,
    });
  });

  it('calls a suite it cannot decrypt unsupported', async () => {
    const session = await captureNodeSession({ server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, request: testBytes(10, 1), response: testBytes(10, 2) });
    // Rewrite the ServerHello's cipher suite to one nobody implements (0x0a0a is a GREASE value).
    const events = session.events.map((event) => {
      if (event.kind !== 'data' || event.dir !== 1 || event.offset !== 0n) return event;
      const payload = Buffer.from(event.payload);
      const suiteAt = 5 + 4 + 2 + 32 + 1 + payload[5 + 4 + 2 + 32];
      expect(payload.readUInt16BE(suiteAt)).to.equal(0xc02f);
      payload.writeUInt16BE(0x0a0a, suiteAt);
      return { ...event, payload };
    });
    const run = decryptorRun(session.keylog);
    const flow = testFlow();
    feed(run.decryptor, flow, events);
    expect(run.outcomes.get(flow.key)).to.include({ decrypted: false, reason: 'unsupported' });
    expect(run.decryptor.stats.undecryptable.unsupported).to.equal(1);
    expect(run.downstream.opened).to.deep.equal([]);
  });

  it('decrypts a resumed TLS 1.3 session (PSK)', async () => {
    const request = testBytes(500, 3);
    const response = testBytes(700, 4);
    const ticketKeys = Buffer.alloc(48, 9);
    const first = await captureNodeSession({ server: { ticketKeys }, request, response });
    const second = await captureNodeSession({ server: { ticketKeys }, request, response, client: { session: first.session } });
    expect(second).to.include({ reused: true });
    const run = decryptorRun(second.keylog);
    const flow = testFlow();
    feed(run.decryptor, flow, second.events);
    expect(run.clientToServer(flow)).to.deep.equal(request);
    expect(run.serverToClient(flow)).to.deep.equal(response);
  });
});
