//! An exact check of a wasm32 module's heap when its allocator is
//! dlmalloc (wasi-libc's and Emscripten's `malloc`): a walk along the
//! chain of chunks, from the heap's first chunk to the top chunk, that
//! checks what dlmalloc itself keeps true of every chunk between two
//! allocator calls.
//!
//! A heap overflow runs from the end of one allocation into the header of
//! the next chunk; a one-byte overflow past a 28-byte allocation lands on
//! the low byte of that header, which holds the chunk's in-use bits. Page
//! contents cannot tell such a byte from a legitimate one (it is often a
//! NUL), but the chain can: the size no longer leads to a chunk, or the
//! in-use bits disagree with the neighbours'. The check is exact in the
//! sense the tamper check is: a walk of a heap no code but dlmalloc wrote
//! finds nothing, so anything it finds is corruption; what it cannot see
//! is an overflow that stays inside the slack of its own chunk (unless
//! that slack is marked, below), writes the very bytes the header
//! held, or corrupts data rather than headers.
//!
//! dlmalloc on wasm32, as this walk reads it (`malloc.c`: `size_t` is 4
//! bytes, no `mmap`): a chunk at `c` has `prev_foot` at `c` (the previous
//! chunk's size when that one is free, else its data) and `head` at
//! `c + 4`: the chunk's size (a multiple of 8, at least 16) with bit 0
//! `PINUSE` (the previous chunk is in use) and bit 1 `CINUSE` (this one
//! is). The payload `malloc` returns is `c + 8`. Between allocator calls:
//! an in-use chunk's successor has `PINUSE` set; a free chunk's successor
//! has it clear, is in use (free neighbours are merged) and holds the free
//! chunk's size in its `prev_foot`; and a free chunk other than the
//! designated victim is in a doubly linked free list whose neighbours
//! point back at it (a write into a freed chunk's first bytes, the links,
//! breaks that). The top chunk is free and followed by
//! a trailer whose head is `TOP_FOOT_SIZE` with both bits clear; a segment
//! dlmalloc left for a new one ends in fence posts whose head is
//! `4 | PINUSE | CINUSE`.
//!
//! dlmalloc's own state (`struct malloc_state`, a static of the module)
//! is found once by its signature ([`locate_state`]): the word that
//! points at the top chunk the walk ended at, the top's size beside it,
//! and 32 small-bin headers whose links agree with the bin map. With it
//! the walk checks more: the top chunk's head says exactly
//! `topsize | PINUSE` and the designated victim's `dvsize | PINUSE`
//! ([`heads_agree`], wherever they lie), the one free chunk outside the
//! free lists is that victim, and the state's top is the one the
//! chain ends at (else the state was written over). Generated code checks
//! both heads at every entry of an allocator function
//! (`FuncTranslator::heap_entry_check`): an overflow onto the top's or
//! the victim's head, which follow the allocations carved from them, is
//! erased by dlmalloc's next carve, usually before any walk.
//!
//! Each of dlmalloc's checked functions copies, as it returns, the first
//! free bytes of the top chunk (`FuncTranslator::record_top`); while the
//! top stays put they must not change, since only dlmalloc writes there
//! and only as it moves the top ([`top_bytes_agree`]).
//!
//! In a module with names, dlmalloc's `malloc` and `realloc` mark the
//! slack past each request (its length's mark under the store's key in
//! its first and last byte, `FLAG4` in the head:
//! `FuncTranslator::mark_slack`); the walk and the `free` check report
//! marks written over ([`slack_broken`]).
//!
//! A module whose names do not name dlmalloc (built with `-s`, through
//! `wasm-opt`, by Rust's release profile, or with dlmalloc inlined under
//! link-time optimisation) has its allocator told by its code instead
//! (`walmart_jit::unnamed_dlmalloc`, which also gives the state's
//! address); the runtime takes the state there once its signature holds,
//! else finds it by a scan of the module's statics for its empty small
//! bins ([`scan_for_state`]), and starts the walk at the state's
//! `least_addr` ([`unnamed_heap`]).
//!
//! The entry of dlmalloc's `free` and `realloc` also checks its pointer
//! as dlmalloc does and reports one dlmalloc would quietly refuse
//! ([`free_check`]): a double free, or a pointer it never returned.
//! The entry of `malloc`, `calloc` and `realloc` checks the first chunk
//! of the small bin a request would take from, and asks for a walk where
//! its links are wrong; every walk checks each non-empty small bin's
//! first chunk ([`bins_agree`]), so it reports what the entry found.
//! Tree bins are the business of [`super::tree_take`].

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::image_pages::{ChunkReads, ImageHeap};

use walmart_attest::{Event, EventKind, HookSite, PAGE_SIZE};
use walmart_jit::vmctx::{
    slack_of_mark, VMAttestState, HEAP_STATE_BYTES, HEAP_STATE_NONE, HEAP_TOP_COPIED,
    HEAP_TOP_COPY_FROM,
};

use super::session::AttestSession;
use super::worker::Counters;
use crate::store::StoreOpaque;
use walmart_jit::module_info::{ConstOp, SegmentMode};

/// wasm32 dlmalloc: offset of the payload in its chunk (`prev_foot`,
/// `head`).
pub(crate) const PAYLOAD_OFFSET: u32 = 8;
const PINUSE: u32 = 1;
pub(crate) const CINUSE: u32 = 2;
pub(crate) const FLAG_BITS: u32 = 7;
const MIN_CHUNK: u32 = 16;
/// A fence post's head: `sizeof(size_t) | PINUSE | CINUSE`.
const FENCE_POST: u32 = walmart_jit::vmctx::HEAP_FENCE_POST;
const SLACK_MARKED: u32 = walmart_jit::vmctx::HEAP_SLACK_MARKED;
/// The top chunk's trailer head, `TOP_FOOT_SIZE`: 56 with
/// `MALLOC_ALIGNMENT` 16 (wasi-libc), 40 with 8 (dlmalloc's default).
const TOP_FOOT_SIZES: [u32; 2] = [56, 40];

/// A walk that found the chain as dlmalloc keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Walked {
    /// Chunks checked.
    pub chunks: u64,
    /// The walk stopped at `max_chunks` before the end of the chain.
    pub cut: bool,
    /// The top chunk the chain ended at (not when it ended at a fence
    /// post, or was cut).
    pub top: Option<u32>,
}

impl Walked {
    /// A walk stopped at `max_chunks`, `chunks` checked.
    fn cut(chunks: u64) -> Walked {
        Walked {
            chunks,
            cut: true,
            top: None,
        }
    }
}

/// What dlmalloc's state says of the chunks a walk checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StateView {
    /// Where the state lies.
    pub at: u32,
    /// The top chunk.
    pub top: u32,
    /// Its size (its head is this with `PINUSE`).
    pub topsize: u32,
    /// The designated victim, when there is one (`dvsize` not 0).
    pub dv: Option<u32>,
    /// Its size (its head is this with `PINUSE`).
    pub dvsize: u32,
}

/// Offsets in wasm32 dlmalloc's `struct malloc_state` (dlmalloc 2.8.6:
/// `smallmap`, `treemap`, `dvsize`, `topsize`, `least_addr`, `dv`, `top`,
/// `trim_check`, `release_checks`, `magic`, then the small bins).
const STATE_SMALLMAP: u64 = walmart_jit::vmctx::HEAP_STATE_SMALLMAP as u64;
pub(crate) const STATE_DVSIZE: u64 = walmart_jit::vmctx::HEAP_STATE_DVSIZE as u64;
const STATE_TOPSIZE: u64 = walmart_jit::vmctx::HEAP_STATE_TOPSIZE as u64;
const STATE_LEAST_ADDR: u64 = 16;
const STATE_DV: u64 = walmart_jit::vmctx::HEAP_STATE_DV as u64;
const STATE_TOP: u64 = walmart_jit::vmctx::HEAP_STATE_TOP as u64;
const STATE_MAGIC: u64 = walmart_jit::vmctx::HEAP_STATE_MAGIC as u64;
const STATE_SMALLBINS: u64 = walmart_jit::vmctx::HEAP_STATE_SMALLBINS as u64;
const SMALL_BINS: u64 = 32;
/// The state's first segment record, `seg` (`base`, `size`, `next`,
/// `sflags`), after the bins (33 pairs of small-bin links, 32 tree bins)
/// and `footprint`, `max_footprint`, `footprint_limit`, `mflags` (no lock:
/// wasi-libc builds dlmalloc without `USE_LOCKS`).
const STATE_SEG: u64 = 448;
/// Segment records a walk follows at most.
const MAX_SEGMENTS: usize = 64;

/// A little-endian word of `memory` at `at`, if it lies inside.
pub(crate) fn word_at(memory: &[u8], at: u64) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    memory
        .get(at..at.checked_add(4)?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The fields of the state at `at` a walk uses.
pub(crate) fn read_state(memory: &[u8], at: u32) -> Option<StateView> {
    let field = |off: u64| word_at(memory, u64::from(at) + off);
    let dvsize = field(STATE_DVSIZE)?;
    Some(StateView {
        at,
        top: field(STATE_TOP)?,
        topsize: field(STATE_TOPSIZE)?,
        dv: (dvsize != 0).then_some(field(STATE_DV)?),
        dvsize,
    })
}

/// The state at `state`, when the bytes there read as dlmalloc's state
/// between two allocator calls, with its `least_addr` (the lowest byte of
/// its heap): a top chunk whose head is exactly `topsize | PINUSE`,
/// `least_addr` set and at or below the top, `magic` set, a designated
/// victim wherever `dvsize` says there is one, and 32 small bins empty
/// (the header's links point at itself, or both still at the chunk it
/// last held) exactly where the bin map's bit is clear. A wrong match
/// would need all of that by chance.
fn signed_state(memory: &[u8], state: u32) -> Option<(StateView, u32)> {
    let field = |off: u64| word_at(memory, u64::from(state) + off);
    let top = field(STATE_TOP)?;
    let topsize = field(STATE_TOPSIZE)?;
    let least_addr = field(STATE_LEAST_ADDR)?;
    let dvsize = field(STATE_DVSIZE)?;
    let dv = field(STATE_DV)?;
    let signed = top != 0
        && topsize & FLAG_BITS == 0
        && word_at(memory, u64::from(top) + 4) == Some(topsize | PINUSE)
        && least_addr != 0
        && least_addr <= top
        && field(STATE_MAGIC)? != 0
        && (dvsize == 0 || dv != 0);
    if !signed {
        return None;
    }
    let map = field(STATE_SMALLMAP)?;
    let bins_agree = (0..SMALL_BINS).all(|i| {
        let bin = small_bin(state, i);
        let (Some(fd), Some(bk)) = (word_at(memory, bin + 8), word_at(memory, bin + 12)) else {
            return false;
        };
        let to_itself = u64::from(fd) == bin && u64::from(bk) == bin;
        if map & (1 << i) != 0 {
            return !to_itself;
        }
        // An empty bin's links point at its header, or still at the last
        // chunk it held, both of them: dlmalloc takes a bin's only chunk
        // by clearing the bin's bit alone (`unlink_small_chunk` where
        // `F == B`). A heap that has run a while has such bins: the
        // Python components' had two, and their state was not found.
        to_itself || (fd == bk && fd >= least_addr && fd.is_multiple_of(8))
    });
    bins_agree.then_some((
        StateView {
            at: state,
            top,
            topsize,
            dv: (dvsize != 0).then_some(dv),
            dvsize,
        },
        least_addr,
    ))
}

/// Finds dlmalloc's state among the memory below the heap's first chunk
/// (`first_chunk`; the state is a static of the module), given the top
/// chunk a walk ended at: the 4-aligned word that points at `top`, 24
/// bytes into a state ([`signed_state`]) whose `least_addr` is at or
/// below the first chunk. At `hint` first (where dlmalloc's code reads
/// it: `CompiledModule::dlmalloc_state`; 0.2-0.6 us), then by a search:
/// of a memory that started from its module's image, first the pages
/// `unchanged` does not name (one bit a 4 KiB page still as the image
/// holds it), where the state is once its top moved, then the others.
pub(crate) fn locate_state(
    memory: &[u8],
    first_chunk: u32,
    top: u32,
    hint: Option<u32>,
    unchanged: Option<&[u64]>,
) -> Option<u32> {
    let holds = |state: u32| {
        signed_state(memory, state)
            .is_some_and(|(view, least)| view.top == top && least <= first_chunk)
    };
    if let Some(at) = hint.filter(|&at| at < first_chunk && holds(at)) {
        return Some(at);
    }
    let end = (first_chunk as usize).min(memory.len()) & !3;
    // A vectorised search for the bytes, the 4-aligned hits kept (the
    // state may lie anywhere in the statics: Oniguruma's 400 KiB up, a
    // word at a time 80 us, this 35, most of it the faults of reading
    // pages never touched). Each search starts a byte past the last hit,
    // so an unaligned hit cannot hide an aligned one it overlaps; an
    // aligned word never straddles two pages.
    let needle = top.to_le_bytes();
    let finder = memchr::memmem::Finder::new(&needle);
    let search = |range: std::ops::Range<usize>| {
        let mut from = range.start;
        std::iter::from_fn(|| {
            let at = from + finder.find(memory.get(from..range.end)?)?;
            from = at + 1;
            Some(at)
        })
        .filter(|at| at % 4 == 0)
        .filter_map(|at| at.checked_sub(STATE_TOP as usize))
        .map(|state| state as u32)
        .find(|&state| holds(state))
    };
    // The pages the program wrote are in memory; reading the others
    // faults each in (CPython's 5 MB of statics: 1.6-1.9 ms of an
    // attested run's first walk). A match in a written page is taken
    // before one in a page still as the image holds it, though lower:
    // which of two places passing the signature wins is the guest's to
    // arrange either way.
    let Some(bits) = unchanged else {
        return search(0..end);
    };
    let (written, still) = page_runs(bits, end);
    written.into_iter().chain(still).find_map(search)
}

/// Whether `bits` (one bit a 4 KiB page, none past its end) names
/// `page`.
fn page_named(bits: &[u64], page: usize) -> bool {
    bits.get(page / 64)
        .is_some_and(|w| w & (1 << (page % 64)) != 0)
}

/// `[0, end)` in runs of whole 4 KiB pages (the last cut at `end`): those
/// `still` does not name (one bit a page, none past its end), then those
/// it does, each in ascending order.
fn page_runs(
    still: &[u64],
    end: usize,
) -> (Vec<std::ops::Range<usize>>, Vec<std::ops::Range<usize>>) {
    let named = |page: usize| page_named(still, page);
    let (mut written, mut kept) = (Vec::new(), Vec::new());
    let pages = end.div_ceil(PAGE_SIZE);
    let mut page = 0;
    while page < pages {
        let (run, kind) = (page, named(page));
        while page < pages && named(page) == kind {
            page += 1;
        }
        let range = run * PAGE_SIZE..(page * PAGE_SIZE).min(end);
        match kind {
            true => kept.push(range),
            false => written.push(range),
        }
    }
    (written, kept)
}

/// Finds dlmalloc's state in `range` of memory without knowing its heap
/// (a module without names, whose allocator's functions cannot be told
/// apart, so no code records the heap's first chunk): an empty small bin
/// is a header whose `fd` and `bk` both hold the header's own address
/// (the two lowest bins are always empty: no chunk is that small), and
/// the state around it must pass [`signed_state`] and lie below its heap.
/// Returns the state and its `least_addr`.
pub(crate) fn scan_for_state(
    memory: &[u8],
    range: std::ops::Range<usize>,
) -> Option<(StateView, u32)> {
    let start = range.start.next_multiple_of(4);
    let end = range.end.min(memory.len()).min(1 << 32);
    let words = memory.get(start..end)?.chunks_exact(4);
    for (k, w) in words.enumerate() {
        let fd_at = start + 4 * k;
        let w = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        // `fd` lies 8 bytes into its header; `bk` follows it.
        if w as usize + 8 != fd_at || word_at(memory, fd_at as u64 + 4) != Some(w) {
            continue;
        }
        for i in 0..SMALL_BINS as u32 {
            let Some(state) = w.checked_sub(STATE_SMALLBINS as u32 + 8 * i) else {
                break;
            };
            if let Some(found) = signed_state(memory, state).filter(|&(_, least)| state < least) {
                return Some(found);
            }
        }
    }
    None
}

/// The heap's first chunk's payload, for a state found by
/// [`scan_for_state`]: dlmalloc starts its first segment at `least_addr`
/// and its first chunk where the payload is aligned (`init_top`), to 16
/// bytes in wasi-libc or to dlmalloc's default 8. A top chunk whose
/// payload is not 16-aligned rules out 16; otherwise the chunk whose
/// chain reaches the state's top is the one, and 16 where neither does
/// (a chain already broken).
fn first_payload(memory: &[u8], view: StateView, least_addr: u32, slack_key: u32) -> u32 {
    let at = |align: u32| {
        let payload = u64::from(least_addr) + u64::from(PAYLOAD_OFFSET);
        payload
            .next_multiple_of(u64::from(align))
            .min(u64::from(u32::MAX)) as u32
    };
    let top_aligned_16 = (u64::from(view.top) + u64::from(PAYLOAD_OFFSET)) % 16 == 0;
    if !top_aligned_16 {
        return at(8);
    }
    [at(16), at(8)]
        .into_iter()
        .find(|&p| walk(memory, p, MAX_CHUNKS, Some(view), slack_key).is_ok())
        .unwrap_or(at(16))
}

/// The segments (`base`, `size`) dlmalloc's state at `state` lists: its
/// own record, then the chain of `next` records (each kept in the tail of
/// the segment it follows). `None` where the list is not as dlmalloc keeps
/// it: a segment outside memory, a record that repeats, more than
/// [`MAX_SEGMENTS`].
fn segments(memory: &[u8], state: u32) -> Option<Vec<(u64, u64)>> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut record = u64::from(state) + STATE_SEG;
    loop {
        let base = u64::from(word_at(memory, record)?);
        let size = u64::from(word_at(memory, record + 4)?);
        let next = u64::from(word_at(memory, record + 8)?);
        if base == 0 || size == 0 || base + size > memory.len() as u64 {
            return None;
        }
        if out.iter().any(|&(b, _)| b == base) || out.len() == MAX_SEGMENTS {
            return None;
        }
        out.push((base, size));
        if next == 0 {
            return Some(out);
        }
        record = next;
    }
}

