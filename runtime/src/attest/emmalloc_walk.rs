//! An exact check of a wasm32 module's heap when its allocator is
//! emmalloc (wasi-libc's other allocator, the one zig's wasi-libc builds;
//! Emscripten's `-sMALLOC=emmalloc`): a walk of every region of every
//! block the allocator took, checking what emmalloc keeps true between
//! two allocator calls. [`super::heap_walk`] does the same for dlmalloc.
//!
//! emmalloc on wasm32, as this walk reads it (`emmalloc.c`): memory
//! blocks (the heap wasm-ld leaves past the statics, then what `sbrk`
//! gives) are cut into regions that lie back to back. A region at `r` of
//! `size` bytes (a multiple of 4, at least 16) holds `size` in its first
//! word and again in its last, the ceiling, at `r + size - 4`; a free
//! region's ceiling has bit 0 set, and its second and third words link it
//! into a circular list whose sentinel is one of the 64 buckets of the
//! static `freeRegionBuckets` (16 bytes each: size, prev, next, pad),
//! the bucket its payload size (`size - 8`) falls in. A used region's
//! payload is `r + 4 .. r + size - 4`: an overflow past the end of an
//! allocation writes first over its own ceiling. Two free regions are
//! never neighbours (`free` merges them). Each block starts with a root
//! region (used; its second word links the previous block's root, its
//! third is the block's end, and it grows as aligned allocations push the
//! first payload up) and ends with a used sentinel region of 16 bytes;
//! the static `listOfAllRegions` points at the newest root.
//!
//! Neither static has a name the module keeps. The buckets are where a
//! data segment places them (`walmart_jit::emmalloc`: their initial
//! bytes are their signature), else found by their signature in memory;
//! the list of blocks is the one of the statics emmalloc's code loads
//! that points at a root ([`find`]). A walk of a heap no code but
//! emmalloc wrote finds nothing between two allocator calls, so anything
//! it finds is corruption. The final walk may follow a guest stopped
//! inside emmalloc: an interrupt or fuel stops it only at a function's
//! entry or a loop's header, where emmalloc's changes are whole (its
//! loops search buckets and retry whole allocations), and a trap of its
//! own comes of a heap already broken. It cannot see a write that stays inside an allocation's
//! slack (its request rounded up to 4 bytes, or a region emmalloc did not
//! split), writes the very bytes a size held, or corrupts data rather
//! than sizes and links.

use std::ops::Range;
use std::time::Instant;

use walmart_attest::{HookSite, PAGE_SIZE};

use std::sync::atomic::Ordering;

use super::heap_walk::{
    callee, links_point_back, memory_module, report, report_broken, statics, word_at, WalkAt,
    MAX_CHUNKS, WALK_BUDGET,
};
use super::worker::Counters;
use crate::store::StoreOpaque;

/// `sizeof(Region)` on wasm32: the smallest region, a root's size before
/// aligned allocations grow it, and a block's end sentinel.
const REGION_MIN: u32 = 16;
/// Bit 0 of a free region's ceiling (`FREE_REGION_FLAG`).
const FREE: u32 = 1;
/// `NUM_FREE_BUCKETS`.
const BUCKETS: u32 = 64;
/// The bytes of the bucket array (`freeRegionBuckets`).
const BUCKET_BYTES: u32 = BUCKETS * REGION_MIN;
/// Of the 64 buckets, at least this many are empty in a heap the
/// signature takes: the largest hold free regions of megabytes.
const MIN_EMPTY_BUCKETS: u32 = 16;
/// Blocks a walk follows at most.
const MAX_BLOCKS: usize = 1 << 12;

/// Where emmalloc's two statics lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Emmalloc {
    /// `freeRegionBuckets`, the 64 sentinels of the free lists, where
    /// found.
    pub buckets: Option<u32>,
    /// `listOfAllRegions`, the word that points at the newest block's
    /// root region.
    pub blocks: u32,
}

/// A walk that found the heap as emmalloc keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Walked {
    /// Regions checked (roots and end sentinels included).
    pub regions: u64,
    /// Blocks walked.
    pub blocks: u64,
    /// The walk stopped at its limit of regions before the end.
    pub cut: bool,
}

/// What a walk found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Broken {
    /// The word that is wrong.
    pub at: u32,
    /// The region whose check failed.
    pub region: u32,
    /// What is wrong, as a sentence fragment.
    pub what: String,
}

