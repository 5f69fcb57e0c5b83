#!/usr/bin/env python3
"""Generates the lz4 benign/ and train/ inputs (deterministic).

Each input is a sequence of records [int32 wanted][int32 csize][LZ4 block];
the blocks are made by the small greedy LZ4 block compressor below."""
import os, random, struct, sys
sys.dont_write_bytecode = True  # no __pycache__ among the applications' folders
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import realistic  # contents real files have (../realistic.py)
from inputs import benign_and_mirrors, control  # ../inputs.py

HERE = os.path.dirname(os.path.abspath(__file__))

def lz4_block(data):
    """Greedy LZ4 block compressor (hash of 4 bytes, min match 4, last 5 bytes literal)."""
    n, out, table, anchor, i = len(data), bytearray(), {}, 0, 0
    limit = n - 12
    def emit(lit, mlen, off):
        ll = len(lit)
        tok = (min(ll, 15) << 4) | (min(mlen - 4, 15) if mlen else 0)
        out.append(tok)
        if ll >= 15:
            r = ll - 15
            while r >= 255: out.append(255); r -= 255
            out.append(r)
        out.extend(lit)
        if mlen:
            out.extend(struct.pack("<H", off))
            if mlen - 4 >= 15:
                r = mlen - 4 - 15
                while r >= 255: out.append(255); r -= 255
                out.append(r)
    while i < limit:
        key = data[i:i + 4]
        j = table.get(key)
        table[key] = i
        if j is not None and i - j < 65536:
            m = 4
            while i + m < n - 5 and data[j + m] == data[i + m]: m += 1
            emit(data[anchor:i], m, i - j)
            i += m
            anchor = i
        else:
            i += 1
    emit(data[anchor:], 0, 0)
    return bytes(out)

WORDS = ("the quick brown fox jumps over lazy dog lorem ipsum dolor sit amet record value "
         "sensor temperature pressure status ok error warning user session token request").split()

def text(r, n):
    s = []
    while sum(map(len, s)) < n:
        s.append(r.choice(WORDS) + (" " if r.random() < 0.9 else "\n"))
    return "".join(s).encode()[:n]

def payload(r, kind, n):
    if kind == "text": return text(r, n)
    if kind == "json":
        out = bytearray()
        while len(out) < n:
            out += ('{"id":%d,"name":"%s","score":%.3f,"tags":["%s","%s"]}\n' % (
                r.randint(1, 10**6), r.choice(WORDS), r.random() * 100, r.choice(WORDS), r.choice(WORDS))).encode()
        return bytes(out[:n])
    if kind == "binary":  # structured binary records with small deltas
        out, v = bytearray(), 0
        while len(out) < n:
            v = (v + r.randint(-3, 5)) & 0xffffffff
            out += struct.pack("<IHH", v, r.randint(0, 3), 0x5a5a)
        return bytes(out[:n])
    if kind == "varied": return realistic.any_bytes(r, n)
    return bytes(r.randint(0, 255) for _ in range(n))  # random: incompressible

def write(path, seed, records, kinds, size, damaged=0.0):
    """`damaged`: the share of records whose block has a few bytes changed,
    as a damaged archive has (the decoder reports them corrupt)."""
    r = random.Random(seed)
    out = bytearray()
    for _ in range(records):
        k = r.choice(kinds)
        data = payload(r, k, r.randint(size // 2, size))
        blk = lz4_block(data)
        if damaged and r.random() < damaged:
            blk = bytearray(blk)
            for _ in range(r.randint(1, 3)):
                blk[r.randrange(len(blk))] ^= 1 << r.randrange(8)
            blk = bytes(blk)
        wanted = r.choice([len(data), len(data), r.randint(1, len(data)), 64, 65536])
        out += struct.pack("<ii", wanted, len(blk)) + blk
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(out)

def main():
    BENIGN = [
        ("text-records", 1, 6, ["text"], 30000),
        ("json-logs", 2, 4, ["json"], 30000),
        ("telemetry", 3, 8, ["binary"], 30000),
        ("mixed", 4, 6, ["text", "json", "binary", "random"], 12000),
        ("previews", 5, 20, ["text", "json"], 6000),
    ]
    benign_and_mirrors(write, BENIGN)
    # A damaged archive (malformed/: refused, not benign): the error each
    # corrupt record gets must be the native build's (lz4.c's two decoding
    # loops give up at different bytes).
    os.makedirs(os.path.join(HERE, "malformed"), exist_ok=True)
    write("malformed/damaged.in", 6, 30, ["text", "json", "binary", "varied"], 8000, damaged=0.6)
    for i in range(8):
        write("train/t%d.in" % i, 100 + i, 2 + i % 4, [["text"], ["json"], ["binary"], ["text", "random"]][i % 4], 4000 + 1000 * i)
    # Contents real files hold, for training only (../realistic.py says why).
    VARIED = [(6, 30000), (4, 30000), (8, 30000), (6, 12000), (20, 6000), (10, 20000)]
    for i, (records, size) in enumerate(VARIED):
        write("train/varied-%d.in" % i, 300 + i, records, ["varied"], size)

    # The exploit (exploit/negative-target.in) is written by hand. Its
    # control asks for the first 16 bytes instead of -16.
    control(HERE, "negative-target.in", b"\xf0\xff\xff\xff", b"\x10\x00\x00\x00")

# scripts/cve-real-files.py imports lz4_block from here.
if __name__ == "__main__":
    main()