/// [`walk`] from `first`, then, where the chain ends at a fence post
/// (dlmalloc left that segment for another) and its `state` is known,
/// along every other segment the state lists, each from its first chunk
/// (aligned as the first segment's is) to its own fence post or to the
/// top chunk. A segment list that is not as dlmalloc keeps it leaves the
/// walk at the first segment. Steps over what `unchanged` says still is
/// the module image's ([`Unchanged`]).
pub(crate) fn walk_heap(
    memory: &[u8],
    first: u32,
    max_chunks: u64,
    state: Option<StateView>,
    slack_key: u32,
    unchanged: Option<&Unchanged<'_>>,
) -> Result<Walked, Broken> {
    let mut walked = walk_over(memory, first, max_chunks, state, slack_key, unchanged)?;
    if let Some(st) = state {
        heads_agree(memory, st)?;
        bins_agree(memory, st)?;
    }
    let Some(st) = state.filter(|_| walked.top.is_none() && !walked.cut) else {
        return Ok(walked);
    };
    let Some(segments) = segments(memory, st.at) else {
        return Ok(walked);
    };
    let align = if first.is_multiple_of(16) { 16 } else { 8 };
    let first = u64::from(first);
    for (base, size) in segments {
        if (base..base + size).contains(&first) {
            continue;
        }
        let payload = (base + u64::from(PAYLOAD_OFFSET)).next_multiple_of(align);
        let Ok(payload) = u32::try_from(payload) else {
            continue;
        };
        let w = walk_over(
            memory,
            payload,
            max_chunks - walked.chunks,
            Some(st),
            slack_key,
            unchanged,
        )?;
        walked.chunks += w.chunks;
        walked.top = walked.top.or(w.top);
        if w.cut || walked.chunks >= max_chunks {
            walked.cut = true;
            break;
        }
    }
    Ok(walked)
}

/// The heads of the top chunk and of the designated victim, read where
/// the state says they are, whether or not a walk reaches them (a chain
/// cut at `max_chunks`, a segment the walk does not follow): each must be
/// its size with `PINUSE`, the only head dlmalloc writes there. The
/// allocator's entry check compares the same in generated code, and asks
/// for a walk when one differs; this makes that walk report it.
fn heads_agree(memory: &[u8], st: StateView) -> Result<(), Broken> {
    let victim = st.dv.map(|dv| (dv, "designated victim"));
    for (chunk, name) in [(st.top, "top chunk")].into_iter().chain(victim) {
        let at = u64::from(chunk) + 4;
        let what = match word_at(memory, at) {
            Some(head) => match state_head_wrong(st, chunk, head) {
                Some(what) => what,
                None => continue,
            },
            None => format!(
                "the allocator's state says the {name} is at {chunk:#x}, past the end of memory"
            ),
        };
        return Err(Broken {
            at: at.min(u64::from(u32::MAX)) as u32,
            chunk,
            what,
            of: BrokenPart::Chain,
        });
    }
    Ok(())
}

/// The top chunk's first free bytes as one of dlmalloc's functions last
/// returned (generated code copies them: `FuncTranslator::record_top`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TopCopy {
    /// The top chunk they were copied from (0: none).
    pub top: u32,
    /// [`HEAP_TOP_COPIED`] bytes from [`HEAP_TOP_COPY_FROM`] of it.
    pub bytes: [u8; HEAP_TOP_COPIED as usize],
}

impl TopCopy {
    /// The copy generated code keeps in the store's attestation state.
    pub(crate) fn of(state: &VMAttestState) -> TopCopy {
        let mut bytes = [0; HEAP_TOP_COPIED as usize];
        for (word, out) in state.heap_top_bytes.iter().zip(bytes.chunks_mut(8)) {
            out.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        TopCopy {
            top: state.heap_top.load(Ordering::Relaxed),
            bytes,
        }
    }
}

/// Where the top chunk is still the one `copy` was taken of: its first
/// free bytes must hold what they held then. Nothing but dlmalloc may
/// write into the top chunk, and dlmalloc writes there only as it moves
/// the top (carving from it, merging into it), so a byte changed while
/// the top stayed put is the program's: an index past its last
/// allocation that skips the top's head, or a write through a pointer to
/// that allocation after `free` merged it into the top. The entry of each
/// of dlmalloc's functions compares the same, and asks for a walk when
/// they differ; this makes that walk report the first byte changed.
fn top_bytes_agree(memory: &[u8], st: StateView, copy: &TopCopy) -> Result<(), Broken> {
    if copy.top == 0 || copy.top != st.top {
        return Ok(());
    }
    let from = u64::from(copy.top) + u64::from(HEAP_TOP_COPY_FROM);
    let Some(now) = usize::try_from(from)
        .ok()
        .and_then(|f| memory.get(f..f + copy.bytes.len()))
    else {
        return Ok(());
    };
    let Some(i) = (0..now.len()).find(|&i| now[i] != copy.bytes[i]) else {
        return Ok(());
    };
    let offset = HEAP_TOP_COPY_FROM + i as u32;
    Err(Broken {
        at: copy.top + offset,
        chunk: copy.top,
        what: format!(
            "byte {offset} of the top chunk (free, {} bytes) holds {:#x} where it held {:#x} as \
             the allocator last returned, and only the allocator writes there",
            st.topsize, now[i], copy.bytes[i]
        ),
        of: BrokenPart::TopBytes,
    })
}

/// The first chunk of every non-empty small bin, read where the state
/// says it is, whether or not a walk reaches it: it must sit in its list
/// as dlmalloc keeps it ([`links_agree`]), since dlmalloc's next
/// allocation from the bin unlinks it by writing through its `fd`. The
/// entry check of `malloc`, `calloc` and `realloc` compares the same for
/// the bin the request may take from, and asks for a walk when it
/// differs; this makes that walk report it.
fn bins_agree(memory: &[u8], st: StateView) -> Result<(), Broken> {
    let Some(map) = word_at(memory, u64::from(st.at) + STATE_SMALLMAP) else {
        return Ok(());
    };
    for i in (0..SMALL_BINS).filter(|i| map & (1 << i) != 0) {
        let bin = small_bin(st.at, i);
        let Some(first) = word_at(memory, bin + 8) else {
            continue;
        };
        if links_agree(memory, first) {
            continue;
        }
        let link = |off: u64| match word_at(memory, u64::from(first) + off) {
            Some(v) => format!("{v:#x}"),
            None => "past the end of memory".to_string(),
        };
        return Err(Broken {
            at: first.saturating_add(8),
            chunk: first,
            what: format!(
                "the first chunk of small bin {i} ({}-byte chunks) is not in the bin's list as \
                 dlmalloc keeps it (fd {}, bk {}): dlmalloc's next allocation from the bin \
                 would write through its links",
                i * 8,
                link(8),
                link(12)
            ),
            of: BrokenPart::Chain,
        });
    }
    Ok(())
}

/// What is wrong with `head`, the head of the chunk at `chunk`, when that
/// chunk is the top or the designated victim `st` names: dlmalloc writes
/// their heads only as `topsize | PINUSE` and `dvsize | PINUSE`.
fn state_head_wrong(st: StateView, chunk: u32, head: u32) -> Option<String> {
    if chunk == st.top && head != st.topsize | PINUSE {
        return Some(format!(
            "the top chunk's head {head:#x} disagrees with the allocator's state, which says \
             the top is {} bytes",
            st.topsize
        ));
    }
    (st.dv == Some(chunk) && head != st.dvsize | PINUSE).then(|| {
        format!(
            "the designated victim's head {head:#x} disagrees with the allocator's state, which \
             says the victim is {} bytes",
            st.dvsize
        )
    })
}

/// The smallest chunk dlmalloc keeps in a tree bin rather than a small
/// bin (`MIN_LARGE_SIZE`).
const MIN_LARGE: u32 = walmart_jit::vmctx::HEAP_MIN_LARGE;
/// Offset of the tree bins (`treebins[32]`) in wasm32 dlmalloc's state,
/// after the 33 pairs of small-bin links.
const STATE_TREEBINS: u64 = walmart_jit::vmctx::HEAP_STATE_TREEBINS as u64;

/// Where tree bin `index`'s root lies in the state at `state` (a root's
/// `parent` is this slot).
pub(crate) fn tree_slot(state: u32, index: u32) -> u64 {
    u64::from(state) + STATE_TREEBINS + 4 * u64::from(index)
}

/// Where small bin `index`'s header lies in the state at `state`: a
/// chunk without a head whose `fd` (at 8) and `bk` (at 12) are the bin's
/// first and last chunks.
fn small_bin(state: u32, index: u64) -> u64 {
    u64::from(state) + STATE_SMALLBINS + 8 * index
}

/// The tree bin dlmalloc files a free chunk of `size` bytes in
/// (`compute_tree_index`: two bins per power of two from 256 bytes, the
/// last one for everything from 16 MiB up).
pub(crate) fn tree_index(size: u32) -> u32 {
    let x = size >> 8;
    match x {
        0 => 0,
        0x1_0000.. => 31,
        _ => {
            let k = 31 - x.leading_zeros();
            (k << 1) + ((size >> (k + 7)) & 1)
        }
    }
}

/// A large free chunk at `c` (in a tree bin, linked in its ring) whose
/// tree fields disagree with what dlmalloc keeps (`struct
/// malloc_tree_chunk`: `child[2]` at 16, `parent` at 24, `index` at 28):
/// the index its size files it under, and, for the ring's tree node
/// (`parent` not 0), a parent (its bin's slot in the state, or a tree
/// chunk) and children that point back at it. A write into a freed large
/// chunk's first 32 bytes (a use after free) changes them. The word that
/// is wrong and what is wrong.
pub(crate) fn tree_node_broken(
    memory: &[u8],
    state: u32,
    c: u64,
    size: u32,
) -> Option<(u64, String)> {
    let field = |off: u64| word_at(memory, c + off);
    let index = field(28)?;
    let want = tree_index(size);
    if index != want {
        return Some((
            c + 28,
            format!(
                "the chunk is free ({size} bytes), filed under tree bin {index} where its size \
                 belongs in {want}"
            ),
        ));
    }
    let parent = field(24)?;
    if parent == 0 {
        // A chunk of its ring other than the tree node: only its links
        // (checked) mean anything.
        return None;
    }
    let slot = tree_slot(state, index);
    let back = if u64::from(parent) == slot {
        word_at(memory, slot) == Some(c as u32)
    } else {
        [16, 20]
            .iter()
            .any(|&off| word_at(memory, u64::from(parent) + off) == Some(c as u32))
    };
    if !back {
        return Some((
            c + 24,
            format!(
                "the chunk is free ({size} bytes) but its tree parent {parent:#x} does not point \
                 back at it"
            ),
        ));
    }
    for off in [16, 20] {
        let child = field(off)?;
        if child != 0 && word_at(memory, u64::from(child) + 24) != Some(c as u32) {
            return Some((
                c + off,
                format!(
                    "the chunk is free ({size} bytes) but its tree child {child:#x} does not \
                     point back at it"
                ),
            ));
        }
    }
    None
}

/// Where and how the chain is broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Broken {
    /// Address of the word that is wrong (a `head`, a `prev_foot` or a
    /// free chunk's `fd`).
    pub at: u32,
    /// The chunk whose check failed.
    pub chunk: u32,
    /// What is wrong, as a sentence fragment.
    pub what: String,
    /// What was written over.
    pub of: BrokenPart,
}

/// What a [`Broken`] finding was written over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BrokenPart {
    /// The chain of chunks, a free list, or the state's view of them.
    Chain,
    /// The chain is whole, but a chunk's slack marks were written over
    /// ([`slack_broken`]).
    Slack,
    /// The chain is whole, but the top chunk's free bytes changed while
    /// the top stayed put ([`top_bytes_agree`]).
    TopBytes,
}

