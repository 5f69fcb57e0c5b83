//! A store's GC heap: where objects are carved from, how they are found
//! from a word that may point into one, and how the dead ones' memory
//! comes back.
//!
//! Small objects are carved from 1 MiB chunks by moving the cursor in
//! the store's [`VMRuntimeLimits`], which generated code does itself
//! while the current range lasts. Outside that range a chunk is tiled
//! with objects and fillers (a word of 0 then the filler's size, or a
//! word of 1 for an 8-byte filler: an object's first word is its info
//! pointer, never 0 or 1), so a walk from a chunk's start meets every
//! object. Objects larger than a quarter chunk each get memory of their
//! own. Objects never move.

use std::collections::BTreeMap;

use walmart_jit::gc_types::TraceClass;
use walmart_jit::vmctx::{self, VMRuntimeLimits};

/// Bytes of a chunk small objects are carved from.
const CHUNK: usize = 1 << 20;

/// Bytes allocated between collections, at least (more once more is
/// live: see [`GcHeap::interval`], which keeps a collection's cost in
/// proportion to the allocation between two).
const MIN_INTERVAL: usize = 4 << 20;

/// Free ranges shorter than this are left as fillers until the objects
/// around them die.
const MIN_RANGE: usize = 64;

/// A store's GC objects; see the module's documentation.
#[derive(Default)]
pub(crate) struct GcHeap {
    /// Chunks, in address order after each collection.
    chunks: Vec<Box<[u64]>>,
    /// Large objects by address.
    large: BTreeMap<usize, Box<[u64]>>,
    /// Free ranges of chunks left by the last collection (each with a
    /// filler written), taken from the back: the lowest address first.
    free: Vec<(usize, usize)>,
    /// Free ranges taken off `free` as too short for an allocation: used
    /// only when the limit leaves no room for a new chunk.
    passed_over: Vec<(usize, usize)>,
    /// Bytes of chunks and large objects held, counted against the limit.
    pub(crate) bytes: usize,
    /// Bytes handed out since the last collection (ranges and large
    /// objects).
    allocated: usize,
    /// Bytes of objects the last collection found live.
    live: usize,
    /// Collections run.
    pub(crate) collections: u64,
    /// During a collection: for each chunk a word of the roots pointed
    /// into, its objects as `(start, end)` in address order (made when the
    /// first such word is met: most chunks are never looked into).
    index: Vec<Option<Vec<(usize, usize)>>>,
    /// During a collection: marked objects whose fields are still to be
    /// traced.
    pending: Vec<usize>,
    /// During a collection: the `exnref`s traced fields hold, for the
    /// collector to mark their records ([`crate::gc::records`]).
    pub(crate) exn_words: Vec<u64>,
}

impl GcHeap {
    /// A zeroed object of `bytes` (a multiple of 8, at least a header),
    /// or `None` when it does not fit without taking the heap past
    /// `limit` bytes.
    pub(crate) fn alloc(
        &mut self,
        limits: &mut VMRuntimeLimits,
        bytes: usize,
        limit: usize,
        stress: bool,
    ) -> Option<*mut u8> {
        if bytes > CHUNK / 4 {
            if self.bytes.checked_add(bytes)? > limit {
                return None;
            }
            let mut obj = zeroed_words(bytes / 8)?;
            let ptr = obj.as_mut_ptr().cast::<u8>();
            self.large.insert(ptr as usize, obj);
            self.bytes += bytes;
            self.allocated += bytes;
            return Some(ptr);
        }
        if limits.gc_end - limits.gc_cursor < bytes && !self.refill(limits, bytes, limit, stress) {
            return None;
        }
        let ptr = limits.gc_cursor as *mut u8;
        limits.gc_cursor += bytes;
        Some(ptr)
    }

    /// Whether an allocation of `bytes` should be preceded by a
    /// collection: it needs a new range, and enough has been allocated
    /// since the last.
    pub(crate) fn wants_collection(
        &self,
        limits: &VMRuntimeLimits,
        bytes: usize,
        stress: bool,
    ) -> bool {
        let needs_range = bytes > CHUNK / 4 || limits.gc_end - limits.gc_cursor < bytes;
        needs_range && (stress || self.allocated >= self.interval())
    }

    /// Bytes to allocate before the next collection: twice what the last
    /// found live (so the heap holds about three times what is live), and
    /// at least [`MIN_INTERVAL`].
    fn interval(&self) -> usize {
        (2 * self.live).max(MIN_INTERVAL)
    }

