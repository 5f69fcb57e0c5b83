//! The check of the tree chunks dlmalloc's `malloc` is about to take.
//!
//! dlmalloc serves a request of a large chunk (and a small one no small
//! bin or the designated victim can serve) from its tree bins: it
//! searches a bin's tree for the best fit (`tmalloc_large`, or the
//! smallest chunk of the least non-empty bin, `tmalloc_small`) and
//! unlinks the chunk it picks (`unlink_large_chunk`) by writing through
//! its ring links, its parent and its children. wasi-libc builds dlmalloc
//! with the checks it would make first compiled out (`ABORT` is
//! `__builtin_unreachable()`), so those fields, written over by a use
//! after free of a freed large chunk, make the allocation a write of the
//! attacker's choosing. The entry of `malloc`, `calloc` and `realloc`
//! calls the runtime where the tree map is not empty and the request may
//! come from it ([`walmart_jit::vmctx::HookPoint::TreeCheck`]); this
//! module walks the same path dlmalloc's search walks ([`tree_take`])
//! and checks every tree chunk on it as the heap walk checks a free tree
//! chunk (its head free, its ring links pointing back at it, its index,
//! parent and children: [`heap_walk::tree_node_broken`]).

use walmart_attest::{HookSite, PAGE_SIZE};
use walmart_jit::vmctx::{
    HEAP_MAX_SMALL_REQUEST, HEAP_MIN_LARGE, HEAP_STATE_SMALLMAP, HEAP_STATE_TREEMAP,
};

use super::heap_walk::{
    self, callee, entry_call, tree_slot, word_at, CINUSE, FLAG_BITS, STATE_DVSIZE,
};
use crate::store::StoreOpaque;

/// Offset of `treemap` (a bit per non-empty tree bin) in wasm32
/// dlmalloc's state.
const STATE_TREEMAP: u64 = HEAP_STATE_TREEMAP as u64;
/// Tree bins in dlmalloc's state.
const TREE_BINS: u32 = 32;
/// The search visits at most one node per bit of a size, and then the
/// leftmost chain of one subtree: more steps than this mean a tree whose
/// child links were written into a cycle.
const MAX_STEPS: usize = 128;

/// What is wrong with a tree chunk dlmalloc's search for a request of
/// `request` bytes reaches, given its state at `state`: the address of
/// the word that is wrong, the chunk, and what is wrong; `None` where the
/// search's path is as dlmalloc keeps it, or the request does not come
/// from a tree bin.
pub(crate) fn tree_take(memory: &[u8], state: u32, request: u32) -> Option<(u32, u32, String)> {
    let field = |off: u64| word_at(memory, u64::from(state) + off);
    let treemap = field(STATE_TREEMAP)?;
    if treemap == 0 || request >= 0u32.wrapping_sub(64) {
        return None;
    }
    // `pad_request` with 16-byte alignment (wasi-libc's).
    let nb = (request + 4 + 15) & !15;
    let slot = |i: u32| tree_slot(state, i);
    let root = |i: u32| word_at(memory, slot(i));
    let mut path = Path::new(nb);
    if request <= HEAP_MAX_SMALL_REQUEST {
        // `tmalloc_small`: only where no small bin of this size or larger
        // holds a chunk and the victim is too small.
        let smallbits = field(HEAP_STATE_SMALLMAP as u64)? >> (nb >> 3);
        if smallbits != 0 || nb <= field(STATE_DVSIZE)? {
            return None;
        }
        let bin = treemap.trailing_zeros();
        return path
            .leftmost(memory, state, root(bin)?, slot(bin))
            .or_else(|| path.unlink(memory, state));
    }
    // `tmalloc_large`: down the bin's tree along the bits of `nb`,
    // keeping the deepest right subtree not taken, to a chunk of exactly
    // `nb` bytes or the end of the path; then down the leftmost children
    // of where it stopped, of that subtree, or (no chunk on the path was
    // large enough) of the next non-empty bin's tree.
    let index = heap_walk::tree_index(nb);
    let mut t = root(index)?;
    // The word that held `t`, for a report of a pointer past memory.
    let mut from = slot(index);
    if t != 0 {
        let mut bits = nb << leftshift_for_tree_index(index);
        let mut deepest_right = (0, 0);
        loop {
            if let Some(broken) = path.visit(memory, state, t, from) {
                return Some(broken);
            }
            if path.rest == 0 {
                break;
            }
            let right = word_at(memory, u64::from(t) + 20)?;
            from = u64::from(t) + 16 + 4 * u64::from(bits >> 31);
            let right_from = u64::from(t) + 20;
            t = word_at(memory, from)?;
            if right != 0 && right != t {
                deepest_right = (right, right_from);
            }
            if t == 0 {
                (t, from) = deepest_right;
                break;
            }
            bits <<= 1;
        }
    }
    if t == 0 && path.best == 0 && index < TREE_BINS - 1 {
        let larger = treemap & (u32::MAX << (index + 1));
        if larger != 0 {
            t = root(larger.trailing_zeros())?;
            from = slot(larger.trailing_zeros());
        }
    }
    path.leftmost(memory, state, t, from)
        .or_else(|| path.unlink(memory, state))
}

