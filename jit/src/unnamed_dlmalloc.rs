//! dlmalloc's functions in a module whose names do not name them, told by
//! their code.
//!
//! With a name section, `malloc`, `dlmalloc`, `dlfree` and the rest are
//! found by name ([`ModuleInfo::enters_dlmalloc`]). Linking with `-s`,
//! `wasm-opt` and Rust's release profile drop the names (and link-time
//! optimisation may inline `dlmalloc` into `malloc`), but not what
//! dlmalloc's code looks like: its state is one static (`_gm_`), and a
//! wasm32 compiler folds a static's address into the load's offset
//! (`i32.const 0; i32.load offset=ADDR`). The function that allocates
//! reads the state's small-bin map, `dvsize`, `topsize`, `dv` and `top`
//! that way, so the base whose five fields one function reads so is the
//! state; dlmalloc's functions are those that read its `top`; and their
//! entries are those called from a function that does not, or reachable
//! through a table or an export. At each of those entries dlmalloc's top
//! chunk is as its state says (dlmalloc changes the two together, with
//! no call in between), so the entry check
//! ([`crate::translate::AttestCodegen::heap_floor`]) may run there. The
//! one entry of `free`'s signature (a pointer in, nothing out: no other
//! entry of dlmalloc's has it) is its `free`, and checks its pointer. The
//! state's address goes to the runtime as a hint: it checks the bytes
//! there by dlmalloc's signature before it trusts them.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use crate::body_scan::Seen;
use crate::module_info::ModuleInfo;

/// Offsets in wasm32 dlmalloc's `struct malloc_state` of the fields its
/// allocation path reads: `smallmap`, `dvsize`, `topsize`, `dv`, `top`.
const ALLOCATION_READS: [u32; 5] = [0, 8, 12, 20, TOP];
/// Offset of `top`.
const TOP: u32 = crate::vmctx::HEAP_STATE_TOP as u32;

/// dlmalloc as its code shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnnamedDlmalloc {
    /// Where its state lies (the runtime checks it by its signature
    /// before it trusts it).
    pub state: u32,
    /// The defined functions that enter it (module-wide indices, sorted).
    pub entries: Vec<u32>,
    /// Its `free`: the one entry that takes a pointer and returns nothing
    /// (`dlfree`'s signature, `(i32)`; where two entries have it, none).
    pub free: Option<u32>,
}

/// dlmalloc in a module whose allocator it is; `None` where no function
/// reads a state as dlmalloc's allocation path does.
pub fn find(info: &ModuleInfo, wasm: &[u8]) -> Option<UnnamedDlmalloc> {
    let first = info.num_imported_funcs;
    let (reads, calls): (Vec<HashSet<u32>>, Vec<Vec<u32>>) = info
        .func_bodies
        .par_iter()
        .map(|range| static_reads_and_calls(wasm, range.clone()))
        .unzip();
    let state = vote_state(&reads)?;
    let dlmalloc: HashSet<u32> = (0..reads.len() as u32)
        .filter(|&i| reads[i as usize].contains(&(state + TOP)))
        .map(|i| first + i)
        .collect();
    let called_from_outside: HashSet<u32> = calls
        .iter()
        .enumerate()
        .filter(|(i, _)| !dlmalloc.contains(&(first + *i as u32)))
        .flat_map(|(_, c)| c.iter().copied())
        .collect();
    let mut entries: Vec<u32> = dlmalloc
        .into_iter()
        .filter(|f| called_from_outside.contains(f) || info.escaping_funcs.binary_search(f).is_ok())
        .collect();
    entries.sort_unstable();
    let free = only_free(info, entries.iter().copied());
    Some(UnnamedDlmalloc {
        state,
        entries,
        free,
    })
}

/// The one of `candidates` with `free`'s signature (a pointer in,
/// nothing out); none where two have it.
pub(crate) fn only_free(info: &ModuleInfo, candidates: impl Iterator<Item = u32>) -> Option<u32> {
    let mut frees = candidates.filter(|&f| {
        let sig = info.func_sig(f);
        sig.params == [crate::WasmType::I32] && sig.results.is_empty()
    });
    match (frees.next(), frees.next()) {
        (Some(f), None) => Some(f),
        _ => None,
    }
}

/// Where dlmalloc's state lies in a module whose names name it, by the
/// code of its allocator functions (`malloc`, `dlmalloc` and the rest,
/// [`ModuleInfo::enters_dlmalloc`]) read as [`find`] reads a module's
/// every function: a hint the runtime checks by the state's signature,
/// so that it need not search the module's statics for it.
pub fn named_state(info: &ModuleInfo, wasm: &[u8]) -> Option<u32> {
    let first = info.num_imported_funcs;
    let reads: Vec<HashSet<u32>> = info
        .func_bodies
        .iter()
        .enumerate()
        .filter(|&(i, _)| info.enters_dlmalloc(first + i as u32))
        .map(|(_, range)| static_reads_and_calls(wasm, range.clone()).0)
        .collect();
    vote_state(&reads)
}

/// The base whose allocation-path fields ([`ALLOCATION_READS`]) one of
/// `reads` (a function's static reads each) reads all of; where two
/// bases qualify, the one more functions read so.
fn vote_state(reads: &[HashSet<u32>]) -> Option<u32> {
    let mut votes: HashMap<u32, usize> = HashMap::new();
    for set in reads {
        for &at in set {
            let Some(base) = at.checked_sub(TOP) else {
                continue;
            };
            if ALLOCATION_READS
                .iter()
                .all(|&f| base.checked_add(f).is_some_and(|a| set.contains(&a)))
            {
                *votes.entry(base).or_default() += 1;
            }
        }
    }
    votes
        .into_iter()
        .max_by_key(|&(base, n)| (n, std::cmp::Reverse(base)))
        .map(|(base, _)| base)
}

