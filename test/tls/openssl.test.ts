import { expect } from 'chai';
import { Direction } from '../../stitcher/format/records.js';
import type { FlowEvent } from '../../stitcher/flow/events.js';
import { parseServerHello } from '../../stitcher/tls/hello.js';
import { captureOpensslSession } from './support/openssl-session.js';
import { captureEarlyDataSession } from './support/openssl-early.js';
import type { OpensslSession } from './support/openssl-session.js';
import { decryptorRun, feed } from './support/run.js';
import { testFlow } from './support/capture.js';

/** The server's first handshake message, read straight from the captured bytes (a 1-record ServerHello). */
function firstServerHello(events: readonly FlowEvent[]): ReturnType<typeof parseServerHello> {
  const stream = Buffer.concat(events.flatMap((event) => (event.kind === 'data' && event.dir === Direction.ServerToClient ? [event.payload] : [])));
  expect(stream[0]).to.equal(22);
  expect(stream[5]).to.equal(2);
  return parseServerHello(stream.subarray(9, 9 + stream.readUIntBE(6, 3)));
}

function decryptAndCompare(session: OpensslSession): void {
  const run = decryptorRun(session.keylog);
  const flow = testFlow();
  feed(run.decryptor, flow, session.events);
  expect(run.outcomes.get(flow.key), JSON.stringify(run.decryptor.stats.undecryptable)).to.include({ decrypted: true });
  expect(run.clientToServer(flow).toString('latin1')).to.equal(session.received.toString('latin1'));
  expect(run.serverToClient(flow).toString('latin1')).to.equal(session.sent.toString('latin1'));
  expect(run.decryptor.stats.authFailures).to.equal(0);
}

describe('TlsDecryptor with openssl s_client sessions', function () {
  this.timeout(20000);

  it('follows KeyUpdate in both directions (TLS 1.3, AES-256-GCM)', async () => {
    const session = await captureOpensslSession({
      clientArgs: ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'],
      lines: ['first line', 'K', 'after a requested update', 'k', 'after an own update', 'K', 'last'],
    });
    expect(session.clientOutput).to.include('KEYUPDATE');
    expect(session.received.toString()).to.include('after an own update');
    decryptAndCompare(session);
  });

  it('follows KeyUpdate with ChaCha20-Poly1305', async () => {
    const session = await captureOpensslSession({
      clientArgs: ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'],
      lines: ['one', 'k', 'two', 'K', 'three'],
    });
    decryptAndCompare(session);
  });

  it('decrypts after a HelloRetryRequest', async () => {
    const session = await captureOpensslSession({
      clientArgs: ['-tls1_3', '-groups', 'P-256:X25519'],
      server: { ecdhCurve: 'X25519' },
      lines: ['after a retry'],
    });
    expect(firstServerHello(session.events)).to.include({ isHelloRetryRequest: true });
    decryptAndCompare(session);
  });

  for (const cipher of ['AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'ECDHE-RSA-AES128-SHA256']) {
    for (const etm of [true, false]) {
      it(`decrypts TLS 1.2 ${cipher} ${etm ? 'with' : 'without'} encrypt-then-MAC`, async () => {
        const session = await captureOpensslSession({
          clientArgs: ['-tls1_2', '-cipher', cipher, ...(etm ? [] : ['-no_etm'])],
          server: { ciphers: cipher, maxVersion: 'TLSv1.2' },
          lines: ['a line', 'another line that is longer than one AES block'],
        });
        expect(firstServerHello(session.events).encryptThenMac).to.equal(etm);
        decryptAndCompare(session);
      });
    }
  }
});

describe('TlsDecryptor with TLS 1.3 0-RTT (openssl s_server and s_client)', function () {
  this.timeout(20000);

  it('decrypts the early data with CLIENT_EARLY_TRAFFIC_SECRET, then the rest', async () => {
    const early = 'GET /early HTTP/1.1\r\nHost: tap.test\r\n\r\n';
    const session = await captureEarlyDataSession(early, 'after the handshake', 'reply from the server');
    expect(session.keylog).to.include('CLIENT_EARLY_TRAFFIC_SECRET');
    const run = decryptorRun(session.keylog);
    const flow = testFlow();
    feed(run.decryptor, flow, session.events);
    expect(run.clientToServer(flow).toString('latin1')).to.equal(`${early}after the handshake\n`);
    expect(run.serverToClient(flow).toString('latin1')).to.equal('reply from the server\n');

    // Without the early secret the rest still decrypts; the early data is skipped.
    const withoutEarly = decryptorRun(session.keylog.split('\n').filter((line) => !line.startsWith('CLIENT_EARLY')).join('\n'));
    const other = testFlow();
    feed(withoutEarly.decryptor, other, session.events);
    expect(withoutEarly.clientToServer(other).toString('latin1')).to.equal('after the handshake\n');
    expect(withoutEarly.serverToClient(other).toString('latin1')).to.equal('reply from the server\n');
  });
});
