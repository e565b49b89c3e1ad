/**
 * Hands out small header buffers carved from a large slab, so that building a
 * packet does not allocate a Buffer of its own. A header stays valid for as
 * long as anyone holds it (a used slab is never rewritten, only dropped).
 */

/** @default 64 KiB: about 800 TCP/IPv4 headers per allocation. */
const DEFAULT_SLAB_BYTES = 64 * 1024;

export class HeaderSlab {
  private slab: Buffer;
  private used = 0;

  constructor(private readonly slabBytes = DEFAULT_SLAB_BYTES) {
    this.slab = Buffer.allocUnsafe(slabBytes);
  }

  /** A fresh `length`-byte buffer (contents undefined: the caller writes every byte). */
  take(length: number): Buffer {
    if (this.used + length > this.slab.length) {
      this.slab = Buffer.allocUnsafe(Math.max(this.slabBytes, length));
      this.used = 0;
    }
    const header = this.slab.subarray(this.used, this.used + length);
    this.used += length;
    return header;
  }
}
