import { expect } from 'chai';
import { Direction } from '../../stitcher/format/records.js';
import type { FlowEvent } from '../../stitcher/flow/events.js';
import { parseKeyLog } from '../../stitcher/tls/keylog.js';
import { captureNodeSession, testBytes } from './support/node-session.js';
import type { CapturedSession } from './support/node-session.js';
import { decryptorRun, feed } from './support/run.js';
import { testFlow } from './support/capture.js';
import { flipBit, holeAt, rechunk, splitAt, streamLength } from './support/mangle.js';

const C2S = Direction.ClientToServer;
const S2C = Direction.ServerToClient;

/** Every secret of a key log with its first byte changed. */
function corruptSecrets(keylog: string): string {
  return keylog.replace(/^(\S+ \S+ )(..)/gm, (_match, prefix: string, first: string) =>
    prefix + ((parseInt(first, 16) ^ 0xff).toString(16).padStart(2, '0')));
}

describe('TlsDecryptor: late and missing keys, damage, splits', () => {
  const request = testBytes(3000, 11);
  const response = testBytes(30000, 12);
  let tls13: CapturedSession;
  let tls13b: CapturedSession;
  let tls12: CapturedSession;

  before(async () => {
    tls13 = await captureNodeSession({ request, response });
    tls13b = await captureNodeSession({ request, response });
    // Records of 1000 bytes: a flipped bit in the last request record comes after plaintext went out.
    tls12 = await captureNodeSession({ server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256' }, request, response, pieceSize: 1000 });
  });

  it('holds a flow until its keys arrive after the traffic, then decrypts all of it', () => {
    const run = decryptorRun(undefined);
    const flow = testFlow();
    feed(run.decryptor, flow, tls13.events);
    expect(run.downstream.opened).to.deep.equal([]);
    expect(run.outcomes.size).to.equal(0);
    run.keys.add(parseKeyLog(tls13.keylog).entries);
    expect(run.outcomes.get(flow.key)).to.include({ decrypted: true });
    expect(run.clientToServer(flow)).to.deep.equal(request);
    expect(run.serverToClient(flow)).to.deep.equal(response);
    expect(run.downstream.events.get(flow.key)?.at(-1)?.kind).to.equal('close');
  });

  it('decrypts when the keys arrive mid-flow', () => {
    const run = decryptorRun(undefined);
    const flow = testFlow();
    run.decryptor.openFlow(flow);
    const half = Math.floor(tls12.events.length / 2);
    for (const event of tls12.events.slice(0, half)) run.decryptor.flowEvent(flow, event);
    run.keys.add(parseKeyLog(tls12.keylog).entries);
    for (const event of tls12.events.slice(half)) run.decryptor.flowEvent(flow, event);
    expect(run.outcomes.get(flow.key)).to.include({ decrypted: true, version: 'TLS 1.2' });
    expect(run.serverToClient(flow)).to.deep.equal(response);
  });

  it('gives up after keyWaitMs of event time and sends nothing downstream', () => {
    const run = decryptorRun(undefined, { keyWaitMs: 1000 });
    const flow = testFlow();
    feed(run.decryptor, flow, tls13.events);
    expect(run.outcomes.size).to.equal(0);
    // Another flow's events move event time on by 5 s.
    const later = testFlow();
    const laterNs = (tls13.events.at(-1) as FlowEvent).tsNs + 5_000_000_000n;
    feed(run.decryptor, later, [{ kind: 'data', dir: C2S, tsNs: laterNs, offset: 0n, payload: Buffer.from('PING\r\n') }]);
    expect(run.outcomes.get(flow.key)).to.include({ decrypted: false, reason: 'no-keys' });
    expect(run.decryptor.stats.undecryptable['no-keys']).to.equal(1);
    expect(run.downstream.opened).to.deep.equal([later.key]);
    run.keys.add(parseKeyLog(tls13.keylog).entries);
    expect(run.downstream.opened).to.deep.equal([later.key]);
  });

  it('gives a flow read behind later traffic no fresh wait: its keyWaitMs counts from its own event time', () => {
    // another gateway's older hour listed after a newer one: the later traffic came first
    const run = decryptorRun(undefined, { keyWaitMs: 1000 });
    const later = testFlow();
    const laterNs = (tls13.events.at(-1) as FlowEvent).tsNs + 5_000_000_000n;
    feed(run.decryptor, later, [{ kind: 'data', dir: C2S, tsNs: laterNs, offset: 0n, payload: Buffer.from('PING\r\n') }]);
    const behind = testFlow();
    feed(run.decryptor, behind, tls13.events);
    expect(run.outcomes.get(behind.key), 'gave up without a further event').to.include({ decrypted: false, reason: 'no-keys' });
    run.keys.add(parseKeyLog(tls13.keylog).entries);
    expect(run.downstream.opened).to.deep.equal([later.key]);
  });

  it('gives up past keyWaitBytes, and on flush, with an injected clock', () => {
    const small = decryptorRun(undefined, { keyWaitBytes: 5000, nowNs: () => 0n });
    const flow = testFlow();
    feed(small.decryptor, flow, tls12.events);
    expect(small.outcomes.get(flow.key)).to.include({ decrypted: false, reason: 'no-keys' });

    const flushed = decryptorRun(undefined, { nowNs: () => 0n });
    const other = testFlow();
    feed(flushed.decryptor, other, tls13.events);
    expect(flushed.outcomes.size).to.equal(0);
    flushed.decryptor.flush();
    expect(flushed.outcomes.get(other.key)).to.include({ decrypted: false, reason: 'no-keys' });
    expect(flushed.downstream.opened).to.deep.equal([]);
  });

  it('calls a TLS 1.3 flow with handshake secrets only undecryptable for want of keys', () => {
    const handshakeOnly = tls13.keylog.split('\n').filter((line) => line.includes('HANDSHAKE')).join('\n');
    const run = decryptorRun(handshakeOnly);
    const flow = testFlow();
    feed(run.decryptor, flow, tls13.events);
    run.decryptor.flush();
    expect(run.outcomes.get(flow.key)).to.include({ decrypted: false, reason: 'no-keys' });
    expect(run.decryptor.stats.records).to.be.greaterThan(0);
    expect(run.downstream.opened).to.deep.equal([]);
  });

  it('bounds what all waiting flows hold together, giving up the longest waiting first', () => {
    const run = decryptorRun(undefined, { maxHeldBytes: 45000 });
    const first = testFlow();
    const second = testFlow();
    feed(run.decryptor, first, tls13.events);
    expect(run.outcomes.size).to.equal(0);
    feed(run.decryptor, second, tls13b.events);
    expect(run.outcomes.get(first.key)).to.include({ decrypted: false, reason: 'no-keys' });
    expect(run.outcomes).to.not.have.any.keys(second.key);
    run.keys.add(parseKeyLog(tls13b.keylog).entries);
    expect(run.outcomes.get(second.key)).to.include({ decrypted: true });
    expect(run.serverToClient(second)).to.deep.equal(response);
  });

  it('can hand undecryptable flows on as they came (wrong key, no keys, no ClientHello)', () => {
    const run = decryptorRun(corruptSecrets(tls12.keylog), { undecryptable: 'original' });
    const wrongKey = testFlow();
    const noKeys = testFlow();
    const noHello = testFlow();
    const noHelloEvents = holeAt(tls13.events, C2S, 0n);
    feed(run.decryptor, wrongKey, tls12.events);
    feed(run.decryptor, noKeys, tls13.events);
    feed(run.decryptor, noHello, noHelloEvents);
    expect(run.outcomes.get(noKeys.key)).to.equal(undefined);
    run.decryptor.flush();
    expect(run.outcomes.get(wrongKey.key)).to.include({ reason: 'auth-failure' });
    expect(run.outcomes.get(noKeys.key)).to.include({ reason: 'no-keys' });
    expect(run.outcomes.get(noHello.key)).to.include({ reason: 'no-client-hello' });
    expect(run.downstream.events.get(wrongKey.key)).to.deep.equal(tls12.events);
    expect(run.downstream.events.get(noKeys.key)).to.deep.equal(tls13.events);
    expect(run.downstream.events.get(noHello.key)).to.deep.equal(noHelloEvents);
  });

  it('counts a wrong key as an auth failure and leaves other flows alone', () => {
    const run = decryptorRun(corruptSecrets(tls13.keylog) + tls13b.keylog);
    const bad = testFlow();
    const good = testFlow();
    run.decryptor.openFlow(bad);
    run.decryptor.openFlow(good);
    // Interleave the two flows event by event.
    for (let i = 0; i < Math.max(tls13.events.length, tls13b.events.length); i++) {
      if (i < tls13.events.length) run.decryptor.flowEvent(bad, tls13.events[i]);
      if (i < tls13b.events.length) run.decryptor.flowEvent(good, tls13b.events[i]);
    }
    expect(run.outcomes.get(bad.key)).to.include({ decrypted: false, reason: 'auth-failure' });
    expect(run.decryptor.stats.authFailures).to.equal(1);
    expect(run.downstream.opened).to.deep.equal([good.key]);
    expect(run.serverToClient(good)).to.deep.equal(response);
  });

  for (const [name, dir] of [['server', S2C], ['client', C2S]] as const) {
    it(`stops the ${name} direction at a flipped ciphertext bit, and the other goes on`, () => {
      const session = tls12;
      const at = streamLength(session.events, dir) - 500n;
      const run = decryptorRun(session.keylog);
      const flow = testFlow();
      feed(run.decryptor, flow, flipBit(session.events, dir, at));
      const outcome = run.outcomes.get(flow.key);
      expect(outcome).to.include({ decrypted: true, damaged: 'auth-failure' });
      expect(run.decryptor.stats.authFailures).to.equal(1);
      const sent = dir === S2C ? response : request;
      const got = dir === S2C ? run.serverToClient(flow) : run.clientToServer(flow);
      expect(got.length).to.be.lessThan(sent.length);
      expect(got).to.deep.equal(sent.subarray(0, got.length));
      const other = dir === S2C ? run.clientToServer(flow) : run.serverToClient(flow);
      expect(other).to.deep.equal(dir === S2C ? request : response);
      const holes = (run.downstream.events.get(flow.key) ?? []).filter((event) => event.kind === 'hole');
      expect(holes).to.have.length(1);
      expect(holes[0]).to.include({ dir, offset: BigInt(got.length) });
    });
  }

  it('ends a direction at a hole and says so downstream', () => {
    const events = rechunk(tls13.events, 1000);
    const at = streamLength(events, S2C) - 5000n;
    const run = decryptorRun(tls13.keylog);
    const flow = testFlow();
    feed(run.decryptor, flow, holeAt(events, S2C, at));
    expect(run.outcomes.get(flow.key)).to.include({ decrypted: true, damaged: 'gap' });
    const got = run.serverToClient(flow);
    expect(got).to.deep.equal(response.subarray(0, got.length));
    expect(got.length).to.be.lessThan(response.length);
    const hole = (run.downstream.events.get(flow.key) ?? []).find((event) => event.kind === 'hole');
    expect(hole).to.include({ dir: S2C, offset: BigInt(got.length), cause: 'gap' });
    expect(run.clientToServer(flow)).to.deep.equal(request);
  });

  it('reports a TLS flow whose ClientHello is missing', () => {
    const run = decryptorRun(tls13.keylog);
    const flow = testFlow();
    feed(run.decryptor, flow, holeAt(tls13.events, C2S, 0n));
    expect(run.outcomes.get(flow.key)).to.include({ decrypted: false, reason: 'no-client-hello' });
    expect(run.downstream.opened).to.deep.equal([]);
  });

  it('reports a ClientHello without a ServerHello, and a server that does not speak TLS', () => {
    const clientHello = (tls13.events.find((event) => event.kind === 'data' && event.dir === C2S) as FlowEvent & { kind: 'data' });
    const run = decryptorRun(tls13.keylog);
    const unanswered = testFlow();
    feed(run.decryptor, unanswered, [clientHello, { kind: 'close', tsNs: clientHello.tsNs + 1n, reason: undefined }]);
    expect(run.outcomes.get(unanswered.key)).to.include({ decrypted: false, reason: 'no-server-hello' });
    const confused = testFlow();
    feed(run.decryptor, confused, [
      clientHello,
      { kind: 'data', dir: S2C, tsNs: clientHello.tsNs + 1n, offset: 0n, payload: Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n') },
      { kind: 'close', tsNs: clientHello.tsNs + 2n, reason: undefined },
    ]);
    expect(run.outcomes.get(confused.key)).to.include({ decrypted: false, reason: 'malformed' });
    expect(run.outcomes.get(confused.key)?.detail).to.match(/not a TLS record header at stream offset 0/);
    expect(run.downstream.opened).to.deep.equal([]);
  });

  it('passes non-TLS flows on unchanged, client-first and server-first', () => {
    const run = decryptorRun(undefined);
    const http = testFlow();
    const httpEvents: FlowEvent[] = [
      { kind: 'data', dir: C2S, tsNs: 1n, offset: 0n, payload: Buffer.from('GET') },
      { kind: 'data', dir: C2S, tsNs: 2n, offset: 3n, payload: Buffer.from(' / HTTP/1.1\r\nHost: x\r\n\r\n') },
      { kind: 'data', dir: S2C, tsNs: 3n, offset: 0n, payload: Buffer.from('HTTP/1.1 204 No Content\r\n\r\n') },
      { kind: 'hole', dir: S2C, tsNs: 4n, offset: 28n, length: 10n, cause: 'missing' },
      { kind: 'close', tsNs: 5n, reason: undefined },
    ];
    const smtp = testFlow();
    const smtpEvents: FlowEvent[] = [
      { kind: 'data', dir: S2C, tsNs: 1n, offset: 0n, payload: Buffer.from('220 mail ESMTP\r\n') },
      { kind: 'data', dir: C2S, tsNs: 2n, offset: 0n, payload: Buffer.from('EHLO x\r\n') },
      { kind: 'close', tsNs: 3n, reason: undefined },
    ];
    feed(run.decryptor, http, httpEvents);
    feed(run.decryptor, smtp, smtpEvents);
    expect(run.downstream.events.get(http.key)).to.deep.equal(httpEvents);
    expect(run.downstream.events.get(smtp.key)).to.deep.equal(smtpEvents);
    expect(run.decryptor.stats.plainFlows).to.equal(2);
    expect(run.outcomes.size).to.equal(0);
  });

  it('never throws or stalls on flipped bits anywhere in a session', () => {
    let seed = 7;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % below;
    };
    const run = decryptorRun(tls12.keylog + tls13.keylog);
    const flows = [];
    for (let i = 0; i < 300; i++) {
      const session = i % 2 ? tls12 : tls13;
      const dir = random(2) as Direction;
      const at = BigInt(random(Number(streamLength(session.events, dir))));
      const flow = testFlow();
      flows.push(flow);
      feed(run.decryptor, flow, flipBit(session.events, dir, at));
    }
    run.decryptor.flush();
    // Each flow ended: with an outcome, or as plain (a flip in the first bytes hides the ClientHello).
    const plain = new Set(run.downstream.opened.filter((key) => !run.outcomes.has(key)));
    for (const flow of flows) expect(run.outcomes.has(flow.key) || plain.has(flow.key), `flow ${flow.key}`).to.equal(true);
    for (const key of [...run.downstream.events.keys()]) expect(run.downstream.events.get(key)?.at(-1)?.kind).to.equal('close');
    const stats = run.decryptor.stats;
    const undecryptable = Object.values(stats.undecryptable).reduce((sum, n) => sum + n, 0);
    expect(stats.decryptedFlows + undecryptable + stats.plainFlows).to.equal(300);
    // Most flips land in ciphertext: they fail authentication, before or after plaintext went out.
    expect(stats.authFailures).to.be.greaterThan(150);
    expect(stats.damagedFlows).to.be.greaterThan(50);
  });

  describe('records cut at every boundary', () => {
    const smallRequest = testBytes(40, 21);
    const smallResponse = testBytes(90, 22);
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      it(`${version}: the same session split at every byte offset of either direction`, async () => {
        const session = await captureNodeSession({
          server: { minVersion: version, maxVersion: version, ciphers: version === 'TLSv1.2' ? 'ECDHE-RSA-AES128-SHA' : undefined },
          request: smallRequest,
          response: smallResponse,
        });
        let runs = 0;
        for (const dir of [C2S, S2C]) {
          const length = streamLength(session.events, dir);
          for (let at = 1n; at < length; at++) {
            const run = decryptorRun(session.keylog);
            const flow = testFlow();
            feed(run.decryptor, flow, splitAt(session.events, dir, at));
            if (!run.clientToServer(flow).equals(smallRequest) || !run.serverToClient(flow).equals(smallResponse)) {
              expect.fail(`split of direction ${dir} at ${at} decrypted wrongly`);
            }
            runs++;
          }
        }
        expect(runs).to.be.greaterThan(1000);
        for (const size of [1, 2, 3, 7, 100]) {
          const run = decryptorRun(session.keylog);
          const flow = testFlow();
          feed(run.decryptor, flow, rechunk(session.events, size));
          expect(run.clientToServer(flow), `pieces of ${size}`).to.deep.equal(smallRequest);
          expect(run.serverToClient(flow), `pieces of ${size}`).to.deep.equal(smallResponse);
        }
      });
    }
  });
});
