#!/usr/bin/env python3
"""Generates the jq benign/ and train/ inputs (deterministic JSON streams)."""
import json, os, random, sys
sys.dont_write_bytecode = True  # no __pycache__ among the applications' folders
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import realistic  # contents real files have (../realistic.py)
from inputs import benign_and_mirrors, control  # ../inputs.py

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = "id name email city country active score tags items price qty sku created updated note".split()

def number(r):
    k = r.random()
    if k < 0.4: return str(r.randint(-1000, 100000))
    if k < 0.7: return "%.*f" % (r.randint(1, 6), r.uniform(-1e4, 1e4))
    if k < 0.85: return "%.3e" % r.uniform(-1e30, 1e30)
    return "%d.%s" % (r.randint(0, 99), "".join(r.choice("0123456789") for _ in range(r.randint(8, 30))))

def value(r, depth):
    k = r.random()
    if depth > 4 or k < 0.35: return number(r)
    if k < 0.6: return json.dumps(" ".join(r.choice(WORDS) for _ in range(r.randint(1, 5))) + r.choice(["", " é", " \u4e2d", "\n"]))
    if k < 0.65: return r.choice(["true", "false", "null"])
    if k < 0.82: return "[" + ",".join(value(r, depth + 1) for _ in range(r.randint(0, 6))) + "]"
    keys = r.sample(WORDS, r.randint(0, 7))
    return "{" + ",".join('"%s":%s' % (kk, value(r, depth + 1)) for kk in keys) + "}"

def record(r):
    return "{" + ",".join('"%s":%s' % (k, value(r, 1)) for k in r.sample(WORDS, r.randint(3, 10))) + "}"

def varied_value(r, depth):
    """A value whose strings hold what real files do (../realistic.py)."""
    k = r.random()
    if depth > 3 or k < 0.45:
        return json.dumps(realistic.text(r, r.randint(8, 1500)).decode("utf-8", "ignore"))
    if k < 0.6: return number(r)
    if k < 0.75: return "[" + ",".join(varied_value(r, depth + 1) for _ in range(r.randint(0, 8))) + "]"
    keys = r.sample(WORDS, r.randint(1, 8))
    return "{" + ",".join('"%s":%s' % (kk, varied_value(r, depth + 1)) for kk in keys) + "}"

def write(path, seed, count, style):
    r = random.Random(seed)
    if style == "varied":
        text = "\n".join(varied_value(r, 0) for _ in range(count)) + "\n"
    elif style == "lines":
        text = "\n".join(record(r) for _ in range(count)) + "\n"
    elif style == "array":
        text = "[" + ",\n".join(record(r) for _ in range(count)) + "]\n"
    elif style == "pretty":
        text = "".join(json.dumps(json.loads(record(r)), indent=2) + "\n" for _ in range(count))
    elif style == "numbers":
        text = "\n".join("[" + ",".join(number(r) for _ in range(20)) + "]" for _ in range(count)) + "\n"
    else:  # deep
        text = "".join(value(r, -6) + "\n" for _ in range(count))
    with open(os.path.join(HERE, path), "w") as f:
        f.write(text)

BENIGN = [
    ("records.jsonl", 1, 150, "lines"),
    ("array", 2, 100, "array"),
    ("pretty", 3, 80, "pretty"),
    ("numbers", 4, 400, "numbers"),
    ("nested", 5, 200, "deep"),
]
benign_and_mirrors(write, BENIGN)
for i in range(8):
    write("train/t%d.in" % i, 100 + i, 8 + 4 * i, ["lines", "array", "pretty", "numbers", "deep"][i % 5])
# Contents real files hold, for training only (../realistic.py says why).
for i, count in enumerate([6, 10, 14, 8, 12]):
    write("train/varied-%d.in" % i, 300 + i, count, "varied")

# The CVE-2023-50268 exploit: a sensor stream whose last reading carries a
# NaN with a 4,798-digit payload. Comparing it with the reading before it
# (the driver's `uniq` check) copies the payload's 1,600 three-digit units
# (3,200 bytes) into a one-unit decNumber on the stack, over the frames
# above it and on into the heap. Each little-endian pair of units (999, 1)
# is the word 0x000103e7, an address in the Wasm stack.
with open(os.path.join(HERE, "exploit/nan-payload.in"), "w") as f:
    for v in (["21.5", "21.5", "21.75", "22"]):
        f.write('{"reading": {"sensor": "t1", "value": %s}}\n' % v)
    f.write('{"reading": {"sensor": "t1", "value": NaN1999%s}}\n' % ("001999" * 799))

# Controls, each as long as its exploit: the literal with an exponent
# decNumber prints in its buffer, written with leading zeros
# (exploit/long-literal.in is written by hand), and the same digits as an
# ordinary number instead of a NaN's payload.
control(HERE, "long-literal.in", b"E-1100000000", b"E-0000000110")
control(HERE, "nan-payload.in", b"NaN1999", b"   1999")
