//! The GC objects the host holds: each [`crate::AnyRef`] naming an
//! object is a slot of its store's root list, which the collector reads.
//!
//! Slots are released a scope at a time, last made first: when a host
//! function Wasm called returns (its parameters' and everything else it
//! was handed), and when [`crate::Store::gc_scope`]'s closure returns. A
//! handle whose slot was released is refused where it is used (its slot
//! and the list's epoch no longer agree), never followed to memory that
//! may have been freed.

/// A handle's slot: its index, and the epoch it was made in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RootId {
    slot: u32,
    epoch: u64,
}

/// A store's root list; see the module's documentation.
#[derive(Default)]
pub(crate) struct GcRoots {
    /// Each slot's object address and the epoch it was made in.
    slots: Vec<(u64, u64)>,
    /// Moves on at each release, so a slot made again after one is told
    /// from the released handle.
    epoch: u64,
}

impl GcRoots {
    /// Roots object `addr` for the host.
    pub(crate) fn push(&mut self, addr: u64) -> RootId {
        let id = RootId {
            slot: self.slots.len() as u32,
            epoch: self.epoch,
        };
        self.slots.push((addr, self.epoch));
        id
    }

    /// The object handle `id` roots, if its slot is still held.
    pub(crate) fn get(&self, id: RootId) -> Option<u64> {
        match self.slots.get(id.slot as usize) {
            Some(&(addr, epoch)) if epoch == id.epoch => Some(addr),
            _ => None,
        }
    }

    /// Where a scope starts: [`GcRoots::release_to`] it when it ends.
    pub(crate) fn mark(&self) -> usize {
        self.slots.len()
    }

    /// Releases every slot made since `mark`.
    pub(crate) fn release_to(&mut self, mark: usize) {
        if mark < self.slots.len() {
            self.slots.truncate(mark);
            self.epoch = self.epoch.wrapping_add(1);
        }
    }

    /// Slots held.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The addresses of the objects held.
    pub(crate) fn addresses(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().map(|&(addr, _)| addr)
    }
}
