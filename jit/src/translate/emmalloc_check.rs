//! The entry check of emmalloc's `free` and `realloc` (the runtime's walk
//! of emmalloc's heap, `attest::emmalloc_walk`, describes the layout).
//!
//! Why at the entry: emmalloc trusts the region it is handed. Its `free`
//! reads the region's size, the previous region's last word and the next
//! region's size and last word, merges with a free neighbour by unlinking
//! it (writing through its links) and writes new sizes where those words
//! say. An overflow that ran over the region's last word or the next
//! region's size, a double free, a pointer emmalloc never returned or a
//! freed neighbour's links written after its free (a use after free)
//! turn that into writes wherever the bytes point, and emmalloc checks
//! none of it. The walk between calls would find most, but only after
//! emmalloc has written through them or written them over.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, InstBuilder, Value};

use super::memory::never_faults;
use super::FuncTranslator;
use crate::vmctx::HookPoint;

/// `sizeof(Region)`: the smallest region emmalloc makes.
const REGION_MIN: i64 = 16;
/// emmalloc's free regions link `prev` at `+ 4` and `next` at `+ 8`.
const PREV: i64 = 4;
const NEXT: i64 = 8;
/// `NUM_FREE_BUCKETS`.
const BUCKETS: u32 = 64;

impl FuncTranslator<'_, '_> {
    /// At the entry of emmalloc's `free` or `realloc` (the pointer its
    /// first parameter): calls the runtime (`HookPoint::FreeCheck`, the
    /// pointer in `heap_arg`) unless the pointer is null or its region
    /// is as emmalloc left it: a size (a multiple of 4, at least 16)
    /// repeated in its last word, in use (the last word's bit 0 clear),
    /// the previous region's last word and the next region's size inside
    /// memory; a free previous region (that last word's bit 0) whose size
    /// leads back below this one and whose links point back at it; and a
    /// next region whose size leads to a last word inside memory that
    /// repeats it, with links that point back where it is free. Every
    /// read is bounded by the memory's length, so none faults; about ten
    /// loads and as many compares where neither neighbour is free. Not in
    /// a module of several memories or a 64-bit one (the runtime walks
    /// neither).
    pub(crate) fn emmalloc_free_check(&mut self) {
        let info = self.env.info;
        if info.memories.len() != 1 || info.memories[0].memory64 {
            return;
        }
        let ptr = self.builder.use_var(self.locals[0].0);
        let done = self.builder.create_block();
        let refuse = self.builder.create_block();
        self.builder.set_cold_block(refuse);
        let non_null = self.builder.ins().icmp_imm_u(IntCC::NotEqual, ptr, 0);
        self.go_on_if(non_null, done);

        // The previous region's last word and this one's size: 8 bytes
        // from `region - 4`, which must not wrap below 0.
        let length = self.memory_length(0);
        let region = self.builder.ins().iadd_imm_s(ptr, -4);
        let low = self.builder.ins().iadd_imm_s(ptr, -8);
        let no_wrap = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, ptr, 8);
        let inside = self.fits_in_memory(low, 8, length);
        let readable = self.builder.ins().band(no_wrap, inside);
        self.go_on_if(readable, refuse);
        let never_faults = never_faults();
        let low_addr = self.heap_addr(0, low, 0, 8);
        let prev_last = self
            .builder
            .ins()
            .load(types::I32, never_faults, low_addr, 0);
        let size = self
            .builder
            .ins()
            .load(types::I32, never_faults, low_addr, 4);
        // This region's last word and the next region's first: 8 bytes.
        let (next, last_at, ok) = self.region_end(region, size, 8, length);
        self.go_on_if(ok, refuse);

        // In use: its last word repeats its size, bit 0 clear.
        let last_addr = self.heap_addr(0, last_at, 0, 8);
        let last = self
            .builder
            .ins()
            .load(types::I32, never_faults, last_addr, 0);
        let next_size = self
            .builder
            .ins()
            .load(types::I32, never_faults, last_addr, 4);
        let in_use = self.builder.ins().icmp(IntCC::Equal, last, size);
        self.go_on_if(in_use, refuse);

