/** What readCtapObject hands on, in order: header, records per block and damage as met, then end. */
import type { ObjectDamage } from './damage.js';
import type { CtapRecord, ObjectHeader, ObjectKind, ObjectTrailer } from './records.js';

export interface ReaderOptions {
  /** The kind the object's key promises (.ctap or .keys): a header of another kind is damage. */
  readonly expectedKind?: ObjectKind;
}

export interface ObjectSummary {
  readonly object: string;
  /** Absent when the header was unreadable. */
  readonly header?: ObjectHeader;
  /** Absent when no valid end was found. */
  readonly trailer?: ObjectTrailer;
  /** Blocks that checked out. */
  readonly blocks: number;
  /** Records handed on. */
  readonly records: number;
  /** Whether any damage was reported. */
  readonly damaged: boolean;
  /** Whether a valid end was read (the object is not truncated). */
  readonly complete: boolean;
}

export interface HeaderEvent {
  readonly kind: 'header';
  readonly header: ObjectHeader;
}

export interface RecordsEvent {
  readonly kind: 'records';
  /** Offset of the block in the object. */
  readonly offset: number;
  /** Views into the decoded block (see DataRecord.payload). */
  readonly records: CtapRecord[];
}

export interface DamageEvent {
  readonly kind: 'damage';
  readonly damage: ObjectDamage;
}

export interface EndEvent {
  readonly kind: 'end';
  readonly summary: ObjectSummary;
}

export type CtapReadEvent = HeaderEvent | RecordsEvent | DamageEvent | EndEvent;