    /// Makes the current range one with room for `bytes`: the next free
    /// range long enough, else a new chunk (smaller near the limit); only
    /// `bytes` of it with `stress`, the rest left free. False when
    /// neither is there.
    fn refill(
        &mut self,
        limits: &mut VMRuntimeLimits,
        bytes: usize,
        limit: usize,
        stress: bool,
    ) -> bool {
        retire(limits);
        // The next free range long enough (those passed over wait for
        // the limit), else a new chunk, else a range passed over.
        let found = loop {
            match self.free.pop() {
                Some((start, end)) if end - start >= bytes => break Some((start, end)),
                Some(short) => self.passed_over.push(short),
                None => break None,
            }
        };
        let (start, end, dirty) = if let Some((start, end)) = found {
            (start, end, true)
        } else if let Some((start, end)) = self.new_chunk(bytes, limit) {
            (start, end, false)
        } else {
            let fits = self
                .passed_over
                .iter()
                .position(|&(start, end)| end - start >= bytes);
            match fits {
                Some(i) => {
                    let (start, end) = self.passed_over.swap_remove(i);
                    (start, end, true)
                }
                None => return false,
            }
        };
        let end = if stress && end - start > bytes {
            // SAFETY: the rest of the range is free memory of a chunk.
            unsafe { write_filler(start + bytes, end - start - bytes) };
            self.free.push((start + bytes, end));
            start + bytes
        } else {
            end
        };
        if dirty {
            // SAFETY: the range is free memory of one of the heap's
            // chunks; generated code expects zeroes.
            unsafe { std::ptr::write_bytes(start as *mut u8, 0, end - start) };
        }
        limits.gc_cursor = start;
        limits.gc_end = end;
        self.allocated += end - start;
        true
    }

    /// A new zeroed chunk of room for `bytes` (smaller near `limit`), as
    /// a range, or `None` when the limit or the system has no room.
    fn new_chunk(&mut self, bytes: usize, limit: usize) -> Option<(usize, usize)> {
        let size = CHUNK.min(limit.saturating_sub(self.bytes)) / 8 * 8;
        if size < bytes {
            return None;
        }
        let mut chunk = zeroed_words(size / 8)?;
        let start = chunk.as_mut_ptr() as usize;
        self.chunks.push(chunk);
        self.bytes += size;
        Some((start, start + size))
    }

    /// Starts a collection: the current range is given up (a filler
    /// written over what is left of it), the chunks put in address order.
    pub(crate) fn begin_collection(&mut self, limits: &mut VMRuntimeLimits) {
        retire(limits);
        self.chunks.sort_unstable_by_key(|c| c.as_ptr() as usize);
        self.index = vec![None; self.chunks.len()];
    }

    /// The small object `word` points into, if any.
    fn small_object_at(&mut self, word: usize) -> Option<usize> {
        let c = self
            .chunks
            .partition_point(|c| c.as_ptr() as usize <= word)
            .checked_sub(1)?;
        let chunk = &self.chunks[c];
        if word >= chunk.as_ptr() as usize + chunk.len() * 8 {
            return None;
        }
        let objects = self.index[c].get_or_insert_with(|| {
            let mut objects = Vec::new();
            walk(chunk, |start, size, is_object| {
                if is_object {
                    objects.push((start, start + size));
                }
            });
            objects
        });
        let i = objects.partition_point(|&(start, _)| start <= word);
        match i.checked_sub(1).map(|i| objects[i]) {
            Some((start, end)) if word < end => Some(start),
            _ => None,
        }
    }

    /// Marks the object `word` points into (anywhere from its header to
    /// its last byte), if it points into one: a word of the stack or of
    /// the store that may or may not be a reference.
    pub(crate) fn mark_conservatively(&mut self, word: u64) {
        let Ok(word) = usize::try_from(word) else {
            return;
        };
        let found = self.small_object_at(word).or_else(|| {
            self.large
                .range(..=word)
                .next_back()
                .filter(|(start, obj)| word < **start + obj.len() * 8)
                .map(|(start, _)| *start)
        });
        if let Some(obj) = found {
            self.mark(obj);
        }
    }

    /// Marks object `obj` (an object's address) and queues its fields.
    fn mark(&mut self, obj: usize) {
        // SAFETY: `obj` is one of this heap's objects, whose header is
        // the heap's to change while Wasm is stopped.
        let kind = unsafe { &mut *((obj + vmctx::GC_KIND as usize) as *mut u32) };
        if *kind & vmctx::GC_MARK == 0 {
            *kind |= vmctx::GC_MARK;
            self.pending.push(obj);
        }
    }

