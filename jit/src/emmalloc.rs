//! emmalloc (wasi-libc's other allocator, the one zig's wasi-libc builds)
//! told by its static data and its code, with or without names.
//!
//! emmalloc's 64 free-list buckets are a static initialized in the data
//! segments: each 16-byte sentinel `{0, self, self, 0}` (an empty circular
//! list points at itself). Those 1024 bytes are where they are in every
//! build, named or not, and no other program's data has them by chance,
//! so they tell emmalloc and where its buckets lie before the program
//! runs (in one data segment or across several: `wasm-opt` splits them
//! at runs of zeros). emmalloc's functions are the ones whose code names
//! that array (an `i32.const` inside it, or a load or store whose offset
//! is); the statics they load (`i32.const` right before a load) and no
//! other function does include `listOfAllRegions`, where the runtime's
//! walk starts; and the one of them with `free`'s signature (a pointer
//! in, nothing out) that starts as `free` does (reading `ptr - 4` and
//! `ptr - 8`) is its `free`, where the entry check goes: not
//! `link_to_free_list`, which has that signature too where a build did
//! not inline it. A module whose names name emmalloc
//! (`emmalloc_*`) but whose buckets are not placed by an active data
//! segment (a shared memory's segments are passive) is still emmalloc's:
//! the runtime then finds the buckets by their signature in memory.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::body_scan::Seen;
use crate::module_info::{ConstOp, ModuleInfo, SegmentMode};

/// `NUM_FREE_BUCKETS`, each `sizeof(Region)` bytes.
const BUCKETS: u32 = 64;
const BUCKET_BYTES: u32 = 16;

/// emmalloc as its data and code show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Emmalloc {
    /// Where its buckets lie, where a data segment places them.
    pub buckets: Option<u32>,
    /// The statics its functions load, sorted (`listOfAllRegions` among
    /// them).
    pub reads: Vec<u32>,
    /// Its `free`, told by its code in a module without emmalloc's names
    /// (a module with them has its `free` by name): the one of its
    /// functions that takes a pointer, returns nothing and starts by
    /// reading the region's size before it; none where two do.
    pub free: Option<u32>,
}

/// The bytes active data segments of memory 0 at constant offsets place,
/// as memory reads them after instantiation (between segments, zeros:
/// `wasm-opt` splits a segment at a run of zeros, and the bucket array
/// has eight between its buckets).
struct DataImage<'a> {
    /// (first address, bytes), by address.
    segments: Vec<(u64, &'a [u8])>,
}

