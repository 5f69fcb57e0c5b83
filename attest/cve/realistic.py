"""Contents real use puts into the corpus's applications, for their
training inputs (imported by the gen-inputs.py scripts; python3 stdlib
only, deterministic for a given random.Random).

The applications' models learn from their training inputs what clean
memory looks like. Inputs drawn only from each generator's small
vocabulary left out what real files are full of: banner comments
(`//////`, `=====`), base64 and hex blobs, numeric data, source code,
machine code, tables of binary numbers, text in other scripts. On real
files (an SVG with an embedded PNG, a C file's banner, an executable's
code) the models then took such pages for an attacker's payload. The
content functions take `(r, n)` and return at most `n` bytes; `banner`
returns one separator line as a string."""
import base64, struct

LATIN = ("data value record user session server client request response error warning "
         "the of and to in is that for it with as was on be by at this from or have "
         "not are but an they which one you were all we when there can more if no "
         "time system file memory buffer network packet config version update").split()
OTHER = ("caf\u00e9 na\u00efve \u00fcber stra\u00dfe se\u00f1or \u00e5r \u00e6ble "
         "\u0434\u0430\u043d\u043d\u044b\u0435 \u0441\u0435\u0440\u0432\u0435\u0440 "
         "\u6570\u636e \u670d\u52a1\u5668 \u30c7\u30fc\u30bf \u03b4\u03b5\u03b4\u03bf\u03bc\u03ad\u03bd\u03b1 "
         "\u0628\u064a\u0627\u0646\u0627\u062a \ud55c\uad6d\uc5b4").split()
BANNER = "=-*#/_~.+"


def cut(s, n):
    b = s.encode() if isinstance(s, str) else bytes(s)
    return b[:n]


def prose(r, n):
    """Sentences, some words in other scripts, paragraphs."""
    out, size = [], 0
    while size < n:
        words = [r.choice(OTHER if r.random() < 0.08 else LATIN) for _ in range(r.randint(4, 18))]
        s = " ".join(words).capitalize() + r.choice([". ", ". ", "! ", "? ", ", ", ".\n\n"])
        out.append(s)
        size += len(s.encode())
    return cut("".join(out), n)


def banner(r):
    """A separator line such as `//////` or `# =====`."""
    c = r.choice(BANNER)
    lead = r.choice(["", "", "// ", "# ", "/* ", "-- ", "<!-- "])
    return lead + c * r.randint(8, 100)


def source_code(r, n):
    """C-, Rust- or Python-like source with banners, indentation and literals."""
    out, size = [], 0
    ind = r.choice(["    ", "  ", "\t"])
    while size < n:
        k = r.random()
        if k < 0.08:
            line = banner(r)
        elif k < 0.25:
            line = ind * r.randint(0, 3) + r.choice(["// ", "# ", " * "]) + prose(r, r.randint(20, 90)).decode("utf-8", "ignore").replace("\n", " ")
        elif k < 0.35:
            line = ind * r.randint(0, 4) + "}" * r.randint(0, 1)
        else:
            name = r.choice(LATIN) + "_" + r.choice(LATIN)
            line = ind * r.randint(0, 5) + r.choice([
                "if (%s == NULL) return -%d;" % (name, r.randint(1, 99)),
                "for (size_t i = 0; i < %s; i++) {" % name,
                "let %s = %s.get(%d).unwrap_or(0x%x);" % (name, r.choice(LATIN), r.randint(0, 64), r.getrandbits(16)),
                "def %s(self, %s=None):" % (name, r.choice(LATIN)),
                '%s("%s: %%d\\n", %s);' % (r.choice(["printf", "fprintf(stderr, ", "log"]), r.choice(LATIN), name),
                "#include <%s.h>" % r.choice(LATIN),
                "static const uint8_t %s[] = {%s};" % (name, ", ".join("0x%02x" % r.getrandbits(8) for _ in range(r.randint(4, 16)))),
                "return %s(%s, %d);" % (name, r.choice(LATIN), r.randint(0, 4096)),
            ])
        out.append(line + "\n")
        size += len(line) + 1
    return cut("".join(out), n)


def base64_text(r, n):
    """Base64 of bytes (random or structured), wrapped or not, maybe a data URL."""
    raw = bytes(r.getrandbits(8) for _ in range(n)) if r.random() < 0.6 else binary_table(r, n)
    s = base64.b64encode(raw).decode()
    if r.random() < 0.5:
        s = "\n".join(s[i:i + 76] for i in range(0, len(s), 76))
    if r.random() < 0.3:
        s = "data:image/%s;base64," % r.choice(["png", "jpeg", "gif"]) + s
    return cut(s, n)


def hex_text(r, n):
    """Hashes, UUIDs and hex dumps."""
    out, size = [], 0
    while size < n:
        k = r.random()
        if k < 0.4:
            s = "%064x" % r.getrandbits(256)
        elif k < 0.7:
            s = "%08x-%04x-%04x-%04x-%012x" % tuple(r.getrandbits(b) for b in (32, 16, 16, 16, 48))
        else:
            s = "%08x: " % r.getrandbits(24) + " ".join("%02x" % r.getrandbits(8) for _ in range(16))
        out.append(s + r.choice(["\n", " ", ","]))
        size += len(s) + 1
    return cut("".join(out), n)


