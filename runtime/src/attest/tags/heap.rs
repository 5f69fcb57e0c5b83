//! The monitor's view of one instance's heap: the allocator wrapper's
//! decisions (redzones, colours, quarantine), the live and freed
//! allocations, and the classification of a failed check.
//!
//! A chunk the module's allocator returns at `q` for `total` bytes holds:
//!
//! ```text
//!  q   lo          p                 p + size    hi       q + total
//!  |hdr| redzone   | object (colour) | redzone   |  slack  |
//! ```
//!
//! `lo` and `hi` are granule-aligned; `[lo, hi)` is what the monitor
//! paints and, when the chunk goes back to the allocator, clears.

use std::collections::{btree_map, BTreeMap, HashSet, VecDeque};

use walmart_attest::{TagMode, ViolationKind};
use walmart_jit::vmctx::{AllocRole, TagAction, TAG_ADDR_MASK, TAG_COLOUR_SHIFT};

use super::shadow::{Shadow, FREED, MAX_ALLOC_COLOUR, REDZONE, UNMANAGED};

/// Freed allocations remembered for reports (use-after-free, double free).
const FREED_KEPT: usize = 1 << 16;
/// How far the report looks for the allocation a pointer's colour names.
const NEIGHBOURS_SEARCHED: usize = 8;
/// `posix_memalign` errors.
const EINVAL: u32 = 28;
const ENOMEM: u32 = 48;

/// One allocation the program got.
#[derive(Clone, Debug)]
pub(crate) struct Alloc {
    /// The module allocator's chunk.
    pub(crate) q: u32,
    /// The object (uncoloured address).
    pub(crate) p: u32,
    pub(crate) size: u32,
    pub(crate) lo: u32,
    pub(crate) hi: u32,
    pub(crate) colour: u8,
    /// Stack depot ids of the allocation and the free.
    pub(crate) alloc_stack: u32,
    pub(crate) free_stack: Option<u32>,
}

impl Alloc {
    fn contains(&self, a: u32) -> bool {
        self.lo <= a && a < self.hi
    }
}

/// A call in progress between `enter` and `exit`.
#[derive(Debug)]
struct Pending {
    role: AllocRole,
    args: [u32; 3],
    size: u32,
    align: u32,
    total: u32,
    stack: u32,
    /// `realloc`'s old object.
    old: Option<u32>,
    /// The live object whose region header emmalloc's inlined `realloc`
    /// read just before asking for this one (see [`TagHeap::exit`]).
    inlined_realloc_of: Option<u32>,
}

/// What the wrapper is told, or a bad `free`/`realloc` to report.
#[derive(Debug)]
pub(crate) enum Enter {
    Go(TagAction, u32),
    Bad(Found),
}

/// An allocation or a free, for the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeapEvent {
    /// Object, size, colour.
    Alloc(u32, u32, u8),
    /// Object, colour.
    Free(u32, u8),
}

/// Raw return addresses, deduplicated.
#[derive(Default)]
pub(crate) struct StackDepot {
    // Every allocation and free looks its stack up: a fast hash matters
    // (addresses come from generated code, not from the guest).
    ids: rustc_hash::FxHashMap<Box<[usize]>, u32>,
    stacks: Vec<Box<[usize]>>,
}

impl StackDepot {
    /// The id of `stack`, stored on first sight.
    pub(crate) fn put(&mut self, stack: &[usize]) -> u32 {
        if let Some(id) = self.ids.get(stack) {
            return *id;
        }
        let id = self.stacks.len() as u32;
        self.stacks.push(stack.into());
        self.ids.insert(stack.into(), id);
        id
    }

    pub(crate) fn get(&self, id: u32) -> &[usize] {
        self.stacks.get(id as usize).map_or(&[], |s| &s[..])
    }
}

/// Counters of one heap.
#[derive(Clone, Copy, Debug, Default)]
pub struct TagStats {
    /// Allocations coloured.
    pub allocations: u64,
    /// Objects freed (into quarantine or straight back).
    pub frees: u64,
    /// Violations reported.
    pub violations: u64,
}

