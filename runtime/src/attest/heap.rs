//! The module's heap as seen through its allocator: with
//! `Config::track_allocations`, generated code reports every return from
//! `malloc`, `free`, `calloc`, `realloc`, `aligned_alloc` and
//! `posix_memalign` (found by name), and this tracker keeps the live
//! chunks and the recently freed ones. Allocators call each other (dlmalloc's
//! `calloc` calls `malloc`), so events are applied idempotently.

use std::collections::{BTreeMap, VecDeque};

use walmart_jit::vmctx::AllocRole;

/// Freed chunks remembered: the most recently freed, the ones a
/// use-after-free most plausibly hits.
const FREED_KEPT: usize = 4096;

/// Live and recently freed heap chunks of a store's first memory.
#[derive(Debug, Default, Clone)]
pub struct HeapTracker {
    live: BTreeMap<u32, u32>,
    /// Freed chunks by address: (size, when freed).
    freed: BTreeMap<u32, (u32, u64)>,
    /// Freed chunks in the order they were freed, for forgetting the
    /// oldest; entries whose chunk was reallocated since are stale.
    freed_order: VecDeque<(u32, u64)>,
    frees: u64,
    /// Allocator calls seen.
    pub events: u64,
}

impl HeapTracker {
    /// Applies one allocator call. `read_u32` reads guest memory (for
    /// `posix_memalign`'s out pointer).
    pub(crate) fn event(
        &mut self,
        role: AllocRole,
        args: [u32; 3],
        result: u32,
        read_u32: impl Fn(u32) -> Option<u32>,
    ) {
        self.events += 1;
        match role {
            AllocRole::Malloc => self.alloc(result, args[0]),
            AllocRole::Calloc => self.alloc(result, args[0].saturating_mul(args[1])),
            AllocRole::AlignedAlloc => self.alloc(result, args[1]),
            AllocRole::PosixMemalign => {
                if result == 0 {
                    if let Some(p) = read_u32(args[0]) {
                        self.alloc(p, args[2]);
                    }
                }
            }
            AllocRole::Free => self.free(args[0]),
            AllocRole::Realloc => {
                // realloc(p, 0) may free; a null result leaves p alive.
                if result != 0 {
                    if args[0] != 0 && args[0] != result {
                        self.free(args[0]);
                    }
                    self.alloc(result, args[1]);
                }
            }
        }
    }

    fn alloc(&mut self, ptr: u32, size: u32) {
        if ptr == 0 {
            return;
        }
        self.live.insert(ptr, size);
        // Freed chunks this one overlaps are live memory again. Freed
        // chunks are disjoint, so walking down from the end stops at the
        // first that ends before `ptr`.
        let end = ptr.saturating_add(size.max(1));
        while let Some((&p, &(s, _))) = self.freed.range(..end).next_back() {
            if p.saturating_add(s.max(1)) <= ptr {
                break;
            }
            self.freed.remove(&p);
        }
    }

    fn free(&mut self, ptr: u32) {
        let Some(size) = self.live.remove(&ptr) else {
            return;
        };
        self.frees += 1;
        self.freed.insert(ptr, (size, self.frees));
        self.freed_order.push_back((ptr, self.frees));
        while self.freed.len() > FREED_KEPT {
            let Some((p, when)) = self.freed_order.pop_front() else {
                break;
            };
            if self.freed.get(&p).is_some_and(|&(_, w)| w == when) {
                self.freed.remove(&p);
            }
        }
        // Stale order entries are dropped as they reach the front; keep
        // the queue from growing without bound meanwhile.
        if self.freed_order.len() > 4 * FREED_KEPT {
            let freed = &self.freed;
            self.freed_order
                .retain(|(p, w)| freed.get(p).is_some_and(|&(_, x)| x == *w));
        }
    }

    /// Live chunks as `(address, size)`, by address.
    pub fn live(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.live.iter().map(|(p, s)| (*p, *s))
    }

    /// Number of live chunks.
    pub fn live_count(&self) -> usize {
        self.live.len()
    }

    /// Freed chunks not reallocated since, by address.
    pub fn freed(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.freed.iter().map(|(p, (s, _))| (*p, *s))
    }

    /// Number of remembered freed chunks.
    pub fn freed_count(&self) -> usize {
        self.freed.len()
    }

    /// The `i`th live chunk in address order.
    pub fn nth_live(&self, i: usize) -> Option<(u32, u32)> {
        self.live().nth(i)
    }

    /// The `i`th remembered freed chunk in address order.
    pub fn nth_freed(&self, i: usize) -> Option<(u32, u32)> {
        self.freed().nth(i)
    }
}

/// Live and freed heap objects, as dataset collection's injected attacks
/// pick them: from the allocator interposition ([`HeapTracker`]) or from
/// the tag monitor's heap when it owns the allocator calls.
pub(crate) trait HeapView {
    /// Number of live objects.
    fn live_count(&self) -> usize;
    /// The `i`th live object as `(address, size)`, in address order.
    fn nth_live(&self, i: usize) -> Option<(u32, u32)>;
    /// Number of freed objects known.
    fn freed_count(&self) -> usize;
    /// The `i`th freed object as `(address, size)`, in address order.
    fn nth_freed(&self, i: usize) -> Option<(u32, u32)>;
}

impl HeapView for HeapTracker {
    fn live_count(&self) -> usize {
        HeapTracker::live_count(self)
    }
    fn nth_live(&self, i: usize) -> Option<(u32, u32)> {
        HeapTracker::nth_live(self, i)
    }
    fn freed_count(&self) -> usize {
        HeapTracker::freed_count(self)
    }
    fn nth_freed(&self, i: usize) -> Option<(u32, u32)> {
        HeapTracker::nth_freed(self, i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_allocations_frees_and_reallocations() {
        let mut h = HeapTracker::default();
        let none = |_| None;
        h.event(AllocRole::Malloc, [16, 0, 0], 1000, none);
        h.event(AllocRole::Calloc, [4, 8, 0], 2000, none);
        h.event(AllocRole::Free, [1000, 0, 0], 0, none);
        assert_eq!(h.live().collect::<Vec<_>>(), [(2000, 32)]);
        assert_eq!(h.freed().collect::<Vec<_>>(), [(1000, 16)]);
        // Reuse of the freed memory makes it live again.
        h.event(AllocRole::Malloc, [8, 0, 0], 1000, none);
        assert_eq!(h.freed_count(), 0);
        h.event(AllocRole::Realloc, [2000, 64, 0], 3000, none);
        assert_eq!(h.live().collect::<Vec<_>>(), [(1000, 8), (3000, 64)]);
        h.event(AllocRole::PosixMemalign, [500, 16, 24], 0, |a| {
            (a == 500).then_some(4000)
        });
        assert_eq!(h.nth_live(2), Some((4000, 24)));
        // Freeing an unknown pointer (the allocator's own) is ignored.
        h.event(AllocRole::Free, [12345, 0, 0], 0, none);
        assert_eq!(h.live_count(), 3);
    }
}
