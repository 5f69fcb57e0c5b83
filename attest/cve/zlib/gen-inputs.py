#!/usr/bin/env python3
"""Generates the zlib benign/, train/ and exploit/ inputs (deterministic gzip streams)."""
import gzip, io, os, random, struct, sys, zlib
sys.dont_write_bytecode = True  # no __pycache__ among the applications' folders
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import realistic  # contents real files have (../realistic.py)
from inputs import benign_and_mirrors, control  # ../inputs.py

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = ("alpha beta gamma delta log line request GET POST /index.html 200 404 user agent "
         "Mozilla time ms bytes host server client cache hit miss upstream").split()

def text(r, n):
    out = []
    size = 0
    while size < n:
        line = "%d.%d.%d.%d - - [%02d/Nov/2023] \"%s %s\" %d %d\n" % (
            r.randint(1, 255), r.randint(0, 255), r.randint(0, 255), r.randint(0, 255), r.randint(1, 30),
            r.choice(["GET", "POST"]), "/" + "/".join(r.choice(WORDS) for _ in range(r.randint(1, 3))),
            r.choice([200, 200, 304, 404]), r.randint(100, 50000))
        out.append(line); size += len(line)
    return "".join(out).encode()[:n]

def member(data, name=None, comment=None, extra=None, mtime=0, level=6):
    flg = (4 if extra is not None else 0) | (8 if name else 0) | (16 if comment else 0)
    hdr = b"\x1f\x8b\x08" + bytes([flg]) + struct.pack("<I", mtime) + b"\x00\x03"
    if extra is not None: hdr += struct.pack("<H", len(extra)) + extra
    if name: hdr += name.encode() + b"\x00"
    if comment: hdr += comment.encode() + b"\x00"
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    return hdr + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xffffffff)

def write(path, seed, members, size, level=6, varied=False):
    r = random.Random(seed)
    out = bytearray()
    for k in range(members):
        n = r.randint(size // 2, size)
        if varied:
            data = realistic.any_bytes(r, n)
        else:
            data = text(r, n) if r.random() < 0.8 else bytes(r.randint(0, 255) for _ in range(n // 8))
        extra = None
        if r.random() < 0.6:   # FEXTRA subfields (SI1 SI2 LEN data), at most 16 bytes
            sub = bytes(r.randint(0, 255) for _ in range(r.randint(0, 8)))
            extra = b"AP" + struct.pack("<H", len(sub)) + sub
        out += member(data, name="part%03d.log" % k if r.random() < 0.7 else None,
                      comment="rotated by logrotate" if r.random() < 0.3 else None,
                      extra=extra, mtime=1700000000 + r.randint(0, 10**6), level=level)
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(out)

BENIGN = [  # name, seed, members, size, level
    ("access-log", 1, 1, 300000, 6),
    ("rotated-logs", 2, 6, 60000, 6),
    ("fast-level", 3, 2, 150000, 1),
    ("best-level", 4, 3, 110000, 9),
    ("many-small", 5, 40, 8000, 6),
]
benign_and_mirrors(write, BENIGN)
for i in range(8):
    write("train/t%d.in" % i, 100 + i, 1 + i % 4, 10000 + 8000 * i, level=1 + i)

# Contents real files hold, for training only (../realistic.py says why).
VARIED = [(1, 300000, 6), (6, 60000, 6), (2, 150000, 1), (3, 110000, 9), (40, 8000, 6), (4, 50000, 6)]
for i, (members, size, level) in enumerate(VARIED):
    write("train/varied-%d.in" % i, 300 + i, members, size, level, varied=True)

# Exploits: one member whose FEXTRA field (XLEN 64) overflows the driver's
# 16-byte `extra` buffer. The overflowing bytes are the attacker's: a run
# of one byte (as a proof of concept writes), random bytes, and text, to
# show which of them a page classifier can see.
def exploit(path, extra):
    assert len(extra) == 64
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(member(b"hello", extra=extra, mtime=0))
    # Its control: the field cut to the 16 bytes the buffer holds.
    control(HERE, os.path.basename(path), struct.pack("<H", 64) + extra, struct.pack("<H", 16) + extra[:16])

exploit("exploit/extra-overflow.in", b"E" * 64)
exploit("exploit/extra-overflow-random.in", bytes(random.Random(64).randint(0, 255) for _ in range(64)))
exploit("exploit/extra-overflow-text.in", b"GET /index.html HTTP/1.1 Host: example.org User-Agent: curl/8.5 ")
