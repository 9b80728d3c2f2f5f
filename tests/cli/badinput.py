#!/usr/bin/env python3
"""Make damaged copies of a clip for tests/cli/test_badinput.sh.

  badinput.py truncate SRC DST PERCENT   the first PERCENT % of SRC's bytes
  badinput.py flip SRC DST               bytes flipped in the middle of an MP4's mdat
  badinput.py avcc SRC DST W H           an MP4's H.264 SPS (in avcC) claims WxH
                                         (SRC: baseline profile, moov after mdat)
  badinput.py stsd SRC DST W H           a MOV's sample entry claims WxH (for codecs that
                                         take the size from the container: rawvideo)

SPDX-License-Identifier: GPL-3.0-or-later
"""
import struct
import sys


# ---- MP4 boxes ----

# containers, and how many bytes of their own come before their children
CONTAINERS = {b'moov': 0, b'trak': 0, b'mdia': 0, b'minf': 0, b'stbl': 0, b'stsd': 8, b'avc1': 78}


def boxes(buf, start=0, end=None):
    """(type, offset of the box, offset of its body, end) for each box in buf[start:end]."""
    end = len(buf) if end is None else end
    i = start
    while i + 8 <= end:
        size, typ = struct.unpack('>I4s', buf[i:i + 8])
        body = i + 8
        if size == 1:
            size = struct.unpack('>Q', buf[i + 8:i + 16])[0]
            body = i + 16
        elif size == 0:
            size = end - i
        if size < 8 or i + size > end:
            return
        yield typ, i, body, i + size
        i += size


def find_box(buf, path):
    """The first box at PATH (e.g. [b'moov', b'trak', ...]): (offset, body, end)."""
    start, end = 0, len(buf)
    found = None
    for depth, want in enumerate(path):
        for typ, off, body, stop in boxes(buf, start, end):
            if typ == want:
                found = (off, body, stop)
                start, end = body + CONTAINERS.get(typ, 0), stop
                break
        else:
            sys.exit('no %s box' % b'/'.join(path[:depth + 1]).decode())
    return found


def rewrite(buf, fn):
    """Rebuild the box tree with fn(type, body) -> new body on the leaves; sizes follow."""
    out = bytearray()
    for typ, _off, body, end in boxes(buf):
        data = bytes(buf[body:end])
        if typ in CONTAINERS:
            skip = CONTAINERS[typ]
            data = data[:skip] + rewrite(data[skip:], fn)
        else:
            data = fn(typ, data)
        out += struct.pack('>I4s', len(data) + 8, typ) + data
    return bytes(out)


# ---- H.264 SPS ----

def unescape(b):
    out, zeros = bytearray(), 0
    for x in b:
        if zeros >= 2 and x == 3:
            zeros = 0
            continue
        out.append(x)
        zeros = zeros + 1 if x == 0 else 0
    return out


def escape(b):
    out, zeros = bytearray(), 0
    for x in b:
        if zeros >= 2 and x <= 3:
            out.append(3)
            zeros = 0
        out.append(x)
        zeros = zeros + 1 if x == 0 else 0
    return out


class Bits:
    def __init__(self, data=b''):
        self.data, self.pos, self.out = data, 0, []

    def bit(self):
        v = (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
        self.pos += 1
        return v

    def u(self, n):
        v = 0
        for _ in range(n):
            v = v * 2 + self.bit()
        return v

    def ue(self):
        zeros = 0
        while self.bit() == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)

    def put(self, n, v):
        self.out += [(v >> (n - 1 - i)) & 1 for i in range(n)]

    def put_ue(self, v):
        v += 1
        self.put(v.bit_length() - 1, 0)
        self.put(v.bit_length(), v)

    def bytes(self):
        bits = self.out + [0] * (-len(self.out) % 8)
        return bytes(int(''.join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def sps_with_size(nal, width, height):
    """A baseline-profile SPS NAL unit rewritten to claim width x height (multiples of 16)."""
    r, w = Bits(unescape(nal[1:])), Bits()
    profile = r.u(8)
    if profile != 66:
        sys.exit('avcc: the SPS is profile %d; make the clip with -profile:v baseline' % profile)
    w.put(8, profile)
    w.put(8, r.u(8))              # constraint flags
    w.put(8, r.u(8))              # level
    w.put_ue(r.ue())              # seq_parameter_set_id
    w.put_ue(r.ue())              # log2_max_frame_num_minus4
    poc = r.ue()
    w.put_ue(poc)
    if poc == 0:
        w.put_ue(r.ue())          # log2_max_pic_order_cnt_lsb_minus4
    elif poc == 1:
        sys.exit('avcc: pic_order_cnt_type 1 is not handled')
    w.put_ue(r.ue())              # max_num_ref_frames
    w.put(1, r.bit())             # gaps_in_frame_num_value_allowed_flag
    r.ue()
    r.ue()
    w.put_ue(width // 16 - 1)     # pic_width_in_mbs_minus1
    w.put_ue(height // 16 - 1)    # pic_height_in_map_units_minus1 (frame_mbs_only)
    total = len(r.data) * 8       # copy the rest, up to the stop bit
    while total and not (r.data[(total - 1) >> 3] >> (7 - ((total - 1) & 7))) & 1:
        total -= 1
    total -= 1
    while r.pos < total:
        w.put(1, r.bit())
    w.put(1, 1)
    return nal[:1] + bytes(escape(w.bytes()))


def avcc(buf, width, height):
    def fn(typ, body):
        if typ != b'avcC':
            return body
        n = struct.unpack('>H', body[6:8])[0]
        sps = sps_with_size(body[8:8 + n], width, height)
        return body[:6] + struct.pack('>H', len(sps)) + sps + body[8 + n:]
    # chunk offsets point into mdat: it must come before moov, which changes size
    order = [typ for typ, *_ in boxes(buf)]
    if order.index(b'mdat') > order.index(b'moov'):
        sys.exit('avcc: moov comes before mdat (faststart): not handled')
    return rewrite(buf, fn)


def stsd(buf, width, height):
    _off, body, _end = find_box(buf, [b'moov', b'trak', b'mdia', b'minf', b'stbl', b'stsd'])
    entry = body + 8                      # version/flags, entry count
    at = entry + 8 + 6 + 2 + 2 + 2 + 12   # size, format, reserved, data ref, version, revision, vendor, quality
    out = bytearray(buf)
    out[at:at + 4] = struct.pack('>HH', width, height)
    return bytes(out)


def flip(buf):
    _off, body, end = find_box(buf, [b'mdat'])
    out = bytearray(buf)
    mid = (body + end) // 2
    span = min(4096, (end - body) // 4)
    for i in range(mid - span // 2, mid + span // 2, 37):
        out[i] ^= 0xff
    return bytes(out)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, src, dst = argv[0], argv[1], argv[2]
    buf = open(src, 'rb').read()
    if cmd == 'truncate':
        out = buf[:len(buf) * int(argv[3]) // 100]
    elif cmd == 'flip':
        out = flip(buf)
    elif cmd == 'avcc':
        out = avcc(buf, int(argv[3]), int(argv[4]))
    elif cmd == 'stsd':
        out = stsd(buf, int(argv[3]), int(argv[4]))
    else:
        sys.exit(__doc__)
    with open(dst, 'wb') as f:
        f.write(out)


if __name__ == '__main__':
    main(sys.argv[1:])