/// The monitor's state for one instance's heap.
pub(crate) struct TagHeap {
    pub(crate) mode: TagMode,
    pub(crate) pointer: bool,
    quarantine_limit: u64,
    pub(crate) shadow: Shadow,
    /// Inside an allocator call: nested calls pass through.
    pub(crate) busy: bool,
    pending: Option<Pending>,
    live: BTreeMap<u32, Alloc>,
    /// Freed allocations by `(lo, sequence)`, newest sequence last.
    freed: BTreeMap<(u32, u64), Alloc>,
    freed_order: VecDeque<(u32, u64)>,
    quarantine: VecDeque<(u32, u32, u32)>,
    quarantined: u64,
    evict: Vec<u32>,
    seq: u64,
    next_colour: u8,
    has_free: bool,
    pub(crate) depot: StackDepot,
    /// Violations already reported: (kind, function, object, write).
    reported: HashSet<(ViolationKind, u64, u32, bool)>,
    /// Allocations and frees since the last [`TagHeap::take_events`],
    /// recorded only for a trace.
    events: Option<Vec<HeapEvent>>,
    pub(crate) stats: TagStats,
    /// The lowest granule ever coloured (`u32::MAX`: none yet).
    floor: u32,
    /// The module's allocator is emmalloc, whose `realloc` a build may
    /// inline into the program's functions (zig's wasi-libc, optimized
    /// with the program): see [`TagHeap::exit`].
    emmalloc: bool,
    /// The live object whose region header such a `realloc` read last,
    /// until the next allocator call.
    header_read: Option<u32>,
}

impl crate::attest::heap::HeapView for TagHeap {
    fn live_count(&self) -> usize {
        self.live.len()
    }
    fn nth_live(&self, i: usize) -> Option<(u32, u32)> {
        self.live.values().nth(i).map(|a| (a.p, a.size))
    }
    fn freed_count(&self) -> usize {
        self.freed.len()
    }
    /// `None` for a freed object whose memory is live again.
    fn nth_freed(&self, i: usize) -> Option<(u32, u32)> {
        let a = self.freed.values().nth(i)?;
        let reused = self
            .live
            .range(..a.hi)
            .next_back()
            .is_some_and(|(_, l)| l.hi > a.lo);
        (!reused).then_some((a.p, a.size))
    }
}

/// A classified violation.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) kind: ViolationKind,
    pub(crate) address: u32,
    pub(crate) alloc: Option<Alloc>,
}

fn align_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

impl TagHeap {
    pub(crate) fn new(
        mode: TagMode,
        pointer: bool,
        quarantine_limit: u64,
        shadow: Shadow,
        has_free: bool,
        traced: bool,
        emmalloc: bool,
    ) -> TagHeap {
        TagHeap {
            mode,
            pointer,
            quarantine_limit,
            shadow,
            busy: false,
            pending: None,
            live: BTreeMap::new(),
            freed: BTreeMap::new(),
            freed_order: VecDeque::new(),
            quarantine: VecDeque::new(),
            quarantined: 0,
            evict: Vec::new(),
            seq: 0,
            next_colour: 1,
            has_free,
            depot: StackDepot::default(),
            reported: HashSet::new(),
            events: traced.then(Vec::new),
            stats: TagStats::default(),
            floor: u32::MAX,
            emmalloc,
            header_read: None,
        }
    }

    /// Splits a pointer into its address and colour.
    pub(crate) fn split(&self, ptr: u64) -> (u32, u8) {
        if self.pointer {
            (
                (ptr as u32) & TAG_ADDR_MASK,
                ((ptr >> TAG_COLOUR_SHIFT) & 15) as u8,
            )
        } else {
            (ptr as u32, 0)
        }
    }

    fn coloured(&self, p: u32, colour: u8) -> u32 {
        if self.pointer {
            p | u32::from(colour) << TAG_COLOUR_SHIFT
        } else {
            p
        }
    }

    /// Right redzone for an object of `size` bytes: larger objects get
    /// larger ones, so long overflows still land in a redzone.
    fn redzone(size: u32) -> u64 {
        (u64::from(size) / 8).clamp(16, 1024) & !15
    }

