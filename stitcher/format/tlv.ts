/** FLOW_OPEN metadata: tag u8 | len u16 | value, utf8 except the two MSS tags (u16). */
import { checkUnsigned } from './integers.js';
import { TlvTag, type FlowTags } from './records.js';

type TextTag = Exclude<keyof FlowTags, 'clientMss' | 'serverMss'>;

/** Text tags in the order they are written. */
const TEXT_TAGS: readonly (readonly [TlvTag, TextTag])[] = [
  [TlvTag.User, 'user'],
  [TlvTag.ServerName, 'serverName'],
  [TlvTag.Application, 'application'],
  [TlvTag.Policy, 'policy'],
  [TlvTag.Site, 'site'],
  [TlvTag.SourceCountry, 'sourceCountry'],
];

const TEXT_TAG_NAMES: Record<number, TextTag | undefined> = Object.fromEntries(TEXT_TAGS);

/** @throws RangeError when a value is too long for a u16 length or an MSS is not a u16. */
export function encodeTags(tags: FlowTags): Buffer {
  const parts: Buffer[] = [];
  for (const [tag, name] of TEXT_TAGS) {
    const value = tags[name];
    if (value !== undefined) parts.push(tlv(tag, Buffer.from(value, 'utf8'), name));
  }
  if (tags.clientMss !== undefined) parts.push(mssTlv(TlvTag.ClientMss, tags.clientMss, 'clientMss'));
  if (tags.serverMss !== undefined) parts.push(mssTlv(TlvTag.ServerMss, tags.serverMss, 'serverMss'));
  return Buffer.concat(parts);
}

function tlv(tag: number, value: Buffer, name: string): Buffer {
  checkUnsigned(value.length, 16, `tag ${name} length`);
  const bytes = Buffer.allocUnsafe(3 + value.length);
  bytes[0] = tag;
  bytes.writeUInt16LE(value.length, 1);
  value.copy(bytes, 3);
  return bytes;
}

function mssTlv(tag: number, mss: number, name: string): Buffer {
  checkUnsigned(mss, 16, name);
  const value = Buffer.allocUnsafe(2);
  value.writeUInt16LE(mss, 0);
  return tlv(tag, value, name);
}

/** Decodes the TLVs in `bytes[start, end)`; unknown tags are skipped. Returns the problem text on bad framing. */
export function decodeTags(bytes: Buffer, start: number, end: number): FlowTags | string {
  const tags: FlowTags = {};
  let at = start;
  while (at < end) {
    if (end - at < 3) return `TLV at body byte ${at - start} of the tags is cut short (${end - at} of 3 bytes)`;
    const tag = bytes[at];
    const len = bytes.readUInt16LE(at + 1);
    const valueAt = at + 3;
    if (valueAt + len > end) return `TLV tag ${tag} length ${len} runs past the end of the record`;
    if (tag === TlvTag.ClientMss || tag === TlvTag.ServerMss) {
      if (len !== 2) return `TLV tag ${tag} (MSS) has length ${len}, expected 2`;
      const mss = bytes.readUInt16LE(valueAt);
      if (tag === TlvTag.ClientMss) tags.clientMss = mss;
      else tags.serverMss = mss;
    } else {
      const name = TEXT_TAG_NAMES[tag];
      if (name !== undefined) tags[name] = bytes.toString('utf8', valueAt, valueAt + len);
    }
    at = valueAt + len;
  }
  return tags;
}