/// The free-list bucket of a free region whose payload is `payload`
/// bytes (`compute_free_list_bucket`): 8-byte steps below 128, then four
/// steps (two from 4 KiB on) per power of two, the last bucket open.
pub(crate) fn bucket_of(payload: u32) -> u32 {
    if payload < 128 {
        return (payload >> 3).saturating_sub(1);
    }
    let clz = payload.leading_zeros();
    if clz > 19 {
        110 - (clz << 2) + ((payload >> (29 - clz)) ^ 4)
    } else {
        (71 - (clz << 1) + ((payload >> (30 - clz)) ^ 2)).min(BUCKETS - 1)
    }
}

/// Whether `bytes` are a size emmalloc gives a region: a multiple of 4
/// of at least 16.
fn region_size(bytes: u32) -> bool {
    bytes >= REGION_MIN && bytes.is_multiple_of(4)
}

/// The 64 buckets at `at`, when they read as emmalloc's between two
/// allocator calls: each sentinel's links both its own address (empty)
/// or both another's (the first and last free region of its list, inside
/// memory and outside the array, each linking back to it or a free region
/// of its sizes), at least [`MIN_EMPTY_BUCKETS`] empty.
fn buckets_signed(memory: &[u8], at: u32) -> bool {
    let Some(end) = at.checked_add(BUCKET_BYTES) else {
        return false;
    };
    let mut empty = 0;
    for i in 0..BUCKETS {
        let s = at + i * REGION_MIN;
        let (Some(prev), Some(next)) = (
            word_at(memory, u64::from(s) + 4),
            word_at(memory, u64::from(s) + 8),
        ) else {
            return false;
        };
        match (prev == s, next == s) {
            (true, true) => empty += 1,
            (false, false) => {
                // A first region that links back to the bucket, or reads
                // as a free region of the bucket's sizes: not both, as the
                // heap may be broken already when the statics are looked
                // for (the walk reports that); either, since an array
                // looked for at the wrong place reads other bytes (a
                // bucket's regions in the next one's slot, zeros).
                let region = |r: u32| {
                    r.is_multiple_of(4)
                        && !(at..end).contains(&r)
                        && word_at(memory, u64::from(r)).is_some()
                };
                let first = |r: u32, back: u64| {
                    word_at(memory, u64::from(r) + back) == Some(s) || {
                        let size = word_at(memory, u64::from(r)).unwrap_or(0);
                        region_size(size)
                            && word_at(memory, u64::from(r) + u64::from(size) - 4)
                                == Some(size | FREE)
                            && bucket_of(size - 8) == i
                    }
                };
                if !region(prev) || !region(next) || !first(next, 4) || !first(prev, 8) {
                    return false;
                }
            }
            _ => return false,
        }
    }
    empty >= MIN_EMPTY_BUCKETS
}

/// The bucket array in `statics`: a sentinel whose `prev` holds its own
/// address is looked for (an empty bucket), and the arrays it may be in
/// are each checked whole ([`buckets_signed`]).
fn find_buckets(memory: &[u8], statics: Range<usize>) -> Option<u32> {
    let end = statics.end.min(memory.len());
    let start = statics.start.next_multiple_of(4);
    let mut at = start;
    while at + 8 <= end {
        let s = at as u32;
        // A sentinel `s` whose `prev` (at `s + 4`) and `next` hold `s`.
        if at >= 4
            && word_at(memory, u64::from(s)) == Some(s - 4)
            && word_at(memory, u64::from(s) + 4) == Some(s - 4)
        {
            let sentinel = s - 4;
            for i in 0..BUCKETS {
                let Some(base) = sentinel.checked_sub(i * REGION_MIN) else {
                    break;
                };
                if (base as usize) >= start && buckets_signed(memory, base) {
                    return Some(base);
                }
            }
        }
        at += 4;
    }
    None
}

/// The blocks the list from the root at `root` links, as (root, end),
/// when each root reads as one (a used region whose end lies past it
/// inside memory) and the list ends without a cycle; `None` otherwise.
/// Not the blocks' sentinels: an overflow that ran to the end of a block
/// may have written over one before the list is looked for.
fn blocks_from(memory: &[u8], root: u32) -> Option<Vec<(u32, u32)>> {
    let mut blocks = Vec::new();
    let mut r = root;
    while r != 0 {
        if blocks.len() >= MAX_BLOCKS || !r.is_multiple_of(4) {
            return None;
        }
        let size = word_at(memory, u64::from(r))?;
        let end = word_at(memory, u64::from(r) + 8)?;
        if !region_size(size)
            || word_at(memory, u64::from(r) + u64::from(size) - 4) != Some(size)
            || u64::from(end) < u64::from(r) + u64::from(size) + u64::from(REGION_MIN)
            || end as usize > memory.len()
            || blocks.iter().any(|&(b, e)| r < e && b < end)
        {
            return None;
        }
        blocks.push((r, end));
        r = word_at(memory, u64::from(r) + 4)?;
    }
    Some(blocks)
}

