//! emmalloc (wasi-libc's other allocator, the one zig's wasi-libc builds)
//! told by its static data and its code, with or without names.
//!
//! emmalloc's 64 free-list buckets are a static initialized in the data
//! segments: each 16-byte sentinel `{0, self, self, 0}` (an empty circular
//! list points at itself). Those 1024 bytes are where they are in every
//! build, named or not, and no other program's data has them by chance,
//! so they tell emmalloc and where its buckets lie before the program
//! runs. emmalloc's functions are the ones whose code names that array
//! (an `i32.const` inside it, or a load or store whose offset is); the
//! statics they load (`i32.const` right before a load) include
//! `listOfAllRegions`, where the runtime's walk starts; and the one of
//! them with `free`'s signature (a pointer in, nothing out) is its `free`,
//! where the entry check goes. A module whose names name emmalloc
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
    /// functions that takes a pointer and returns nothing; none where two
    /// do.
    pub free: Option<u32>,
}

/// The address of emmalloc's buckets in an active data segment of memory
/// 0 at a constant offset: 64 sentinels of 16 bytes, each `{0, its own
/// address, its own address, 0}`.
pub fn buckets(info: &ModuleInfo, wasm: &[u8]) -> Option<u32> {
    let word = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    for seg in &info.data {
        let SegmentMode::Active { index: 0, offset } = &seg.mode else {
            continue;
        };
        let [ConstOp::I32(base)] = offset.as_slice() else {
            continue;
        };
        let base = *base as u32;
        let bytes = wasm.get(seg.bytes.clone())?;
        let need = (BUCKETS * BUCKET_BYTES) as usize;
        if bytes.len() < need {
            continue;
        }
        // The array lies 4-aligned in memory: the first sentinel's `prev`
        // holds the sentinel's address.
        let first = (base.wrapping_neg() % 4) as usize;
        let mut i = first;
        while i + need <= bytes.len() {
            let at = base.wrapping_add(i as u32);
            if word(bytes, i + 4) == at
                && (0..BUCKETS as usize).all(|k| {
                    let j = i + k * BUCKET_BYTES as usize;
                    let s = at.wrapping_add(k as u32 * BUCKET_BYTES);
                    word(bytes, j) == 0
                        && word(bytes, j + 4) == s
                        && word(bytes, j + 8) == s
                        && word(bytes, j + 12) == 0
                })
            {
                return Some(at);
            }
            i += 4;
        }
    }
    None
}

/// emmalloc in a module whose allocator it is: its names say so
/// ([`ModuleInfo::emmalloc`]) or a data segment holds its buckets
/// ([`buckets`]). `None` otherwise.
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
    let scanned: Vec<(bool, HashSet<u32>)> = info
        .func_bodies
        .par_iter()
        .map(|range| names_and_reads(wasm, range.clone(), buckets))
        .collect();
    let own: Vec<u32> = (0..scanned.len() as u32)
        .filter(|&i| scanned[i as usize].0 || named(first + i))
        .collect();
    let mut reads: Vec<u32> = own
        .iter()
        .flat_map(|&i| scanned[i as usize].1.iter().copied())
        .collect();
    reads.sort_unstable();
    reads.dedup();
    let free = if info.emmalloc {
        None
    } else {
        let mut frees = own.iter().map(|&i| first + i).filter(|&f| {
            let sig = info.func_sig(f);
            sig.params == [crate::WasmType::I32] && sig.results.is_empty()
        });
        match (frees.next(), frees.next()) {
            (Some(f), None) => Some(f),
            _ => None,
        }
    };
    Some(Emmalloc {
        buckets,
        reads,
        free,
    })
}

/// Whether the body at `range` names the bucket array at `buckets` (an
/// `i32.const`, or a load's or store's offset, inside it), and the static
/// addresses it loads ([`crate::body_scan`]).
fn names_and_reads(
    wasm: &[u8],
    range: std::ops::Range<usize>,
    buckets: Option<u32>,
) -> (bool, HashSet<u32>) {
    let inside = |at: u64| {
        buckets.is_some_and(|b| {
            (u64::from(b)..u64::from(b) + u64::from(BUCKETS * BUCKET_BYTES)).contains(&at)
        })
    };
    let mut names = false;
    let mut reads = HashSet::new();
    crate::body_scan::scan(wasm, range, |seen| match seen {
        Seen::StaticLoad(at) => {
            reads.insert(at);
        }
        Seen::Constant(at) => names |= inside(u64::from(at)),
        Seen::Offset(at) => names |= inside(at),
        Seen::Call(_) => {}
    });
    (names, reads)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module without names laid out as zig's wasi-libc build is: the
    /// buckets at 0x1000 in the data (each `{0, self, self, 0}`), the list
    /// of blocks at 0x1400; `$memalign` loads the list as a static and
    /// indexes the buckets, `$free` links into them, `$user` frees
    /// nothing but takes a pointer too.
    fn module(free_twice: bool) -> String {
        let mut data = String::new();
        for i in 0..64u32 {
            let s = 0x1000 + 16 * i;
            for w in [0, s, s, 0] {
                for b in u32::to_le_bytes(w) {
                    data.push_str(&format!("\\{b:02x}"));
                }
            }
        }
        let second = if free_twice {
            "(func $free2 (param i32) (i32.store offset=0x1008 (i32.const 0) (local.get 0)))"
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
                    (i32.store (i32.add (i32.const 0x1000) (local.get 0)) (i32.const 0)))
                (func $user (param i32) (drop (i32.load (i32.const 0x2000))))
                {second}
                (data (i32.const 0x1000) "{data}"))"#
        )
    }

    fn find_in(text: &str) -> Option<Emmalloc> {
        let wasm = wat::parse_str(text).unwrap();
        let info = crate::module_info::parse(&wasm, Default::default()).unwrap();
        find(&info, &wasm)
    }

    #[test]
    fn emmalloc_is_told_by_its_buckets_and_its_code() {
        let found = find_in(&module(false)).unwrap();
        assert_eq!(found.buckets, Some(0x1000));
        // The statics its functions load: the list, not `$user`'s.
        assert_eq!(found.reads, vec![0x1400]);
        assert_eq!(found.free, Some(1));
        // Two functions of `free`'s signature among its own: no `free`.
        let found = find_in(&module(true)).unwrap();
        assert_eq!(found.free, None);
        // One bucket's bytes otherwise: not emmalloc.
        let text =
            module(false).replacen("\\00\\10\\00\\00\\00\\10", "\\00\\10\\00\\00\\01\\10", 1);
        assert_eq!(find_in(&text), None);
    }
}
