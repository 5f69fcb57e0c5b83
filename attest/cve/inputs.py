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