/// emmalloc's statics, once it has allocated: the list of blocks is the
/// one of the statics emmalloc's functions load (`known`, where
/// `listOfAllRegions` is: [`walmart_jit::emmalloc::find`]) that points at
/// a root whose list of blocks reads as one ([`blocks_from`]), the
/// longest where several do; the bucket array is where the module's data
/// placed it, else looked for among `statics` by its signature
/// ([`find_buckets`]; its lists are not checked where it is not found).
pub(crate) fn find(
    memory: &[u8],
    statics: Range<usize>,
    known: &walmart_jit::emmalloc::Emmalloc,
) -> Option<Emmalloc> {
    let (_, blocks) = known
        .reads
        .iter()
        .filter(|&&at| at.is_multiple_of(4))
        .filter_map(|&at| {
            let root = word_at(memory, u64::from(at)).filter(|&r| r != 0)?;
            let blocks = blocks_from(memory, root)?;
            blocks
                .iter()
                .all(|&(b, _)| b > at)
                .then_some((blocks.len(), at))
        })
        .max_by_key(|&(n, at)| (n, std::cmp::Reverse(at)))?;
    Some(Emmalloc {
        buckets: known.buckets.or_else(|| find_buckets(memory, statics)),
        blocks,
    })
}

/// Walks every block the list at `heap.blocks` links, region by region,
/// checking at most `max_regions`, then the first and last region of
/// every bucket's list.
pub(crate) fn walk(memory: &[u8], heap: Emmalloc, max_regions: u64) -> Result<Walked, Broken> {
    let word = |at: u64| word_at(memory, at);
    let broken = |at: u64, region: u64, what: String| Broken {
        at: at.min(u64::from(u32::MAX)) as u32,
        region: region.min(u64::from(u32::MAX)) as u32,
        what,
    };
    let list = u64::from(heap.blocks);
    let mut root = word(list).ok_or_else(|| broken(list, list, "past memory".into()))?;
    let mut walked = Walked {
        regions: 0,
        blocks: 0,
        cut: false,
    };
    let mut seen: Vec<(u64, u64)> = Vec::new();
    let (list_at, mut linked_from) = (list, list);
    while root != 0 {
        let r = u64::from(root);
        if seen.len() >= MAX_BLOCKS {
            return Err(broken(
                linked_from,
                r,
                format!("the list of blocks runs on past {MAX_BLOCKS} blocks (a cycle)"),
            ));
        }
        let size = word(r).filter(|&s| region_size(s)).ok_or_else(|| {
            broken(
                linked_from,
                r,
                format!(
                    "the list of blocks links {r:#x}, which holds no root region{}",
                    if linked_from == list_at {
                        " (the allocator's list was written over)"
                    } else {
                        ""
                    }
                ),
            )
        })?;
        let end = word(r + 8).map(u64::from).unwrap_or(0);
        if end < r + u64::from(size) + u64::from(REGION_MIN) || end > memory.len() as u64 {
            return Err(broken(
                r + 8,
                r,
                format!("the block's root says it ends at {end:#x}, which is not past its root inside memory"),
            ));
        }
        if let Some(&(b, e)) = seen.iter().find(|&&(b, e)| r < e && b < end) {
            return Err(broken(
                linked_from,
                r,
                format!(
                    "the block {r:#x}..{end:#x} overlaps the block {b:#x}..{e:#x} walked before"
                ),
            ));
        }
        seen.push((r, end));
        walked.blocks += 1;
        walk_block(memory, r, end, max_regions, &mut walked)?;
        if walked.cut {
            break;
        }
        linked_from = r + 4;
        root = word(r + 4).unwrap_or(0);
    }
    if let Some(buckets) = heap.buckets {
        buckets_agree(memory, buckets)?;
    }
    Ok(walked)
}

