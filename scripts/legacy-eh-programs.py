#!/usr/bin/env python3
"""Writes runtime/tests/wat/legacy_exceptions_random.wast: random programs
of the legacy exception-handling instructions (try, catch, catch_all,
delegate, rethrow) nested with blocks, branches, calls and throws, each
with the result a small model of the proposal's semantics gives.

The pinned testsuite has no scripts for the legacy instructions and
wasmtime does not run them, so this model is the second opinion:
runtime/tests/legacy_exceptions.rs runs the script under every policy.

Each program is a module whose `main` calls `$f0` and returns the global
`$g`, which `mark K` statements fold the path into (g = g * 31 + K); an
exception that escapes `main` is asserted with `assert_exception`.

Usage: scripts/legacy-eh-programs.py [SEED] [COUNT]  (defaults 1, 200)
"""

import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "runtime/tests/wat/legacy_exceptions_random.wast"
TAGS = 2
FUNCS = 3
MASK = 0xFFFFFFFF


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.marks = 0

    def body(self, func, labels, depth):
        """A list of statements; `labels` are the enclosing labels,
        innermost last: 'func', 'block', 'try' (body) or 'catch'."""
        out = []
        for _ in range(self.rng.randint(1, 3 if depth < 2 else 2)):
            out.append(self.stmt(func, labels, depth))
        return out

    def stmt(self, func, labels, depth):
        r = self.rng
        choices = ["mark", "mark", "throw", "br"]
        if func + 1 < FUNCS:
            choices += ["call", "call"]
        if any(k == "catch" for k in labels):
            choices += ["rethrow"]
        if depth < 3:
            choices += ["block", "try", "try", "try", "delegate"]
        kind = r.choice(choices)
        if kind == "mark":
            self.marks += 1
            return ("mark", self.marks)
        if kind == "throw":
            return ("throw", r.randrange(TAGS))
        if kind == "call":
            return ("call", r.randrange(func + 1, FUNCS))
        if kind == "br":
            return ("br", r.randrange(len(labels)))
        if kind == "rethrow":
            depths = [i for i, k in enumerate(reversed(labels)) if k == "catch"]
            return ("rethrow", r.choice(depths))
        if kind == "block":
            return ("block", self.body(func, labels + ["block"], depth + 1))
        if kind == "delegate":
            body = self.body(func, labels + ["try"], depth + 1)
            return ("delegate", body, r.randrange(len(labels)))
        body = self.body(func, labels + ["try"], depth + 1)
        catches = []
        for tag in r.sample(range(TAGS), r.randint(0, TAGS)):
            catches.append((tag, self.body(func, labels + ["catch"], depth + 1)))
        if r.random() < 0.5:
            catches.append((None, self.body(func, labels + ["catch"], depth + 1)))
        return ("try", body, catches)


