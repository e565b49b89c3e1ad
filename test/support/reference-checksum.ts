/**
 * The Internet checksum (RFC 1071) the slow way: big-endian 16-bit words, end-around
 * carry after every add. The judge of the stitcher's fast checksums and the checksum
 * of frames the tests build by hand.
 */
export function referenceChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}