/// The regions of the block whose root is at `root` and which ends at
/// `end` (inside memory), up to its end sentinel.
fn walk_block(
    memory: &[u8],
    root: u64,
    end: u64,
    max_regions: u64,
    walked: &mut Walked,
) -> Result<(), Broken> {
    let word = |at: u64| word_at(memory, at).expect("inside the block, inside memory");
    let broken = |at: u64, region: u64, what: String| Broken {
        at: at as u32,
        region: region as u32,
        what,
    };
    let sentinel = end - u64::from(REGION_MIN);
    let mut r = root;
    let mut previous_free = false;
    loop {
        if walked.regions >= max_regions {
            walked.cut = true;
            return Ok(());
        }
        walked.regions += 1;
        let size = word(r);
        if r == sentinel && size != REGION_MIN {
            return Err(broken(
                r,
                r,
                format!(
                    "the block's end sentinel says {size:#x} bytes, not 16 (written over: a heap \
                     overflow from the region before)"
                ),
            ));
        }
        if !region_size(size) || r + u64::from(size) > sentinel && r != sentinel {
            let what = if region_size(size) {
                format!("its size {size} runs past the block's end sentinel at {sentinel:#x}")
            } else {
                format!("its size {size:#x} is not a region's (a multiple of 4, at least 16)")
            };
            return Err(broken(
                r,
                r,
                what + " (written over: a heap overflow from the region before)",
            ));
        }
        let ceiling_at = r + u64::from(size) - 4;
        let ceiling = word(ceiling_at);
        let free = ceiling == size | FREE;
        if ceiling != size && !free {
            return Err(broken(
                ceiling_at,
                r,
                format!(
                    "its first word says {size} bytes, but the last word that leads to holds \
                     {ceiling:#x}: a write past the end of the allocation at {:#x}, or over the \
                     size before it (an underflow)",
                    r + 4
                ),
            ));
        }
        if r == root && free {
            return Err(broken(
                ceiling_at,
                r,
                "the block's root region is marked free".into(),
            ));
        }
        if r == sentinel {
            if free {
                return Err(broken(
                    ceiling_at,
                    r,
                    "the block's end sentinel is marked free".into(),
                ));
            }
            return Ok(());
        }
        if free {
            if previous_free {
                return Err(broken(
                    ceiling_at,
                    r,
                    "a free region follows a free region (free merges neighbours: a size or its \
                     last word was written over)"
                        .into(),
                ));
            }
            links_agree(memory, r)?;
        }
        previous_free = free;
        r += u64::from(size);
    }
}

/// The free region at `r` is in a circular list: the region its `prev`
/// names links forward to it, the one its `next` names back. Where not,
/// its links (its payload's first 8 bytes) were written after it was
/// freed.
fn links_agree(memory: &[u8], r: u64) -> Result<(), Broken> {
    let word = |at: u64| word_at(memory, at);
    let (prev, next) = (word(r + 4).unwrap_or(0), word(r + 8).unwrap_or(0));
    let r32 = r as u32;
    // As the entry checks compiled for emmalloc read them, so the two
    // agree.
    if !links_point_back(memory, r32, 8, 4) {
        return Err(Broken {
            at: r32 + 4,
            region: r32,
            what: format!(
                "the region is free, but its links (prev {prev:#x}, next {next:#x}) do not link \
                 back to it (its first bytes were written after it was freed: a use after free)"
            ),
        });
    }
    Ok(())
}