impl BrokenPart {
    /// How a report of it starts.
    fn headline(self) -> &'static str {
        match self {
            BrokenPart::Chain => "the allocator's chunk chain is broken",
            BrokenPart::Slack => "a chunk of the allocator's heap was written past its request",
            BrokenPart::TopBytes => "the allocator's free top chunk was written into",
        }
    }
}

/// Whether the slack marks of the in-use chunk at `chunk`, `size` bytes,
/// whose head has [`SLACK_MARKED`] (written as dlmalloc's `malloc` or
/// `realloc` returned it: the slack's length, marked under the store's
/// `key` ([`walmart_jit::vmctx::slack_mark`]), in its first byte and in the last before the
/// successor's head), were written over: where, and what, if so.
/// The chunk lies inside memory (its successor's head was read).
fn slack_broken(memory: &[u8], chunk: u64, size: u32, key: u32) -> Option<(u64, String)> {
    // The slack ends at the successor's head: its `prev_foot` is the
    // chunk's while the chunk is in use.
    let end = chunk + u64::from(size) + 4;
    let byte = |at: u64| {
        usize::try_from(at)
            .ok()
            .and_then(|i| memory.get(i))
            .copied()
    };
    let own = size.saturating_sub(4);
    let last = byte(end - 1)?;
    let Some(slack) = slack_of_mark(u32::from(last), key).filter(|&k| k <= own) else {
        return Some((
            (end - 1).min(u64::from(u32::MAX)),
            format!(
                "the chunk is in use ({size} bytes) with the slack past its request marked, but \
                 the slack's last byte {last:#x} gives no length within it (a heap overflow)"
            ),
        ));
    };
    let start = end - u64::from(slack);
    let first = byte(start)?;
    (first != last).then(|| {
        (
            start,
            format!(
                "the chunk is in use ({size} bytes) and the first of the {slack} bytes past its \
                 request holds {first:#x} where its mark {last:#x} was (a heap overflow)"
            ),
        )
    })
}

/// Walks the chain of chunks from the one whose payload is at `first`
/// (the lowest address dlmalloc's functions returned: the start of its
/// first segment) through the first segment, checking at most
/// `max_chunks`, and, where dlmalloc's `state` is known, the top chunk,
/// its head and the designated victim against it.
pub(crate) fn walk(
    memory: &[u8],
    first: u32,
    max_chunks: u64,
    state: Option<StateView>,
    slack_key: u32,
) -> Result<Walked, Broken> {
    walk_over(memory, first, max_chunks, state, slack_key, None)
}

/// The chunks of a module image's heap whose bytes a walk need not read:
/// those lying, with the head of the chunk after them, in pages of the
/// image nothing wrote since instantiation, and whose checks read
/// nothing else that changed. An in-use chunk's checks (a head with its
/// flags, a size, the successor's `PINUSE`) read only those bytes; a
/// small free chunk's also read the two words its list's neighbours
/// point back at it with ([`ChunkReads`]), which must lie in such pages
/// too. They then pass as they passed on the image ([`image_heap`]). Tree
/// chunks, a free chunk in no list and the top are always read.
pub(crate) struct Unchanged<'a> {
    pub(crate) heap: &'a ImageHeap,
    /// One bit per 4 KiB page of memory: still the image's bytes.
    pub(crate) pages: &'a [u64],
}

impl Unchanged<'_> {
    fn page_unchanged(&self, page: usize) -> bool {
        page_named(self.pages, page)
    }

    /// Whether what the checks of the image's chunk `j` read beyond it
    /// is unchanged.
    fn reads_unchanged(&self, j: usize) -> bool {
        let page = |at: u32| at as usize / PAGE_SIZE;
        match self.heap.reads[j] {
            ChunkReads::Nothing => true,
            ChunkReads::Links(a, b) => self.page_unchanged(page(a)) && self.page_unchanged(page(b)),
            ChunkReads::Everything => false,
        }
    }

    /// Where a walk at chunk `c` may go on from, and how many chunks it
    /// steps over to get there; `None` where it must read `c`. `cursor`:
    /// where the walk's last call left off (a walk goes up through
    /// memory: the chunk is found by going on from there, and the run of
    /// unchanged pages it lies in is measured once, not at each chunk,
    /// which cost more than reading the chunk).
    ///
    /// Stops at the chunks `state` names (its top, its designated victim:
    /// the walk checks their heads against it) and after at most `budget`
    /// chunks (the walk's bound).
    fn step_from(
        &self,
        c: u64,
        cursor: &mut StepCursor,
        state: Option<StateView>,
        budget: u64,
    ) -> Option<(u64, u64)> {
        let page = PAGE_SIZE as u64;
        let first_page = c / page;
        if !self.page_unchanged(first_page as usize) {
            return None;
        }
        let c = u32::try_from(c).ok()?;
        let chunks = &self.heap.chunks;
        if cursor.chunk > 0 && chunks[cursor.chunk - 1] >= c {
            // Behind the cursor (a second segment below the first).
            cursor.chunk = chunks.partition_point(|&at| at < c);
        }
        while chunks.get(cursor.chunk).is_some_and(|&at| at < c) {
            cursor.chunk += 1;
        }
        let i = cursor.chunk;
        if chunks.get(i) != Some(&c) {
            return None;
        }
        if !cursor.run.contains(&first_page) {
            let mut end_page = first_page;
            while self.page_unchanged(end_page as usize) {
                end_page += 1;
            }
            cursor.run = first_page..end_page;
        }
        let limit = cursor.run.end * page;
        let mut j = i;
        // A chunk is stepped over where it was in use in the image and
        // everything its checks read, up to its successor's head, is
        // still the image's.
        let named = |at: u32| state.is_some_and(|st| st.top == at || st.dv == Some(at));
        while j + 1 < self.heap.chunks.len()
            && ((j - i) as u64) < budget
            && u64::from(self.heap.chunks[j + 1]) + 8 <= limit
            && self.reads_unchanged(j)
            && !named(self.heap.chunks[j])
        {
            j += 1;
        }
        cursor.chunk = j;
        (j > i).then(|| (u64::from(self.heap.chunks[j]), (j - i) as u64))
    }
}

/// Where a walk's last [`Unchanged::step_from`] left off: the image's
/// chunk it was at, and the run of unchanged pages it measured.
#[derive(Default)]
struct StepCursor {
    chunk: usize,
    run: std::ops::Range<u64>,
}

/// The heap a module's image holds (`memory`, the memory as
/// instantiation leaves it), its dlmalloc state at `state`: from the first
/// chunk of the state's heap to its top chunk, if a walk finds the chain
/// whole, with no slack marks (their check depends on each run's key) and
/// no free chunk ahead of the first. What [`Unchanged`] steps over.
pub(crate) fn image_heap(memory: &[u8], state: u32) -> Option<ImageHeap> {
    let (view, least_addr) = signed_state(memory, state)?;
    let first = first_payload(memory, view, least_addr, 0);
    let walked = walk(memory, first, MAX_CHUNKS, Some(view), 0).ok()?;
    if walked.cut || walked.top != Some(view.top) {
        return None;
    }
    let (mut chunks, mut reads) = (Vec::new(), Vec::new());
    let mut c = first.checked_sub(PAYLOAD_OFFSET)?;
    loop {
        let head = word_at(memory, u64::from(c) + 4)?;
        if head & SLACK_MARKED != 0 || (chunks.is_empty() && head & PINUSE == 0) {
            return None;
        }
        let size = head & !FLAG_BITS;
        chunks.push(c);
        reads.push(if head & CINUSE != 0 {
            ChunkReads::Nothing
        } else if c != view.top && size < MIN_LARGE && links_agree(memory, c) {
            // As `links_point_back` reads them; aligned words, each in
            // one page (dlmalloc's links name chunks and bin headers).
            let fd = word_at(memory, u64::from(c) + 8)?;
            let bk = word_at(memory, u64::from(c) + 12)?;
            match (fd.checked_add(12)?, bk.checked_add(8)?) {
                (a, b) if a.is_multiple_of(4) && b.is_multiple_of(4) => ChunkReads::Links(a, b),
                _ => ChunkReads::Everything,
            }
        } else {
            ChunkReads::Everything
        });
        if c == view.top {
            return Some(ImageHeap { chunks, reads });
        }
        c = c.checked_add(size)?;
    }
}

/// [`walk`], stepping over what `unchanged` says is still the image's.
fn walk_over(
    memory: &[u8],
    first: u32,
    max_chunks: u64,
    state: Option<StateView>,
    slack_key: u32,
    unchanged: Option<&Unchanged<'_>>,
) -> Result<Walked, Broken> {
    // Addresses are computed in 64 bits: a corrupted size may point
    // anywhere, and an address past 4 GiB is past the end of memory.
    let word = |at: u64| word_at(memory, at);
    // Only addresses `word` read (so below 4 GiB) are reported.
    let broken = |at: u64, chunk: u64, what: String| Broken {
        at: at as u32,
        chunk: chunk as u32,
        what,
        of: BrokenPart::Chain,
    };
    let Some(first_chunk) = first.checked_sub(PAYLOAD_OFFSET) else {
        return Ok(Walked {
            chunks: 0,
            cut: false,
            top: None,
        });
    };
    let mut c = u64::from(first_chunk);
    let past_memory = |c: u64| broken(c, c, "the chain runs past the end of memory".into());
    let head = word(c + 4).ok_or_else(|| past_memory(c))?;
    if head & PINUSE == 0 {
        // A free chunk before the start is dlmalloc's doing when the first
        // allocation was `memalign`'s (the leader it split off and freed,
        // where `dlmalloc`'s own result went unrecorded, inlined): the
        // free chunk then says its size in `prev_foot`, and starts the
        // segment. Anything else before the first chunk is corruption.
        let free_before = word(c)
            .filter(|&s| s >= MIN_CHUNK && s & FLAG_BITS == 0 && u64::from(s) <= c)
            .map(|s| c - u64::from(s))
            .filter(|&p| {
                word(p + 4).is_some_and(|h| {
                    h & CINUSE == 0 && h & PINUSE != 0 && u64::from(h & !FLAG_BITS) == c - p
                })
            });
        match free_before {
            Some(p) => c = p,
            None => {
                return Err(broken(
                    c + 4,
                    c,
                    format!("the first chunk's head {head:#x} says a chunk precedes it"),
                ))
            }
        }
    }
    let mut chunks = 0u64;
    // The first free chunk found in no free list (see below).
    let mut unlinked: Option<u32> = None;
    let mut cursor = StepCursor::default();
    loop {
        let budget = max_chunks.saturating_sub(chunks);
        if let Some((to, over)) = unchanged.and_then(|u| u.step_from(c, &mut cursor, state, budget))
        {
            chunks += over;
            if chunks >= max_chunks {
                return Ok(Walked::cut(chunks));
            }
            c = to;
        }
        let head = word(c + 4).ok_or_else(|| past_memory(c))?;
        if head == FENCE_POST {
            return Ok(Walked {
                chunks,
                cut: false,
                top: None,
            });
        }
        let size = head & !FLAG_BITS;
        if let Some(what) = state.and_then(|st| state_head_wrong(st, c as u32, head)) {
            return Err(broken(c + 4, c, what));
        }
        // The top chunk, followed by its trailer, ends the chain; with
        // 8-byte alignment it may be as small as 8 bytes.
        if head & CINUSE == 0
            && size >= 8
            && word(c + u64::from(size) + 4).is_some_and(|h| TOP_FOOT_SIZES.contains(&h))
        {
            // The chain is whole up to here, so a state naming another
            // top was itself written over (the top pointer dlmalloc will
            // next split or write a head at).
            if let Some(st) = state.filter(|st| u64::from(st.top) != c) {
                return Err(broken(
                    u64::from(st.at) + STATE_TOP,
                    c,
                    format!(
                        "the allocator's state says the top chunk is at {:#x}, but the chain \
                         ends at the top chunk at {c:#x}",
                        st.top
                    ),
                ));
            }
            return Ok(Walked {
                chunks: chunks + 1,
                cut: false,
                top: Some(c as u32),
            });
        }
        if size < MIN_CHUNK {
            return Err(broken(
                c + 4,
                c,
                format!("head {head:#x} gives a size below dlmalloc's minimum of {MIN_CHUNK}"),
            ));
        }
        let next = c + u64::from(size);
        let Some(next_head) = word(next + 4) else {
            return Err(broken(
                c + 4,
                c,
                format!("head {head:#x} gives a size that runs past the end of memory"),
            ));
        };
        chunks += 1;
        if head & CINUSE != 0 {
            if next_head & PINUSE == 0 {
                return Err(broken(
                    next + 4,
                    c,
                    format!(
                        "the chunk is in use ({size} bytes) but its successor's head \
                         {next_head:#x} says it is free"
                    ),
                ));
            }
            if head & SLACK_MARKED != 0 {
                if let Some((at, what)) = slack_broken(memory, c, size, slack_key) {
                    return Err(Broken {
                        of: BrokenPart::Slack,
                        ..broken(at, c, what)
                    });
                }
            }
        } else {
            if next_head & PINUSE != 0 {
                return Err(broken(
                    next + 4,
                    c,
                    format!(
                        "the chunk is free ({size} bytes) but its successor's head \
                         {next_head:#x} says it is in use"
                    ),
                ));
            }
            if next_head & CINUSE == 0 {
                return Err(broken(
                    next + 4,
                    c,
                    format!(
                        "the chunk is free ({size} bytes) and so is its successor \
                         (head {next_head:#x}): dlmalloc merges free neighbours"
                    ),
                ));
            }
            let foot = word(next).expect("below the successor's head");
            if foot != size {
                return Err(broken(
                    next,
                    c,
                    format!("the chunk is free ({size} bytes) but its footer says {foot}"),
                ));
            }
            // A free chunk sits in a doubly linked list (its bin's, or a
            // ring of same-sized tree chunks), `fd` at `c + 8` and `bk`
            // at `c + 12`, bin headers laid out alike inside dlmalloc's
            // state: its neighbours must point back at it. One free
            // chunk is in no list, the designated victim (the remainder
            // of the last split), whose links are stale.
            let fd = word(c + 8).expect("inside the chunk");
            let bk = word(c + 12).expect("inside the chunk");
            let linked = links_agree(memory, c as u32);
            if !linked {
                if let Some(st) = state.filter(|st| st.dv != Some(c as u32)) {
                    let victim = match st.dv {
                        Some(dv) => format!("the designated victim is the chunk at {dv:#x}"),
                        None => "the allocator has no designated victim".to_string(),
                    };
                    return Err(broken(
                        c + 8,
                        c,
                        format!(
                            "the chunk is free ({size} bytes) but not in a free list (fd {fd:#x}, \
                             bk {bk:#x}), and {victim}"
                        ),
                    ));
                }
                if let Some(first) = unlinked {
                    return Err(broken(
                        c + 8,
                        c,
                        format!(
                            "the chunk is free ({size} bytes) but not in a free list (fd {fd:#x}, \
                             bk {bk:#x}), and neither is the free chunk at {first:#x}: only one, \
                             dlmalloc's designated victim, may be"
                        ),
                    ));
                }
                unlinked = Some(c as u32);
            } else if let Some(st) = state.filter(|st| size >= MIN_LARGE && st.dv != Some(c as u32))
            {
                if let Some((at, what)) = tree_node_broken(memory, st.at, c, size) {
                    return Err(broken(at, c, what));
                }
            }
        }
        if chunks >= max_chunks {
            return Ok(Walked::cut(chunks));
        }
        c = next;
    }
}

