//! Runs of one byte that the host's input holds, and what the CNN makes
//! of them in the module's pages.
//!
//! The CNN learns attacks from injected payloads padded with runs of one
//! byte (`A`, NOP, ...), so it flags such runs wherever they are. Where
//! the input itself holds the run (a name of one letter, base64 of zeros,
//! padding), a program that copies its input puts the same run into
//! memory it wrote, and the CNN flags a benign run (the CVE corpus's
//! real-file set `d`: 89 of 110 runs flagged). An exploit's own padding is
//! input too, and the corpus's controls (the exploit with its bug's
//! trigger taken out) showed that the CNN flags it whether or not the bug
//! fires: a flag on the input's run says what the input holds, not that
//! memory is corrupted. So a run in a written page that is no longer than
//! the longest run of the same byte the input held is zeroed before the
//! CNN scores the page, as the blocks the module file shipped are
//! (`PageSnapshot::unshipped`). Longer runs, and everything else the
//! program wrote, are scored as before; a run at a page's edge counts with
//! its part beyond the page ([`InputRuns::runs_beyond`]). The link to the
//! input is by byte value and length only: what that gives up is in
//! docs/DESIGN.md.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

/// Runs shorter than this are neither recorded nor zeroed: the CNN's
/// first layer reads 8 bytes at a time, and text holds shorter runs
/// everywhere. Every run of 8 holds a whole aligned 4-byte group, which is
/// what the scan looks for.
pub const INPUT_RUN_MIN: usize = 8;

/// The longest run of each non-zero byte in what the host handed one
/// store's module, shared between the store (which records) and its
/// verifiers (which read while the module runs).
#[derive(Debug)]
pub struct InputRuns {
    longest: [AtomicU32; 256],
    /// Whether any run was recorded: most inputs hold none, and then no
    /// page needs scanning.
    any: AtomicBool,
    /// The run each stream's last bytes ended in: (stream, byte, length),
    /// for a run its next read goes on with ([`InputRuns::note_stream`]);
    /// the latest [`STREAM_TAILS`] streams only.
    tails: Mutex<Vec<(u64, u8, usize)>>,
}

impl Default for InputRuns {
    fn default() -> Self {
        InputRuns {
            longest: [const { AtomicU32::new(0) }; 256],
            any: AtomicBool::new(false),
            tails: Mutex::new(Vec::new()),
        }
    }
}

impl InputRuns {
    /// Records the runs of `bytes`, input the host handed the module. A
    /// run cut by the end of `bytes` counts as long as its part here.
    pub fn note(&self, bytes: &[u8]) {
        for_each_run(bytes, |_| true, |byte, _, len| self.record(byte, len));
    }

    /// As [`Self::note`], for the next bytes read in order from `stream`
    /// (a number for an open file's reads between seeks and writes: the
    /// runtime's `FdEntry::stream`): a run its last bytes ended in and
    /// these go on with counts whole. Programs read in pieces (expat 1 KB
    /// at a time), and a run of 2,000 bytes would otherwise count as two of
    /// 1,000.
    pub fn note_stream(&self, stream: u64, bytes: &[u8]) {
        let Some(&first) = bytes.first() else {
            return;
        };
        self.note(bytes);
        let lead = bytes.iter().take_while(|&&b| b == first).count();
        let mut tails = self.tails.lock().unwrap_or_else(|e| e.into_inner());
        let at = match tails.iter().position(|t| t.0 == stream) {
            Some(at) => at,
            None => {
                if tails.len() == STREAM_TAILS {
                    tails.remove(0);
                }
                tails.push((stream, 0, 0));
                tails.len() - 1
            }
        };
        let (_, byte, len) = tails[at];
        let carried = if byte == first { len } else { 0 };
        if carried > 0 && first != 0 {
            self.record(first, carried + lead);
        }
        tails[at] = if lead == bytes.len() {
            (stream, first, carried + lead)
        } else {
            let last = bytes[bytes.len() - 1];
            let trail = bytes.iter().rev().take_while(|&&b| b == last).count();
            (stream, last, trail)
        };
    }

    fn record(&self, byte: u8, len: usize) {
        if len >= INPUT_RUN_MIN {
            let len = u32::try_from(len).unwrap_or(u32::MAX);
            self.longest[usize::from(byte)].fetch_max(len, Ordering::Relaxed);
            self.any.store(true, Ordering::Relaxed);
        }
    }

