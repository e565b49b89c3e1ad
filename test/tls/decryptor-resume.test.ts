/**
 * A decryptor stopped anywhere in a TLS stream and resumed by a fresh one from
 * its checkpoint state (through JSON, as a checkpoint stores it) gives the same
 * plaintext as one that never stopped: every byte once when it resumed at a
 * record boundary, all of it again when it had to start over. The state never
 * holds a secret of the key log.
 */
import { expect } from 'chai';
import { Direction } from '../../stitcher/format/records.js';
import type { FlowEvent } from '../../stitcher/flow/events.js';
import type { StageJson, StreamOffsets } from '../../stitcher/flow/resumable.js';
import { captureNodeSession, testBytes } from './support/node-session.js';
import { captureOpensslSession } from './support/openssl-session.js';
import { rechunk } from './support/mangle.js';
import { testFlow } from './support/capture.js';
import { decryptorRun } from './support/run.js';

interface Captured {
  readonly events: FlowEvent[];
  readonly keylog: string;
}

interface ResumeResult {
  /** Whether the second decryptor went on from a session snapshot (else from the flow's start). */
  readonly fromSnapshot: boolean;
  /** Per direction: how far before the stop the resume hands bytes again. */
  readonly handedAgain: readonly [number, number];
}

/** The stream from `from` on, as flow reassembly hands it again on resume. */
function from(events: readonly FlowEvent[], offsets: StreamOffsets): FlowEvent[] {
  const out: FlowEvent[] = [];
  for (const event of events) {
    if (event.kind !== 'data') {
      out.push(event);
      continue;
    }
    const start = BigInt(offsets[event.dir]);
    const end = event.offset + BigInt(event.payload.length);
    if (end <= start) continue;
    out.push(event.offset >= start ? event : { ...event, offset: start, payload: event.payload.subarray(Number(start - event.offset)) });
  }
  return out;
}

function streamOffset(events: readonly FlowEvent[], dir: Direction): number {
  return events.reduce((n, e) => (e.kind === 'data' && e.dir === dir ? Math.max(n, Number(e.offset) + e.payload.length) : n), 0);
}

/** Plaintext of one direction, from the first event's offset on, checking that offsets run on. */
function plaintext(events: readonly FlowEvent[], dir: Direction, startAt: bigint): Buffer {
  const pieces: Buffer[] = [];
  let offset = startAt;
  for (const event of events) {
    if (event.kind !== 'data' || event.dir !== dir) continue;
    expect(event.offset, 'plaintext offsets run on').to.equal(offset);
    pieces.push(event.payload);
    offset += BigInt(event.payload.length);
  }
  return Buffer.concat(pieces);
}

/** Stops after `cut` events, resumes a fresh decryptor from the checkpoint state, and checks the plaintext. */
function stopAndResume(session: Captured, cut: number, expected: readonly [Buffer, Buffer]): ResumeResult {
  const flow = testFlow();
  const first = decryptorRun(session.keylog);
  first.decryptor.openFlow(flow);
  for (const event of session.events.slice(0, cut)) first.decryptor.flowEvent(flow, event);
  const point = first.decryptor.resumePoint(flow.gateway, flow.key);
  const handed: StreamOffsets = [streamOffset(session.events.slice(0, cut), 0), streamOffset(session.events.slice(0, cut), 1)];
  const resumeFrom: StreamOffsets = [Math.min(handed[0], point.heldFrom?.[0] ?? Infinity), Math.min(handed[1], point.heldFrom?.[1] ?? Infinity)];
  const stored = point.state === undefined ? undefined : (JSON.parse(JSON.stringify(point.state)) as StageJson);
  for (const secret of session.keylog.split('\n').map((line) => line.split(' ')[2]).filter((s) => s !== undefined)) {
    expect(JSON.stringify(stored ?? null)).to.not.include(secret);
  }

  const second = decryptorRun(session.keylog);
  second.decryptor.expectResume(flow.gateway, flow.key, stored);
  second.decryptor.openFlow(flow);
  for (const event of from(session.events, resumeFrom)) second.decryptor.flowEvent(flow, event);
  const before = first.downstream.events.get(flow.key) ?? [];
  const after = second.downstream.events.get(flow.key) ?? [];
  const fromSnapshot = (stored as { mode?: unknown } | undefined)?.mode === 'tls';
  for (const dir of [Direction.ClientToServer, Direction.ServerToClient]) {
    if (fromSnapshot) {
      const earlier = plaintext(before, dir, 0n);
      const later = plaintext(after, dir, BigInt(earlier.length));
      expect(Buffer.concat([earlier, later]), `direction ${dir}, cut at event ${cut}: every plaintext byte once`).to.deep.equal(expected[dir]);
    } else {
      expect(plaintext(after, dir, 0n), `direction ${dir}, cut at event ${cut}: all of it from the start`).to.deep.equal(expected[dir]);
    }
  }
  expect(after.at(-1)?.kind, 'the resumed flow closes').to.equal('close');
  return { fromSnapshot, handedAgain: [handed[0] - resumeFrom[0], handed[1] - resumeFrom[1]] };
}

/** Every cut point; returns how many resumed from a snapshot, and checks they hand little again. */
function everyCut(session: Captured, expected: readonly [Buffer, Buffer]): number {
  let snapshots = 0;
  // Up to the close: a closed flow is not carried over.
  for (let cut = 0; cut < session.events.length; cut++) {
    const result = stopAndResume(session, cut, expected);
    if (!result.fromSnapshot) continue;
    snapshots++;
    // At most the record each direction is in (16 KiB of plaintext plus its overhead).
    for (const again of result.handedAgain) expect(again).to.be.at.most(16384 + 2048 + 5);
  }
  return snapshots;
}

describe('tls/decryptor resume from a checkpoint', function () {
  this.timeout(60_000);
  const request = testBytes(30_000, 11);
  const response = testBytes(120_000, 12);

  for (const [name, server] of [
    ['TLS 1.3 AES-128-GCM', { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' }],
    ['TLS 1.3 ChaCha20-Poly1305', { minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }],
    ['TLS 1.2 ECDHE AES-256-GCM', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }],
    ['TLS 1.2 ECDHE AES-128-CBC-SHA256', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA256' }],
  ] as const) {
    it(`${name}: stopped at any point, goes on to exactly the bytes sent`, async () => {
      const session = await captureNodeSession({ server, request, response });
      // Pieces that cut records anywhere, as objects and blocks do.
      const events = rechunk(session.events, 3001);
      const snapshots = everyCut({ events, keylog: session.keylog }, [request, response]);
      expect(snapshots, 'cuts that resumed from a session snapshot').to.be.greaterThan(events.length / 2);
    });
  }

  it('TLS 1.3 with KeyUpdates in both directions: the resumed keys are the updated ones', async () => {
    const session = await captureOpensslSession({
      clientArgs: ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'],
      lines: ['first line', 'K', 'after a requested update', 'k', 'after an own update', 'K', 'last'],
    });
    const snapshots = everyCut({ events: rechunk(session.events, 7), keylog: session.keylog }, [session.received, session.sent]);
    expect(snapshots).to.be.greaterThan(10);
  });
});