/// Chunks one check walks at most (about 10 ms: 2.4 ns a chunk, measured on
/// 4M chunks of 16 bytes): a larger heap is checked
/// up to there.
pub(crate) const MAX_CHUNKS: u64 = 4 << 20;

/// Times a session looks for dlmalloc's state ([`locate_state`]).
const STATE_TRIES: u32 = 4;

/// A walk may take `1 / (1 + WALK_BUDGET)` of the guest's time when it
/// runs during the run (the final one always runs): a walk that took `t`
/// defers the next by `t * WALK_BUDGET`.
pub(crate) const WALK_BUDGET: u32 = 20;

/// Where a check is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WalkAt {
    /// Control leaves the module (an import call, an export's return):
    /// paced.
    Boundary,
    /// An allocator function's entry found the top's head wrong, or the
    /// state not looked for yet.
    AllocatorEntry,
    /// The run's final verdict.
    Final,
}

/// Bytes past a module's data segments scanned for dlmalloc's state
/// ([`unnamed_heap`]).
const SCAN_PAST_DATA: usize = 1 << 20;

/// Times an allocator's entry in a module without names asks for the
/// state at the address its code reads before it stops asking.
const HINT_TRIES: u32 = 16;

/// Where dlmalloc's state may lie in a module without names.
struct Unnamed {
    /// Where the module's code reads it
    /// ([`walmart_jit::unnamed_dlmalloc`]), checked before it is trusted.
    hint: Option<u32>,
    /// The statics, scanned when the hint fails.
    statics: std::ops::Range<usize>,
}

/// The module, among a store's `instances`, that defines its memory.
pub(crate) fn memory_module(
    instances: &[Box<crate::instance::InstanceData>],
) -> Option<&crate::Module> {
    instances
        .iter()
        .map(|i| &i.module)
        .find(|m| m.info().memories.len() > m.info().num_imported_memories as usize)
}

/// Where to look for dlmalloc's state when the store's memory is defined
/// by a module whose names do not name dlmalloc, under a configuration
/// that walks the heap: first where the module's code reads it, then
/// among its statics, from the module's lowest data segment to 1 MiB past
/// its highest (the state is a static, so wasm-ld lays it in the data or
/// in the zeroed bytes it places right after them; a module whose statics
/// hold more than that before it is not found so). The statics are
/// scanned only in a module without any names: one whose names do not
/// name dlmalloc and whose code reads no state as dlmalloc's does has
/// another allocator, or none. A module whose names name dlmalloc has its
/// heap's first chunk recorded by the code compiled for its allocator.
fn unnamed_heap(store: &StoreOpaque) -> Option<Unnamed> {
    if !store.engine.config().walks_heap() {
        return None;
    }
    let module = memory_module(&store.instances)?;
    let info = module.info();
    let hint = module.inner.compiled.dlmalloc_state;
    if info.dlmalloc
        || module.emmalloc().is_some()
        || info.memories[0].memory64
        || (!info.func_names.is_empty() && hint.is_none())
    {
        return None;
    }
    Some(Unnamed {
        hint,
        statics: statics(info),
    })
}

/// Where a module's statics lie, for a scan for its allocator's: from its
/// lowest data segment in memory 0 to [`SCAN_PAST_DATA`] past its highest
/// (wasm-ld lays the zeroed ones right after the data).
pub(crate) fn statics(info: &walmart_jit::module_info::ModuleInfo) -> std::ops::Range<usize> {
    let placed = info.data.iter().filter_map(|seg| match &seg.mode {
        SegmentMode::Active { index: 0, offset } => match offset.as_slice() {
            [ConstOp::I32(at)] => {
                let at = *at as u32 as usize;
                Some(at..at + seg.bytes.len())
            }
            _ => None,
        },
        _ => None,
    });
    let (low, high) = placed.fold((usize::MAX, 0), |(lo, hi), r| {
        (lo.min(r.start), hi.max(r.end))
    });
    low.min(high)..high + SCAN_PAST_DATA
}

/// dlmalloc's state in a module whose names do not name it, and its
/// `least_addr`: where the module's code reads it, else (no code reads it
/// so, or it is not written yet) by a scan of the statics, a few times a
/// session with the last kept for the final walk, as the state appears
/// only once the program has allocated. An allocator's entry only asks
/// for the hint, [`HINT_TRIES`] times, then stops asking.
fn unnamed_state(
    s: &mut AttestSession,
    bytes: &[u8],
    unnamed: &Unnamed,
    at: WalkAt,
    now: Instant,
) -> Option<(StateView, u32)> {
    let hinted = unnamed
        .hint
        .and_then(|at| signed_state(bytes, at))
        .filter(|&(view, least)| view.at < least);
    if hinted.is_some() {
        return hinted;
    }
    if at == WalkAt::AllocatorEntry {
        s.heap_hint_tries += 1;
        if s.heap_hint_tries >= HINT_TRIES {
            s.shared
                .state
                .heap_state
                .store(HEAP_STATE_NONE, Ordering::Relaxed);
        }
        return None;
    }
    // Where the code reads a state, the scan is only the final walk's
    // fallback: before the first allocation it would find nothing either.
    let tries = match (unnamed.hint, at == WalkAt::Boundary) {
        (Some(_), true) => 0,
        (None, true) => STATE_TRIES - 1,
        (_, false) => STATE_TRIES,
    };
    if s.heap_state_tries >= tries {
        return None;
    }
    s.heap_state_tries += 1;
    let found = scan_for_state(bytes, unnamed.statics.clone());
    if found.is_none() {
        s.heap_walk_after = Some(now + now.elapsed() * WALK_BUDGET);
    }
    found
}

/// The check: walks the heap of the store's memory when its module's
/// dlmalloc has allocated (the heap floor is set by code the engine
/// compiled for it: [`crate::Config::attest_heap_check`] under `coarse` or
/// `fine`; in a module without names, by a scan for dlmalloc's state,
/// [`unnamed_heap`]) and the store holds one 32-bit memory, and reports a
/// broken chain once per session as a [`EventKind::HeapCorrupt`] event. Called only where the guest is
/// stopped between allocator calls: at the final flush, after the guest
/// returned, exited or trapped (dlmalloc's chain is consistent at every
/// call it makes, where a trap inside it may stop it), and paced, as
/// control leaves the module (an import call, an export's return),
/// since a program that frees its heap before it ends leaves the final
/// walk little to check. dlmalloc calls no import in the middle of
/// changing its chunks.
pub(crate) fn check(store: &mut StoreOpaque, site: &dyn Fn(&StoreOpaque) -> HookSite, at: WalkAt) {
    let paced = at == WalkAt::Boundary;
    let Some(s) = store.attest.as_deref() else {
        return;
    };
    let recorded = s.shared.state.heap_floor.load(Ordering::Relaxed);
    // Without a recorded first chunk, a module without names is looked at
    // for its allocator's state instead.
    let scan = if recorded == 0 {
        unnamed_heap(store)
    } else {
        None
    };
    let Some(s) = store.attest.as_deref_mut() else {
        return;
    };
    let state = &s.shared.state;
    let key = state.heap_slack_key.load(Ordering::Relaxed);
    if s.heap_broken || store.memories.len() != 1 || store.memories[0].ty.memory64 {
        // Nothing the entry check could ask of the runtime.
        state.heap_state.store(HEAP_STATE_NONE, Ordering::Relaxed);
        return;
    }
    if recorded == 0 && scan.is_none() {
        super::emmalloc_walk::check(store, site, at);
        return;
    }
    let now = Instant::now();
    if paced && s.heap_walk_after.is_some_and(|t| now < t) {
        return;
    }
    let mut first = recorded;
    if let Some(unnamed) = scan {
        let bytes = store.memories[0].bytes();
        let Some((view, least_addr)) = unnamed_state(s, bytes, &unnamed, at, now)
            .filter(|(view, _)| fits_state(bytes, view.at))
        else {
            return;
        };
        first = first_payload(bytes, view, least_addr, key);
        let state = &s.shared.state;
        state.heap_floor.store(first, Ordering::Relaxed);
        state.heap_state.store(view.at, Ordering::Relaxed);
    }
    let state = &s.shared.state;
    let bytes = store.memories[0].bytes();
    let mut state_at = state.heap_state.load(Ordering::Relaxed);
    if state_at <= HEAP_STATE_NONE && s.heap_state_tries == 0 {
        // Where an earlier instance of the module found the state (a
        // static): taken before the first walk if its signature holds
        // there, so that walk checks against it too.
        let found = memory_module(&store.instances)
            .and_then(|m| m.inner.dlmalloc_state_found())
            .filter(|&at| {
                signed_state(bytes, at).is_some_and(|(_, least)| {
                    least <= first.saturating_sub(PAYLOAD_OFFSET) && fits_state(bytes, at)
                })
            });
        if let Some(at) = found {
            state.heap_state.store(at, Ordering::Relaxed);
            state_at = at;
        }
    }
    let view = (state_at > HEAP_STATE_NONE)
        .then(|| read_state(bytes, state_at))
        .flatten();
    let copy = TopCopy::of(state);
    // A memory that started from its module's image: the in-use chunks
    // whose bytes are still the image's are stepped over, not read (the
    // heap of a Python component is most of its 28 MB image: two walks
    // of it were most of what attesting one of its requests cost).
    let m = &store.memories[0];
    let unchanged = m
        .attest
        .as_ref()
        .filter(|a| a.started_from_image())
        .and_then(|a| {
            // Found once per module, from the second walk that knows the
            // state (the first of a run's may not yet; see
            // `ImagePages::heap`): later walks use it with or without.
            let heap = a.image_heap(view.map(|st| st.at))?;
            Some((
                heap,
                a.unchanged_image_pages(m.def.base, m.def.length as usize)?,
            ))
        });
    let unchanged = unchanged
        .as_ref()
        .map(|(heap, pages)| Unchanged { heap, pages });
    let walked = walk_heap(bytes, first, MAX_CHUNKS, view, key, unchanged.as_ref()).and_then(|w| {
        if let Some(st) = view {
            top_bytes_agree(bytes, st, &copy)?;
        }
        Ok(w)
    });
    // Looking for the state is not paced: it happens a few times a run.
    s.heap_walk_after = Some(now + now.elapsed() * WALK_BUDGET);
    s.heap_walked = true;
    if let Ok(w) = &walked {
        // The state: kept once found, else looked for again, a few times
        // a session (a module whose state is not found would pay a scan
        // of its statics at every walk).
        let found = match (view, w.top) {
            (Some(_), _) => Some(state_at),
            (None, Some(top)) if s.heap_state_tries < STATE_TRIES => {
                s.heap_state_tries += 1;
                // Where a module with names has dlmalloc's code read it,
                // else where an earlier instance found it.
                let module = memory_module(&store.instances);
                let hint = module.and_then(|m| {
                    m.inner
                        .compiled
                        .dlmalloc_state
                        .or_else(|| m.inner.dlmalloc_state_found())
                });
                // The pages still the image's, as the walk had them, or
                // asked for now (a walk without the image's heap).
                let asked = match &unchanged {
                    Some(_) => None,
                    None => m
                        .attest
                        .as_ref()
                        .and_then(|a| a.unchanged_image_pages(m.def.base, m.def.length as usize)),
                };
                let still = unchanged.as_ref().map(|u| u.pages).or(asked.as_deref());
                let at = locate_state(bytes, first - PAYLOAD_OFFSET, top, hint, still)
                    .filter(|&at| fits_state(bytes, at));
                if let (Some(at), Some(m)) = (at, module) {
                    m.inner.found_dlmalloc_state.store(at, Ordering::Relaxed);
                }
                at
            }
            _ => None,
        };
        state
            .heap_state
            .store(found.unwrap_or(HEAP_STATE_NONE), Ordering::Relaxed);
    }
    let b = match walked {
        Ok(w) => {
            Counters::add(&s.shared.counters.heap_chunks, w.chunks);
            if s.foreign_grow_reported {
                return;
            }
            let Some((grow, (lo, hi))) = foreign_in_heap(bytes, first, view, &w, &s.foreign_grows)
                .map(|(g, span)| (g.clone(), span))
            else {
                return;
            };
            // Reported once; the chain itself is intact, so the checks
            // go on (an overflow later is found as in any heap).
            s.foreign_grow_reported = true;
            let hook = site(store);
            let s = store.attest.as_deref().expect("checked above");
            let (from, to) = (lo.max(grow.start), hi.min(grow.end));
            report(
                s,
                hook,
                (from / PAGE_SIZE as u64) as u32,
                "heap-walk",
                format!(
                    "dlmalloc's heap ({lo:#x}..{hi:#x}) takes in {from:#x}..{to:#x}, which {} \
                     took for itself with memory.grow: two allocators own the same bytes (a \
                     libc that sizes its first heap by the memory's size, as wasi-libc did \
                     before 2023, claims what another module grew first; a newer wasi-libc \
                     does not)",
                    grow.module
                ),
            );
            return;
        }
        Err(b) => b,
    };
    let detail = format!(
        "{} at {:#x} (chunk at {:#x}): {}",
        b.of.headline(),
        b.at,
        b.chunk,
        b.what
    );
    report_broken(store, site, b.at, detail);
}

/// Memory a module without an allocator of its own grew with
/// `memory.grow`: its allocator's, not dlmalloc's, whose heap must not
/// take it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ForeignGrow {
    /// Its first byte.
    pub start: u64,
    /// Past its last byte.
    pub end: u64,
    /// The module that grew it, as a report names it.
    pub module: String,
}

/// Grows of the store's first memory recorded ([`ForeignGrow`]); further
/// ones are not (each adjacent one by the same module is merged first).
const MAX_FOREIGN_GROWS: usize = 64;

/// After `module` grew memory `m` from `old` pages by `delta`: recorded
/// when it is the store's first memory (the one the heap walk reads),
/// `module` has no allocator functions and another module in the store
/// has (a component's adapter beside a C program's libc). With no named
/// allocator in the store there is nothing to tell the grows apart by.
pub(crate) fn note_grow(
    store: &mut StoreOpaque,
    module: crate::Module,
    m: crate::Memory,
    old: u64,
    delta: u64,
) {
    if m.index != 0 || delta == 0 || module.info().has_allocator() {
        return;
    }
    if !store
        .instances
        .iter()
        .any(|i| i.module.info().has_allocator())
    {
        return;
    }
    let log2 = store.memories[0].ty.page_size_log2;
    let (start, end) = (old << log2, (old + delta) << log2);
    let name = match module.name() {
        Some(n) => format!("module `{n}`"),
        None => "a module without a name".to_string(),
    };
    let Some(s) = store.attest.as_deref_mut() else {
        return;
    };
    let full = s.foreign_grows.len() >= MAX_FOREIGN_GROWS;
    match s.foreign_grows.last_mut() {
        Some(g) if g.end == start && g.module == name => g.end = end,
        _ if full => {}
        _ => s.foreign_grows.push(ForeignGrow {
            start,
            end,
            module: name,
        }),
    }
}

