"""What every application's gen-inputs.py does the same way (imported with
attest/cve on the path; python3 stdlib only)."""


def benign_and_mirrors(write, benign):
    """Writes each benign input of `benign` (stem, seed, *arguments of
    `write` after the seed) as benign/STEM.in, and one of its kind and size
    from seed 200 + seed as train/STEM.in, for training only: the smaller
    training files alone left out states real use reaches (larger buffers,
    longer runs), which the models then took for corruption."""
    for stem, seed, *args in benign:
        write("benign/%s.in" % stem, seed, *args)
        write("train/%s.in" % stem, 200 + seed, *args)


def control(here, name, old, new):
    """Writes control/NAME: exploit/NAME with `old` (found exactly once)
    replaced by `new`, which takes the bug's trigger out and leaves the
    rest of what the attacker sent. `walmart attest evaluate` runs it
    beside the exploit: where the CNN flags both, it flagged what the
    input holds rather than the corruption, and that is not counted as
    the CNN's detection. scripts/build-cve-corpus.sh checks that the
    native ASan build runs it cleanly and writes its expected output."""
    import os
    with open(os.path.join(here, "exploit", name), "rb") as f:
        data = f.read()
    if data.count(old) != 1:
        raise SystemExit("control %s: %r occurs %d times in the exploit" % (name, old, data.count(old)))
    os.makedirs(os.path.join(here, "control"), exist_ok=True)
    with open(os.path.join(here, "control", name), "wb") as f:
        f.write(data.replace(old, new))