impl<'a> DataImage<'a> {
    fn new(info: &ModuleInfo, wasm: &'a [u8]) -> DataImage<'a> {
        let mut segments: Vec<(u64, &[u8])> = info
            .data
            .iter()
            .filter_map(|seg| match &seg.mode {
                SegmentMode::Active { index: 0, offset } => match offset.as_slice() {
                    [ConstOp::I32(base)] => {
                        Some((u64::from(*base as u32), wasm.get(seg.bytes.clone())?))
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect();
        segments.sort_by_key(|&(at, _)| at);
        DataImage { segments }
    }

    /// The little-endian word at `at`: from the last segment that places
    /// each byte (a later segment overwrites an earlier one), else 0.
    fn word(&self, at: u64) -> u32 {
        let byte = |a: u64| {
            self.segments
                .iter()
                .rev()
                .find(|&&(start, bytes)| start <= a && a - start < bytes.len() as u64)
                .map_or(0, |&(start, bytes)| bytes[(a - start) as usize])
        };
        u32::from_le_bytes([byte(at), byte(at + 1), byte(at + 2), byte(at + 3)])
    }

    /// Whether the 64 buckets lie at `at`: each sentinel `{0, its own
    /// address, its own address, 0}`.
    fn buckets_at(&self, at: u64) -> bool {
        (0..u64::from(BUCKETS)).all(|k| {
            let s = at + k * u64::from(BUCKET_BYTES);
            s <= u64::from(u32::MAX)
                && self.word(s) == 0
                && self.word(s + 4) == s as u32
                && self.word(s + 8) == s as u32
                && self.word(s + 12) == 0
        })
    }
}

/// The address of emmalloc's buckets where the active data segments of
/// memory 0 place them: 64 sentinels of 16 bytes, each `{0, its own
/// address, its own address, 0}`, in one segment or across several.
pub fn buckets(info: &ModuleInfo, wasm: &[u8]) -> Option<u32> {
    let image = DataImage::new(info, wasm);
    for &(start, bytes) in &image.segments {
        // A sentinel's `prev`, 4-aligned in memory, holding the address
        // before it; the array it is in starts at most 63 sentinels down.
        let first = (start.wrapping_neg() % 4) as usize;
        let mut i = first;
        while i + 4 <= bytes.len() {
            let at = start + i as u64;
            let word = u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
            if at >= 4 && u64::from(word) == at - 4 {
                let sentinel = at - 4;
                let found = (0..u64::from(BUCKETS))
                    .filter_map(|k| sentinel.checked_sub(k * u64::from(BUCKET_BYTES)))
                    .find(|&base| image.buckets_at(base));
                if let Some(base) = found {
                    return u32::try_from(base).ok();
                }
            }
            i += 4;
        }
    }
    None
}

/// What one function body shows of emmalloc.
#[derive(Default)]
struct Body {
    /// It names the bucket array (an `i32.const`, or a load's or store's
    /// offset, inside it).
    names: bool,
    /// The static addresses it loads.
    reads: HashSet<u32>,
    /// It starts as emmalloc's `free` does: its pointer argument less 4
    /// (the region's size) within its first operators, and less 8 (the
    /// previous region's last word).
    frees: bool,
}

/// Operators of `free`'s prologue within which it computes `ptr - 4`
/// (`if (!ptr) return; region = ptr - 4`: seven in zig's build).
const FREE_PROLOGUE: usize = 16;

/// emmalloc in a module whose allocator it is: its names say so
/// ([`ModuleInfo::emmalloc`]) or its data holds its buckets
/// ([`buckets`]). `None` otherwise. Its functions are the named ones and
/// those whose code names the buckets; the statics it may keep its list
/// of blocks in are those its functions load and no other function does
/// (a caller with `free` inlined names the buckets too, and loads its own
/// statics, which other functions of the program load as well).
pub fn find(info: &ModuleInfo, wasm: &[u8]) -> Option<Emmalloc> {
    if info.dlmalloc {
        return None;
    }
    let buckets = buckets(info, wasm);
    if buckets.is_none() && !info.emmalloc {
        return None;
    }
    let first = info.num_imported_funcs;
    let named = |f: u32| {
        info.func_names.get(&f).is_some_and(|n| {
            n.starts_with("emmalloc_")
                || matches!(
                    n,
                    "allocate_memory" | "claim_more_memory" | "attempt_allocate"
                )
        }) || (info.emmalloc && info.allocator_role(f).is_some())
    };
    let bodies: Vec<Body> = info
        .func_bodies
        .par_iter()
        .map(|range| scan(wasm, range.clone(), buckets))
        .collect();
    let own = |i: usize| bodies[i].names || named(first + i as u32);
    let others: HashSet<u32> = (0..bodies.len())
        .filter(|&i| !own(i))
        .flat_map(|i| bodies[i].reads.iter().copied())
        .collect();
    let mut reads: Vec<u32> = (0..bodies.len())
        .filter(|&i| own(i))
        .flat_map(|i| bodies[i].reads.iter().copied())
        .filter(|at| !others.contains(at))
        .collect();
    reads.sort_unstable();
    reads.dedup();
    let free = if info.emmalloc {
        None
    } else {
        let starts_as_free = (0..bodies.len()).filter(|&i| own(i) && bodies[i].frees);
        crate::unnamed_dlmalloc::only_free(info, starts_as_free.map(|i| first + i as u32))
    };
    Some(Emmalloc {
        buckets,
        reads,
        free,
    })
}

/// What the body at `range` shows of emmalloc, with its buckets at
/// `buckets` ([`crate::body_scan`]).
fn scan(wasm: &[u8], range: std::ops::Range<usize>, buckets: Option<u32>) -> Body {
    let inside = |at: u64| {
        buckets.is_some_and(|b| {
            (u64::from(b)..u64::from(b) + u64::from(BUCKETS * BUCKET_BYTES)).contains(&at)
        })
    };
    let mut body = Body::default();
    let (mut size, mut previous) = (false, false);
    crate::body_scan::scan(wasm, range, |seen| match seen {
        Seen::StaticLoad(at) => {
            body.reads.insert(at);
        }
        Seen::Constant(at) => body.names |= inside(u64::from(at)),
        Seen::Offset(at) => body.names |= inside(at),
        Seen::FirstParamPlus(-4, index) => size |= index < FREE_PROLOGUE,
        Seen::FirstParamPlus(-8, _) => previous = true,
        Seen::FirstParamPlus(..) | Seen::Call(_) => {}
    });
    body.frees = size && previous;
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module without names laid out as zig's wasi-libc build is: the
    /// buckets at 0x1000 in the data (each `{0, self, self, 0}`; with
    /// `split`, each bucket's links a segment of their own, as `wasm-opt`
    /// leaves them), the list of blocks at 0x1400; `$memalign` loads the
    /// list as a static and indexes the buckets; `$free` starts as
    /// emmalloc's does (`ptr - 4`, `ptr - 8`) and links into them, and
    /// loads a static `$user` loads too; `$link` links a region into
    /// them and takes a pointer but is no `free`.
    fn module(free_twice: bool, split: bool) -> String {
        let hex = |w: u32| {
            u32::to_le_bytes(w)
                .iter()
                .map(|b| format!("\\{b:02x}"))
                .collect::<String>()
        };
        let mut data = String::new();
        let mut segments = String::new();
        for i in 0..64u32 {
            let s = 0x1000 + 16 * i;
            if split {
                segments.push_str(&format!(
                    "(data (i32.const {}) \"{}{}\")\n",
                    s + 4,
                    hex(s),
                    hex(s)
                ));
            } else {
                data.push_str(&(hex(0) + &hex(s) + &hex(s) + &hex(0)));
            }
        }
        if !split {
            segments = format!("(data (i32.const 0x1000) \"{data}\")");
        }
        let second = if free_twice {
            "(func $free2 (param i32)
                (drop (i32.load (i32.add (local.get 0) (i32.const -4))))
                (drop (i32.load (i32.add (local.get 0) (i32.const -8))))
                (i32.store offset=0x1008 (i32.const 0) (local.get 0)))"
        } else {
            ""
        };
        format!(
            r#"(module
                (memory 1)
                (func $memalign (param i32) (result i32)
                    (drop (i32.load (i32.const 0x1400)))
                    (i32.load offset=0x1008 (i32.shl (local.get 0) (i32.const 4))))
                (func $free (param i32)
                    (drop (i32.load (i32.add (local.get 0) (i32.const -4))))
                    (drop (i32.load (i32.add (local.get 0) (i32.const -8))))
                    (drop (i32.load (i32.const 0x2000)))
                    (i32.store (i32.add (i32.const 0x1000) (local.get 0)) (i32.const 0)))
                (func $link (param i32)
                    (i32.store offset=0x1008 (i32.const 0) (i32.load (local.get 0))))
                (func $user (param i32) (drop (i32.load (i32.const 0x2000))))
                {second}
                {segments})"#
        )
    }

    fn find_in(text: &str) -> Option<Emmalloc> {
        let wasm = wat::parse_str(text).unwrap();
        let info = crate::module_info::parse(&wasm, Default::default()).unwrap();
        find(&info, &wasm)
    }

    #[test]
    fn emmalloc_is_told_by_its_buckets_and_its_code() {
        let found = find_in(&module(false, false)).unwrap();
        assert_eq!(found.buckets, Some(0x1000));
        // The statics its functions load and no other does: the list, not
        // the one `$user` loads as well.
        assert_eq!(found.reads, vec![0x1400]);
        // `$free`, not `$link`.
        assert_eq!(found.free, Some(1));
        // Two functions that start as `free` does: no `free`.
        let found = find_in(&module(true, false)).unwrap();
        assert_eq!(found.free, None);
        // Across segments split at the zeros between the buckets.
        let found = find_in(&module(false, true)).unwrap();
        assert_eq!((found.buckets, found.free), (Some(0x1000), Some(1)));
        // One bucket's bytes otherwise: not emmalloc.
        let text = module(false, false).replacen(
            "\\00\\10\\00\\00\\00\\10",
            "\\00\\10\\00\\00\\01\\10",
            1,
        );
        assert_eq!(find_in(&text), None);
    }
}
