#!/usr/bin/env python3
"""Generates the oniguruma benign/ and train/ inputs: lines PATTERN<TAB>SUBJECT."""
import os, random, sys
sys.dont_write_bytecode = True  # no __pycache__ among the applications' folders
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import realistic  # contents real files have (../realistic.py)
from inputs import benign_and_mirrors, control  # ../inputs.py

HERE = os.path.dirname(os.path.abspath(__file__))
PATTERNS = [
    r"(\w+)@(\w+)\.(com|org|net)", r"\d{3}-\d{4}", r"\b[A-Z][a-z]+\b", r"(?<year>\d{4})-(?<m>\d\d)-(?<d>\d\d)",
    r"https?://[^\s/]+(/\S*)?", r"^\s*#.*$", r"(foo|bar)+baz", r"[aeiou]{2,}", r"\s+$", r"[[:alpha:]]+ing\b",
    r"(a|b)*c", r"(?i)error|warn(ing)?", r"<([a-z]+)[^>]*>.*?</\1>", r"\p{Alpha}+", r"[\x20-\x7e&&[^a-z]]+",
    r"[\101-\132]+", r"\h+", r"(\d+)(?:\.(\d+))?", r"[^,]+", r"é+|ü", r"(?m)^\w+:", r"x{2,5}?y",
]
WORDS = ("alice bob carol dave error warning info 2023-11-22 2024-01-05 foo bar baz foobarbaz "
         "http://example.com/a/b https://x.org user@example.com root@host.net 555-1234 running "
         "reading <b>bold</b> <i>it</i> caf\u00e9 \u00fcber queue aaaa xxy xxxxxy #comment 3.14 42").split()

def subject(r, n):
    return " ".join(r.choice(WORDS) for _ in range(n))

def write(path, seed, count, words, pats=PATTERNS):
    r = random.Random(seed)
    lines = []
    for _ in range(count):
        p = r.choice(pats)
        if r.random() < 0.15: p = p + "|" + r.choice(pats)
        lines.append(p + "\t" + subject(r, r.randint(words // 2, words)))
    with open(os.path.join(HERE, path), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

# Patterns a user gets wrong or that one encoding lacks: compile errors
# (under ASCII, \p{Greek} and the like are unknown properties), printed with
# onig_error_code_to_str().
PROPERTIES = [r"\p{Greek}+", r"\p{Han}", r"[\p{L}&&\P{Lu}]+", r"\p{C}", r"[^\p{Cc}]+", r"\p{Nope}",
              r"(unclosed", r"a{3,1}", r"[z-a]", r"*lead", r"(?<n>x)\k<m>", r"\p{Alpha}\d+"]
# A class, then `-`, then a character: identifier patterns of JSON schemas
# and validators are written so (`[\w-_]`). Oniguruma 6.1.3 reads an
# uninitialized local on this path (CVE-2017-9228's); both builds zero it.
HYPHENS = [r"[\w-_]+", r"^[\w-.]+$", r"[\w.-]+@[\w-]+\.\w+", r"[\p{L}\p{N}-_]+", r"[\d-]+",
           r"[\s-x]", r"[a-z0-9-]+", r"(?i)[\h-z]{2,}"]
BENIGN = [  # name, seed, lines, words[, patterns]
    ("log-grep", 1, 150, 60),
    ("short-subjects", 2, 600, 6),
    ("long-subjects", 3, 20, 1500),
    ("classes", 4, 200, 40, [p for p in PATTERNS if "[" in p or "\\p" in p or "\\h" in p]),
    ("captures", 5, 200, 40, [p for p in PATTERNS if "(" in p]),
    ("properties", 6, 200, 30, PROPERTIES),
    ("hyphens", 7, 200, 30, HYPHENS),
]
benign_and_mirrors(write, BENIGN)
for i in range(8):
    write("train/t%d.in" % i, 100 + i, 15 + 8 * i, 10 + 20 * (i % 4))
# Contents real files hold, for training only (../realistic.py says why).
def varied(path, seed, count):
    r = random.Random(seed)
    lines = []
    for _ in range(count):
        p = r.choice(PATTERNS)
        s = realistic.text(r, r.randint(20, 3000)).decode("utf-8", "ignore")
        lines.append(p + "\t" + s.replace("\t", " ").replace("\n", " "))
    with open(os.path.join(HERE, path), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

for i, count in enumerate([40, 80, 120, 60, 30]):
    varied("train/varied-%d.in" % i, 300 + i, count)

# The exploits (exploit/*.in) are written by hand. Their controls name
# an octal code a single byte holds, which no bit set goes past.
control(HERE, "octal-class.in", b"[\\477]", b"[\\177]")
control(HERE, "octal-777.in", b"[\\777]", b"[\\177]")
