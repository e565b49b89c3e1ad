/**
 * What a checkpoint keeps of one flow in the TLS decryptor, as JSON: whether it
 * passes plain, was given up, or is a decrypting session standing at a record
 * boundary in each direction (the session's snapshot, where the next record
 * starts, how much plaintext went out). No secret: keys are looked up again.
 */
import type { StageJson } from '../flow/resumable.js';
import type { DirectionSnapshot, SessionSnapshot } from './session-snapshot.js';

export type DecryptorResume =
  | { readonly mode: 'plain' }
  | { readonly mode: 'done' }
  | TlsResume;

export interface TlsResume {
  readonly mode: 'tls';
  readonly session: SessionSnapshot;
  /** Per direction: the stream offset where the next record starts. */
  readonly at: readonly [number, number];
  /** Per direction: plaintext bytes handed on. */
  readonly plain: readonly [number, number];
  readonly damaged?: 'gap' | 'missing' | 'auth-failure';
}

const PHASES = ['early', 'handshake', 'application'];
const DAMAGE = ['gap', 'missing', 'auth-failure'];

export function decryptorResumeToJson(resume: DecryptorResume): StageJson {
  if (resume.mode !== 'tls') return resume.mode;
  const { session } = resume;
  const direction = (d: DirectionSnapshot): StageJson => ({ ...d });
  return {
    mode: 'tls',
    session: { ...session, directions: [direction(session.directions[0]), direction(session.directions[1])] },
    at: [...resume.at],
    plain: [...resume.plain],
    ...(resume.damaged !== undefined ? { damaged: resume.damaged } : {}),
  };
}

/** Undefined for a state this version cannot go on from (the flow then starts afresh). */
export function decryptorResumeFromJson(json: StageJson | undefined): DecryptorResume | undefined {
  if (json === 'plain' || json === 'done') return { mode: json };
  if (!isRecord(json) || json.mode !== 'tls') return undefined;
  const session = sessionFromJson(json.session);
  const at = offsetPair(json.at);
  const plain = offsetPair(json.plain);
  if (session === undefined || at === undefined || plain === undefined) return undefined;
  const damaged = json.damaged;
  if (damaged !== undefined && !(typeof damaged === 'string' && DAMAGE.includes(damaged))) return undefined;
  return { mode: 'tls', session, at, plain, ...(damaged !== undefined ? { damaged: damaged as TlsResume['damaged'] } : {}) };
}

function sessionFromJson(json: StageJson | undefined): SessionSnapshot | undefined {
  if (!isRecord(json)) return undefined;
  const { version, suite, clientRandom, serverRandom, encryptThenMac, directions } = json;
  if (typeof version !== 'number' || typeof suite !== 'number' || typeof encryptThenMac !== 'boolean') return undefined;
  if (!isHex(clientRandom, 64) || !isHex(serverRandom, 64) || !Array.isArray(directions) || directions.length !== 2) return undefined;
  const client = directionFromJson(directions[0]);
  const server = directionFromJson(directions[1]);
  if (client === undefined || server === undefined) return undefined;
  return { version, suite, clientRandom, serverRandom, encryptThenMac, directions: [client, server] };
}

function directionFromJson(json: StageJson | undefined): DirectionSnapshot | undefined {
  if (!isRecord(json)) return undefined;
  const { phase, encrypted, keyUpdates, sequence, lost } = json;
  if (typeof phase !== 'string' || !PHASES.includes(phase) || typeof encrypted !== 'boolean' || typeof lost !== 'boolean') return undefined;
  if (typeof keyUpdates !== 'number' || !Number.isSafeInteger(keyUpdates) || keyUpdates < 0) return undefined;
  if (sequence !== undefined && !(typeof sequence === 'string' && /^\d{1,20}$/.test(sequence))) return undefined;
  return { phase: phase as DirectionSnapshot['phase'], encrypted, keyUpdates, lost, ...(sequence !== undefined ? { sequence } : {}) };
}

function offsetPair(json: StageJson | undefined): readonly [number, number] | undefined {
  if (!Array.isArray(json) || json.length !== 2) return undefined;
  const [a, b] = json as StageJson[];
  return isOffset(a) && isOffset(b) ? [a, b] : undefined;
}

function isOffset(value: StageJson | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: StageJson | undefined): value is { readonly [key: string]: StageJson } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHex(value: StageJson | undefined, length: number): value is string {
  return typeof value === 'string' && value.length === length && /^[0-9a-f]*$/.test(value);
}
