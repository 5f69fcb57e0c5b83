//! Which exception records a collection frees: those Wasm made an
//! `exnref` of (`catch_ref`, `catch_all_ref`) and the host was never
//! handed, once no word the collector reads points into one. Records are
//! not GC objects (the store owns them, generated code addresses them
//! directly), but their payloads hold references, and `exnref`s sit where
//! GC references do: in frames, globals, tables, fields and other
//! records' payloads.

use walmart_jit::vmctx::{EXCEPTION_HOST, EXCEPTION_KEPT};

use crate::exception::RECORD_FREE;

use crate::store::StoreOpaque;

/// A collection's view of the store's exception records.
pub(crate) struct RecordMarks {
    /// The records the collection may free, as `(start, end, index)` in
    /// address order.
    candidates: Vec<(usize, usize, u32)>,
    /// Whether each candidate was found referenced.
    marked: Vec<bool>,
    /// Records found referenced whose payloads are still to be read:
    /// every record that is no candidate (thrown, or the host's), then
    /// each candidate as it is marked.
    pub(crate) pending: Vec<u32>,
}

impl RecordMarks {
    /// Sorts the store's records into candidates and roots.
    pub(crate) fn new(store: &StoreOpaque) -> RecordMarks {
        let mut candidates = Vec::new();
        let mut pending = Vec::new();
        for (index, record) in store.exceptions.iter().enumerate() {
            let word = (record[0] >> 64) as u64;
            if word & RECORD_FREE != 0 {
                continue;
            }
            if word & EXCEPTION_KEPT != 0 && word & EXCEPTION_HOST == 0 {
                let start = record.as_ptr() as usize;
                candidates.push((start, start + record.len() * 16, index as u32));
            } else {
                pending.push(index as u32);
            }
        }
        candidates.sort_unstable();
        let marked = vec![false; candidates.len()];
        RecordMarks {
            candidates,
            marked,
            pending,
        }
    }

    /// Marks the candidate record `word` points into (from its header to
    /// its last payload byte), if any.
    pub(crate) fn mark(&mut self, word: u64) {
        let Ok(word) = usize::try_from(word) else {
            return;
        };
        let i = self
            .candidates
            .partition_point(|&(start, _, _)| start <= word);
        let Some(i) = i.checked_sub(1) else {
            return;
        };
        let (_, end, index) = self.candidates[i];
        if word < end && !self.marked[i] {
            self.marked[i] = true;
            self.pending.push(index);
        }
    }

    /// Frees every candidate no word pointed into.
    pub(crate) fn free_unmarked(self, store: &mut StoreOpaque) {
        for (&(_, _, index), marked) in self.candidates.iter().zip(self.marked) {
            if !marked {
                crate::exception::free_record(store, index);
            }
        }
    }
}