    /// Chunk size to ask the allocator for, or `None` past 32 bits.
    fn total(size: u32, align: u32) -> Option<u32> {
        let a = u64::from(align.max(16));
        // Left redzone and alignment slack, the object, the right redzone,
        // and a granule of slack for a chunk that is not 16-aligned.
        let t = 16 + (a - 1) + align_up(u64::from(size), 16) + Self::redzone(size) + 16;
        u32::try_from(t).ok().filter(|t| *t <= TAG_ADDR_MASK)
    }

    /// The wrapper of an allocator function of `role` was called with
    /// `args`; `stack` is the caller's stack (a depot id, taken lazily).
    pub(crate) fn enter(
        &mut self,
        role: AllocRole,
        args: [u32; 3],
        stack: impl FnOnce(&mut StackDepot) -> u32,
    ) -> Enter {
        if self.busy {
            return Enter::Go(TagAction::PassThrough, 0);
        }
        // An inlined `realloc`'s allocation follows its header reads.
        let inlined_realloc_of = self
            .header_read
            .take()
            .filter(|_| matches!(role, AllocRole::Malloc | AllocRole::AlignedAlloc));
        let refuse = |this: &mut TagHeap, v| {
            this.refused();
            Enter::Go(TagAction::Return, v)
        };
        let bad = |this: &TagHeap, ptr: u32, (kind, alloc)| {
            Enter::Bad(Found {
                kind,
                address: this.split(u64::from(ptr)).0,
                alloc,
            })
        };
        let (size, align, old) = match role {
            AllocRole::Malloc => (args[0], 16, None),
            AllocRole::Calloc => match args[0].checked_mul(args[1]) {
                Some(n) => (n, 16, None),
                None => return refuse(self, 0),
            },
            AllocRole::Realloc if args[0] == 0 => (args[1], 16, None),
            AllocRole::Realloc => match self.owner(args[0]) {
                Ok(p) => (args[1], 16, Some(p)),
                Err(why) => return bad(self, args[0], why),
            },
            AllocRole::AlignedAlloc if !args[0].is_power_of_two() => return refuse(self, 0),
            AllocRole::AlignedAlloc => (args[1], args[0], None),
            AllocRole::PosixMemalign if !args[1].is_power_of_two() || args[1] < 4 => {
                return refuse(self, EINVAL)
            }
            AllocRole::PosixMemalign => (args[2], args[1], None),
            AllocRole::Free if args[0] == 0 => return refuse(self, 0),
            AllocRole::Free => {
                // The common case in one map lookup: a live object freed
                // through its own pointer.
                let (p, colour) = self.split(u64::from(args[0]));
                if let btree_map::Entry::Occupied(e) = self.live.entry(p) {
                    if !self.pointer || e.get().colour == colour {
                        let a = e.remove();
                        let s = stack(&mut self.depot);
                        self.retire(a, s);
                        return refuse(self, 0);
                    }
                }
                match self.owner(args[0]) {
                    Ok(p) => {
                        let s = stack(&mut self.depot);
                        self.release(p, s);
                        return refuse(self, 0);
                    }
                    Err(why) => return bad(self, args[0], why),
                }
            }
        };
        let Some(total) = Self::total(size, align) else {
            let err = if role == AllocRole::PosixMemalign {
                ENOMEM
            } else {
                0
            };
            return refuse(self, err);
        };
        let stack = stack(&mut self.depot);
        self.pending = Some(Pending {
            role,
            args,
            size,
            align: align.max(16),
            total,
            stack,
            old,
            inlined_realloc_of,
        });
        self.busy = true;
        Enter::Go(TagAction::Allocate, total)
    }

    /// The wrapper returns without calling the allocator (a bad `free`
    /// reported and ignored, a request refused); it still runs
    /// [`TagHeap::next_eviction`], which ends the call.
    pub(crate) fn refused(&mut self) -> u32 {
        self.busy = true;
        0
    }