/// The first of `grows` that dlmalloc's heap takes in, with the heap's
/// part it lies in: each segment the state lists, or without the state
/// the chain walked from `first` to the end of its top chunk.
fn foreign_in_heap<'g>(
    memory: &[u8],
    first: u32,
    state: Option<StateView>,
    walked: &Walked,
    grows: &'g [ForeignGrow],
) -> Option<(&'g ForeignGrow, (u64, u64))> {
    if grows.is_empty() {
        return None;
    }
    let spans: Vec<(u64, u64)> = match state.and_then(|st| segments(memory, st.at)) {
        Some(segs) => segs
            .into_iter()
            .map(|(base, size)| (base, base + size))
            .collect(),
        None => {
            let top = u64::from(walked.top?);
            let size = word_at(memory, top + 4)? & !FLAG_BITS;
            vec![(u64::from(first - PAYLOAD_OFFSET), top + u64::from(size))]
        }
    };
    grows.iter().find_map(|g| {
        spans
            .iter()
            .find(|(lo, hi)| g.start < *hi && *lo < g.end)
            .map(|span| (g, *span))
    })
}

/// Whether the state at `at` has the bytes generated code reads of it
/// ([`HEAP_STATE_BYTES`]) inside memory, as the runtime guarantees before
/// it records the state.
fn fits_state(memory: &[u8], at: u32) -> bool {
    at.checked_add(HEAP_STATE_BYTES)
        .is_some_and(|end| end as usize <= memory.len())
}

/// What an allocator entry's call into the runtime hands it: the word it
/// left in `heap_arg` (a pointer `free` refused, a request), and the
/// address of dlmalloc's state; `None` where there is nothing to check
/// (no attestation, the state not known, other than one memory).
pub(crate) fn entry_call(store: &StoreOpaque) -> Option<(u32, u32)> {
    let s = store.attest.as_deref()?;
    let arg = s.shared.state.heap_arg.load(Ordering::Relaxed);
    let at = s.shared.state.heap_state.load(Ordering::Relaxed);
    (at > HEAP_STATE_NONE && store.memories.len() == 1).then_some((arg, at))
}

/// The allocator function a report names: the hook's function, or
/// `otherwise` where it has no name.
pub(crate) fn callee(hook: &HookSite, otherwise: &str) -> String {
    hook.name
        .as_deref()
        .map(|n| format!("`{n}`"))
        .unwrap_or_else(|| otherwise.to_string())
}

/// After a heap check's finding: the heap is broken, and the entries stop
/// checking it (the state read as none), so it is reported once.
pub(crate) fn give_up(s: &mut AttestSession) {
    s.heap_broken = true;
    s.shared
        .state
        .heap_state
        .store(HEAP_STATE_NONE, Ordering::Relaxed);
}

/// A walk found the heap broken at `at`: reported (once a session: the
/// checks stop) as a `heap-walk` event saying `detail`.
pub(crate) fn report_broken(
    store: &mut StoreOpaque,
    site: &dyn Fn(&StoreOpaque) -> HookSite,
    at: u32,
    detail: String,
) {
    let Some(s) = store.attest.as_deref_mut() else {
        return;
    };
    give_up(s);
    let hook = site(store);
    let s = store.attest.as_deref().expect("checked above");
    report(s, hook, at / PAGE_SIZE as u32, "heap-walk", detail);
}

/// Reports what a heap check found, at `page` of memory 0, as an exact
/// [`EventKind::HeapCorrupt`] event from `source`.
pub(crate) fn report(s: &AttestSession, hook: HookSite, page: u32, source: &str, detail: String) {
    s.shared.report(Event {
        time: Event::now(),
        policy: s.shared.policy,
        kind: EventKind::HeapCorrupt,
        hook,
        epoch: s.epoch(),
        allocator_calls: s.allocator_calls(),
        memory: 0,
        pages: vec![page],
        scores: vec![1.0],
        source: source.into(),
        detail,
        tag: None,
        evidence: Vec::new(),
    });
}

/// An allocator function's entry asks ([`walmart_jit::vmctx::HookPoint::HeapCheck`]):
/// the state is not looked for yet, or the top chunk's head disagrees
/// with it. Walks the heap at once (dlmalloc is between calls there) and
/// returns whether the guest must stop (a detection under `--on-detect
/// trap`).
pub(crate) fn entry_check(
    store: &mut StoreOpaque,
    site: &dyn Fn(&StoreOpaque) -> HookSite,
) -> bool {
    check(store, site, WalkAt::AllocatorEntry);
    store.attest.as_deref().is_some_and(|s| s.stop_requested())
}

/// What is wrong with a pointer `free` or `realloc` was handed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BadFree {
    /// dlmalloc refuses it (`ok_address`, `ok_inuse`, `ok_next`,
    /// `ok_pinuse`): it did not return it, or already freed it.
    Pointer(String),
    /// Its chunk's successor's head was written over (the chunk's own
    /// overflow, most likely): dlmalloc would merge with a chunk of the
    /// overflow's making.
    Successor(String),
    /// Its chunk's slack marks were written over: the program wrote past
    /// the bytes it asked for.
    Slack(String),
    /// A free neighbour dlmalloc would merge with, and so unlink, is not
    /// in its list as dlmalloc keeps it (its links written over), or the
    /// chunk says a free one precedes it where none can.
    Links(String),
}

/// Whether the free chunk at `c` sits in its list as dlmalloc keeps it:
/// its `fd` and `bk` (at `c + 8`, `c + 12`) point back at it
/// ([`links_point_back`]).
pub(crate) fn links_agree(memory: &[u8], c: u32) -> bool {
    links_point_back(memory, c, 8, 12)
}

/// Whether the list node at `c`, whose forward link is the word at
/// `c + fd` and backward link the word at `c + bk`, lies in a doubly
/// linked list as the generated checks read it
/// (`FuncTranslator::links_point_back`): the node and both neighbours
/// with 16 bytes inside memory, the forward neighbour's backward link
/// and the backward neighbour's forward link holding `c`.
pub(crate) fn links_point_back(memory: &[u8], c: u32, fd: u64, bk: u64) -> bool {
    let inside = |at: u32| u64::from(at) + 16 <= memory.len() as u64;
    let link = |at: u64| word_at(memory, u64::from(c) + at).filter(|&l| inside(l));
    let (Some(forward), Some(backward)) = (link(fd), link(bk)) else {
        return false;
    };
    inside(c)
        && word_at(memory, u64::from(forward) + bk) == Some(c)
        && word_at(memory, u64::from(backward) + fd) == Some(c)
}

/// What is wrong with `ptr` at `free` or `realloc`, given dlmalloc's
/// state at `state`: dlmalloc's own checks in its order, then the
/// generated check's step past them; `None` where all pass.
pub(crate) fn refused_pointer(
    memory: &[u8],
    state: u32,
    ptr: u32,
    slack_key: u32,
) -> Option<BadFree> {
    let least = word_at(memory, u64::from(state) + STATE_LEAST_ADDR)?;
    let chunk = ptr.wrapping_sub(PAYLOAD_OFFSET);
    if chunk < least {
        return Some(BadFree::Pointer(format!(
            "its chunk would lie at {chunk:#x}, below the heap's lowest byte {least:#x}"
        )));
    }
    let Some(head) = word_at(memory, u64::from(chunk) + 4) else {
        return Some(BadFree::Pointer(format!(
            "its chunk would lie at {chunk:#x}, its head past the end of memory"
        )));
    };
    if head & CINUSE == 0 {
        return Some(BadFree::Pointer(format!(
            "its chunk at {chunk:#x} is not in use (head {head:#x})"
        )));
    }
    let next = chunk.wrapping_add(head & !FLAG_BITS);
    if next <= chunk {
        return Some(BadFree::Pointer(format!(
            "its chunk at {chunk:#x} has a head {head:#x} that leads nowhere"
        )));
    }
    let Some(next_head) = word_at(memory, u64::from(next) + 4) else {
        return Some(BadFree::Pointer(format!(
            "its chunk at {chunk:#x} has a head {head:#x} that runs past the end of memory"
        )));
    };
    if next_head & PINUSE == 0 {
        return Some(BadFree::Successor(format!(
            "the chunk after its chunk at {chunk:#x} (at {next:#x}, head {next_head:#x}) says \
             it is free"
        )));
    }
    if head & SLACK_MARKED != 0 {
        if let Some((at, what)) =
            slack_broken(memory, u64::from(chunk), head & !FLAG_BITS, slack_key)
        {
            return Some(BadFree::Slack(format!("at {at:#x}, {what}")));
        }
    }
    // The free neighbours dlmalloc merges with (and unlinks): not the
    // top or the designated victim, which are in no list.
    let top = word_at(memory, u64::from(state) + STATE_TOP)?;
    let dv = word_at(memory, u64::from(state) + STATE_DV)?;
    if head & PINUSE == 0 {
        let prev_size = word_at(memory, u64::from(chunk))?;
        let prev = chunk.wrapping_sub(prev_size);
        if prev_size < MIN_CHUNK || prev < least || prev >= chunk {
            return Some(BadFree::Links(format!(
                "its chunk at {chunk:#x} says the chunk before it is free and {prev_size} \
                 bytes long, which would put it outside the heap"
            )));
        }
        if prev != dv && !links_agree(memory, prev) {
            return Some(BadFree::Links(format!(
                "the free chunk before its chunk at {chunk:#x} (at {prev:#x}) is not in its \
                 free list: its links do not point back at it"
            )));
        }
    }
    if next_head & CINUSE == 0 && next != top && next != dv && !links_agree(memory, next) {
        return Some(BadFree::Links(format!(
            "the free chunk after its chunk at {chunk:#x} (at {next:#x}) is not in its free \
             list: its links do not point back at it"
        )));
    }
    // One step further (the generated check's): the successor, unless
    // the top or a fence post, leads to a chunk inside memory that agrees
    // with it.
    if next == top || next_head == FENCE_POST {
        return None;
    }
    let after = next.wrapping_add(next_head & !FLAG_BITS);
    let after_head = (after > next)
        .then(|| word_at(memory, u64::from(after) + 4))
        .flatten();
    let Some(after_head) = after_head else {
        return Some(BadFree::Successor(format!(
            "the chunk after its chunk at {chunk:#x} (at {next:#x}) has a head {next_head:#x} \
             that leads nowhere"
        )));
    };
    if (after_head & PINUSE != 0) != (next_head & CINUSE != 0) {
        return Some(BadFree::Successor(format!(
            "the chunk after its chunk at {chunk:#x} (at {next:#x}, head {next_head:#x}) and \
             the one after that (at {after:#x}, head {after_head:#x}) disagree on whether it is \
             in use"
        )));
    }
    None
}