    /// Marks everything the marked objects reach, field by field (each
    /// field's type tells whether and how it holds an object).
    pub(crate) fn trace(&mut self) {
        while let Some(obj) = self.pending.pop() {
            // SAFETY: `obj` is a live object; its layout is its type's.
            let layout = unsafe { Layout::of(obj) };
            if layout.is_array {
                let class = TraceClass::from_word(layout.words[1]);
                if class == TraceClass::None {
                    continue;
                }
                let first = obj + vmctx::GC_HEADER as usize;
                for i in 0..layout.len {
                    // SAFETY: element `i` lies within the array (8-byte
                    // elements: references).
                    let raw = unsafe { *((first + i * 8) as *const u64) };
                    self.trace_word(class, raw);
                }
            } else {
                let count = layout.words[1] as usize;
                for &field in &layout.words[2..2 + count] {
                    let class = TraceClass::from_word(field >> 32);
                    // SAFETY: the field's offset lies within the struct.
                    let raw = unsafe { *((obj + (field as u32) as usize) as *const u64) };
                    self.trace_word(class, raw);
                }
            }
        }
    }

    /// Marks the object a traced field's word of class `class` names, or
    /// keeps an `exnref` for the collector.
    fn trace_word(&mut self, class: TraceClass, raw: u64) {
        if let Some(child) = class.object(raw) {
            self.mark(child as usize);
        } else if class == TraceClass::Exn && raw != 0 {
            self.exn_words.push(raw);
        }
    }

    /// Whether marked objects wait to be traced.
    pub(crate) fn tracing(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Ends a collection: unmarked objects' memory is made free (chunks
    /// with nothing live beyond what is kept for the next allocations go
    /// back to the system), marks are cleared.
    pub(crate) fn sweep(&mut self) {
        let swept: Vec<_> = std::mem::take(&mut self.chunks)
            .into_iter()
            .map(|chunk| {
                let (live, gaps) = sweep_chunk(&chunk);
                (chunk, live, gaps)
            })
            .collect();
        let mut live: usize = swept.iter().map(|(_, live, _)| live).sum();
        let mut freed = 0;
        self.large.retain(|&addr, obj| {
            // SAFETY: a large object of this heap.
            let kind = unsafe { &mut *((addr + vmctx::GC_KIND as usize) as *mut u32) };
            if *kind & vmctx::GC_MARK != 0 {
                *kind &= !vmctx::GC_MARK;
                live += obj.len() * 8;
                true
            } else {
                freed += obj.len() * 8;
                false
            }
        });
        self.bytes -= freed;
        self.live = live;
        // Empty chunks are kept for the next interval's allocations, the
        // rest go back to the system.
        let mut free = Vec::new();
        let mut spare = 0;
        for (chunk, chunk_live, gaps) in swept {
            let size = chunk.len() * 8;
            if chunk_live == 0 {
                if spare >= self.interval() {
                    self.bytes -= size;
                    continue;
                }
                spare += size;
            }
            free.extend(gaps);
            self.chunks.push(chunk);
        }
        free.reverse();
        self.free = free;
        self.passed_over.clear();
        self.allocated = 0;
        self.index = Vec::new();
        self.collections += 1;
    }

    /// Gives back to the system the chunks that hold no object (those a
    /// sweep keeps for the next allocations), making room under the limit
    /// for a large object or a new chunk: what an allocation that failed
    /// after a collection tries before it traps.
    pub(crate) fn release_empty_chunks(&mut self, limits: &mut VMRuntimeLimits) {
        retire(limits);
        let mut released = Vec::new();
        self.chunks.retain(|chunk| {
            let size = chunk.len() * 8;
            // An empty chunk is one filler from start to end.
            let empty = size >= 16 && chunk[0] == 0 && chunk[1] as usize == size;
            if empty {
                released.push((chunk.as_ptr() as usize, size));
            }
            !empty
        });
        for (start, size) in released {
            self.free.retain(|&(s, _)| s != start);
            self.passed_over.retain(|&(s, _)| s != start);
            self.bytes -= size;
        }
    }

    /// Bytes of objects the last collection found live.
    pub(crate) fn live_bytes(&self) -> usize {
        self.live
    }
}

/// Gives up the current range: a filler over what is left of it.
fn retire(limits: &mut VMRuntimeLimits) {
    if limits.gc_cursor < limits.gc_end {
        // SAFETY: the rest of the current range is free memory of a
        // chunk, at least 8 bytes and 8-aligned.
        unsafe { write_filler(limits.gc_cursor, limits.gc_end - limits.gc_cursor) };
    }
    limits.gc_cursor = 0;
    limits.gc_end = 0;
}

/// Writes a filler over free bytes `start..start + size` (8-aligned, a
/// multiple of 8, not empty).
///
/// # Safety
/// The bytes must be free memory of a chunk.
unsafe fn write_filler(start: usize, size: usize) {
    let words = start as *mut u64;
    // SAFETY: the caller's range holds at least the words written.
    unsafe {
        if size == 8 {
            *words = 1;
        } else {
            *words = 0;
            *words.add(1) = size as u64;
        }
    }
}

/// Calls `f(start, size, is_object)` on each object and filler of
/// `chunk`, in order.
fn walk(chunk: &[u64], mut f: impl FnMut(usize, usize, bool)) {
    let mut at = chunk.as_ptr() as usize;
    let end = at + chunk.len() * 8;
    // The last type met and its size (a struct's) or element size (an
    // array's): neighbours are mostly of one type.
    let mut last = (0u64, 0usize);
    while at < end {
        // SAFETY: outside the current range (retired before any walk) a
        // chunk is tiled with objects and fillers, so `at` starts one.
        let (size, is_object) = unsafe {
            match *(at as *const u64) {
                0 => (*((at + 8) as *const u64) as usize, false),
                1 => (8, false),
                info => {
                    if info != last.0 {
                        last = (info, Layout::of(at).first_word());
                    }
                    let kind = *((at + vmctx::GC_KIND as usize) as *const u32);
                    if kind & !vmctx::GC_MARK == 1 {
                        let len = *((at + vmctx::GC_ARRAY_LEN as usize) as *const u32) as usize;
                        (array_size(last.1, len), true)
                    } else {
                        (last.1, true)
                    }
                }
            }
        };
        f(at, size, is_object);
        at += size;
    }
}

/// Bytes of an array of `len` elements of `elem` bytes.
fn array_size(elem: usize, len: usize) -> usize {
    (vmctx::GC_HEADER as usize + elem * len).next_multiple_of(8)
}

/// Sweeps one chunk: marks cleared on live objects, each run of dead
/// objects and fillers made one filler. Returns the live bytes and the
/// free ranges worth allocating from, in address order.
fn sweep_chunk(chunk: &[u64]) -> (usize, Vec<(usize, usize)>) {
    let mut live = 0;
    let mut gaps = Vec::new();
    let mut gap_start: Option<usize> = None;
    let mut close = |gap_start: &mut Option<usize>, end: usize| {
        if let Some(start) = gap_start.take() {
            // SAFETY: everything from `start` to `end` is dead objects
            // and fillers already walked past.
            unsafe { write_filler(start, end - start) };
            if end - start >= MIN_RANGE {
                gaps.push((start, end));
            }
        }
    };
    walk(chunk, |start, size, is_object| {
        // SAFETY: an object of the chunk.
        let marked = is_object
            && unsafe {
                let kind = &mut *((start + vmctx::GC_KIND as usize) as *mut u32);
                let marked = *kind & vmctx::GC_MARK != 0;
                *kind &= !vmctx::GC_MARK;
                marked
            };
        if marked {
            close(&mut gap_start, start);
            live += size;
        } else if gap_start.is_none() {
            gap_start = Some(start);
        }
    });
    close(&mut gap_start, chunk.as_ptr() as usize + chunk.len() * 8);
    (live, gaps)
}

/// What the collector reads of an object: its kind, an array's length,
/// and its type's trace layout ([`walmart_jit::gc_types::TypeDef::trace_layout`]).
struct Layout {
    is_array: bool,
    /// An array's length.
    len: usize,
    words: &'static [u64],
}

impl Layout {
    /// A struct's size, or an array's element size: the layout's first
    /// word.
    fn first_word(&self) -> usize {
        self.words[0] as usize
    }