def numbers_text(r, n):
    """SVG path data, CSV rows of floats, long integers."""
    out, size = [], 0
    x = y = 0.0
    while size < n:
        k = r.random()
        if k < 0.4:
            x += r.uniform(-50, 50)
            y += r.uniform(-50, 50)
            s = "%s%.3f,%.3f " % (r.choice("MLCQcl"), x, y)
        elif k < 0.8:
            s = ",".join("%.*f" % (r.randint(0, 6), r.uniform(-1e4, 1e4)) for _ in range(r.randint(3, 10))) + "\n"
        else:
            s = str(r.getrandbits(r.choice([32, 53, 64]))) + " "
        out.append(s)
        size += len(s)
    return cut("".join(out), n)


def binary_table(r, n):
    """Arrays of little-endian integers and floats, zero and 0xff fills."""
    out = bytearray()
    while len(out) < n:
        k = r.random()
        count = r.randint(8, 256)
        if k < 0.3:
            v = r.getrandbits(32)
            for _ in range(count):
                v = (v + r.randint(-100, 1000)) & 0xffffffff
                out += struct.pack("<I", v)
        elif k < 0.55:
            out += struct.pack("<%df" % count, *(r.gauss(0, 100) for _ in range(count)))
        elif k < 0.7:
            out += struct.pack("<%dd" % count, *(r.uniform(-1, 1) for _ in range(count)))
        elif k < 0.8:
            out += bytes([r.choice([0, 0xff])]) * r.randint(16, 512)
        else:
            out += struct.pack("<%dH" % count, *(r.getrandbits(r.choice([4, 8, 16])) for _ in range(count)))
    return bytes(out[:n])


# x86-64 instruction shapes: fixed bytes, then `rel32`/`imm8`/`disp8` operands.
X86 = [
    (b"\x55", 0), (b"\x5d", 0), (b"\xc3", 0), (b"\x41\x57", 0), (b"\x41\x5f", 0), (b"\x53", 0), (b"\x5b", 0),
    (b"\x48\x89\xe5", 0), (b"\x48\x89\xc7", 0), (b"\x48\x89\xde", 0), (b"\x4c\x89\xe7", 0), (b"\x31\xc0", 0),
    (b"\x48\x83\xec", 1), (b"\x48\x83\xc4", 1), (b"\x48\x8b\x45", 1), (b"\x48\x89\x45", 1), (b"\x8b\x44\x24", 1),
    (b"\x48\x8d\x35", 4), (b"\x48\x8d\x3d", 4), (b"\xe8", 4), (b"\xe9", 4), (b"\x0f\x84", 4), (b"\x0f\x85", 4),
    (b"\x74", 1), (b"\x75", 1), (b"\xeb", 1), (b"\x83\xf8", 1), (b"\x48\x85\xc0", 0), (b"\x85\xc0", 0),
    (b"\xba", 4), (b"\xbe", 4), (b"\x0f\x1f\x44\x00\x00", 0), (b"\x66\x0f\x1f\x84\x00\x00\x00\x00\x00", 0),
    (b"\x0f\x1f\x80\x00\x00\x00\x00", 0), (b"\xc6\x44\x24", 2), (b"\x48\xc7\x44\x24", 5),
]


def machine_code(r, n):
    """A plausible x86-64 instruction stream (calls, jumps, moves, padding)."""
    out = bytearray()
    while len(out) < n:
        op, size = r.choice(X86)
        out += op
        if size == 4:
            out += struct.pack("<i", r.randint(-60000, 60000))
        elif size:
            out += bytes(r.getrandbits(8) if i == 0 else r.choice([0, r.getrandbits(8)]) for i in range(size))
    return bytes(out[:n])


def executable(r, n):
    """Sections of an executable: code, a string table, zero padding, tables."""
    out = bytearray(b"\x7fELF\x02\x01\x01" + bytes(9))
    while len(out) < n:
        k = r.random()
        if k < 0.45:
            out += machine_code(r, r.randint(256, 4096))
        elif k < 0.65:
            out += b"\0".join((r.choice(LATIN) + "_" + r.choice(LATIN)).encode() for _ in range(r.randint(10, 120))) + b"\0"
        elif k < 0.8:
            out += bytes(r.randint(16, 1024))
        else:
            out += binary_table(r, r.randint(128, 2048))
    return bytes(out[:n])


TEXT_KINDS = (prose, source_code, base64_text, hex_text, numbers_text)
BINARY_KINDS = (machine_code, executable, binary_table)


def text(r, n):
    """Text of mixed kinds, in pieces of a few hundred bytes to a few KB."""
    out = bytearray()
    while len(out) < n:
        k = r.random()
        if k < 0.1:
            out += (banner(r) + "\n").encode()
        else:
            out += r.choice(TEXT_KINDS)(r, r.randint(200, 4000))
            out += b"\n"
    return bytes(out[:n])


def any_bytes(r, n):
    """Text or binary contents, as a compressor or archive sees them."""
    return r.choice(TEXT_KINDS + BINARY_KINDS + (text,))(r, n)
