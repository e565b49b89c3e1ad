/** What is wrong with an object, and where: the reader's report instead of an exception. */
export interface ObjectDamage {
  /** The object's name (its key), as given to the reader. */
  readonly object: string;
  /** Byte offset in the object of the header, block or end at fault (for a record: of its block). */
  readonly offset: number;
  readonly problem: string;
}

/** "object <name> at offset <n>: <problem>", for logs and errors. */
export function damageMessage(damage: ObjectDamage): string {
  return `object ${damage.object} at offset ${damage.offset}: ${damage.problem}`;
}