class Model:
    """The legacy proposal's semantics for these programs. Signals:
    ('ok',), ('br', n), ('throw', tag), ('deleg', n, tag)."""

    def __init__(self, funcs):
        self.funcs = funcs
        self.g = 0

    def call(self, f):
        r = self.seq(self.funcs[f], [])
        if r[0] == "throw":
            return r
        if r[0] == "deleg":
            assert r[1] == 0, r
            return ("throw", r[2])
        return ("ok",)

    def seq(self, stmts, caught):
        """`caught`: for each enclosing label, innermost last, the tag
        a catch there caught (None for other labels)."""
        for s in stmts:
            r = self.stmt(s, caught)
            if r[0] != "ok":
                return r
        return ("ok",)

    @staticmethod
    def leave(r):
        """A signal passing out of one label (not a handler of it)."""
        if r[0] == "br":
            return ("ok",) if r[1] == 0 else ("br", r[1] - 1)
        if r[0] == "deleg":
            # Aimed at this label, which does not handle it: thrown on
            # from here.
            return ("throw", r[2]) if r[1] == 0 else ("deleg", r[1] - 1, r[2])
        return r

    def stmt(self, s, caught):
        kind = s[0]
        if kind == "mark":
            self.g = (self.g * 31 + s[1]) & MASK
            return ("ok",)
        if kind == "throw":
            return ("throw", s[1])
        if kind == "call":
            return self.call(s[1])
        if kind == "br":
            return ("br", s[1])
        if kind == "rethrow":
            tag = caught[len(caught) - 1 - s[1]]
            assert tag is not None
            return ("throw", tag)
        if kind == "block":
            return self.leave(self.seq(s[1], caught + [None]))
        if kind == "delegate":
            r = self.seq(s[1], caught + [None])
            if r[0] == "throw" or (r[0] == "deleg" and r[1] == 0):
                tag = r[1] if r[0] == "throw" else r[2]
                return ("deleg", s[2], tag)
            return self.leave(r)
        # try with catches
        r = self.seq(s[1], caught + [None])
        if r[0] == "deleg" and r[1] == 0:
            r = ("throw", r[2])
        if r[0] != "throw":
            return self.leave(r)
        tag = r[1]
        for ctag, cbody in s[2]:
            if ctag is None or ctag == tag:
                return self.leave(self.seq(cbody, caught + [tag]))
        return ("throw", tag)


def wat_stmts(stmts, indent):
    pad = " " * indent
    out = []
    for s in stmts:
        kind = s[0]
        if kind == "mark":
            out.append(f"{pad}(call $m (i32.const {s[1]}))")
        elif kind == "throw":
            out.append(f"{pad}(throw $e{s[1]})")
        elif kind == "call":
            out.append(f"{pad}(call $f{s[1]})")
        elif kind == "br":
            out.append(f"{pad}(br {s[1]})")
        elif kind == "rethrow":
            out.append(f"{pad}(rethrow {s[1]})")
        elif kind == "block":
            out.append(f"{pad}block")
            out += wat_stmts(s[1], indent + 1)
            out.append(f"{pad}end")
        elif kind == "delegate":
            out.append(f"{pad}try")
            out += wat_stmts(s[1], indent + 1)
            out.append(f"{pad}delegate {s[2]}")
        else:
            out.append(f"{pad}try")
            out += wat_stmts(s[1], indent + 1)
            for tag, body in s[2]:
                out.append(f"{pad}catch $e{tag}" if tag is not None else f"{pad}catch_all")
                out += wat_stmts(body, indent + 1)
            out.append(f"{pad}end")
    return out


def program(rng):
    gen = Gen(rng)
    funcs = [gen.body(f, ["func"], 0) for f in range(FUNCS)]
    lines = ["(module"]
    lines += [f"  (tag $e{t})" for t in range(TAGS)]
    lines.append("  (global $g (mut i32) (i32.const 0))")
    lines.append(
        "  (func $m (param i32) "
        "(global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0))))"
    )
    for f, body in enumerate(funcs):
        lines.append(f"  (func $f{f}")
        lines += wat_stmts(body, 2)
        lines.append("  )")
    lines.append('  (func (export "main") (result i32) (call $f0) (global.get $g)))')
    model = Model(funcs)
    r = model.call(0)
    if r[0] == "throw":
        lines.append('(assert_exception (invoke "main"))')
    else:
        value = model.g - (1 << 32) if model.g >= 1 << 31 else model.g
        lines.append(f'(assert_return (invoke "main") (i32.const {value}))')
    return "\n".join(lines)


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rng = random.Random(seed)
    header = (
        f";; Written by scripts/legacy-eh-programs.py {seed} {count}: random programs of\n"
        ";; the legacy exception instructions, each with the result the script's\n"
        ";; model of the proposal gives. Do not edit by hand.\n"
    )
    OUT.write_text(header + "\n\n".join(program(rng) for _ in range(count)) + "\n")
    print(f"wrote {OUT} ({count} programs)")


if __name__ == "__main__":
    main()