/// The tree chunks a search has reached, each checked as it is reached
/// (before the search reads its children, as dlmalloc would next), and
/// the one it takes: the best fit so far (`v`) and what it leaves over
/// (`rsize`), as dlmalloc keeps them.
struct Path {
    nb: u32,
    steps: usize,
    best: u32,
    rest: u32,
}

impl Path {
    fn new(nb: u32) -> Path {
        Path {
            nb,
            steps: 0,
            best: 0,
            // dlmalloc's `rsize = -nb`: any chunk of `nb` bytes or more
            // leaves less.
            rest: 0u32.wrapping_sub(nb),
        }
    }

    /// Checks the tree chunk at `c`, whose address the word at `from`
    /// held: what is wrong with it, if anything; also a search that has
    /// gone on for longer than a tree allows.
    fn visit(
        &mut self,
        memory: &[u8],
        state: u32,
        c: u32,
        from: u64,
    ) -> Option<(u32, u32, String)> {
        let from32 = from.min(u64::from(u32::MAX)) as u32;
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Some((
                from32,
                c,
                format!(
                    "the search has gone {MAX_STEPS} chunks deep: the tree's links form a cycle"
                ),
            ));
        }
        if u64::from(c) + 32 > memory.len() as u64 {
            return Some((
                from32,
                c,
                format!("a tree link at {from:#x} leads to {c:#x}, past the end of memory"),
            ));
        }
        if let Some((at, what)) = node_broken(memory, state, c) {
            return Some((at.min(u64::from(u32::MAX)) as u32, c, what));
        }
        let size = word_at(memory, u64::from(c) + 4).expect("checked inside") & !FLAG_BITS;
        let rest = size.wrapping_sub(self.nb);
        if rest < self.rest {
            self.best = c;
            self.rest = rest;
        }
        None
    }

    /// The chunks `unlink_large_chunk` writes through as it takes the
    /// best fit: where the fit is alone in its ring, the leaf it moves
    /// up in its place, down the second child where there is one, else
    /// the first (it then clears the leaf's slot in its parent); with
    /// siblings in the ring, its `bk`, whose links the fit's check
    /// covered.
    fn unlink(&mut self, memory: &[u8], state: u32) -> Option<(u32, u32, String)> {
        let v = u64::from(self.best);
        if self.best == 0 || word_at(memory, v + 12)? != self.best {
            return None;
        }
        let child = |c: u64| match word_at(memory, c + 20)? {
            0 => Some((word_at(memory, c + 16)?, c + 16)),
            second => Some((second, c + 20)),
        };
        let (mut r, mut from) = child(v)?;
        while r != 0 {
            if let Some(broken) = self.visit(memory, state, r, from) {
                return Some(broken);
            }
            (r, from) = child(u64::from(r))?;
        }
        None
    }

    /// From `t` (held by the word at `from`) down its leftmost children
    /// (`leftmost_child`: the first child, else the second), checking
    /// each.
    fn leftmost(
        &mut self,
        memory: &[u8],
        state: u32,
        mut t: u32,
        mut from: u64,
    ) -> Option<(u32, u32, String)> {
        while t != 0 {
            if let Some(broken) = self.visit(memory, state, t, from) {
                return Some(broken);
            }
            let first = word_at(memory, u64::from(t) + 16)?;
            (t, from) = if first != 0 {
                (first, u64::from(t) + 16)
            } else {
                (word_at(memory, u64::from(t) + 20)?, u64::from(t) + 20)
            };
        }
        None
    }
}

/// dlmalloc's `leftshift_for_tree_index` on wasm32: how far a size is
/// shifted so that its bit that picks the first child at the bin's root
/// is the top bit.
fn leftshift_for_tree_index(index: u32) -> u32 {
    if index == TREE_BINS - 1 {
        0
    } else {
        31 - ((index >> 1) + 8 - 2)
    }
}