    /// The allocations and frees since the last call (none without a
    /// trace).
    pub(crate) fn take_events(&mut self) -> Vec<HeapEvent> {
        self.events.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn record(&mut self, e: HeapEvent) {
        if let Some(events) = self.events.as_mut() {
            events.push(e);
        }
    }

    /// The lowest address whose granule was ever coloured (`u32::MAX`
    /// before the first allocation): the shadow below it is all zero.
    pub(crate) fn floor(&self) -> u32 {
        self.floor
    }

    /// The module's allocator returned `result` for the pending call.
    /// `mem` is the memory's bytes (zeroing, copying, out pointers).
    pub(crate) fn exit(&mut self, result: u32, mem: &mut [u8]) -> u32 {
        let Some(pend) = self.pending.take() else {
            return result;
        };
        let q = if pend.role == AllocRole::PosixMemalign {
            if result != 0 {
                return result;
            }
            match read_u32(mem, pend.args[0]) {
                Some(q) => q,
                None => return ENOMEM,
            }
        } else {
            result
        };
        if q == 0 || u64::from(q) + u64::from(pend.total) > mem.len() as u64 {
            return if pend.role == AllocRole::PosixMemalign {
                ENOMEM
            } else {
                0
            };
        }
        let p = align_up(u64::from(q) + 16, u64::from(pend.align)) as u32;
        let lo = align_up(u64::from(q), 16) as u32;
        let hi = ((u64::from(q) + u64::from(pend.total)) & !15) as u32;
        let obj_end = align_up(u64::from(p) + u64::from(pend.size), 16) as u32;
        let colour = if self.pointer { self.pick_colour(p) } else { 0 };
        if self.emmalloc {
            // Where emmalloc's `realloc`, inlined into the program, reads
            // the object's region header (`p - 4`) and the size at the
            // ceiling of the region before (`p - 8`): inside the wrapper's
            // left redzone, whose bytes are stale. Zeros make that code see
            // an empty region followed by a used one, which it never
            // resizes in place (a resize would write headers into the
            // wrapper's chunk and link them into emmalloc's free lists): it
            // allocates anew, copies and frees, all through the wrappers.
            mem[p as usize - 8..p as usize].fill(0);
            if let Some(old) = pend.inlined_realloc_of {
                // Its new object: it reads the header again for the copy's
                // length, the least of the new size and the old region's
                // size less 8. The old object's size then, as a wrapped
                // `realloc` copies (with zeros it would copy the new size,
                // reading past the old object, past memory's end even).
                if let Some(size) = self.live.get(&old).map(|a| a.size) {
                    let at = old as usize - 4;
                    mem[at..at + 4].copy_from_slice(&size.saturating_add(8).to_le_bytes());
                }
            }
        }
        self.floor = self.floor.min(lo);
        self.shadow.fill(lo, p, REDZONE << 4);
        self.shadow.paint_object(p, pend.size, colour);
        self.shadow.fill(obj_end, hi, REDZONE << 4);
        self.live.insert(
            p,
            Alloc {
                q,
                p,
                size: pend.size,
                lo,
                hi,
                colour,
                alloc_stack: pend.stack,
                free_stack: None,
            },
        );
        self.stats.allocations += 1;
        self.record(HeapEvent::Alloc(p, pend.size, colour));
        let (p_us, size_us) = (p as usize, pend.size as usize);
        match pend.role {
            AllocRole::Calloc => mem[p_us..p_us + size_us].fill(0),
            AllocRole::Realloc => {
                if let Some((old, old_size)) =
                    pend.old.and_then(|o| Some((o, self.live.get(&o)?.size)))
                {
                    let n = old_size.min(pend.size) as usize;
                    mem.copy_within(old as usize..old as usize + n, p_us);
                    self.release(old, pend.stack);
                }
            }
            AllocRole::PosixMemalign => {
                let tagged = self.coloured(p, colour);
                let at = pend.args[0] as usize;
                mem[at..at + 4].copy_from_slice(&tagged.to_le_bytes());
                return 0;
            }
            _ => {}
        }
        self.coloured(p, colour)
    }

    /// The next chunk to hand to the module's `free`, or `None`, which
    /// ends the allocator call.
    pub(crate) fn next_eviction(&mut self) -> Option<u32> {
        let q = self.evict.pop();
        if q.is_none() {
            self.busy = false;
        }
        q
    }

    /// A colour for the object at `p` that differs from its neighbours'
    /// and from what the memory had before (a dangling pointer's).
    fn pick_colour(&mut self, p: u32) -> u8 {
        let before = self.live.range(..p).next_back().map(|(_, a)| a.colour);
        let after = self.live.range(p..).next().map(|(_, a)| a.colour);
        let stale = self.shadow.colour(p);
        for _ in 0..MAX_ALLOC_COLOUR {
            let c = self.next_colour;
            self.next_colour = if c >= MAX_ALLOC_COLOUR { 1 } else { c + 1 };
            if Some(c) != before && Some(c) != after && c != stale {
                return c;
            }
        }
        self.next_colour
    }

    /// The live object `ptr` points to the start of, or why freeing it
    /// is wrong.
    fn owner(&self, ptr: u32) -> Result<u32, (ViolationKind, Option<Alloc>)> {
        let (p, colour) = self.split(u64::from(ptr));
        if let Some(a) = self.live.get(&p) {
            if !self.pointer || a.colour == colour {
                return Ok(p);
            }
        }
        let freed = self
            .freed
            .values()
            .rev()
            .find(|f| f.p == p && (!self.pointer || f.colour == colour));
        if let Some(f) = freed {
            return Err((ViolationKind::DoubleFree, Some(f.clone())));
        }
        Err((ViolationKind::InvalidFree, self.live_containing(p).cloned()))
    }

    fn live_containing(&self, a: u32) -> Option<&Alloc> {
        // The object at or below `a`, or the next one (its left redzone).
        let below = self.live.range(..=a).next_back().map(|(_, x)| x);
        let above = self.live.range(a..).next().map(|(_, x)| x);
        below
            .filter(|x| x.contains(a))
            .or(above.filter(|x| x.contains(a)))
    }

    /// Frees live object `p`: poisons and quarantines it, or hands it
    /// straight back, as the mode says.
    fn release(&mut self, p: u32, free_stack: u32) {
        if let Some(a) = self.live.remove(&p) {
            self.retire(a, free_stack);
        }
    }

    /// Frees object `a`, already out of the live map.
    fn retire(&mut self, mut a: Alloc, free_stack: u32) {
        a.free_stack = Some(free_stack);
        self.stats.frees += 1;
        self.record(HeapEvent::Free(a.p, a.colour));
        match self.mode {
            TagMode::Temporal | TagMode::WriteOnly => {
                let end = align_up(u64::from(a.p) + u64::from(a.size), 16) as u32;
                self.shadow.fill(a.p, end, FREED << 4);
                self.quarantine.push_back((a.q, a.lo, a.hi));
                self.quarantined += u64::from(a.hi - a.lo);
                while self.quarantined > self.quarantine_limit {
                    let Some((q, lo, hi)) = self.quarantine.pop_front() else {
                        break;
                    };
                    self.quarantined -= u64::from(hi - lo);
                    self.shadow.fill(lo, hi, UNMANAGED);
                    self.give_back(q);
                }
            }
            // Pointer colours keep the colour until the memory is
            // reallocated: the dangling pointer still matches.
            TagMode::RelaxedTemporal if self.pointer => self.give_back(a.q),
            TagMode::RelaxedTemporal | TagMode::Spatial => {
                self.shadow.fill(a.lo, a.hi, UNMANAGED);
                self.give_back(a.q);
            }
        }
        self.seq += 1;
        self.freed.insert((a.lo, self.seq), a.clone());
        self.freed_order.push_back((a.lo, self.seq));
        if self.freed_order.len() > FREED_KEPT {
            if let Some(k) = self.freed_order.pop_front() {
                self.freed.remove(&k);
            }
        }
    }

    fn give_back(&mut self, q: u32) {
        if self.has_free {
            self.evict.push(q);
        }
    }

    /// Checks an access of `len` bytes at `ptr` (colour bits included)
    /// and classifies its first forbidden byte. `None`: the access is
    /// fine, or the mode does not report what is wrong with it.
    pub(crate) fn check(&self, ptr: u64, len: u32) -> Option<Found> {
        let (start, colour) = self.split(ptr);
        let a = self.shadow.first_denied(start, len, colour)?;
        let found = |kind, alloc: Option<&Alloc>| Found {
            kind,
            address: a,
            alloc: alloc.cloned(),
        };
        let here = self.live_containing(a);
        let side = |x: &Alloc| {
            if a < x.p {
                ViolationKind::Underflow
            } else {
                ViolationKind::Overflow
            }
        };
        let f = if let Some(x) = here.filter(|x| !self.pointer || x.colour == colour) {
            found(side(x), Some(x))
        } else if let Some(x) = self.freed_containing(a, colour) {
            found(ViolationKind::UseAfterFree, Some(x))
        } else if let Some(x) = self.pointer.then(|| self.named_by(a, colour)).flatten() {
            found(side(x), Some(x))
        } else if here.is_none() && a < self.floor && self.shadow.colour(a) == REDZONE {
            // Below every heap granule: the guard above a stack frame
            // (`walmart_jit::translate::stack_guard`).
            found(ViolationKind::StackBufferOverflow, None)
        } else {
            found(ViolationKind::Wild, here)
        };
        if f.kind == ViolationKind::UseAfterFree && self.mode == TagMode::Spatial {
            return None;
        }
        Some(f)
    }

    /// The newest freed object around `a` a pointer of `colour` may still
    /// point to: with memory colours, only while it is in quarantine.
    fn freed_containing(&self, a: u32, colour: u8) -> Option<&Alloc> {
        if !self.pointer && self.shadow.colour(a) != FREED {
            return None;
        }
        self.freed
            .range(..=(a, u64::MAX))
            .rev()
            .take(4096)
            .filter(|(_, x)| x.contains(a) && (!self.pointer || x.colour == colour))
            .max_by_key(|((_, seq), _)| *seq)
            .map(|(_, x)| x)
    }

    /// The live object near `a` whose colour the pointer carries: the
    /// object it overflowed from (below `a`) or underflowed (above).
    fn named_by(&self, a: u32, colour: u8) -> Option<&Alloc> {
        if colour == UNMANAGED {
            return None;
        }
        let below = self
            .live
            .range(..=a)
            .rev()
            .take(NEIGHBOURS_SEARCHED)
            .map(|(_, x)| x)
            .find(|x| x.colour == colour);
        let above = self
            .live
            .range(a..)
            .take(NEIGHBOURS_SEARCHED)
            .map(|(_, x)| x)
            .find(|x| x.colour == colour);
        match (below, above) {
            (Some(b), Some(c)) => {
                Some(if a.saturating_sub(b.p + b.size) <= c.p.saturating_sub(a) {
                    b
                } else {
                    c
                })
            }
            (b, c) => b.or(c),
        }
    }

    /// Whether a failed check is emmalloc's `realloc`, inlined into the
    /// program, reading the region header of a live object: a 4-byte read
    /// at `p - 4`, or `p - 8` for the region before (see
    /// [`TagHeap::exit`]). Nothing else is let through.
    pub(crate) fn inlined_realloc_read(
        &mut self,
        found: &Found,
        address: u32,
        size: u32,
        write: bool,
    ) -> bool {
        if !self.emmalloc || write || size != 4 || found.kind != ViolationKind::Underflow {
            return false;
        }
        let Some(o) = &found.alloc else {
            return false;
        };
        // An underflow names a live object (see `check`).
        if address == o.p - 4 || address == o.p - 8 {
            self.header_read = Some(o.p);
            return true;
        }
        false
    }

    /// Whether a violation of `kind` in function `func` on `object`, by a
    /// `write` or not, is new (each is reported once). Reads and writes
    /// are told apart: a `|=` past a buffer reads before it writes, and
    /// only the write corrupts memory.
    pub(crate) fn first_report(
        &mut self,
        kind: ViolationKind,
        func: u64,
        object: u32,
        write: bool,
    ) -> bool {
        self.reported.insert((kind, func, object, write))
    }
}

fn read_u32(mem: &[u8], at: u32) -> Option<u32> {
    let b = mem.get(at as usize..at as usize + 4)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::tags::shadow::ShadowMap;

    /// A heap over `mem` whose module allocator is a bump allocator from
    /// 0x1000, `realloc` inlined as emmalloc's is.
    fn alloc(heap: &mut TagHeap, mem: &mut [u8], next: &mut u32, size: u32) -> u32 {
        let Enter::Go(TagAction::Allocate, total) =
            heap.enter(AllocRole::Malloc, [size, 0, 0], |_| 0)
        else {
            panic!("the wrapper allocates");
        };
        let q = *next;
        *next += total.next_multiple_of(16);
        let p = heap.exit(q, mem);
        assert!(heap.next_eviction().is_none());
        p
    }

    #[test]
    fn an_inlined_realloc_reads_headers_and_copies_the_old_size() {
        let map = ShadowMap::new(1 << 12).unwrap();
        let mut heap = TagHeap::new(TagMode::Temporal, false, 0, map.view(), true, false, true);
        let mut mem = vec![0xaa; 1 << 16];
        let mut next = 0x1000;
        let o = alloc(&mut heap, &mut mem, &mut next, 40);
        // The zeros the inlined code reads as an empty region.
        let header = |mem: &[u8], p: u32| mem[p as usize - 8..p as usize].to_vec();
        assert_eq!(header(&mem, o), [0; 8]);
        let read = |heap: &mut TagHeap, at: u32, len: u32, write: bool| {
            let found = heap.check(u64::from(at), len).expect("a failed check");
            heap.inlined_realloc_read(&found, at, len, write)
        };
        // The header reads; a write there, or another read, is not one.
        assert!(!read(&mut heap, o - 4, 4, true));
        assert!(!read(&mut heap, o - 3, 1, false));
        assert!(!read(&mut heap, o - 12, 4, false));
        assert!(read(&mut heap, o - 8, 4, false));
        assert!(read(&mut heap, o - 4, 4, false));
        // The new object it asks for next: the header then gives the old
        // object's size (40) plus 8 to the copy.
        let n = alloc(&mut heap, &mut mem, &mut next, 100);
        assert_eq!(header(&mem, o), [0, 0, 0, 0, 48, 0, 0, 0]);
        assert_eq!(header(&mem, n), [0; 8]);
        // Nothing past the old object is let through.
        assert!(read(&mut heap, o - 4, 4, false));
        assert!(!read(&mut heap, o + 40, 8, false));
        // An allocation after another allocator call is not its.
        assert!(read(&mut heap, n - 4, 4, false));
        let _ = heap.enter(AllocRole::Free, [0, 0, 0], |_| 0);
        while heap.next_eviction().is_some() {}
        let m = alloc(&mut heap, &mut mem, &mut next, 16);
        assert_eq!(header(&mem, n), [0; 8]);
        assert_eq!(header(&mem, m), [0; 8]);
        // A refused request leaves nothing behind for the next one.
        assert!(read(&mut heap, m - 4, 4, false));
        let refused = heap.enter(AllocRole::AlignedAlloc, [3, 16, 0], |_| 0);
        assert!(matches!(refused, Enter::Go(TagAction::Return, 0)));
        while heap.next_eviction().is_some() {}
        let _ = alloc(&mut heap, &mut mem, &mut next, 16);
        assert_eq!(header(&mem, m), [0; 8]);
    }

    #[test]
    fn a_heap_of_another_allocator_lets_no_header_read_through() {
        let map = ShadowMap::new(1 << 12).unwrap();
        let mut heap = TagHeap::new(TagMode::Temporal, false, 0, map.view(), true, false, false);
        let mut mem = vec![0xaa; 1 << 16];
        let mut next = 0x1000;
        let o = alloc(&mut heap, &mut mem, &mut next, 40);
        assert_eq!(&mem[o as usize - 8..o as usize], &[0xaa; 8]);
        let found = heap.check(u64::from(o - 4), 4).unwrap();
        assert!(!heap.inlined_realloc_read(&found, o - 4, 4, false));
    }
}