/// `free` or `realloc` was handed a pointer dlmalloc refuses
/// ([`walmart_jit::vmctx::HookPoint::FreeCheck`]; the pointer in
/// `heap_arg`): wasi-libc's dlmalloc ignores it as a usage error, so the
/// double free, or the free of a pointer it never returned, is reported
/// here (once a session, as a `heap-corrupt` event of source
/// `free-check`). Returns whether the guest must stop.
pub(crate) fn free_check(store: &mut StoreOpaque, site: &dyn Fn(&StoreOpaque) -> HookSite) -> bool {
    let Some((ptr, at)) = entry_call(store) else {
        return false;
    };
    let s = store.attest.as_deref().expect("entry_call found it");
    if s.bad_free_reported {
        return false;
    }
    let key = s.shared.state.heap_slack_key.load(Ordering::Relaxed);
    let Some(bad) = refused_pointer(store.memories[0].bytes(), at, ptr, key) else {
        Counters::add(&s.shared.counters.free_checks_unconfirmed, 1);
        return false;
    };
    let hook = site(store);
    let s = store.attest.as_deref_mut().expect("checked above");
    s.bad_free_reported = true;
    let callee = callee(&hook, "the allocator's free");
    let detail = match bad {
        BadFree::Pointer(why) => format!(
            "{callee} was handed {ptr:#x}, which dlmalloc did not return or already freed \
             (a double free or an invalid free): {why}"
        ),
        BadFree::Successor(why) => format!(
            "{callee} was handed {ptr:#x}, a chunk whose successor's head was written over \
             (a heap overflow): {why}"
        ),
        BadFree::Slack(why) => format!(
            "{callee} was handed {ptr:#x}, a chunk the program wrote past the end of: {why}"
        ),
        BadFree::Links(why) => format!(
            "{callee} was handed {ptr:#x}, whose chunk dlmalloc would merge with a free \
             neighbour whose list links were written over (a use after free or an overflow; \
             wasi-libc's dlmalloc does not check them, and would write through them): {why}"
        ),
    };
    let page = ptr.wrapping_sub(PAYLOAD_OFFSET) / PAGE_SIZE as u32;
    report(s, hook, page, "free-check", detail);
    s.stop_requested()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A heap image built chunk by chunk as dlmalloc lays it out.
    struct Heap {
        mem: Vec<u8>,
        at: u32,
        prev_in_use: bool,
    }

    const BASE: u32 = 0x1000;
    /// A bin header (a pseudo-chunk whose `fd` and `bk` head a list), as
    /// dlmalloc keeps them in its state.
    const BIN: u32 = 0x100;

    impl Heap {
        fn new() -> Heap {
            let mut h = Heap {
                mem: vec![0xAA; 0x4000],
                at: BASE,
                prev_in_use: true,
            };
            h.put(BIN + 8, BIN);
            h.put(BIN + 12, BIN);
            h
        }
        fn put(&mut self, at: u32, v: u32) {
            self.mem[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
        }
        fn get(&self, at: u32) -> u32 {
            u32::from_le_bytes(self.mem[at as usize..at as usize + 4].try_into().unwrap())
        }
        fn used(&mut self, size: u32) -> u32 {
            let c = self.at;
            self.put(c + 4, size | CINUSE | u32::from(self.prev_in_use));
            self.prev_in_use = true;
            self.at += size;
            c
        }
        /// A free chunk, put at the front of the bin's list.
        fn free(&mut self, size: u32) -> u32 {
            let c = self.unlinked(size);
            let first = self.get(BIN + 8);
            self.put(c + 8, first);
            self.put(c + 12, BIN);
            self.put(first + 12, c);
            self.put(BIN + 8, c);
            c
        }
        /// A free chunk in no list, as the designated victim is (its links
        /// are whatever they were).
        fn unlinked(&mut self, size: u32) -> u32 {
            let c = self.at;
            self.put(c + 4, size | u32::from(self.prev_in_use));
            self.put(c + size, size);
            self.prev_in_use = false;
            self.at += size;
            c
        }
        /// The top chunk and its trailer.
        fn top(&mut self, size: u32) {
            self.put(self.at + 4, size | u32::from(self.prev_in_use));
            self.put(self.at + size + 4, 56);
            self.at += size + 56;
        }
        fn walk(&self) -> Result<Walked, Broken> {
            walk(&self.mem, BASE + PAYLOAD_OFFSET, u64::MAX, None, 0)
        }
    }

    fn typical() -> (Heap, Vec<u32>) {
        let mut h = Heap::new();
        let chunks = vec![
            h.used(32),
            h.used(48),
            h.free(64),
            h.used(16),
            h.free(128),
            h.used(4096),
        ];
        h.top(1024);
        (h, chunks)
    }

    #[test]
    fn an_intact_heap_walks_to_the_top_chunk() {
        let (h, _) = typical();
        assert_eq!(
            h.walk(),
            Ok(Walked {
                chunks: 7,
                cut: false,
                top: Some(h.at - 1024 - 56),
            })
        );
        // Ends at a fence post as well, and stops where it is told to.
        let mut f = Heap::new();
        f.used(32);
        f.used(64);
        let at = f.at;
        f.put(at + 4, FENCE_POST);
        assert_eq!(f.walk().unwrap().chunks, 2);
        assert_eq!(
            walk(&h.mem, BASE + 8, 3, None, 0),
            Ok(Walked {
                chunks: 3,
                cut: true,
                top: None,
            })
        );
        // Nothing allocated yet: nothing to walk.
        assert_eq!(walk(&h.mem, 0, 10, None, 0).unwrap().chunks, 0);
    }

    #[test]
    fn a_byte_over_a_head_breaks_the_chain() {
        // The classic off-by-one: a NUL just past a 28-byte allocation
        // (chunk of 32) is the low byte of the next chunk's head.
        // The chunk before it is the first to fail: in use, but its
        // successor's bits now say it is free.
        let (mut h, c) = typical();
        h.mem[(c[1] + 4) as usize] = 0;
        let e = h.walk().unwrap_err();
        assert_eq!((e.at, e.chunk), (c[1] + 4, c[0]));
        assert!(e.what.contains("says it is free"), "{}", e.what);
        // A byte that keeps the bits but not the size.
        let (mut h, c) = typical();
        h.mem[(c[1] + 4) as usize] = 0x03;
        let e = h.walk().unwrap_err();
        assert_eq!((e.at, e.chunk), (c[1] + 4, c[1]));
        assert!(e.what.contains("below dlmalloc's minimum"), "{}", e.what);

        // Bits only: the in-use chunk's successor now says it is free.
        let (mut h, c) = typical();
        let head = h.get(c[1] + 4);
        h.put(c[1] + 4, head & !PINUSE);
        let e = h.walk().unwrap_err();
        assert_eq!(e.chunk, c[0]);
        assert!(e.what.contains("says it is free"), "{}", e.what);

        // A size that still looks like one, but leads into data.
        let (mut h, c) = typical();
        h.put(c[3] + 4, 0x30 | CINUSE);
        assert!(h.walk().is_err());

        // A freed chunk's footer overwritten (by an overflow of the chunk
        // before its successor... or a use after free of its last bytes).
        let (mut h, c) = typical();
        h.put(c[3], 0x4141_4141);
        let e = h.walk().unwrap_err();
        assert_eq!((e.at, e.chunk), (c[3], c[2]));
        assert!(e.what.contains("footer"), "{}", e.what);

        // Attacker bytes over a whole stretch.
        let (mut h, c) = typical();
        for b in &mut h.mem[c[1] as usize..c[4] as usize] {
            *b = b'E';
        }
        assert!(h.walk().is_err());

        // Two free neighbours, and a size past the end of memory.
        let (mut h, c) = typical();
        let head = h.get(c[3] + 4);
        h.put(c[3] + 4, head & !CINUSE);
        assert!(h.walk().unwrap_err().what.contains("so is its successor"));
        let (mut h, c) = typical();
        h.put(c[0] + 4, 0x7fff_fff0 | CINUSE | PINUSE);
        assert!(h.walk().unwrap_err().what.contains("past the end"));
    }

    #[test]
    fn a_write_over_a_freed_chunks_links_is_found() {
        // A use after free writes its pointer over `fd`: the chunk no
        // longer points back at its neighbour, nor the neighbour at it.
        let mut h = Heap::new();
        let c = [h.used(32), h.free(64), h.used(48), h.free(32), h.used(16)];
        h.unlinked(80);
        h.used(32);
        h.top(512);
        assert_eq!(h.walk().unwrap().chunks, 8);
        h.put(c[3] + 8, 0x4141_4141);
        let e = h.walk().unwrap_err();
        assert_eq!((e.at, e.chunk), (c[3] + 8, c[3]));
        assert!(e.what.contains(&format!("{:#x}", c[1])), "{}", e.what);
        // Over `bk` as well.
        let (mut h, c) = typical();
        h.put(c[2] + 12, 0x10);
        assert!(h.walk().unwrap_err().what.contains("not in a free list"));

        // A chunk alone in its list has only bin headers for neighbours:
        // overwritten, it is the one chunk out of the lists the walk
        // allows, as if it were the designated victim; beside the
        // designated victim it is found.
        let mut h = Heap::new();
        h.used(32);
        let alone = h.free(48);
        h.used(16);
        h.top(256);
        h.put(alone + 8, 0x4141_4141);
        assert!(h.walk().is_ok());
        let mut h = Heap::new();
        h.used(32);
        let alone = h.free(48);
        h.used(16);
        let victim = h.unlinked(64);
        h.used(16);
        h.top(256);
        assert!(h.walk().is_ok());
        h.put(alone + 8, 0x4141_4141);
        let e = h.walk().unwrap_err();
        assert_eq!(e.chunk, victim);
    }

    #[test]
    fn a_free_leader_before_the_first_chunk_is_where_the_walk_starts() {
        // `memalign` first: the leader it split off is free before the
        // first chunk recorded.
        let mut h = Heap::new();
        let leader = h.free(48);
        let first = h.used(64);
        h.used(32);
        h.top(256);
        assert_eq!(
            walk(&h.mem, first + PAYLOAD_OFFSET, u64::MAX, None, 0),
            Ok(Walked {
                chunks: 4,
                cut: false,
                top: Some(h.at - 256 - 56),
            })
        );
        // Not when the leader's head disagrees with the footer.
        h.put(leader + 4, 0x30);
        assert!(walk(&h.mem, first + PAYLOAD_OFFSET, u64::MAX, None, 0).is_err());
    }

    #[test]
    fn a_top_chunk_of_eight_bytes_ends_the_chain() {
        // dlmalloc built with 8-byte alignment: top may be 8 bytes, and its
        // trailer head is 40.
        let mut h = Heap::new();
        h.used(24);
        let top = h.at;
        h.put(top + 4, 8 | PINUSE);
        h.put(top + 12, 40);
        assert_eq!(h.walk().unwrap().chunks, 2);
    }

    #[test]
    fn a_first_chunk_without_pinuse_is_refused() {
        let (mut h, _) = typical();
        let head = h.get(BASE + 4);
        h.put(BASE + 4, head & !PINUSE);
        assert!(h.walk().unwrap_err().what.contains("first chunk"));
    }

    /// Where the tests lay out dlmalloc's state: below the heap, above
    /// the bin header `BIN` the other tests use.
    const STATE: u32 = 0x400;

    /// Lays out dlmalloc's state for `h`: every small bin empty (its
    /// header pointing at itself) but bin `used_bin`, which holds the
    /// chunk at `in_bin`; the top at `top`, and a designated victim.
    fn lay_state(h: &mut Heap, top: u32, dv: Option<(u32, u32)>, bin: Option<(u32, u32)>) {
        let topsize = h.get(top + 4) & !FLAG_BITS;
        let mut map = 0;
        for i in 0..SMALL_BINS as u32 {
            let header = STATE + STATE_SMALLBINS as u32 + 8 * i;
            let first = match bin {
                Some((b, chunk)) if b == i => {
                    map |= 1 << i;
                    h.put(chunk + 8, header);
                    h.put(chunk + 12, header);
                    chunk
                }
                _ => header,
            };
            h.put(header + 8, first);
            h.put(header + 12, first);
        }
        h.put(STATE + STATE_SMALLMAP as u32, map);
        h.put(STATE + STATE_TOPSIZE as u32, topsize);
        h.put(STATE + STATE_TOP as u32, top);
        h.put(STATE + STATE_LEAST_ADDR as u32, BASE);
        h.put(STATE + STATE_MAGIC as u32, 0x5555_1234);
        let (dv, dvsize) = dv.unwrap_or((0, 0));
        h.put(STATE + STATE_DV as u32, dv);
        h.put(STATE + STATE_DVSIZE as u32, dvsize);
    }

    /// A heap with a chunk in a small bin, a designated victim and the
    /// state that says so: (heap, top, the binned chunk, the victim).
    fn with_state() -> (Heap, u32, u32, u32) {
        let mut h = Heap::new();
        h.used(32);
        let binned = h.unlinked(48);
        h.used(16);
        let victim = h.unlinked(64);
        h.used(16);
        let top = h.at;
        h.top(512);
        lay_state(&mut h, top, Some((victim, 64)), Some((6, binned)));
        (h, top, binned, victim)
    }

    /// The pages a search for the state reads first (written since the
    /// image) and last (still the image's), in runs.
    #[test]
    fn pages_are_searched_in_runs_written_first() {
        let p = PAGE_SIZE;
        // Pages 1, 2 and 4 still the image's; the end inside page 5.
        let (written, still) = page_runs(&[0b10110], 5 * p + 12);
        assert_eq!(written, [0..p, 3 * p..4 * p, 5 * p..5 * p + 12]);
        assert_eq!(still, [p..3 * p, 4 * p..5 * p]);
        // Pages past the bitmap's end were written; page 64 is named.
        let (written, still) = page_runs(&[0], 2 * p);
        assert_eq!(written, std::iter::once(0..2 * p).collect::<Vec<_>>());
        assert!(still.is_empty());
        let (written, still) = page_runs(&[], p);
        assert_eq!(written, std::iter::once(0..p).collect::<Vec<_>>());
        assert!(still.is_empty());
        let (written, still) = page_runs(&[0, 1], 66 * p);
        assert_eq!(written, [0..64 * p, 65 * p..66 * p]);
        assert_eq!(still, std::iter::once(64 * p..65 * p).collect::<Vec<_>>());
        assert_eq!(page_runs(&[u64::MAX], 0), (vec![], vec![]));
    }

    #[test]
    fn the_allocators_state_is_found_by_its_signature_and_checks_the_top() {
        let (mut h, top, _, _) = with_state();
        let walked = h.walk().unwrap();
        assert_eq!(walked.top, Some(top));
        let at = locate_state(&h.mem, BASE, top, None, None).expect("the state");
        assert_eq!(at, STATE);
        // In a memory from an image: found in a page written since, and in
        // one still as the image holds it (page 0 here) after the others.
        for still in [&[][..], &[0], &[0b1], &[u64::MAX]] {
            let found = locate_state(&h.mem, BASE, top, None, Some(still));
            assert_eq!(found, Some(STATE), "{still:?}");
        }
        // Where the code reads it, or a hint elsewhere and the search.
        for hint in [STATE, STATE + 4, 0, BASE + 64] {
            assert_eq!(
                locate_state(&h.mem, BASE, top, Some(hint), None),
                Some(STATE)
            );
        }
        let view = read_state(&h.mem, at).unwrap();
        assert_eq!(
            view,
            StateView {
                at: STATE,
                top,
                topsize: 512,
                dv: Some(BASE + 32 + 48 + 16),
                dvsize: 64,
            }
        );
        assert!(walk(&h.mem, BASE + PAYLOAD_OFFSET, u64::MAX, Some(view), 0).is_ok());
        // Not above the heap's first chunk, and not with a bin whose links
        // disagree with the bin map.
        // The hint is checked as any other place.
        for hint in [None, Some(STATE)] {
            assert_eq!(locate_state(&h.mem, STATE + 8, top, hint, None), None);
            let header = STATE + STATE_SMALLBINS as u32 + 8 * 9;
            h.put(header + 8, 0x2000);
            assert_eq!(locate_state(&h.mem, BASE, top, hint, None), None);
            h.put(header + 8, header);
            assert_eq!(locate_state(&h.mem, BASE, top, hint, None), Some(STATE));
            // An empty bin whose links still name the chunk it held last,
            // both of them, as dlmalloc leaves one it took its only chunk
            // from; one link alone is not that.
            h.put(header + 8, BASE + 32);
            h.put(header + 12, BASE + 32);
            assert_eq!(locate_state(&h.mem, BASE, top, hint, None), Some(STATE));
            h.put(header + 12, BASE + 48);
            assert_eq!(locate_state(&h.mem, BASE, top, hint, None), None);
            h.put(header + 8, header);
            h.put(header + 12, header);
            assert_eq!(locate_state(&h.mem, BASE, top, hint, None), Some(STATE));
        }
        // Nor when the top's head is not what dlmalloc writes there.
        h.put(top + 4, 512);
        assert_eq!(locate_state(&h.mem, BASE, top, Some(STATE), None), None);
        assert_eq!(locate_state(&h.mem, BASE, top, None, None), None);
    }

    /// A heap over pages 1-3 as a module image holds it: in-use chunks,
    /// one free chunk in small bin 6, the top at 0x3000: (heap, state,
    /// the free chunk).
    fn imaged() -> (Heap, StateView, u32) {
        let mut h = Heap::new();
        for _ in 0..8 {
            h.used(256);
        }
        let binned = h.unlinked(48);
        h.used(16);
        h.used(0x7c0);
        h.used(0x800);
        h.used(0x800);
        let top = h.at;
        assert_eq!(top, 0x3000);
        h.top(512);
        lay_state(&mut h, top, None, Some((6, binned)));
        let view = read_state(&h.mem, STATE).unwrap();
        (h, view, binned)
    }

    /// A module image's heap is found from the second walk that asks for
    /// it knowing dlmalloc's state (the first, a single run's last, would
    /// pay a whole walk of the image to save part of its own), and kept.
    #[test]
    fn an_images_heap_is_found_when_a_second_walk_asks() {
        use std::io::Write;
        use std::os::fd::{AsFd, FromRawFd, OwnedFd};
        let (h, _, _) = imaged();
        // SAFETY: a fresh descriptor, owned by the `File` at once.
        let fd =
            unsafe { libc::memfd_create(c"walmart-image-heap-test".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: as above.
        let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.write_all(&h.mem).unwrap();
        let len = h.mem.len().next_multiple_of(walmart_attest::PAGE_SIZE);
        file.set_len(len as u64).unwrap();
        let pages = (0..(len / walmart_attest::PAGE_SIZE) as u32).collect();
        let image = crate::attest::image_pages::ImagePages::new(file.as_fd(), 0, 0, len, pages)
            .expect("a view of the image");
        assert!(
            image.heap(None).is_none(),
            "nothing asked with the state yet"
        );
        assert!(image.heap(Some(STATE)).is_none(), "the first ask");
        let heap = image.heap(Some(STATE)).expect("the second ask");
        assert_eq!(heap.chunks.len(), 14);
        assert!(image.heap(None).is_some(), "kept, asked with or without");
    }

    #[test]
    fn a_walk_steps_over_chunks_still_as_the_image_holds_them() {
        let (h, view, binned) = imaged();
        let first = BASE + PAYLOAD_OFFSET;
        let heap = image_heap(&h.mem, STATE).expect("a whole heap");
        assert_eq!(heap.chunks.len(), 14);
        let header = STATE + STATE_SMALLBINS as u32 + 8 * 6;
        assert_eq!(heap.reads[8], ChunkReads::Links(header + 12, header + 8));
        assert_eq!(heap.reads[13], ChunkReads::Everything, "the top");
        assert_eq!(
            heap.reads
                .iter()
                .filter(|&&r| r == ChunkReads::Nothing)
                .count(),
            12
        );
        let all = [0b1111u64];
        let unchanged = Unchanged {
            heap: &heap,
            pages: &all,
        };
        let whole = walk_heap(&h.mem, first, u64::MAX, Some(view), 0, None).unwrap();
        let over = walk_heap(&h.mem, first, u64::MAX, Some(view), 0, Some(&unchanged)).unwrap();
        assert_eq!(whole, over, "the same count of chunks, and the same top");
        // A head in a page that is still the image's is not read (it could
        // not differ from the image's)...
        let mut changed = h.mem.clone();
        changed[0x1304..0x1308].copy_from_slice(&8u32.to_le_bytes());
        assert!(walk_heap(&changed, first, u64::MAX, Some(view), 0, Some(&unchanged)).is_ok());
        // ...where it is written, it is.
        let written = [0b1101u64];
        let page_written = Unchanged {
            heap: &heap,
            pages: &written,
        };
        let e = walk_heap(
            &changed,
            first,
            u64::MAX,
            Some(view),
            0,
            Some(&page_written),
        )
        .unwrap_err();
        assert_eq!(e.at, 0x1304, "{e:?}");
        // A small free chunk in a list is stepped over where the words
        // that point back at it (here its bin's header, in the state) are
        // unchanged too; where they were written, the walk reads it.
        let steps = |u: &Unchanged<'_>| {
            let mut cursor = StepCursor::default();
            let mut at = u64::from(BASE);
            let mut stops = vec![at];
            while let Some((to, _)) = u.step_from(at, &mut cursor, Some(view), u64::MAX) {
                at = to;
                stops.push(at);
            }
            stops
        };
        assert_eq!(steps(&unchanged), [u64::from(BASE), 0x3000]);
        let state_written = [0b1110u64];
        let state_written = Unchanged {
            heap: &heap,
            pages: &state_written,
        };
        assert_eq!(steps(&state_written), [u64::from(BASE), u64::from(binned)]);
        let mut links = h.mem.clone();
        links[binned as usize + 8..binned as usize + 12].copy_from_slice(&0x2000u32.to_le_bytes());
        let e =
            walk_heap(&links, first, u64::MAX, Some(view), 0, Some(&state_written)).unwrap_err();
        assert_eq!(e.chunk, binned, "{e:?}");
        // Cut where a walk that reads every chunk would be.
        let cut = walk_heap(&h.mem, first, 3, Some(view), 0, Some(&unchanged)).unwrap();
        assert_eq!(
            cut,
            walk_heap(&h.mem, first, 3, Some(view), 0, None).unwrap()
        );
        // The chunks the state names are read: a designated victim where
        // the state says (its head is checked against it).
        let mut victim = view;
        victim.dv = Some(BASE + 0x300);
        let stop = Unchanged {
            heap: &heap,
            pages: &all,
        };
        let mut cursor = StepCursor::default();
        assert_eq!(
            stop.step_from(u64::from(BASE), &mut cursor, Some(victim), u64::MAX),
            Some((u64::from(BASE + 0x300), 3))
        );
        // No heap from an image whose chain is broken or holds slack marks
        // (checked with each run's key).
        assert!(image_heap(&changed, STATE).is_none());
        let mut marked = h.mem.clone();
        let head = h.get(0x1104) | SLACK_MARKED;
        marked[0x1104..0x1108].copy_from_slice(&head.to_le_bytes());
        assert!(image_heap(&marked, STATE).is_none());
    }

    #[test]
    fn a_byte_over_the_top_chunks_head_disagrees_with_the_state() {
        // The overflow past the last chunk carved from the top: the top's
        // head keeps its bits, or even a size that ends at a trailer-like
        // word, but no longer says what the state says.
        for byte in [0x01u8, 0xA1, 0x00, 0x41] {
            let (mut h, top, _, _) = with_state();
            let view = read_state(&h.mem, STATE).unwrap();
            h.mem[(top + 4) as usize] = byte;
            let r = walk(&h.mem, BASE + PAYLOAD_OFFSET, u64::MAX, Some(view), 0);
            if byte == 0x01 {
                // 0x201 is what the head held: nothing changed.
                assert!(r.is_ok(), "{r:?}");
                continue;
            }
            // (A byte that clears `PINUSE` fails the chunk before the top
            // first: in use, but its successor says it is free.)
            let e = r.unwrap_err();
            assert_eq!(e.at, top + 4, "{byte:#x}");
            assert!(
                e.what.contains("top chunk's head") || e.what.contains("says it is free"),
                "{}",
                e.what
            );
        }
        // A bit set high in the head (Oniguruma's CVE-2017-9226 in the
        // Wasm build).
        let (mut h, top, _, _) = with_state();
        let view = read_state(&h.mem, STATE).unwrap();
        h.mem[(top + 7) as usize] |= 0x80;
        let e = walk(&h.mem, BASE + PAYLOAD_OFFSET, u64::MAX, Some(view), 0).unwrap_err();
        assert_eq!(e.at, top + 4);
    }

    #[test]
    fn with_the_state_only_the_designated_victim_is_out_of_the_lists() {
        let (mut h, _, binned, victim) = with_state();
        let view = read_state(&h.mem, STATE).unwrap();
        // The binned chunk alone in its bin has only bin headers for
        // neighbours: a write over its links is found now, as it is not
        // the victim the state names.
        h.put(binned + 8, 0x4141_4141);
        let e = walk(&h.mem, BASE + PAYLOAD_OFFSET, u64::MAX, Some(view), 0).unwrap_err();
        assert_eq!((e.at, e.chunk), (binned + 8, binned));
        assert!(e.what.contains(&format!("{victim:#x}")), "{}", e.what);
        // Without the state it passes for the victim.
        let (mut h, _, binned, _) = with_state();
        h.put(STATE + STATE_DVSIZE as u32, 0);
        h.put(binned + 8, 0x4141_4141);
        assert!(h.walk().is_err());
        let view = read_state(&h.mem, STATE).unwrap();
        assert_eq!(view.dv, None);
        let e = walk(&h.mem, BASE + PAYLOAD_OFFSET, u64::MAX, Some(view), 0).unwrap_err();
        assert!(e.what.contains("no designated victim"), "{}", e.what);
    }

    #[test]
    fn without_names_a_scan_finds_the_state_and_the_first_chunk() {
        let (mut h, _, _, _) = with_state();
        let all = 0..h.mem.len();
        let (view, least) = scan_for_state(&h.mem, all.clone()).expect("the state");
        assert_eq!((view, least), (read_state(&h.mem, STATE).unwrap(), BASE));
        assert_eq!(first_payload(&h.mem, view, least, 0), BASE + PAYLOAD_OFFSET);
        // Only bins whose links lie inside the range are looked at (the
        // last bin's links are the 8 bytes past its header).
        let bins_end = (STATE + STATE_SMALLBINS as u32 + 8 * SMALL_BINS as u32 + 8) as usize;
        assert_eq!(scan_for_state(&h.mem, bins_end..h.mem.len()), None);
        assert!(scan_for_state(&h.mem, bins_end - 8..bins_end).is_some());
        // Not a state that lies above its heap's lowest byte.
        h.put(STATE + STATE_LEAST_ADDR as u32, STATE);
        assert_eq!(scan_for_state(&h.mem, all.clone()), None);
        h.put(STATE + STATE_LEAST_ADDR as u32, BASE);
        // Not one whose bin disagrees with the bin map.
        let header = STATE + STATE_SMALLBINS as u32 + 8 * 9;
        h.put(header + 8, 0x2000);
        assert_eq!(scan_for_state(&h.mem, all), None);
        // Nothing in a heap without a state, nor past the end of memory.
        let (h, _) = typical();
        assert_eq!(scan_for_state(&h.mem, 0..h.mem.len()), None);
        assert_eq!(scan_for_state(&h.mem, 0x3ffe..0x10000), None);
    }

    #[test]
    fn without_names_a_sixteen_aligned_heap_starts_past_its_segments_base() {
        // wasi-libc aligns payloads to 16: a segment starting at BASE puts
        // its first chunk 8 bytes in.
        let mut h = Heap::new();
        h.at = BASE + 8;
        h.used(32);
        h.used(64);
        h.used(16);
        let top = h.at;
        h.top(512);
        lay_state(&mut h, top, None, None);
        let (view, least) = scan_for_state(&h.mem, 0..h.mem.len()).unwrap();
        assert_eq!(least, BASE);
        assert_eq!(first_payload(&h.mem, view, least, 0), BASE + 16);
    }

    #[test]
    fn a_heap_of_two_segments_is_walked_through_both() {
        // The first segment, left for another (its old top turned into
        // fence posts), and the second, which holds the top.
        let second = BASE + 0x800;
        let build = || {
            let mut h = Heap::new();
            h.used(32);
            h.used(48);
            let fence = h.at;
            h.put(fence + 4, FENCE_POST);
            h.at = second;
            h.prev_in_use = true;
            h.used(64);
            let last = h.used(32);
            let top = h.at;
            h.top(256);
            lay_state(&mut h, top, None, None);
            // The newest segment's record in the state, the older one's
            // kept elsewhere (dlmalloc keeps it in the older segment's
            // tail).
            let record = 0x300;
            let seg = STATE + STATE_SEG as u32;
            h.put(seg, second);
            h.put(seg + 4, 0x400);
            h.put(seg + 8, record);
            h.put(record, BASE);
            h.put(record + 4, 0x100);
            h.put(record + 8, 0);
            (h, last, top)
        };
        let (mut h, last, top) = build();
        let view = read_state(&h.mem, STATE).unwrap();
        let first = BASE + PAYLOAD_OFFSET;
        // The first segment alone ends at its fence post.
        let alone = walk(&h.mem, first, u64::MAX, Some(view), 0).unwrap();
        assert_eq!((alone.chunks, alone.top), (2, None));
        let both = walk_heap(&h.mem, first, u64::MAX, Some(view), 0, None).unwrap();
        assert_eq!((both.chunks, both.top, both.cut), (5, Some(top), false));
        // A byte over a head in the second segment is found.
        h.put(last + 4, 0x4141_4141);
        let e = walk_heap(&h.mem, first, u64::MAX, Some(view), 0, None).unwrap_err();
        assert_eq!(e.chunk, last);
        // A segment list that is not dlmalloc's (a cycle, a segment past
        // memory) leaves the walk at the first segment.
        for (at, v) in [(0x308u32, 0x300u32), (0x304, 0x10_0000)] {
            let (mut h, _, _) = build();
            h.put(at, v);
            let w = walk_heap(&h.mem, first, u64::MAX, Some(view), 0, None).unwrap();
            assert_eq!(w.chunks, 2, "{at:#x}");
        }
        // The walk's budget holds across segments.
        let (h, _, _) = build();
        let cut = walk_heap(&h.mem, first, 3, Some(view), 0, None).unwrap();
        assert!(cut.cut && cut.chunks <= 3, "{cut:?}");
        // With the state, the heap is its segments: memory another module
        // grew between them is not dlmalloc's, inside one it is.
        let w = walk_heap(&h.mem, first, u64::MAX, Some(view), 0, None).unwrap();
        let grew = |start: u32, end: u32| ForeignGrow {
            start: start.into(),
            end: end.into(),
            module: "module `adapter`".into(),
        };
        let between = [grew(BASE + 0x100, second)];
        assert_eq!(
            foreign_in_heap(&h.mem, first, Some(view), &w, &between),
            None
        );
        let inside = [grew(BASE + 0x100, second + 0x10)];
        let (_, span) = foreign_in_heap(&h.mem, first, Some(view), &w, &inside).unwrap();
        assert_eq!(span, (u64::from(second), u64::from(second) + 0x400));
    }

    #[test]
    fn memory_another_module_grew_inside_the_heap_is_found() {
        let grew = |start: u32, end: u32| ForeignGrow {
            start: start.into(),
            end: end.into(),
            module: "module `adapter`".into(),
        };
        // Without the state: from the first chunk to the top's end.
        let (h, _) = typical();
        let first = BASE + PAYLOAD_OFFSET;
        let w = h.walk().unwrap();
        let top_end = u64::from(h.at - 56);
        assert_eq!(foreign_in_heap(&h.mem, first, None, &w, &[]), None);
        let inside = [grew(0x100, BASE), grew(h.at - 0x200, h.at + 0x1000)];
        let (g, span) = foreign_in_heap(&h.mem, first, None, &w, &inside).unwrap();
        assert_eq!(
            (g.start, span),
            (u64::from(h.at - 0x200), (u64::from(BASE), top_end))
        );
        // Past the top's end, or before the heap: dlmalloc's own bytes
        // are not another's.
        let outside = [grew(0x100, BASE), grew(h.at, h.at + 0x1000)];
        assert_eq!(foreign_in_heap(&h.mem, first, None, &w, &outside), None);
        // A chain cut short, or one that ends at a fence post, gives no
        // extent without the state.
        let cut = Walked { top: None, ..w };
        assert_eq!(foreign_in_heap(&h.mem, first, None, &cut, &inside), None);
    }

    #[test]
    fn tree_bins_are_dlmallocs() {
        for (size, index) in [
            (256, 0),
            (384, 1),
            (512, 2),
            (768, 3),
            (1040, 4),
            (0xff_fff0, 31),
            (0x100_0000, 31),
        ] {
            assert_eq!(tree_index(size), index, "{size}");
        }
    }

    #[test]
    fn a_write_into_a_freed_large_chunks_tree_fields_is_found() {
        // A free chunk of 512 bytes alone in tree bin 2: its ring of one,
        // its bin's slot for a parent, no children.
        let build = || {
            let mut h = Heap::new();
            h.used(32);
            let big = h.unlinked(512);
            h.used(16);
            let top = h.at;
            h.top(256);
            lay_state(&mut h, top, None, None);
            let slot = STATE + STATE_TREEBINS as u32 + 4 * 2;
            h.put(slot, big);
            h.put(big + 8, big);
            h.put(big + 12, big);
            h.put(big + 16, 0);
            h.put(big + 20, 0);
            h.put(big + 24, slot);
            h.put(big + 28, 2);
            (h, big)
        };
        let (h, _) = build();
        let view = read_state(&h.mem, STATE).unwrap();
        let first = BASE + PAYLOAD_OFFSET;
        assert!(walk(&h.mem, first, u64::MAX, Some(view), 0).is_ok());
        // The index, the parent, a child: each found, at its word.
        for (off, value, says) in [
            (28, 3, "tree bin 3"),
            (24, 0x4141_4141, "parent"),
            (16, 0x300, "child"),
        ] {
            let (mut h, big) = build();
            h.put(big + off, value);
            let e = walk(&h.mem, first, u64::MAX, Some(view), 0).unwrap_err();
            assert_eq!((e.at, e.chunk), (big + off, big), "{off}");
            assert!(e.what.contains(says), "{}", e.what);
        }
        // A chunk of a ring that is not its tree node (no parent) is
        // checked for its index only.
        let (mut h, big) = build();
        h.put(big + 24, 0);
        h.put(big + 16, 0x4141_4141);
        assert!(walk(&h.mem, first, u64::MAX, Some(view), 0).is_ok());
    }

    #[test]
    fn free_refuses_what_dlmalloc_refuses() {
        let (mut h, _, binned, _) = with_state();
        let payload = |c: u32| c + PAYLOAD_OFFSET;
        let pointer = |h: &Heap, p: u32| match refused_pointer(&h.mem, STATE, p, 0) {
            Some(BadFree::Pointer(why)) => why,
            other => panic!("{p:#x}: {other:?}"),
        };
        let successor = |h: &Heap, p: u32| match refused_pointer(&h.mem, STATE, p, 0) {
            Some(BadFree::Successor(why)) => why,
            other => panic!("{p:#x}: {other:?}"),
        };
        // Chunks in use, the one before the top included: taken.
        assert_eq!(refused_pointer(&h.mem, STATE, payload(BASE), 0), None);
        let before_top = BASE + 32 + 48 + 16 + 64;
        assert_eq!(refused_pointer(&h.mem, STATE, payload(before_top), 0), None);
        // A freed one (the double free), one below the heap.
        assert!(pointer(&h, payload(binned)).contains("is not in use"));
        assert!(pointer(&h, 0x10).contains("below the heap's lowest byte 0x1000"));
        // The freed chunk's head rewritten as in use: with a size that
        // leads backwards, then with its own, whose successor still says
        // it is free, then with one past the end of memory.
        h.put(binned + 4, 0xffff_fff0 | CINUSE | PINUSE);
        assert!(pointer(&h, payload(binned)).contains("leads nowhere"));
        h.put(binned + 4, 48 | CINUSE | PINUSE);
        assert!(successor(&h, payload(binned)).contains("says it is free"));
        h.put(binned + 4, 0x0100_0000 | CINUSE | PINUSE);
        assert!(pointer(&h, payload(binned)).contains("past the end of memory"));
        // A pointer whose chunk's head lies past the end of memory (free(1)
        // wraps below 2^32): dlmalloc's read of the head would trap.
        for p in [u32::MAX - 2, 1, h.mem.len() as u32 + 4] {
            assert!(
                pointer(&h, p).contains("its head past the end of memory"),
                "{p:#x}"
            );
        }
        // The chunk freed after its own overflow over its successor's
        // head, bits kept but the size changed, or made to lead nowhere.
        let (mut h, _, binned, _) = with_state();
        let first = BASE;
        h.put(binned + 4, 0x4141_4141 | PINUSE);
        assert!(successor(&h, payload(first)).contains("leads nowhere"));
        h.put(binned + 4, 32 | CINUSE | PINUSE);
        assert!(successor(&h, payload(first)).contains("disagree"));
    }

    #[test]
    fn a_byte_past_the_request_over_the_slacks_marks_is_found() {
        // The first chunk (32 bytes, 28 of payload with its successor's
        // `prev_foot`) marked as generated code marks a 13-byte request:
        // 15 bytes of slack, the last in that `prev_foot`.
        let mark = |h: &mut Heap| {
            let head = h.get(BASE + 4);
            h.put(BASE + 4, head | SLACK_MARKED);
            h.mem[(BASE + 8 + 13) as usize] = 15;
            h.mem[(BASE + 35) as usize] = 15;
        };
        let (mut h, _, _, _) = with_state();
        mark(&mut h);
        assert!(h.walk().is_ok());
        assert_eq!(refused_pointer(&h.mem, STATE, BASE + 8, 0), None);
        assert_eq!(slack_broken(&h.mem, u64::from(BASE), 32, 0), None);
        // Bytes between the marks are the slack's own: no finding.
        h.mem[(BASE + 8 + 16) as usize] = 0x41;
        assert!(h.walk().is_ok());
        // One byte past the request, over the first mark; then a mark that
        // says more than the payload holds, and none.
        for (at, byte, says) in [
            (
                BASE + 8 + 13,
                0u8,
                "first of the 15 bytes past its request holds 0x0",
            ),
            (BASE + 35, 29, "last byte 0x1d gives no length"),
            (BASE + 35, 0, "last byte 0x0 gives no length"),
        ] {
            let (mut h, _, _, _) = with_state();
            mark(&mut h);
            h.mem[at as usize] = byte;
            let broken = h.walk().unwrap_err();
            assert_eq!((broken.at, broken.chunk), (at, BASE), "{}", broken.what);
            assert!(broken.what.contains(says), "{}", broken.what);
            match refused_pointer(&h.mem, STATE, BASE + 8, 0) {
                Some(BadFree::Slack(why)) => assert!(why.contains(says), "{why}"),
                other => panic!("{other:?}"),
            }
        }
        // Unmarked, the same byte is the chunk's own.
        let (mut h, _, _, _) = with_state();
        h.mem[(BASE + 35) as usize] = 0;
        assert!(h.walk().is_ok());
        // Under a store's key the marks are the length's mark, and a byte
        // that says the length outright is an overflow too.
        let key = 0x9c;
        let keyed = walmart_jit::vmctx::slack_mark(15, key) as u8;
        let (mut h, _, _, _) = with_state();
        let head = h.get(BASE + 4);
        h.put(BASE + 4, head | SLACK_MARKED);
        h.mem[(BASE + 8 + 13) as usize] = keyed;
        h.mem[(BASE + 35) as usize] = keyed;
        let walk = |h: &Heap| walk(&h.mem, BASE + PAYLOAD_OFFSET, u64::MAX, None, key);
        assert!(walk(&h).is_ok());
        assert_eq!(refused_pointer(&h.mem, STATE, BASE + 8, key), None);
        h.mem[(BASE + 8 + 13) as usize] = 15;
        let broken = walk(&h).unwrap_err();
        assert!(
            broken.what.contains("holds 0xf where its mark"),
            "{}",
            broken.what
        );
        assert!(matches!(
            refused_pointer(&h.mem, STATE, BASE + 8, key),
            Some(BadFree::Slack(_))
        ));
    }

    #[test]
    fn the_designated_victims_head_is_checked_against_the_state() {
        let (mut h, _, _, victim) = with_state();
        let view = read_state(&h.mem, STATE).unwrap();
        assert_eq!((view.dv, view.dvsize), (Some(victim), 64));
        let walk = |h: &Heap| walk(&h.mem, BASE + PAYLOAD_OFFSET, u64::MAX, Some(view), 0);
        assert!(walk(&h).is_ok());
        // Its size changed, bits kept (the chain itself still whole).
        h.put(victim + 4, 32 | PINUSE);
        h.put(victim + 32, 32);
        h.put(victim + 36, 32 | CINUSE);
        h.put(victim + 64 + 4, 16 | CINUSE | PINUSE);
        let broken = walk(&h).unwrap_err();
        assert_eq!(broken.at, victim + 4);
        assert!(
            broken
                .what
                .contains("victim's head 0x21 disagrees with the allocator's state, which says the victim is 64 bytes"),
            "{}",
            broken.what
        );
    }

    #[test]
    fn the_states_heads_are_checked_where_no_walk_reaches_them() {
        let (mut h, top, _, victim) = with_state();
        let view = read_state(&h.mem, STATE).unwrap();
        // A walk cut after two chunks reaches neither the victim nor the
        // top, and is whole.
        let cut = |h: &Heap| walk_heap(&h.mem, BASE + PAYLOAD_OFFSET, 2, Some(view), 0, None);
        assert!(cut(&h).is_ok_and(|w| w.cut));
        h.put(top + 4, 0x141);
        let broken = cut(&h).unwrap_err();
        assert_eq!((broken.at, broken.chunk), (top + 4, top));
        assert!(
            broken.what.contains("top chunk's head 0x141"),
            "{}",
            broken.what
        );
        let (mut h, _, _, _) = with_state();
        h.put(victim + 4, 0);
        let broken = cut(&h).unwrap_err();
        assert!(
            broken
                .what
                .contains("designated victim's head 0x0 disagrees"),
            "{}",
            broken.what
        );
        // A state whose victim lies past memory.
        let (h, _, _, _) = with_state();
        let far = StateView {
            dv: Some(0x7fff_0000),
            ..view
        };
        let broken = walk_heap(&h.mem, BASE + PAYLOAD_OFFSET, 2, Some(far), 0, None).unwrap_err();
        assert!(
            broken.what.contains("past the end of memory"),
            "{}",
            broken.what
        );
    }

    #[test]
    fn a_small_bins_first_chunk_is_checked_where_no_walk_reaches_it() {
        let (mut h, _, binned, _) = with_state();
        let view = read_state(&h.mem, STATE).unwrap();
        // A walk cut at the first chunk reaches no free chunk.
        let cut = |h: &Heap| walk_heap(&h.mem, BASE + PAYLOAD_OFFSET, 1, Some(view), 0, None);
        assert!(cut(&h).is_ok_and(|w| w.cut));
        for (at, says) in [
            (binned + 8, "fd 0x41414141, bk 0x458"),
            (binned + 12, "fd 0x458, bk 0x41414141"),
        ] {
            let (mut h, _, _, _) = with_state();
            h.put(at, 0x4141_4141);
            let broken = cut(&h).unwrap_err();
            assert_eq!((broken.at, broken.chunk), (binned + 8, binned));
            assert!(
                broken
                    .what
                    .contains("first chunk of small bin 6 (48-byte chunks)")
                    && broken.what.contains(says),
                "{}",
                broken.what
            );
        }
        // A bin's header written over to lead past memory.
        h.put(STATE + STATE_SMALLBINS as u32 + 8 * 6 + 8, 0xffff_fff0);
        let broken = cut(&h).unwrap_err();
        assert!(
            broken.what.contains("(fd past the end of memory"),
            "{}",
            broken.what
        );
    }

    #[test]
    fn the_top_chunks_free_bytes_must_hold_what_the_allocator_left() {
        let (mut h, top, _, _) = with_state();
        let view = read_state(&h.mem, STATE).unwrap();
        let from = (top + HEAP_TOP_COPY_FROM) as usize;
        let mut copy = TopCopy {
            top,
            bytes: [0; HEAP_TOP_COPIED as usize],
        };
        copy.bytes
            .copy_from_slice(&h.mem[from..from + HEAP_TOP_COPIED as usize]);
        assert_eq!(top_bytes_agree(&h.mem, view, &copy), Ok(()));
        // The byte past the copy, and the top's `prev_foot`: not compared.
        h.mem[from + HEAP_TOP_COPIED as usize] ^= 1;
        h.mem[top as usize] ^= 1;
        assert_eq!(top_bytes_agree(&h.mem, view, &copy), Ok(()));
        // A bit set in the last copied byte.
        h.mem[from + HEAP_TOP_COPIED as usize - 1] ^= 0x80;
        let broken = top_bytes_agree(&h.mem, view, &copy).unwrap_err();
        assert_eq!(broken.of, BrokenPart::TopBytes);
        assert_eq!((broken.at, broken.chunk), (top + 39, top));
        assert!(
            broken.what.starts_with(
                "byte 39 of the top chunk (free, 512 bytes) holds 0x2a where it held 0xaa"
            ),
            "{}",
            broken.what
        );
        // A copy of another top (the top moved since), or none: nothing
        // to compare.
        for other in [0, top + 16] {
            let moved = TopCopy { top: other, ..copy };
            assert_eq!(top_bytes_agree(&h.mem, view, &moved), Ok(()));
        }
        // A top whose copied bytes lie past memory (a copy cannot be
        // taken there, but the walk does not trust it): nothing.
        let far = StateView {
            top: 0x3ff0,
            ..view
        };
        let beyond = TopCopy {
            top: 0x3ff0,
            ..copy
        };
        assert_eq!(top_bytes_agree(&h.mem, far, &beyond), Ok(()));
    }

    #[test]
    fn free_refuses_to_merge_with_a_neighbour_whose_links_were_written_over() {
        // [used 32][binned 48][used 16][victim 64][used 16][top]
        let (mut h, _, binned, victim) = with_state();
        let before = BASE + PAYLOAD_OFFSET;
        let after = binned + 48 + PAYLOAD_OFFSET;
        let after_victim = victim + 64 + PAYLOAD_OFFSET;
        for p in [before, after, after_victim] {
            assert_eq!(refused_pointer(&h.mem, STATE, p, 0), None, "{p:#x}");
        }
        let links = |h: &Heap, p: u32| match refused_pointer(&h.mem, STATE, p, 0) {
            Some(BadFree::Links(why)) => why,
            other => panic!("{p:#x}: {other:?}"),
        };
        h.put(binned + 8, 0x4141_4141);
        assert!(
            links(&h, before).contains(&format!("after its chunk at {BASE:#x} (at {binned:#x})"))
        );
        assert!(links(&h, after).contains(&format!("(at {binned:#x}) is not in its free list")));
        // The victim's links are stale by design; a `prev_foot` that puts
        // the free chunk before outside the heap is refused.
        h.put(victim + 8, 0x4141_4141);
        assert_eq!(refused_pointer(&h.mem, STATE, after_victim, 0), None);
        h.put(victim + 64, 0x10_0000);
        assert!(links(&h, after_victim).contains("outside the heap"));
    }

    #[test]
    fn neighbours_in_a_list_of_two_pass_the_links_check() {
        // Two free chunks in one list: BIN <-> c2 <-> c1 <-> BIN, so each
        // one's `fd` and `bk` lead to different places (a check reading
        // `fd`'s `fd` would refuse them).
        let mut h = Heap::new();
        let a = h.used(32);
        let c1 = h.free(48);
        let b = h.used(16);
        let c2 = h.free(48);
        h.used(16);
        let top = h.at;
        h.top(256);
        lay_state(&mut h, top, None, None);
        assert!(h.walk().is_ok());
        assert_ne!(h.get(c1 + 8), h.get(c1 + 12));
        assert_ne!(h.get(c2 + 8), h.get(c2 + 12));
        for p in [a, b] {
            assert_eq!(
                refused_pointer(&h.mem, STATE, p + PAYLOAD_OFFSET, 0),
                None,
                "{p:#x}"
            );
        }
        // Either of c2's links, written over, is found from b (c2 follows it).
        for link in [8, 12] {
            let mut h2 = Heap {
                mem: h.mem.clone(),
                at: h.at,
                prev_in_use: true,
            };
            h2.put(c2 + link, a);
            assert!(
                matches!(
                    refused_pointer(&h2.mem, STATE, b + PAYLOAD_OFFSET, 0),
                    Some(BadFree::Links(_))
                ),
                "{link}"
            );
        }
    }

    #[test]
    fn a_chain_that_leaves_memory_ends_in_an_error_not_a_panic() {
        let mut h = Heap::new();
        h.used(32);
        let end = h.mem.len() as u32;
        for at in [end - 2, end, end + 100, u32::MAX - 3] {
            let r = walk(&h.mem, at, u64::MAX, None, 0);
            assert!(r.is_err(), "{at:#x}: {r:?}");
        }
    }
}
