#!/usr/bin/env python3
"""An independent CTAP v1 decoder, written from docs/ctap-format.md only,
used by the tests to judge the TypeScript writer. Prints the object as JSON
(bytes as hex); exits 1 with a message on anything that breaks the spec."""
import json
import struct
import sys
import zlib


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def crc(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def tlvs(body):
    tags, at = {}, 0
    while at < len(body):
        tag, length = struct.unpack_from('<BH', body, at)
        value = body[at + 3:at + 3 + length]
        if len(value) != length:
            fail('TLV overruns the record')
        tags[str(tag)] = struct.unpack('<H', value)[0] if tag in (5, 6) else value.decode('utf-8')
        at += 3 + length
    return tags


def record(rtype, body):
    fid, ts = body[:16].hex(), struct.unpack_from('<Q', body, 16)[0]
    if rtype == 1:
        ipv, l4 = body[24], body[25]
        n = 4 if ipv == 4 else 16
        cport = struct.unpack_from('<H', body, 26 + n)[0]
        sport = struct.unpack_from('<H', body, 28 + 2 * n)[0]
        return dict(type=1, flowId=fid, tsNs=str(ts), ipVersion=ipv, l4=l4, clientIp=body[26:26 + n].hex(),
                    clientPort=cport, serverIp=body[28 + n:28 + 2 * n].hex(), serverPort=sport, tags=tlvs(body[30 + 2 * n:]))
    if rtype == 2:
        return dict(type=2, flowId=fid, tsNs=str(ts), dir=body[24], offset=str(struct.unpack_from('<Q', body, 25)[0]), payload=body[33:].hex())
    if rtype == 3:
        c2s, s2c = struct.unpack_from('<QQ', body, 25)
        return dict(type=3, flowId=fid, tsNs=str(ts), reason=body[24], bytesC2s=str(c2s), bytesS2c=str(s2c))
    if rtype == 4:
        off, length = struct.unpack_from('<QQ', body, 25)
        return dict(type=4, flowId=fid, tsNs=str(ts), dir=body[24], offset=str(off), length=str(length))
    if rtype == 5:
        ts = struct.unpack_from('<Q', body, 0)[0]
        return dict(type=5, tsNs=str(ts), flowId=body[8:24].hex(), lines=body[24:].decode('utf-8'))
    return dict(type=rtype, unknown=True)


def main(path):
    data = open(path, 'rb').read()
    if data[:4] != b'CTAP':
        fail('bad magic')
    version, kind, _reserved, glen = struct.unpack_from('<HBBB', data, 4)
    gateway = data[9:9 + glen].decode('utf-8')
    seq, created = struct.unpack_from('<QQ', data, 9 + glen)
    hcrc_at = 25 + glen
    if struct.unpack_from('<I', data, hcrc_at)[0] != crc(data[:hcrc_at]):
        fail('bad header_crc')
    at = hcrc_at + 4
    blocks, records = [], []
    while data[at:at + 4] == b'BLK1':
        codec = data[at + 4]
        stored_len, raw_len, raw_crc = struct.unpack_from('<III', data, at + 8)
        stored = data[at + 20:at + 20 + stored_len]
        if codec == 0:
            raw = stored
        elif codec == 1:
            d = zlib.decompressobj(-15)
            raw = d.decompress(stored)
            if not d.eof or d.unused_data:
                fail('deflate stream does not end exactly at stored_len')
        elif codec == 2:
            d = zlib.decompressobj(16 + 15)
            raw = d.decompress(stored)
            if not d.eof or d.unused_data:
                fail('gzip stream does not end exactly at stored_len')
        else:
            fail('bad codec')
        if len(raw) != raw_len or crc(raw) != raw_crc or raw_len > 8 * 1024 * 1024:
            fail('bad raw_len or raw_crc')
        r = 0
        count = 0
        while r < len(raw):
            rtype, blen = struct.unpack_from('<BI', raw, r)
            body = raw[r + 5:r + 5 + blen]
            if len(body) != blen:
                fail('record crosses its block')
            records.append(record(rtype, body))
            r += 5 + blen
            count += 1
        blocks.append(dict(codec=codec, storedLen=stored_len, rawLen=raw_len, records=count))
        at += 20 + stored_len
    if data[at:at + 4] != b'END1':
        fail('no END1 after the blocks')
    bcount, rcount, first, last, ecrc = struct.unpack_from('<IQQQI', data, at + 4)
    if ecrc != crc(data[at:at + 32]):
        fail('bad end_crc')
    if at + 36 != len(data):
        fail('bytes after END1')
    print(json.dumps(dict(version=version, kind=kind, gateway=gateway, seq=str(seq), createdNs=str(created), blocks=blocks,
                          records=records, end=dict(blockCount=bcount, recordCount=str(rcount), firstNs=str(first), lastNs=str(last)))))


main(sys.argv[1])