        // A free previous region: its size leads below this one to a
        // region whose first word says the same, linked both ways.
        let next_check = self.builder.create_block();
        let prev_free = self.builder.create_block();
        let prev_is_free = self.builder.ins().band_imm_u(prev_last, 1);
        self.builder
            .ins()
            .brif(prev_is_free, prev_free, &[], next_check, &[]);
        self.builder.seal_block(prev_free);
        self.builder.switch_to_block(prev_free);
        let prev_size = self.builder.ins().band_imm_s(prev_last, !1);
        let prev = self.builder.ins().isub(region, prev_size);
        let below = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedLessThan, prev, region);
        let prev_ok = self.region_size_ok(prev_size);
        let prev_ok = self.builder.ins().band(prev_ok, below);
        self.go_on_if(prev_ok, refuse);
        // Inside memory: it ends at `region`, and its size is at least 16.
        let prev_addr = self.heap_addr(0, prev, 0, 4);
        let prev_first = self
            .builder
            .ins()
            .load(types::I32, never_faults, prev_addr, 0);
        let same = self.builder.ins().icmp(IntCC::Equal, prev_first, prev_size);
        let linked = self.links_point_back(prev, NEXT, PREV, region, length);
        let fine = self.builder.ins().band(same, linked);
        self.builder.ins().brif(fine, next_check, &[], refuse, &[]);

        // The next region: a size that leads to a last word inside memory
        // repeating it; where that says free, linked both ways.
        self.builder.seal_block(next_check);
        self.builder.switch_to_block(next_check);
        let (_, next_last_at, ok) = self.region_end(next, next_size, 4, length);
        self.go_on_if(ok, refuse);
        let next_last_addr = self.heap_addr(0, next_last_at, 0, 4);
        let next_last = self
            .builder
            .ins()
            .load(types::I32, never_faults, next_last_addr, 0);
        let next_free = self
            .builder
            .ins()
            .icmp(IntCC::NotEqual, next_last, next_size);
        self.go_on_if(next_free, done);
        let flagged = self.builder.ins().bor_imm_u(next_size, 1);
        let next_free = self.builder.ins().icmp(IntCC::Equal, next_last, flagged);
        let linked = self.links_point_back(next, NEXT, PREV, region, length);
        let fine = self.builder.ins().band(next_free, linked);
        self.builder.ins().brif(fine, done, &[], refuse, &[]);

        self.builder.seal_block(refuse);
        self.builder.switch_to_block(refuse);
        self.call_hook_with_arg(HookPoint::FreeCheck, ptr);
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }

    /// Goes on in a new block where `ok`, else branches to `otherwise`.
    fn go_on_if(&mut self, ok: Value, otherwise: Block) {
        let next = self.builder.create_block();
        self.builder.ins().brif(ok, next, &[], otherwise, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
    }

    /// The region at `start` whose first word says `size`: where it ends,
    /// where its last word lies, and whether `size` is a region's
    /// ([`Self::region_size_ok`]), leads forward without wrapping, and
    /// leaves `tail` bytes from its last word inside memory.
    fn region_end(
        &mut self,
        start: Value,
        size: Value,
        tail: i64,
        length: Value,
    ) -> (Value, Value, Value) {
        let end = self.builder.ins().iadd(start, size);
        let size_ok = self.region_size_ok(size);
        let forward = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThan, end, start);
        let last_at = self.builder.ins().iadd_imm_s(end, -4);
        let inside = self.fits_in_memory(last_at, tail, length);
        let ok = self.builder.ins().band(size_ok, forward);
        let ok = self.builder.ins().band(ok, inside);
        (end, last_at, ok)
    }

    /// At the entry of one of emmalloc's allocating functions, for its
    /// `request`: calls the runtime (`HookPoint::HeapCheck`, which walks
    /// the heap at once) unless the first free region of the bucket the
    /// request takes from (emmalloc's `compute_free_list_bucket` of the
    /// request as emmalloc rounds it, in the array at `buckets` where the
    /// module's data placed it) is none, or lies in its list as emmalloc
    /// keeps it: its neighbours' links point back at it. Why: emmalloc
    /// unlinks the region it carves a request from by writing through
    /// its links, so a write over a freed region's first bytes (a use
    /// after free) becomes a write wherever they point, at the next
    /// allocation of its size, and the region is in use again before any
    /// walk could see its links. About twenty instructions and two loads,
    /// and six loads more where the bucket is not empty. Only that one
    /// bucket: where it is empty emmalloc takes from a larger one.
    pub(crate) fn emmalloc_take_check(&mut self, request: Value, buckets: u32) {
        let info = self.env.info;
        if info.memories.len() != 1 || info.memories[0].memory64 {
            return;
        }
        // `validate_alloc_size`: at least 8, a multiple of 4 (a request
        // near 4 GiB, which emmalloc refuses, checks some bucket).
        let small = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, request, 8);
        let rounded = self.builder.ins().iadd_imm_s(request, 3);
        let rounded = self.builder.ins().band_imm_s(rounded, !3);
        let eight = self.builder.ins().iconst(types::I32, 8);
        let size = self.builder.ins().select(small, eight, rounded);
        // `compute_free_list_bucket`: 8-byte steps below 128, then four
        // steps a power of two (two from 4 KiB on), capped at 63.
        let below = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, size, 128);
        let low = self.builder.ins().ushr_imm_u(size, 3);
        let low = self.builder.ins().iadd_imm_s(low, -1);
        let clz = self.builder.ins().clz(size);
        let quarters = self.bucket_steps(size, clz, 29, 4, 2, 110);
        let halves = self.bucket_steps(size, clz, 30, 2, 1, 71);
        let cap = self
            .builder
            .ins()
            .iconst(types::I32, i64::from(BUCKETS - 1));
        let halves = self.builder.ins().umin(halves, cap);
        let fine_steps = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThan, clz, 19);
        let big = self.builder.ins().select(fine_steps, quarters, halves);
        let bucket = self.builder.ins().select(below, low, big);
        let bucket = self
            .builder
            .ins()
            .band_imm_u(bucket, i64::from(BUCKETS - 1));
        let offset = self.builder.ins().ishl_imm_u(bucket, 4);
        let sentinel = self.builder.ins().iadd_imm_u(offset, i64::from(buckets));
        // The array lies inside memory: a data segment placed it.
        let next_addr = self.heap_addr(0, sentinel, NEXT as u64, 4);
        let first = self
            .builder
            .ins()
            .load(types::I32, never_faults(), next_addr, 0);
        let done = self.builder.create_block();
        let not_empty = self.builder.ins().icmp(IntCC::NotEqual, first, sentinel);
        self.go_on_if(not_empty, done);
        let length = self.memory_length(0);
        let linked = self.links_point_back(first, NEXT, PREV, sentinel, length);
        let broken = self.builder.ins().icmp_imm_u(IntCC::Equal, linked, 0);
        self.cold_path(broken, |t| t.call_hook(HookPoint::HeapCheck));
        self.builder.ins().jump(done, &[]);
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
    }

    /// One of `compute_free_list_bucket`'s two formulas for a `size` of
    /// at least 128 with `clz` leading zeros: `base - (clz << scale) +
    /// ((size >> (shift - clz)) ^ flip)`.
    fn bucket_steps(
        &mut self,
        size: Value,
        clz: Value,
        shift: i64,
        flip: i64,
        scale: i64,
        base: i64,
    ) -> Value {
        let shift = self.builder.ins().iconst(types::I32, shift);
        let by = self.builder.ins().isub(shift, clz);
        let top = self.builder.ins().ushr(size, by);
        let top = self.builder.ins().bxor_imm_u(top, flip);
        let scaled = self.builder.ins().ishl_imm_u(clz, scale);
        let step = self.builder.ins().isub(top, scaled);
        self.builder.ins().iadd_imm_s(step, base)
    }

    /// Whether `size` is one emmalloc gives a region: a multiple of 4 of
    /// at least [`REGION_MIN`].
    fn region_size_ok(&mut self, size: Value) -> Value {
        let low_bits = self.builder.ins().band_imm_u(size, 3);
        let aligned = self.builder.ins().icmp_imm_u(IntCC::Equal, low_bits, 0);
        let big =
            self.builder
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, size, REGION_MIN);
        self.builder.ins().band(aligned, big)
    }
}