/// What is wrong with the tree chunk at `c` (its 32 bytes inside
/// memory), as the heap walk checks a free tree chunk; and a size below
/// the tree bins' least, which their index cannot tell (it files every
/// such size in bin 0).
fn node_broken(memory: &[u8], state: u32, c: u32) -> Option<(u64, String)> {
    let c64 = u64::from(c);
    let head = word_at(memory, c64 + 4)?;
    let size = head & !FLAG_BITS;
    if size < HEAP_MIN_LARGE {
        return Some((
            c64 + 4,
            format!("its head {head:#x} gives {size} bytes, too few for a tree bin"),
        ));
    }
    if head & CINUSE != 0 {
        return Some((c64 + 4, format!("its head {head:#x} says it is in use")));
    }
    if !heap_walk::links_agree(memory, c) {
        let fd = word_at(memory, c64 + 8).unwrap_or(0);
        let bk = word_at(memory, c64 + 12).unwrap_or(0);
        return Some((
            c64 + 8,
            format!(
                "the chunk is free ({size} bytes) but not in its ring of same-sized chunks (fd \
                 {fd:#x}, bk {bk:#x})"
            ),
        ));
    }
    heap_walk::tree_node_broken(memory, state, c64, size)
}

/// An allocator entry asks ([`walmart_jit::vmctx::HookPoint::TreeCheck`]):
/// the request (in `heap_arg`) may be served from a tree bin. Reports a
/// tree chunk on dlmalloc's search path that is not as dlmalloc keeps it,
/// as a `heap-corrupt` event from `malloc-check`, and returns whether the
/// guest must stop (a detection under `--on-detect trap`).
pub(crate) fn tree_check(store: &mut StoreOpaque, site: &dyn Fn(&StoreOpaque) -> HookSite) -> bool {
    let Some((request, at)) = entry_call(store) else {
        return false;
    };
    if store.attest.as_deref().is_some_and(|s| s.heap_broken) {
        return false;
    }
    let Some((word, chunk, what)) = tree_take(store.memories[0].bytes(), at, request) else {
        return false;
    };
    let hook = site(store);
    let s = store.attest.as_deref_mut().expect("checked above");
    heap_walk::give_up(s);
    let callee = callee(&hook, "the allocator");
    let detail = format!(
        "{callee} was asked for {request} bytes, which dlmalloc may take from a tree bin, and \
         the free chunk at {chunk:#x} on its search's path was written over (a use after free or \
         an overflow; wasi-libc's dlmalloc does not check it, and would write through its \
         links): {what} (at {word:#x})"
    );
    heap_walk::report(s, hook, word / PAGE_SIZE as u32, "malloc-check", detail);
    s.stop_requested()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: u32 = 0x400;
    const CHUNK: u32 = 0x1000;
    const SLOT: u32 = STATE + walmart_jit::vmctx::HEAP_STATE_TREEBINS as u32;

    fn put(mem: &mut [u8], at: u32, v: u32) {
        mem[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// A state whose tree bin 0 holds one free chunk of 304 bytes, alone
    /// in its ring, as dlmalloc keeps it.
    fn one_tree_chunk() -> Vec<u8> {
        let mut mem = vec![0u8; 0x2000];
        put(&mut mem, STATE + STATE_TREEMAP as u32, 1);
        put(&mut mem, SLOT, CHUNK);
        put(&mut mem, CHUNK + 4, 304 | 1);
        put(&mut mem, CHUNK + 8, CHUNK);
        put(&mut mem, CHUNK + 12, CHUNK);
        put(&mut mem, CHUNK + 24, SLOT);
        mem
    }

    #[test]
    fn the_chunk_dlmallocs_search_reaches_is_checked() {
        let mem = one_tree_chunk();
        for request in [300, 296, 250, 200, 40] {
            assert_eq!(tree_take(&mem, STATE, request), None, "{request}");
        }
        for (at, v, says) in [
            (
                CHUNK + 8,
                0x4141_4141,
                "not in its ring of same-sized chunks (fd 0x41414141",
            ),
            (CHUNK + 28, 3, "filed under tree bin 3"),
            (CHUNK + 24, 0x1800, "tree parent 0x1800 does not point back"),
            (CHUNK + 16, 0x1800, "tree child 0x1800 does not point back"),
            (CHUNK + 4, 304 | 3, "says it is in use"),
            // A size bin 0's index cannot tell from its own.
            (CHUNK + 4, 64 | 1, "gives 64 bytes, too few for a tree bin"),
        ] {
            let mut mem = one_tree_chunk();
            put(&mut mem, at, v);
            // A large request (tmalloc_large) and a small one no small bin
            // or victim serves (tmalloc_small) both reach it.
            for request in [300, 40] {
                let (word, chunk, what) = tree_take(&mem, STATE, request).expect(says);
                assert_eq!(chunk, CHUNK);
                assert!((CHUNK..CHUNK + 32).contains(&word), "{word:#x}");
                assert!(what.contains(says), "{what}");
            }
            // A small request the victim serves: dlmalloc does not search.
            put(&mut mem, STATE + STATE_DVSIZE as u32, 4096);
            assert_eq!(tree_take(&mem, STATE, 40), None);
        }
        // A chunk past memory, and a request too large for any tree.
        let mut mem = one_tree_chunk();
        put(&mut mem, SLOT, 0xffff_fff0);
        let (word, _, what) = tree_take(&mem, STATE, 300).unwrap();
        assert!(what.contains("past the end of memory"), "{what}");
        assert_eq!(word, SLOT, "the word that holds the link");
        assert_eq!(tree_take(&one_tree_chunk(), STATE, 5000), None);
        assert_eq!(tree_take(&one_tree_chunk(), STATE, u32::MAX - 8), None);
    }

    #[test]
    fn a_search_goes_down_the_size_bits_and_to_the_next_bin() {
        // Bin 0 (256-383 bytes): a root of 272 bytes with a second child
        // of 368, which the bits of a request padded to 352 pick (bit 6
        // of 352, the first below the bin's range, is 1). Bin 3 (768-1023
        // bytes): a chunk of 768 alone.
        let mut mem = one_tree_chunk();
        let child = 0x1400;
        let far = 0x1800;
        put(&mut mem, CHUNK + 4, 272 | 1);
        put(&mut mem, CHUNK + 20, child);
        for (c, size, parent, index) in [(child, 368, CHUNK, 0), (far, 768, SLOT + 12, 3)] {
            put(&mut mem, c + 4, size | 1);
            put(&mut mem, c + 8, c);
            put(&mut mem, c + 12, c);
            put(&mut mem, c + 24, parent);
            put(&mut mem, c + 28, index);
        }
        put(&mut mem, SLOT + 12, far);
        put(&mut mem, STATE + STATE_TREEMAP as u32, 0b1001);
        for request in [340, 400, 700] {
            assert_eq!(tree_take(&mem, STATE, request), None, "{request}");
        }
        let mut broken = mem.clone();
        put(&mut broken, child + 12, 0x4141_4141);
        assert_eq!(tree_take(&broken, STATE, 340).map(|b| b.1), Some(child));
        // A request padded to 416 (bin 1, empty) goes on to bin 3's tree;
        // one padded to 272 stops at bin 0's root, an exact fit.
        let mut broken = mem.clone();
        put(&mut broken, far + 8, 0x4141_4141);
        assert_eq!(tree_take(&broken, STATE, 400).map(|b| b.1), Some(far));
        assert_eq!(tree_take(&broken, STATE, 260), None);
        // The root taken whole for 260 bytes (an exact fit) with a first
        // child of 288 bytes: the search's leftmost path goes down the
        // first child, the unlink moves up the second, whose links it
        // reads, so both are checked.
        let first = 0x1c00;
        put(&mut mem, CHUNK + 16, first);
        put(&mut mem, first + 4, 288 | 1);
        put(&mut mem, first + 8, first);
        put(&mut mem, first + 12, first);
        put(&mut mem, first + 24, CHUNK);
        assert_eq!(tree_take(&mem, STATE, 260), None);
        for c in [first, child] {
            let mut broken = mem.clone();
            put(&mut broken, c + 8, 0x4141_4141);
            assert_eq!(tree_take(&broken, STATE, 260).map(|b| b.1), Some(c));
        }
        // A cycle that passes every node's check: the root's parent is a
        // chunk whose child is the root, and whose parent is the root.
        let mut cycle = one_tree_chunk();
        let other = 0x1400;
        for (c, parent, child) in [(CHUNK, other, other), (other, CHUNK, CHUNK)] {
            put(&mut cycle, c + 4, 304 | 1);
            put(&mut cycle, c + 8, c);
            put(&mut cycle, c + 12, c);
            put(&mut cycle, c + 16, child);
            put(&mut cycle, c + 24, parent);
        }
        let (_, _, what) = tree_take(&cycle, STATE, 200).unwrap();
        assert!(what.contains("links form a cycle"), "{what}");
    }
}