    /// # Safety
    /// `obj` must be a GC object of a live store (its info record lives
    /// as long as the engine).
    unsafe fn of(obj: usize) -> Layout {
        // SAFETY: the header's fields, and the info record they point at,
        // laid out as `walmart_jit::vmctx` describes.
        unsafe {
            let info = *((obj + vmctx::GC_TYPE_INFO as usize) as *const usize) as *const u64;
            let depth = *info.add(vmctx::TYPE_INFO_DEPTH as usize / 8) as usize;
            let layout = info.add(vmctx::TYPE_INFO_CHAIN as usize / 8 + depth + 1);
            let is_array = *((obj + vmctx::GC_KIND as usize) as *const u32) & !vmctx::GC_MARK == 1;
            let (len, words) = if is_array {
                let len = *((obj + vmctx::GC_ARRAY_LEN as usize) as *const u32) as usize;
                (len, std::slice::from_raw_parts(layout, 2))
            } else {
                let count = *layout.add(1) as usize;
                (0, std::slice::from_raw_parts(layout, 2 + count))
            };
            Layout {
                is_array,
                len,
                words,
            }
        }
    }
}

/// `words` zeroed words from the allocator (lazily zeroed pages for large
/// ones), or `None` when it has no memory for them: a GC heap larger than
/// the machine's memory is exhausted, not an abort.
fn zeroed_words(words: usize) -> Option<Box<[u64]>> {
    let layout = std::alloc::Layout::array::<u64>(words).ok()?;
    if layout.size() == 0 {
        return Some(Box::new([]));
    }
    // SAFETY: the layout's size is not zero.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<u64>();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the global allocator gave `ptr` for this layout (`words`
    // u64s), and zeroed words are initialised u64s.
    Some(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, words)) })
}