/// The addresses the body at `range` loads from as a static's (an
/// `i32.const` right before the load, in memory 0), and the functions it
/// calls directly ([`crate::body_scan`]).
fn static_reads_and_calls(wasm: &[u8], range: std::ops::Range<usize>) -> (HashSet<u32>, Vec<u32>) {
    let mut reads = HashSet::new();
    let mut calls = Vec::new();
    crate::body_scan::scan(wasm, range, |seen| match seen {
        Seen::StaticLoad(at) => {
            reads.insert(at);
        }
        Seen::Call(f) => calls.push(f),
        Seen::Constant(_) | Seen::Offset(_) | Seen::FirstParamPlus(..) => {}
    });
    (reads, calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module laid out as a stripped wasi-libc build is: `$alloc` reads
    /// the state's fields at 0x1000 as statics, `$helper` reads its top
    /// and is called only by `$alloc` and `$release`, `$release` (a free)
    /// reads the top too, `$wrapper` forwards to `$alloc`, and `$main`
    /// calls the wrapper and `$release`. Another struct's fields at
    /// 0x2000 are read as well, but not as the allocation path's.
    const MODULE: &str = r#"(module
        (memory 1)
        (func $alloc (param i32) (result i32)
            (drop (i32.load offset=0x1000 (i32.const 0)))
            (drop (i32.load offset=0x1008 (i32.const 0)))
            (drop (i32.load offset=0x100c (i32.const 0)))
            (drop (i32.load offset=0x1014 (i32.const 0)))
            (drop (call $helper))
            (i32.load offset=0x1018 (i32.const 0)))
        (func $helper (result i32)
            (i32.load (i32.const 0x1018)))
        (func $release (param i32)
            (drop (call $helper))
            (drop (i32.load offset=0x18 (i32.const 0x1000))))
        (func $wrapper (param i32) (result i32)
            (call $alloc (local.get 0)))
        (func $other
            (drop (i32.load offset=0x2000 (i32.const 0)))
            (drop (i32.load offset=0x2018 (i32.const 0))))
        (func $main (export "_start")
            (call $release (call $wrapper (i32.const 16)))
            (call $other)))"#;

    fn find_in(text: &str) -> Option<UnnamedDlmalloc> {
        let wasm = wat::parse_str(text).unwrap();
        let info = crate::module_info::parse(&wasm, Default::default()).unwrap();
        find(&info, &wasm)
    }

    #[test]
    fn the_state_and_the_allocators_entries_are_told_by_their_code() {
        // `$alloc` (0) and `$release` (2): `$helper` is called only from
        // inside, `$wrapper` and `$other` read no top.
        assert_eq!(
            find_in(MODULE),
            Some(UnnamedDlmalloc {
                state: 0x1000,
                entries: vec![0, 2],
                free: Some(2),
            })
        );
        // A helper reachable through a table is an entry too.
        let tabled = MODULE.replace(
            "(memory 1)",
            "(memory 1) (table 1 funcref) (elem (i32.const 0) $helper)",
        );
        assert_eq!(find_in(&tabled).unwrap().entries, vec![0, 1, 2]);
    }

    #[test]
    fn with_names_the_state_is_read_from_the_allocators_own_code() {
        let named = |text: &str| {
            let wasm = wat::parse_str(text).unwrap();
            let info = crate::module_info::parse(&wasm, Default::default()).unwrap();
            assert!(info.dlmalloc);
            named_state(&info, &wasm)
        };
        let module = MODULE
            .replace("$alloc", "$dlmalloc")
            .replace("$release", "$dlfree");
        assert_eq!(named(&module), Some(0x1000));
        // Only the allocator's functions count: another function reading
        // the allocation path's fields elsewhere does not.
        let elsewhere = module.replace(
            "(drop (i32.load offset=0x2018 (i32.const 0))))",
            "(drop (i32.load offset=0x2018 (i32.const 0)))
             (drop (i32.load offset=0x2008 (i32.const 0)))
             (drop (i32.load offset=0x200c (i32.const 0)))
             (drop (i32.load offset=0x2014 (i32.const 0))))",
        );
        assert_eq!(named(&elsewhere), Some(0x1000));
        // An allocator whose code reads no state so: no hint.
        let partial = module.replace("offset=0x1014", "offset=0x1010");
        assert_eq!(named(&partial), None);
    }

    #[test]
    fn no_allocation_path_no_allocator() {
        // Addresses past 4 GiB are no static (and no panic).
        let wide = MODULE.replace(
            "offset=0x1000 (i32.const 0)",
            "offset=0xffffffff (i32.const -1)",
        );
        assert_eq!(find_in(&wide), None);
        // One field fewer than the allocation path reads.
        let partial = MODULE.replace("offset=0x1014", "offset=0x1010");
        assert_eq!(find_in(&partial), None);
        // Reads through a computed address are not a static's.
        let computed = MODULE.replace(
            "(i32.load offset=0x1018 (i32.const 0)))",
            "(i32.load offset=0x1018 (local.get 0)))",
        );
        assert_eq!(find_in(&computed), None);
    }
}
