#!/usr/bin/env python3
"""Removes a Wasm module's DWARF (its `.debug_*` custom sections) in place,
keeping its name section: zig's linker strips both or neither. With
`--names` first, the name section goes too (a module as `-s` links it).

    strip-wasm-debug.py [--names] MODULE..."""
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


paths = sys.argv[1:]
names = paths[:1] == ["--names"]
if names:
    paths = paths[1:]
for path in paths:
    b = open(path, "rb").read()
    out = bytearray(b[:8])
    i = 8
    while i < len(b):
        n, j = leb(b, i + 1)
        keep = True
        if b[i] == 0:
            length, k = leb(b, j)
            name = b[k : k + length]
            keep = not name.startswith(b".debug") and not (names and name == b"name")
        if keep:
            out += b[i : j + n]
        i = j + n
    open(path, "wb").write(out)
