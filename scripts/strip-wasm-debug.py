#!/usr/bin/env python3
"""Removes a Wasm module's DWARF (its `.debug_*` custom sections) in place,
keeping its name section: zig's linker strips both or neither."""
import sys


def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


for path in sys.argv[1:]:
    b = open(path, "rb").read()
    out = bytearray(b[:8])
    i = 8
    while i < len(b):
        n, j = leb(b, i + 1)
        keep = True
        if b[i] == 0:
            length, k = leb(b, j)
            keep = not b[k : k + length].startswith(b".debug")
        if keep:
            out += b[i : j + n]
        i = j + n
    open(path, "wb").write(out)