/// Every non-empty bucket's first and last region are free regions of
/// that bucket's sizes linking back to its sentinel.
fn buckets_agree(memory: &[u8], buckets: u32) -> Result<(), Broken> {
    let word = |at: u64| word_at(memory, at);
    for i in 0..BUCKETS {
        let s = buckets + i * REGION_MIN;
        let (prev, next) = (
            word(u64::from(s) + 4).unwrap_or(0),
            word(u64::from(s) + 8).unwrap_or(0),
        );
        if prev == s && next == s {
            continue;
        }
        for (r, back) in [(next, 4), (prev, 8)] {
            let size = word(u64::from(r)).unwrap_or(0);
            let ceiling = region_size(size)
                .then(|| word(u64::from(r) + u64::from(size) - 4))
                .flatten();
            let fits = ceiling == Some(size | FREE)
                && bucket_of(size - 8) == i
                && word(u64::from(r) + back) == Some(s);
            if !fits {
                return Err(Broken {
                    at: s + 4,
                    region: r,
                    what: format!(
                        "free-list bucket {i} (sentinel at {s:#x}) links {r:#x}, which is not a \
                         free region of its sizes linking back to it (a free region's size or \
                         links were written over)"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The check, for a store whose memory's module's allocator is emmalloc
/// ([`crate::Module::emmalloc`]), under a configuration that walks the
/// heap (called by [`super::heap_walk::check`] where dlmalloc's heap is
/// not the one): finds emmalloc's statics once it has allocated, then
/// walks its heap, paced as dlmalloc's walks are during the run, at once
/// where an allocating entry found the bucket it takes from wrong
/// (`FuncTranslator::emmalloc_take_check`), and always at the final
/// verdict, and reports a broken heap once per session as a
/// [`walmart_attest::EventKind::HeapCorrupt`] event. The guest is between
/// allocator calls wherever this is called, or stopped inside emmalloc
/// where its heap is whole (see the module's comment).
pub(crate) fn check(store: &mut StoreOpaque, site: &dyn Fn(&StoreOpaque) -> HookSite, at: WalkAt) {
    if !store.engine.config().walks_heap() {
        return;
    }
    let Some(module) = memory_module(&store.instances) else {
        return;
    };
    let Some(emmalloc) = module.emmalloc() else {
        return;
    };
    let Some(s) = store.attest.as_deref_mut() else {
        return;
    };
    let now = Instant::now();
    if at == WalkAt::Boundary && s.heap_walk_after.is_some_and(|t| now < t) {
        return;
    }
    let bytes = store.memories[0].bytes();
    let found = match s.emmalloc {
        Some(heap) => Some(heap),
        None => {
            let found = find(bytes, statics(module.info()), emmalloc);
            s.heap_walk_after = Some(now + now.elapsed() * WALK_BUDGET);
            if let Some(heap) = found {
                s.emmalloc = Some(heap);
            }
            found
        }
    };
    let checked = match found {
        Some(heap) => {
            let walked = walk(bytes, heap, MAX_CHUNKS);
            s.heap_walk_after = Some(now + now.elapsed() * WALK_BUDGET);
            s.heap_walked = true;
            walked.map(|w| Counters::add(&s.shared.counters.heap_chunks, w.regions))
        }
        // No list of blocks to walk (nothing allocated yet, or its root
        // written over before any walk found it): where the data placed
        // the buckets, they are checked alone, since only emmalloc writes
        // them.
        None => match emmalloc.buckets {
            Some(buckets) if at != WalkAt::Boundary => buckets_agree(bytes, buckets),
            _ => return,
        },
    };
    let Err(b) = checked else {
        return;
    };
    let detail = format!(
        "emmalloc's heap is broken at {:#x} (region at {:#x}): {}",
        b.at, b.region, b.what
    );
    report_broken(store, site, b.at, detail);
}

/// What is wrong with the region of `ptr`, handed to emmalloc's `free`
/// or `realloc`, as the entry check compiled for them
/// (`FuncTranslator::emmalloc_free_check`) found it; `None` where nothing
/// is (the check and this disagree only if memory changed between).
pub(crate) fn refused_region(memory: &[u8], ptr: u32) -> Option<String> {
    let word = |at: u64| word_at(memory, at);
    let r = u64::from(ptr).checked_sub(4).filter(|&r| r >= 4);
    let Some((r, size)) = r.and_then(|r| Some((r, word(r)?))) else {
        return Some("its region's first word lies outside memory".into());
    };
    let prev_last = word(r - 4)?;
    let next = r + u64::from(size);
    let last = (region_size(size)).then(|| word(next - 4)).flatten();
    let next_size = word(next);
    let (Some(last), Some(next_size)) = (last, next_size) else {
        return Some(format!(
            "its region's size {size:#x} leads to no region inside memory (a pointer emmalloc \
             did not return, or its size written over)"
        ));
    };
    if last == size | FREE {
        return Some(format!(
            "its region ({size} bytes) is free already (a double free, or a use after free)"
        ));
    }
    if last != size {
        return Some(format!(
            "its region's first word says {size} bytes, but the last word that leads to holds \
             {last:#x}: a write past the end of the allocation, or over the size before it (an \
             underflow), or a pointer emmalloc did not return"
        ));
    }
    if prev_last & FREE != 0 {
        let prev_size = prev_last & !FREE;
        let prev = r.checked_sub(u64::from(prev_size));
        let first = prev.filter(|_| region_size(prev_size)).and_then(word);
        if first != Some(prev_size) {
            return Some(format!(
                "the free region before it says {prev_size:#x} bytes in its last word, which \
                 leads to no region that agrees (written over: an underflow, or a pointer \
                 emmalloc did not return)"
            ));
        }
        if let Err(b) = links_agree(memory, prev.expect("read above")) {
            return Some(format!("emmalloc would merge it with the free region before it, at {:#x}, whose links were written over: {}", b.region, b.what));
        }
    }
    let next_last = region_size(next_size)
        .then(|| word(next + u64::from(next_size) - 4))
        .flatten();
    match next_last {
        Some(l) if l == next_size => None,
        Some(l) if l == next_size | FREE => links_agree(memory, next).err().map(|b| {
            format!(
                "emmalloc would merge it with the free region after it, at {:#x}, whose links \
                 were written over: {}",
                b.region, b.what
            )
        }),
        _ => Some(format!(
            "the region after it says {next_size:#x} bytes, which leads to no last word that \
             agrees (written over: a write past the end of the allocation at {ptr:#x})"
        )),
    }
}

/// `free` or `realloc` was handed a region emmalloc would act on wrongly
/// ([`walmart_jit::vmctx::HookPoint::FreeCheck`]; the pointer in
/// `heap_arg`): reported once a session, as a `heap-corrupt` event of
/// source `free-check`. Returns whether the guest must stop.
pub(crate) fn free_check(store: &mut StoreOpaque, site: &dyn Fn(&StoreOpaque) -> HookSite) -> bool {
    let Some(s) = store.attest.as_deref() else {
        return false;
    };
    if s.bad_free_reported || store.memories.len() != 1 {
        return false;
    }
    let ptr = s.shared.state.heap_arg.load(Ordering::Relaxed);
    let Some(why) = refused_region(store.memories[0].bytes(), ptr) else {
        Counters::add(&s.shared.counters.free_checks_unconfirmed, 1);
        return false;
    };
    let hook = site(store);
    let s = store.attest.as_deref_mut().expect("checked above");
    s.bad_free_reported = true;
    let callee = callee(&hook, "the allocator's free");
    report(
        s,
        hook,
        ptr.wrapping_sub(4) / PAGE_SIZE as u32,
        "free-check",
        format!("{callee} was handed {ptr:#x}, which emmalloc would act on wrongly: {why}"),
    );
    s.stop_requested()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wasm32 memory laid out as emmalloc lays it.
    struct Heap(Vec<u8>);

    impl Heap {
        fn put(&mut self, at: u32, v: u32) {
            self.0[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
        }
        fn get(&self, at: u32) -> u32 {
            word_at(&self.0, u64::from(at)).unwrap()
        }
        fn region(&mut self, at: u32, size: u32, free: bool) {
            self.put(at, size);
            self.put(at + size - 4, size | u32::from(free));
        }
        fn link(&mut self, bucket: u32, r: u32) {
            // Prepends `r` to the bucket's list, as link_to_free_list.
            let next = self.get(bucket + 8);
            self.put(r + 4, bucket);
            self.put(r + 8, next);
            self.put(bucket + 8, r);
            self.put(next + 4, r);
        }
    }

    const BUCKETS_AT: u32 = 0x400;
    const LIST_AT: u32 = 0x800;
    const HEAP_AT: u32 = 0x1000;
    const HEAP_END: u32 = 0x3000;

    /// Statics and one block: root (grown to 28 bytes by the first
    /// aligned allocation), used 40, free 64, used 24, free rest, end
    /// sentinel. Returns the heap and its used payloads.
    fn typical() -> (Heap, Vec<u32>) {
        laid(&[(40, false), (64, true), (24, false)])
    }

    /// Statics and one block: the root, `regions` (size, free) in order,
    /// the rest free, the end sentinel; free regions linked into their
    /// buckets. Returns the heap and its used payloads.
    fn laid(regions: &[(u32, bool)]) -> (Heap, Vec<u32>) {
        let mut h = Heap(vec![0; 0x4000]);
        for i in 0..BUCKETS {
            let s = BUCKETS_AT + i * 16;
            h.put(s + 4, s);
            h.put(s + 8, s);
        }
        let root = HEAP_AT;
        h.region(root, 28, false);
        h.put(root + 4, 0);
        h.put(root + 8, HEAP_END);
        h.put(LIST_AT, root);
        let mut at = root + 28;
        let mut used = Vec::new();
        let sentinel = HEAP_END - 16;
        for &(size, free) in regions {
            h.region(at, size, free);
            if free {
                h.link(BUCKETS_AT + bucket_of(size - 8) * 16, at);
            } else {
                used.push(at + 4);
            }
            at += size;
        }
        h.region(at, sentinel - at, true);
        h.link(BUCKETS_AT + bucket_of(sentinel - at - 8) * 16, at);
        h.region(sentinel, 16, false);
        (h, used)
    }

    const HEAP: Emmalloc = Emmalloc {
        buckets: Some(BUCKETS_AT),
        blocks: LIST_AT,
    };

    /// emmalloc as its code shows it: it loads the list and the bucket
    /// map as statics.
    fn known() -> walmart_jit::emmalloc::Emmalloc {
        walmart_jit::emmalloc::Emmalloc {
            buckets: None,
            reads: vec![LIST_AT, LIST_AT + 8],
            free: None,
        }
    }

    #[test]
    fn buckets_are_emmallocs() {
        // The table in emmalloc.c's comment, at its edges.
        for (payload, bucket) in [
            (8, 0),
            (15, 0),
            (16, 1),
            (119, 13),
            (120, 14),
            (159, 14),
            (160, 15),
            (255, 17),
            (256, 18),
            (1023, 25),
            (1024, 26),
            (3584, 33),
            (6143, 33),
            (6144, 34),
            (131072, 43),
            (134217727, 62),
            (134217728, 63),
            (u32::MAX, 63),
        ] {
            assert_eq!(bucket_of(payload), bucket, "{payload}");
        }
    }

    #[test]
    fn an_intact_heap_walks_and_its_statics_are_found() {
        let (h, _) = typical();
        let w = walk(&h.0, HEAP, 1 << 20).unwrap();
        assert_eq!((w.regions, w.blocks, w.cut), (6, 1, false));
        assert_eq!(find(&h.0, 0..HEAP_AT as usize, &known()), Some(HEAP));
        // An overflow that ran over the block's end sentinel does not hide
        // the list (the walk reports it).
        let mut h = h;
        h.put(HEAP_END - 16, 0x4141_4141);
        assert_eq!(find(&h.0, 0..HEAP_AT as usize, &known()), Some(HEAP));
        assert!(walk(&h.0, HEAP, 1 << 20).is_err());
        // Without the buckets' signature, the lists go unchecked.
        let (mut h, _) = typical();
        for i in 0..BUCKETS {
            h.put(BUCKETS_AT + i * 16 + 4, 0);
        }
        let found = find(&h.0, 0..HEAP_AT as usize, &known()).unwrap();
        assert_eq!(found.buckets, None);
        // Before the first allocation there is no list to find.
        h.put(LIST_AT, 0);
        assert_eq!(find(&h.0, 0..HEAP_AT as usize, &known()), None);
    }

    #[test]
    fn the_buckets_are_found_where_the_lowest_is_not_empty() {
        // A free region of 8 bytes' payload in bucket 0: the first empty
        // bucket the scan meets is bucket 1, and the array must still be
        // found where it starts (the regions beyond it are zeros, and
        // each bucket's region must be of its sizes).
        let (h, _) = laid(&[(40, false), (16, true), (24, false)]);
        assert!(walk(&h.0, HEAP, 1 << 20).is_ok());
        let found = find(&h.0, 0..HEAP_AT as usize, &known()).unwrap();
        assert_eq!(found, HEAP);
        // And where the regions of two buckets are not at the front.
        let (h, _) = laid(&[
            (40, false),
            (16, true),
            (24, false),
            (24, true),
            (16, false),
        ]);
        assert!(walk(&h.0, HEAP, 1 << 20).is_ok());
        assert_eq!(find(&h.0, 0..HEAP_AT as usize, &known()), Some(HEAP));
    }

    #[test]
    fn a_write_past_an_allocation_breaks_its_last_word() {
        let (mut h, used) = typical();
        // One byte past a 32-byte request in a 40-byte region (its
        // payload, between its size and its last word).
        h.0[(used[0] + 32) as usize] = b'A';
        let b = walk(&h.0, HEAP, 1 << 20).unwrap_err();
        assert_eq!((b.at, b.region), (used[0] + 32, used[0] - 4));
        assert!(
            b.what.contains("a write past the end of the allocation"),
            "{}",
            b.what
        );
    }

    #[test]
    fn a_write_over_a_freed_regions_links_is_found() {
        let (mut h, _) = typical();
        let f = HEAP_AT + 28 + 40;
        h.put(f + 4, 0x2222);
        let b = walk(&h.0, HEAP, 1 << 20).unwrap_err();
        assert_eq!(b.region, f);
        assert!(b.what.contains("use after free"), "{}", b.what);
    }

    #[test]
    fn a_bucket_written_over_is_found() {
        // An empty bucket's links set to a used region (a write into the
        // allocator's statics): the chain is whole, the bucket is not.
        let (mut h, used) = typical();
        let s = BUCKETS_AT + 40 * 16;
        h.put(s + 4, used[0] - 4);
        h.put(s + 8, used[0] - 4);
        let b = walk(&h.0, HEAP, 1 << 20).unwrap_err();
        assert_eq!((b.at, b.region), (s + 4, used[0] - 4));
        assert!(b.what.contains("bucket 40"), "{}", b.what);
    }

    #[test]
    fn a_freed_region_marked_free_beside_a_free_one_is_found() {
        let (mut h, used) = typical();
        // The used region after the free 64 marked free by a write over
        // its ceiling alone breaks nothing but the merge rule.
        let b_region = used[1] - 4;
        h.put(b_region + 20, 25);
        let b = walk(&h.0, HEAP, 1 << 20).unwrap_err();
        assert_eq!(b.region, b_region);
    }

    #[test]
    fn a_second_block_is_walked_and_a_cut_walk_says_so() {
        let (mut h, _) = typical();
        let root2 = 0x3400;
        let end2 = 0x3800;
        h.region(root2, 16, false);
        h.put(root2 + 4, HEAP_AT);
        h.put(root2 + 8, end2);
        h.put(LIST_AT, root2);
        h.region(root2 + 16, 0x100, false);
        h.region(root2 + 16 + 0x100, end2 - 16 - (root2 + 16 + 0x100), false);
        h.region(end2 - 16, 16, false);
        let w = walk(&h.0, HEAP, 1 << 20).unwrap();
        assert_eq!((w.regions, w.blocks), (10, 2));
        assert_eq!(find(&h.0, 0..HEAP_AT as usize, &known()), Some(HEAP));
        assert!(walk(&h.0, HEAP, 3).unwrap().cut);
        // Its middle region overflowed over its last word into the next
        // one's size: the last word is found first.
        h.put(root2 + 16 + 0x100 - 4, 0x4141_4141);
        h.put(root2 + 16 + 0x100, 0x4141_4141);
        let b = walk(&h.0, HEAP, 1 << 20).unwrap_err();
        assert_eq!((b.at, b.region), (root2 + 16 + 0x100 - 4, root2 + 16));
        // The next one's size alone (the bytes of the last word kept).
        h.put(root2 + 16 + 0x100 - 4, 0x100);
        let b = walk(&h.0, HEAP, 1 << 20).unwrap_err();
        assert_eq!(b.region, root2 + 16 + 0x100);
        assert!(b.what.contains("is not a region's"), "{}", b.what);
    }

    #[test]
    fn free_refuses_what_emmalloc_would_act_on_wrongly() {
        let (h, used) = typical();
        assert_eq!(refused_region(&h.0, used[0]), None);
        assert_eq!(refused_region(&h.0, used[1]), None);
        for ptr in [1, 4, 0xffff_fff0, used[0] + 8] {
            assert!(refused_region(&h.0, ptr).is_some(), "{ptr:#x}");
        }
        // Freed already.
        let (mut h, used) = typical();
        h.put(used[0] + 32, 41);
        let why = refused_region(&h.0, used[0]).unwrap();
        assert!(why.contains("free already"), "{why}");
        // Written past its end, over its last word.
        h.put(used[0] + 32, 0x4141_4141);
        let why = refused_region(&h.0, used[0]).unwrap();
        assert!(why.contains("a write past the end"), "{why}");
        // Its free neighbours' links written over: before it, after it.
        let (mut h, used) = typical();
        let f = used[0] - 4 + 40;
        h.put(f + 8, 0x2222);
        let why = refused_region(&h.0, used[1]).unwrap();
        assert!(why.contains("the free region before it"), "{why}");
        let (mut h, used) = typical();
        let rest = used[1] - 4 + 24;
        h.put(rest + 4, 0x2222);
        let why = refused_region(&h.0, used[1]).unwrap();
        assert!(why.contains("the free region after it"), "{why}");
    }

    #[test]
    fn a_list_that_leaves_memory_or_cycles_is_an_error_not_a_panic() {
        let (mut h, _) = typical();
        h.put(LIST_AT, 0xffff_fff0);
        assert!(walk(&h.0, HEAP, 1 << 20).is_err());
        let (mut h, _) = typical();
        h.put(HEAP_AT + 4, HEAP_AT);
        assert!(walk(&h.0, HEAP, 1 << 20).is_err());
        let (mut h, _) = typical();
        h.put(HEAP_AT + 8, 0xffff_fff0);
        assert!(walk(&h.0, HEAP, 1 << 20).is_err());
        let (mut h, _) = typical();
        h.put(HEAP_AT + 28, 0xffff_fff0);
        assert!(walk(&h.0, HEAP, 1 << 20).is_err());
    }
}