    /// The longest run of `byte` recorded so far (0: none).
    pub fn longest(&self, byte: u8) -> usize {
        self.longest[usize::from(byte)].load(Ordering::Relaxed) as usize
    }

    /// Whether any run was recorded (else [`Self::held_in`] finds none).
    pub fn any(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// The runs of `page` that the input held at least as long, in
    /// order. A run at the page's start or end counts with its part beyond
    /// the page, `beyond` (how far the run of its first byte goes on
    /// before it, and of its last byte after it: [`Self::runs_beyond`]),
    /// so that a long run split across pages does not pass as short ones.
    pub fn held_in(&self, page: &[u8], beyond: [u32; 2]) -> Vec<Range<usize>> {
        let mut held = Vec::new();
        if !self.any() {
            return held;
        }
        let recorded = |byte| self.longest(byte) > 0;
        for_each_run(page, recorded, |byte, at, len| {
            let mut whole = len;
            if at == 0 {
                whole = whole.saturating_add(beyond[0] as usize);
            }
            if at + len == page.len() {
                whole = whole.saturating_add(beyond[1] as usize);
            }
            if whole <= self.longest(byte) {
                held.push(at..at + len);
            }
        });
        held
    }

    /// For the page `memory[page]`: how far the run of its first byte
    /// goes on before it in `memory`, and of its last byte after it, for
    /// [`Self::held_in`]. 0 for a byte the input holds no run of;
    /// `u32::MAX` for a run longer than the input's longest run of its
    /// byte (or than [`RUN_LOOK_MAX`]): no part of it is held. `seen`
    /// carries what this learned to the next page of the same memory and
    /// hook, so that a run under many written pages is measured once.
    pub fn runs_beyond(&self, memory: &[u8], page: Range<usize>, seen: &mut RunsSeen) -> [u32; 2] {
        if !self.any() || page.is_empty() {
            return [0, 0];
        }
        let (Some(&first), Some(&last)) = (memory.get(page.start), memory.get(page.end - 1)) else {
            return [0, 0];
        };
        // Each at most the input's longest run, so within u32.
        let before = self
            .run_at(memory, page.start, first, seen)
            .map_or(u32::MAX, |run| (page.start - run.start) as u32);
        let after = self
            .run_at(memory, page.end - 1, last, seen)
            .map_or(u32::MAX, |run| (run.end - page.end) as u32);
        [before, after]
    }

    /// The run of `byte` in `memory` through `at`: `Some` of its whole
    /// extent (`at` alone for a byte the input holds no run of), or `None`
    /// where it is longer than the input's longest run of `byte`.
    fn run_at(
        &self,
        memory: &[u8],
        at: usize,
        byte: u8,
        seen: &mut RunsSeen,
    ) -> Option<Range<usize>> {
        let most = self.longest(byte).min(RUN_LOOK_MAX);
        if byte == 0 || most == 0 {
            return Some(at..at + 1);
        }
        if let Some((b, run, long)) = &mut seen.last {
            if *b == byte && run.start <= at {
                if at < run.end {
                    return (!*long).then(|| run.clone());
                }
                // A long run goes on to `at` when the bytes between are its
                // byte too: a page's worth, not the whole run again.
                if *long
                    && at - run.end < 2 * crate::PAGE_SIZE
                    && memory[run.end..=at].iter().all(|&b| b == byte)
                {
                    run.end = at + 1;
                    return None;
                }
            }
        }
        // Looked at no further than one past the input's longest run.
        let mut start = at;
        while start > 0 && memory[start - 1] == byte && at + 1 - start <= most {
            start -= 1;
        }
        let mut end = at + 1;
        while end < memory.len() && memory[end] == byte && end - start <= most {
            end += 1;
        }
        let long = end - start > most;
        seen.last = Some((byte, start..end, long));
        (!long).then_some(start..end)
    }
}

/// What [`InputRuns::runs_beyond`] learned of the runs in one memory
/// while one hook snapshots its pages: they come in order, and a run
/// under many of them is measured once rather than once a page.
#[derive(Debug, Default)]
pub struct RunsSeen {
    /// The last run measured: its byte, its extent, and whether it is
    /// longer than the input's longest run of that byte (then its ends
    /// may lie further out than the extent).
    last: Option<(u8, Range<usize>, bool)>,
}

/// Zeroes `spans` of `bytes` (what [`InputRuns::held_in`] found there).
pub fn zero_spans(bytes: &mut [u8], spans: &[Range<usize>]) {
    for span in spans {
        bytes[span.clone()].fill(0);
    }
}

/// The longest run [`InputRuns::runs_beyond`] measures in memory: one
/// longer counts as longer than any input's, and is scored. A hook's
/// snapshot reads at most this much of memory for each run its written
/// pages lie in.
pub const RUN_LOOK_MAX: usize = 1 << 20;

/// Streams whose last run [`InputRuns`] keeps: a program reads from a few
/// at a time, and a seek or write starts another.
const STREAM_TAILS: usize = 16;

/// The bytes of the groups the scan compares; a run of
/// [`INPUT_RUN_MIN`] holds a whole aligned one.
const GROUP: usize = 4;

/// Aligned 4-byte groups compared at a time before looking closer. Most
/// bytes (compressed input, text, code) hold no run, and comparing a
/// block's groups at once is what the compiler turns into vector code.
const BLOCK: usize = 64;

/// Whether a group of 4 bytes is one non-zero value repeated.
#[inline(always)]
fn uniform(group: u32) -> bool {
    // Shifting and masking rather than comparing with a rotation, and no
    // short circuit: the target's baseline vector instructions have
    // shifts, not rotations, and a branch stops the loop below from being
    // vectorised.
    ((group ^ (group >> 8)) & 0x00ff_ffff == 0) & (group != 0)
}

/// Whether `block` holds a [`uniform`] aligned group.
#[inline(always)]
fn any_uniform(block: &[u8; BLOCK]) -> bool {
    let groups: [u32; BLOCK / GROUP] = std::array::from_fn(|i| {
        u32::from_le_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ])
    });
    groups
        .iter()
        .fold(false, |any, &group| any | uniform(group))
}

/// Calls `f(byte, start, length)` for every run of at least
/// [`INPUT_RUN_MIN`] bytes of one non-zero value in `bytes` that `wanted`
/// takes. Such a run holds a whole aligned 4-byte group of that byte, so
/// blocks of groups are passed over while none is uniform, and only a
/// uniform group of a wanted byte is widened bytewise.
fn for_each_run(bytes: &[u8], wanted: impl Fn(u8) -> bool, mut f: impl FnMut(u8, usize, usize)) {
    const _: () = assert!(INPUT_RUN_MIN >= 2 * GROUP - 1 && BLOCK.is_multiple_of(GROUP));
    let mut at = 0;
    while at + GROUP <= bytes.len() {
        if at % BLOCK == 0 {
            while let Some(block) = bytes.get(at..at + BLOCK) {
                if any_uniform(block.try_into().expect("a block")) {
                    break;
                }
                at += BLOCK;
            }
            if at + GROUP > bytes.len() {
                break;
            }
        }
        let group = &bytes[at..at + GROUP];
        let byte = group[0];
        if !uniform(u32::from_le_bytes([group[0], group[1], group[2], group[3]])) || !wanted(byte) {
            at += GROUP;
            continue;
        }
        // The widening back stops short of the last run widened: `at` is
        // past its end, and the byte at its end differs from its own.
        let mut start = at;
        while start > 0 && bytes[start - 1] == byte {
            start -= 1;
        }
        let mut end = at + GROUP;
        while end < bytes.len() && bytes[end] == byte {
            end += 1;
        }
        if end - start >= INPUT_RUN_MIN {
            f(byte, start, end - start);
        }
        at = end.div_ceil(GROUP) * GROUP;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs by a plain scan, for comparison.
    fn runs_plain(bytes: &[u8]) -> Vec<(u8, usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] == bytes[i] {
                j += 1;
            }
            if bytes[i] != 0 && j - i >= INPUT_RUN_MIN {
                out.push((bytes[i], i, j - i));
            }
            i = j;
        }
        out
    }

    fn runs(bytes: &[u8]) -> Vec<(u8, usize, usize)> {
        let mut out = Vec::new();
        for_each_run(bytes, |_| true, |b, at, len| out.push((b, at, len)));
        out
    }

    #[test]
    fn runs_are_found_as_a_plain_scan_finds_them() {
        let mut rng = walmart_kernels::rng::Rng::new(3);
        for case in 0..3000 {
            let len = (rng.next_u64() % 700) as usize;
            // Few byte values, so that runs of every length occur; every
            // other case mostly noise, so that whole blocks hold none.
            let values = 1 + (case % 4) as u64;
            let noisy = case % 2 == 1;
            let mut bytes = Vec::with_capacity(len);
            while bytes.len() < len {
                if noisy && !rng.next_u64().is_multiple_of(16) {
                    bytes.push(rng.next_u64() as u8);
                    continue;
                }
                let b = (rng.next_u64() % values) as u8 * 0x41;
                let n = 1 + (rng.next_u64() % 40) as usize;
                bytes.extend(std::iter::repeat_n(b, n));
            }
            bytes.truncate(len);
            assert_eq!(runs(&bytes), runs_plain(&bytes), "{bytes:?}");
            // Only the runs of `A`, where `A`s sit beside runs of others.
            let mut only_a = Vec::new();
            for_each_run(
                &bytes,
                |b| b == 0x41,
                |b, at, len| only_a.push((b, at, len)),
            );
            let mut plain = runs_plain(&bytes);
            plain.retain(|r| r.0 == 0x41);
            assert_eq!(only_a, plain, "{bytes:?}");
        }
    }

    #[test]
    fn a_run_read_in_pieces_from_one_stream_counts_whole() {
        let runs = InputRuns::default();
        // 3 + 1000 + 1000 + 5 `a`s over four reads of stream 0, a read
        // of stream 1 between them.
        let mut first = b"<doc>".to_vec();
        first.extend([b'a'; 3]);
        runs.note_stream(0, &first);
        runs.note_stream(0, &[b'a'; 1000]);
        runs.note_stream(1, &[b'a'; 10]);
        runs.note_stream(0, &[b'a'; 1000]);
        runs.note_stream(0, &[]);
        runs.note_stream(0, b"aaaaa/>bbbb");
        assert_eq!(runs.longest(b'a'), 2008, "stream 1's run not among them");
        // Stream 1's run goes on with its own 10 `a`s.
        runs.note_stream(1, &[b'a'; 2000]);
        assert_eq!(runs.longest(b'a'), 2010);
        runs.note_stream(0, b"bbbb!");
        assert_eq!(runs.longest(b'b'), 8);
        // Bytes from no stream go on with nothing.
        runs.note(b"!!!!");
        runs.note_stream(0, b"!!!!");
        assert_eq!(runs.longest(b'!'), 0);
    }

    #[test]
    fn runs_the_input_held_as_long_are_zeroed_and_no_others() {
        let runs = InputRuns::default();
        let mut input = b"name=".to_vec();
        input.extend([b'A'; 40]);
        input.extend(b";pad=");
        input.extend([0x90; 20]);
        input.extend([b' '; 7]);
        runs.note(&input);
        runs.note(&[b'A'; 30]);
        assert_eq!(
            (runs.longest(b'A'), runs.longest(0x90), runs.longest(b' ')),
            (40, 20, 0),
            "a shorter run later changes nothing"
        );

        let mut page = vec![b'x'; 4096];
        page[100..140].fill(b'A'); // as long as the input's: zeroed
        page[200..241].fill(b'A'); // longer: kept
        page[301..318].fill(0x90); // shorter, unaligned: zeroed
        page[400..430].fill(0xcc); // a byte the input had no run of
        page[500..507].fill(b'A'); // too short to count
        page[4086..].fill(0x90); // at the page's end, going on no further
        let alone = [0, 0];
        let held = runs.held_in(&page, alone);
        assert_eq!(held, [100..140, 301..318, 4086..4096]);
        let before = page.clone();
        zero_spans(&mut page, &held);
        for (i, (&b, &was)) in page.iter().zip(&before).enumerate() {
            let zeroed = held.iter().any(|s| s.contains(&i));
            assert_eq!(b, if zeroed { 0 } else { was }, "byte {i}");
        }
        assert!(runs.held_in(&page, alone).is_empty());

        // The input's runs only grow, and so does what is held.
        runs.note(&[b'A'; 41]);
        let more = runs.held_in(&before, alone);
        assert_eq!(more, [100..140, 200..241, 301..318, 4086..4096]);
    }

    #[test]
    fn a_run_at_a_pages_edge_counts_with_its_part_beyond_it() {
        let runs = InputRuns::default();
        runs.note(&[b'A'; 100]);
        let beyond = |memory: &[u8], page: Range<usize>| {
            runs.runs_beyond(memory, page, &mut RunsSeen::default())
        };
        // Three pages of 64 bytes; the middle one starts and ends with
        // runs of `A` that go on into the pages beside it.
        let mut memory = vec![b'x'; 192];
        memory[64 - 40..64 + 30].fill(b'A');
        memory[128 - 30..128 + 41].fill(b'A');
        let middle = 64..128;
        assert_eq!(beyond(&memory, middle.clone()), [40, 41]);
        // 30 + 40 within 100; 30 + 41 too; so both are held.
        let held = |b| runs.held_in(&memory[middle.clone()], b);
        assert_eq!(held([40, 41]), [0..30, 34..64]);
        // Counted alone, a run of 71 across the edge would pass for 30.
        assert_eq!(held([71, 0]), vec![34..64]);
        assert_eq!(held([0, 71]), vec![0..30]);
        // A run longer than the input's, past either edge: nothing held.
        let mut long = vec![b'A'; 500];
        long[200] = b'x';
        assert_eq!(beyond(&long, 201..264), [u32::MAX, u32::MAX]);
        assert_eq!(beyond(&long, 136..200), [u32::MAX, u32::MAX]);
        // One side long, the other a short run of another byte.
        let mut mixed = vec![b'x'; 192];
        mixed[..110].fill(b'A');
        runs.note(&[b'B'; 10]);
        mixed[122..131].fill(b'B');
        assert_eq!(beyond(&mixed, 64..128), [u32::MAX, 3]);
        assert!(runs.held_in(&long[201..264], [u32::MAX; 2]).is_empty());
        // A byte the input has no run of, or zero, counts nothing; the
        // memory's ends stop a run.
        assert_eq!(beyond(&[b'C'; 192], 64..128), [0, 0]);
        assert_eq!(beyond(&[0; 192], 64..128), [0, 0]);
        assert_eq!(beyond(&[b'A'; 96], 0..96), [0, 0]);
        assert_eq!(beyond(&[b'A'; 96], 32..96), [32, 0]);
        // A page of one byte counts the runs on both sides.
        runs.note(&[b'A'; 4100]);
        let whole = vec![b'A'; 4096];
        assert_eq!(runs.held_in(&whole, [2, 2]), vec![0..4096]);
        assert!(runs.held_in(&whole, [2, 3]).is_empty());
    }

    #[test]
    fn a_run_under_many_pages_is_measured_once_and_alike() {
        // A memory of 64 pages: a run of `A` over pages 3 to 40 (and a
        // bit), the rest `x`; the input's run as long as it, or shorter.
        let mut memory = vec![b'x'; 64 * 4096];
        let run = 3 * 4096 + 100..41 * 4096 + 70;
        memory[run.clone()].fill(b'A');
        for input in [run.len(), run.len() - 1] {
            let runs = InputRuns::default();
            runs.note(&vec![b'A'; input]);
            let mut seen = RunsSeen::default();
            for page in 0..64 {
                let range = page * 4096..(page + 1) * 4096;
                let shared = runs.runs_beyond(&memory, range.clone(), &mut seen);
                let alone = runs.runs_beyond(&memory, range.clone(), &mut RunsSeen::default());
                assert_eq!(shared, alone, "page {page}, input {input}");
                let held = runs.held_in(&memory[range], shared);
                let within = (3..=41).contains(&page);
                let want = within && input == run.len();
                assert_eq!(!held.is_empty(), want, "page {page}, input {input}");
            }
        }
        // Longer than RUN_LOOK_MAX: longer than any input's.
        let sea = vec![b'A'; RUN_LOOK_MAX + 8192];
        let runs = InputRuns::default();
        runs.note(&sea);
        let mut seen = RunsSeen::default();
        for page in [0, 1, 2, 100, 255] {
            let range = page * 4096..(page + 1) * 4096;
            assert_eq!(
                runs.runs_beyond(&sea, range, &mut seen),
                [u32::MAX; 2],
                "page {page}"
            );
        }
    }
}
