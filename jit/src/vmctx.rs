//! The layout contract of the VM context (`vmctx`): the offsets generated
//! code uses, and the `#[repr(C)]` records the runtime allocates to match.
//!
//! Every Wasm function receives its instance's `vmctx` as first argument.
//!
//! ```text
//!  vmctx (one per instance, 8-byte slots)
//!  +--------------------------------+ 0
//!  | magic                          |   VMCTX_MAGIC, to tell a vmctx from a host context
//!  | limits  -----------------------+-> VMRuntimeLimits { stack_limit, fuel, epoch, .. } of the store
//!  | builtins  ---------------------+-> [usize; Builtin::COUNT] (extern "C" fns)
//!  | instance  ---------------------+-> the runtime's instance record
//!  | attest    ---------------------+-> VMAttestState { armed, heap_floor } of the store, or null
//!  | trampoline stop                |   the last preserve-all trampoline's answer
//!  +--------------------------------+ HEADER
//!  | memories[m]: *mut VMMemory     |   base + length of every memory (imported too)
//!  | tables[t]:   *mut VMTable      |   base + length of every table
//!  | globals[g]:  *mut VMGlobal     |   16-byte cell of every global
//!  | funcrefs[f]: *const VMFuncRef  |   every function (imports, defined), for calls
//!  |                                |   and `ref.func`
//!  | tags[t]:     *const VMTag      |   every exception tag (imports, defined)
//!  +--------------------------------+
//! ```
//!
//! Indirection through a pointer for every entity lets imported and defined
//! entities look the same to generated code.

use crate::module_info::ModuleInfo;

/// First word of every instance vmctx.
pub const VMCTX_MAGIC: u64 = 0x7761_6c6d_6172_7431; // "walmart1"
/// First word of every host-function context.
pub const HOST_CTX_MAGIC: u64 = 0x7761_6c6d_686f_7374; // "walmhost"

/// Offset of the pointer to the store's [`VMRuntimeLimits`], shared by all
/// instances of a store so a call across instances sees one stack limit.
pub const RUNTIME_LIMITS: i32 = 8;

/// Per-store values generated code checks.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMRuntimeLimits {
    /// Lowest stack pointer Wasm code may use; prologues compare against it.
    pub stack_limit: usize,
    /// The exception being thrown (a `*mut VMException`), or null. A
    /// `throw` sets it; every call that may throw is followed by a test
    /// of it, which sends control to the enclosing `try_table`'s handlers
    /// or returns at once (the caller then tests it in turn), so an
    /// exception unwinds the stack by ordinary returns. A handler that
    /// catches it clears it; one still set when Wasm returns to the host
    /// is the call's uncaught exception.
    pub pending_exception: usize,
    /// The next free byte of the store's current GC chunk (0 before the
    /// first): generated code allocates a small object by moving it, and
    /// asks the runtime ([`Builtin::GcAlloc`]) when it would pass
    /// [`VMRuntimeLimits::gc_end`].
    pub gc_cursor: usize,
    /// The end of the current GC chunk.
    pub gc_end: usize,
    /// Fuel spent, as a negative count of what is left: generated code
    /// adds each straight-line run's operator count and, at function
    /// entries and loop headers, traps with [`crate::TrapKind::OutOfFuel`]
    /// once it is no longer negative. Only with `consume_fuel`.
    pub fuel_consumed: i64,
    /// The engine's epoch counter (a `*const AtomicU64`), which generated
    /// code compiled with `epoch_interruption` reads at function entries
    /// and loop headers.
    pub epoch_counter: usize,
    /// The epoch at which this store's Wasm stops: reaching it calls
    /// [`Builtin::EpochDeadline`].
    pub epoch_deadline: u64,
}

/// Offset of [`VMRuntimeLimits::stack_limit`].
pub const LIMITS_STACK_LIMIT: i32 = 0;
/// Offset of [`VMRuntimeLimits::pending_exception`].
pub const LIMITS_PENDING_EXCEPTION: i32 = 8;
/// Offset of [`VMRuntimeLimits::gc_cursor`].
pub const LIMITS_GC_CURSOR: i32 = 16;
/// Offset of [`VMRuntimeLimits::gc_end`].
pub const LIMITS_GC_END: i32 = 24;
/// Offset of [`VMRuntimeLimits::fuel_consumed`].
pub const LIMITS_FUEL_CONSUMED: i32 = 32;
/// Offset of [`VMRuntimeLimits::epoch_counter`].
pub const LIMITS_EPOCH_COUNTER: i32 = 40;
/// Offset of [`VMRuntimeLimits::epoch_deadline`].
pub const LIMITS_EPOCH_DEADLINE: i32 = 48;

/// An exception tag as generated code sees it: one per tag the store
/// holds, compared by address (two modules' tags are the same tag only
/// when one imported the other's).
#[repr(C)]
#[derive(Debug)]
pub struct VMTag {
    /// Engine-wide id of the tag's function type (its payload is the
    /// type's parameters).
    pub type_id: u64,
    /// The tag's index among its store's tags, for the host's handle.
    pub index: u64,
}

/// An exception: its tag and its payload, written by `throw` and read by
/// the handler that catches it. Allocated by the runtime
/// ([`Builtin::ExceptionNew`]) with one 16-byte slot per payload value
/// (each value in its slot's low bytes, as the host's raw values).
#[repr(C)]
#[derive(Debug)]
pub struct VMException {
    /// The tag it was thrown with.
    pub tag: *const VMTag,
    /// Its index in the store's exception list, with [`EXCEPTION_KEPT`]
    /// set once anything may hold a reference to it.
    pub index: u64,
    /// The payload, [`EXCEPTION_PAYLOAD`] bytes in: the first slot.
    pub payload: [u128; 0],
}

/// Offset of [`VMException::tag`].
pub const EXCEPTION_TAG: i32 = 0;
/// Offset of [`VMException::index`].
pub const EXCEPTION_INDEX: i32 = 8;
/// Offset of an exception's first payload slot.
pub const EXCEPTION_PAYLOAD: i32 = 16;
/// The bit of [`VMException::index`] that says an `exnref` to the
/// exception may exist (a `catch_ref` or `catch_all_ref` caught it, or the
/// host was handed it): the store keeps it for good. Without it, the
/// exception is only ever the one being thrown, and a `catch` that takes
/// its payload hands the record back for reuse ([`Builtin::ExceptionDone`]).
/// A record kept by Wasm alone is freed by the runtime's collector once no
/// `exnref` to it is left.
pub const EXCEPTION_KEPT: u64 = 1 << 63;
/// The bit of [`VMException::index`] that says the host was handed an
/// `exnref` to the exception (with [`EXCEPTION_KEPT`]): the store keeps it
/// as long as itself.
pub const EXCEPTION_HOST: u64 = 1 << 62;
/// Offset of the builtin function table pointer.
pub const BUILTINS: i32 = 16;
/// Offset of the runtime's instance pointer.
pub const INSTANCE: i32 = 24;
/// Offset of the attestation state pointer.
pub const ATTEST: i32 = 32;
/// Offset of the word where a preserve-all trampoline
/// (`translate::trampolines`) leaves its builtin's answer (non-zero: stop
/// the guest).
pub const TRAMPOLINE_STOP: i32 = 40;
const HEADER: u32 = 48;

/// A linear memory as generated code sees it.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemory {
    /// Address of byte 0.
    pub base: *mut u8,
    /// Accessible length in bytes.
    pub length: u64,
    /// The dirty-page bitmap (one byte per [`DIRTY_PAGE_SIZE`] page) biased
    /// by `base >> DIRTY_PAGE_SHIFT`, so the store barrier indexes it with
    /// the native address: `dirty[addr >> 12] = 1`. Null without attestation.
    pub dirty: *mut u8,
    /// The colour-tag shadow (one byte per [`TAG_GRANULE`]-byte granule)
    /// biased by `base >> TAG_GRANULE_SHIFT`, so a tag check reads the
    /// granule of native address `addr` at `tags[addr >> 4]`. Null
    /// without the tag monitor.
    pub tags: *mut u8,
    /// Native address of the lowest granule the tag monitor ever coloured
    /// (`u64::MAX` before the first allocation). Below it the shadow is
    /// all zero: static data and the C stack lie under the heap, and
    /// their accesses skip the shadow under memory colours.
    pub tag_floor: u64,
}

/// Offset of [`VMMemory::tags`].
pub const MEMORY_TAGS: i32 = 24;
/// Offset of [`VMMemory::tag_floor`].
pub const MEMORY_TAG_FLOOR: i32 = 32;
/// log2 of the tag granule.
pub const TAG_GRANULE_SHIFT: u32 = 4;
/// Bytes of memory one shadow byte describes.
pub const TAG_GRANULE: u32 = 1 << TAG_GRANULE_SHIFT;
/// Pointer colours: where the colour sits in a 32-bit pointer (its top
/// four bits). Memories are then limited to `1 << TAG_COLOUR_SHIFT`
/// bytes (256 MiB) so that no address needs those bits.
pub const TAG_COLOUR_SHIFT: u32 = 28;
/// Pointer colours: the address bits of a coloured pointer.
pub const TAG_ADDR_MASK: u32 = (1 << TAG_COLOUR_SHIFT) - 1;
/// The shadow byte of the guard above a stack frame
/// (`translate::stack_guard`): the redzone colour (15), all 16 bytes.
pub const TAG_STACK_GUARD: u8 = 0xF0;

/// Offset of [`VMMemory::dirty`].
pub const MEMORY_DIRTY: i32 = 16;
/// log2 of the attestation page size.
pub const DIRTY_PAGE_SHIFT: u32 = 12;
/// The attestation page: the unit of dirty tracking and snapshots.
pub const DIRTY_PAGE_SIZE: usize = 1 << DIRTY_PAGE_SHIFT;
/// Pages of a 4 GiB memory: the dirty bitmap of a guarded memory has one
/// byte for each.
pub const DIRTY_PAGES_4G: usize = 1 << (32 - DIRTY_PAGE_SHIFT);
/// Bytes of slack mapped on each side of a dirty bitmap (see the runtime's
/// `DirtyBitmap`).
pub const DIRTY_SLACK: usize = DIRTY_PAGE_SIZE;
/// A guarded 32-bit memory with attestation keeps its dirty bitmap just
/// below byte 0, so the store barrier addresses it from the heap base it
/// already holds: the byte of page `p` is at `base - GUARDED_DIRTY_BELOW + p`.
/// The bitmap's slack after it ends exactly at `base`.
pub const GUARDED_DIRTY_BELOW: i32 = (DIRTY_PAGES_4G + DIRTY_SLACK) as i32;
/// Bytes reserved below a guarded memory with attestation: its bitmap and
/// the slack on both sides.
pub const GUARDED_DIRTY_PREFIX: usize = DIRTY_PAGES_4G + 2 * DIRTY_SLACK;

/// The per-store attestation state generated code reads.
#[repr(C)]
#[derive(Debug, Default)]
pub struct VMAttestState {
    /// Non-zero when the next function hook must call the runtime: set by
    /// the verifier when it wants a snapshot (asynchronous mode) or by the
    /// store barrier itself (synchronous mode).
    pub armed: std::sync::atomic::AtomicU32,
    /// The lowest non-null address the module's dlmalloc functions
    /// (`malloc`, `dlmalloc`, `calloc`, ...) have returned (0: none yet),
    /// written by their generated code
    /// ([`crate::translate::AttestCodegen::heap_floor`]). dlmalloc's first
    /// allocation is carved from the start of its first segment, so this
    /// is the payload of the heap's first chunk, where the runtime's walk
    /// of the chunk chain starts.
    pub heap_floor: std::sync::atomic::AtomicU32,
    /// Where dlmalloc keeps its state (`struct malloc_state`) in memory 0,
    /// as the runtime found it: 0 before it has looked (the entry check
    /// of the allocator's functions then calls it to look), 1 when not
    /// found, else the state's address, 4-aligned, with its first
    /// [`HEAP_STATE_BYTES`] inside the memory. Generated code then checks
    /// at each allocator entry that the top chunk's head still says what
    /// the state says of it ([`HookPoint::HeapCheck`]).
    pub heap_state: std::sync::atomic::AtomicU32,
    /// The pointer an allocator entry's free check found dlmalloc would
    /// refuse ([`HookPoint::FreeCheck`]), for the runtime to report; or
    /// the request whose tree search the runtime is to follow
    /// ([`HookPoint::TreeCheck`]).
    pub heap_arg: std::sync::atomic::AtomicU32,
    /// The top chunk whose first free bytes [`Self::heap_top_bytes`]
    /// holds (0: none), written as each of dlmalloc's functions returns
    /// (`FuncTranslator::record_top`): nothing but dlmalloc may write
    /// those bytes, and dlmalloc writes them only when it moves the top.
    pub heap_top: std::sync::atomic::AtomicU32,
    /// The key of the slack marks (`FuncTranslator::mark_slack`), random
    /// per store from 0x80 to 0xd0: a mark is the slack's length `k` as
    /// [`slack_mark`] encodes it, never 0, and for the slacks of 1 to 16
    /// bytes that most allocations leave, 0x81 to 0xe0: never a character,
    /// a small number or a small negative one, the bytes programs write
    /// past a buffer by mistake, and a byte nobody can name before the
    /// run. Marks that said `k` outright were such bytes (c-ares's
    /// overflow writes the class IN, 1, as the byte past a request with 1
    /// byte of slack).
    pub heap_slack_key: std::sync::atomic::AtomicU32,
    /// The [`HEAP_TOP_COPIED`] bytes from [`HEAP_TOP_COPY_FROM`] of the
    /// chunk at [`Self::heap_top`] as the allocator last returned, which
    /// the next allocator entry (and the runtime's walk) compares with
    /// memory while the top has not moved.
    pub heap_top_bytes: [std::sync::atomic::AtomicU64; 4],
    /// Calls to the module's allocator functions from outside the
    /// allocator, counted at their entries
    /// ([`crate::translate::AttestCodegen::allocator_calls`]). Only the
    /// module's own thread writes it; the runtime reads it on that thread.
    pub allocator_calls: std::sync::atomic::AtomicU64,
    /// The count of [`Self::allocator_calls`] whose call's entry calls the
    /// runtime ([`HookPoint::AllocatorMark`]), to record when it came; 0:
    /// none. Not under the tag monitor, whose wrappers count (the runtime
    /// refuses a mark there).
    pub allocator_call_mark: std::sync::atomic::AtomicU64,
}

/// Offset of [`VMAttestState::armed`].
pub const ATTEST_ARMED: i32 = 0;
/// Offset of [`VMAttestState::heap_floor`].
pub const ATTEST_HEAP_FLOOR: i32 = 4;
/// Offset of [`VMAttestState::heap_state`].
pub const ATTEST_HEAP_STATE: i32 = 8;
/// Offset of [`VMAttestState::heap_arg`].
pub const ATTEST_HEAP_ARG: i32 = 12;
/// Offset of [`VMAttestState::heap_top`].
pub const ATTEST_HEAP_TOP: i32 = 16;
/// Offset of [`VMAttestState::heap_slack_key`].
pub const ATTEST_HEAP_SLACK_KEY: i32 = 20;
/// Offset of [`VMAttestState::heap_top_bytes`].
pub const ATTEST_HEAP_TOP_BYTES: i32 = 24;
/// Offset of [`VMAttestState::allocator_calls`].
pub const ATTEST_ALLOCATOR_CALLS: i32 = 56;
/// Offset of [`VMAttestState::allocator_call_mark`].
pub const ATTEST_ALLOCATOR_CALL_MARK: i32 = 64;

/// A slack marks' key from `draw` (64 random bits), in the range
/// [`VMAttestState::heap_slack_key`] says (0x80 to 0xd0): the marks of
/// slacks of 1 to 16 bytes are then 0x81 to 0xe0, never a byte programs
/// write past a buffer by mistake (0, a character, a small number, a small
/// negative one). A store draws it unguessably; a collection from its
/// seed.
pub fn slack_key_from(draw: u64) -> u32 {
    (draw % 81) as u32 + 0x80
}

/// The slack mark of a slack of `k` bytes (1 to [`HEAP_SLACK_MAX`]) under
/// `key` (1 to 254, [`VMAttestState::heap_slack_key`]): `(k - 1 + key) mod
/// 255 + 1`, in 1 to 255, so never 0 (a NUL past a string is the commonest
/// overflow) and one to one in `k`. Generated code computes the same.
pub fn slack_mark(k: u32, key: u32) -> u32 {
    (k - 1 + key) % 255 + 1
}

/// The slack length a mark says under `key` ([`slack_mark`]'s inverse):
/// 1 to 255 for a mark of 1 to 255, none for 0.
pub fn slack_of_mark(mark: u32, key: u32) -> Option<u32> {
    (mark != 0).then(|| {
        if mark > key {
            mark - key
        } else {
            mark + 255 - key
        }
    })
}
/// Where in the top chunk the copied bytes start: past its `prev_foot`
/// (the last allocation's while that is in use) and its head (checked
/// against the state on its own).
pub const HEAP_TOP_COPY_FROM: u32 = 8;
/// How many of the top chunk's free bytes are copied: an overflow that
/// skips the top's head (an index past the end of the last allocation)
/// lands in them, and so does a write through a pointer to the last
/// allocation after `free` merged it into the top. A top smaller than
/// these and its head is not copied.
pub const HEAP_TOP_COPIED: u32 = 32;
/// [`VMAttestState::heap_state`]: not found (nothing to check).
pub const HEAP_STATE_NONE: u32 = 1;
/// Bytes of dlmalloc's state the runtime guarantees to lie inside memory
/// 0 when it records the state's address (its fields up to `magic`, the
/// small bins' 33 pairs of links, and the 32 tree bins' roots).
pub const HEAP_STATE_BYTES: u32 = 432;
/// Offset of `smallmap` (a bit per non-empty small bin) in wasm32
/// dlmalloc's `struct malloc_state`.
pub const HEAP_STATE_SMALLMAP: i32 = 0;
/// Offset of `magic` in wasm32 dlmalloc's `struct malloc_state` (a build
/// with `FOOTERS` keeps the state's address xor this in the `prev_foot`
/// after each chunk in use).
pub const HEAP_STATE_MAGIC: i32 = 36;
/// Offset of `treemap` (a bit per non-empty tree bin) in wasm32
/// dlmalloc's `struct malloc_state`.
pub const HEAP_STATE_TREEMAP: i32 = 4;
/// Offset of `treebins` (the root of each tree bin) in wasm32
/// dlmalloc's `struct malloc_state`, after the 33 pairs of small-bin
/// links.
pub const HEAP_STATE_TREEBINS: i32 = 304;
/// Offset of `smallbins` in wasm32 dlmalloc's `struct malloc_state`: the
/// header of small bin `i`, a chunk without a head whose `fd` and `bk`
/// are the bin's first and last chunks, lies `8 * i` bytes further.
pub const HEAP_STATE_SMALLBINS: i32 = 40;
/// The smallest chunk dlmalloc keeps in a tree bin (`MIN_LARGE_SIZE`).
pub const HEAP_MIN_LARGE: u32 = 256;
/// The largest request dlmalloc serves from a small bin with 16-byte
/// alignment (`MAX_SMALL_REQUEST`: 255 less the alignment's mask and a
/// head); larger ones come from the tree bins.
pub const HEAP_MAX_SMALL_REQUEST: u32 = 255 - 15 - 4;
/// Offset of `dvsize` in wasm32 dlmalloc's `struct malloc_state`.
pub const HEAP_STATE_DVSIZE: i32 = 8;
/// Offset of `dv` (the designated victim) in wasm32 dlmalloc's
/// `struct malloc_state`.
pub const HEAP_STATE_DV: i32 = 20;
/// Offset of `topsize` in wasm32 dlmalloc's `struct malloc_state`.
pub const HEAP_STATE_TOPSIZE: i32 = 12;
/// Offset of `top` in wasm32 dlmalloc's `struct malloc_state`.
pub const HEAP_STATE_TOP: i32 = 24;
/// The head of a fence post, where a dlmalloc segment ends:
/// `sizeof(size_t) | PINUSE | CINUSE`.
pub const HEAP_FENCE_POST: u32 = 4 | 1 | 2;
/// Offset of `least_addr` (the heap's lowest byte) in wasm32 dlmalloc's
/// `struct malloc_state`.
pub const HEAP_STATE_LEAST_ADDR: i32 = 16;
/// The head bit dlmalloc leaves to extensions (`FLAG4_BIT`), set by
/// generated code on an in-use chunk whose slack past the request it
/// marked: the slack's length in its first and last byte. dlmalloc writes
/// every head it makes without it, so the bit lasts as long as the
/// allocation.
pub const HEAP_SLACK_MARKED: u32 = 4;
/// The longest slack that gets marks (its length must fit a byte;
/// wasi-libc's dlmalloc, which pads requests to 16 bytes, leaves at most
/// 15 past one, the successor's `prev_foot` included).
pub const HEAP_SLACK_MAX: u32 = 255;

/// Where a function hook sits, as passed to [`Builtin::AttestHook`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum HookPoint {
    /// Function entry.
    Entry = 0,
    /// Just before a function returns.
    Return = 1,
    /// At the entry of one of dlmalloc's functions: the state is not
    /// looked for yet, or the top chunk's head disagrees with it (the
    /// runtime walks the heap and reports what it finds).
    HeapCheck = 2,
    /// At the entry of dlmalloc's `free` or `realloc`: the pointer
    /// (in [`VMAttestState::heap_arg`]) is one dlmalloc would refuse as
    /// a usage error, and ignore: a double free, or a pointer it never
    /// returned.
    FreeCheck = 3,
    /// At the entry of dlmalloc's `malloc`, `calloc` or `realloc`: the
    /// request (in [`VMAttestState::heap_arg`]) may be served from a
    /// tree bin, whose tree is not empty (the runtime checks the tree
    /// chunks dlmalloc's search for it reaches, which dlmalloc unlinks
    /// without checking).
    TreeCheck = 4,
    /// Before a function whose frame has a guard returns: the guard's 16
    /// bytes (at the Wasm address in [`VMAttestState::heap_arg`]) are not
    /// all zero (`translate::stack_guard`).
    StackCheck = 5,
    /// At the entry of an allocator function: the count of allocator calls
    /// reached [`VMAttestState::allocator_call_mark`].
    AllocatorMark = 6,
}

/// Offset of [`VMMemory::base`].
pub const MEMORY_BASE: i32 = 0;
/// Offset of [`VMMemory::length`].
pub const MEMORY_LENGTH: i32 = 8;

/// A table as generated code sees it: `length` raw 64-bit references.
/// A funcref is a `*const VMFuncRef` (null = 0); an externref is a
/// runtime handle (null = 0).
#[repr(C)]
#[derive(Debug)]
pub struct VMTable {
    pub base: *mut u64,
    pub length: u64,
}

/// Offset of [`VMTable::base`].
pub const TABLE_BASE: i32 = 0;
/// Offset of [`VMTable::length`].
pub const TABLE_LENGTH: i32 = 8;

/// A global's storage cell: big enough for a v128, little-endian.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, Default)]
pub struct VMGlobal {
    pub bytes: [u8; 16],
}

/// A callable function: what `funcref` values point to.
#[repr(C)]
#[derive(Debug)]
pub struct VMFuncRef {
    /// Machine code with walmart's Wasm calling convention.
    pub code: *const u8,
    /// First argument for `code`: an instance vmctx or a host context.
    pub vmctx: *mut u8,
    /// Engine-wide id of the function's signature, for `call_indirect`.
    pub type_id: u64,
}

/// Offset of [`VMFuncRef::code`].
pub const FUNCREF_CODE: i32 = 0;
/// Offset of [`VMFuncRef::vmctx`].
pub const FUNCREF_VMCTX: i32 = 8;
/// Offset of [`VMFuncRef::type_id`].
pub const FUNCREF_TYPE: i32 = 16;

/// Header of the context a host function's code receives as its vmctx.
/// The host-call stub reads `dispatch` and calls it with the context and
/// a pointer to the argument/result slots.
#[repr(C)]
#[derive(Debug)]
pub struct VMHostContextHeader {
    pub magic: u64,
    /// `extern "C" fn(ctx: *mut u8, caller_vmctx: *mut u8, values: *mut u128,
    /// fp: u64) -> u32`; non-zero means the host failed and the stub must
    /// trap. `fp` is the stub's frame pointer: the calling Wasm frames are
    /// walked from it (a backtrace the host takes), and the return
    /// address it saved is where an exception the host throws goes (see
    /// [`Builtin::ExceptionMayReturn`]).
    pub dispatch: usize,
}

/// Offset of [`VMHostContextHeader::dispatch`].
pub const HOST_DISPATCH: i32 = 8;

/// Bytes of a GC object's header: its type's info record (a pointer, 8
/// bytes), an array's length (4 bytes), the object's kind (4 bytes).
/// Fields follow.
pub const GC_HEADER: i32 = 16;
/// Offset of a GC object's type info pointer. The engine keeps one
/// record per type for its life, of `u64`s: the engine type id
/// ([`TYPE_INFO_ID`]), the depth of its chain of declared supertypes
/// ([`TYPE_INFO_DEPTH`]), and the chain's ids from the root to the type
/// itself ([`TYPE_INFO_CHAIN`]): a cast to a non-final type `b` of depth
/// `d` is `depth >= d && chain[d] == b`, inline. What the collector reads
/// of the type's objects follows the chain
/// ([`crate::gc_types::TypeDef::trace_layout`]).
pub const GC_TYPE_INFO: i32 = 0;
/// Offset of the engine type id in a type info record.
pub const TYPE_INFO_ID: i32 = 0;
/// Offset of the supertype chain's depth in a type info record.
pub const TYPE_INFO_DEPTH: i32 = 8;
/// Offset of the supertype chain in a type info record.
pub const TYPE_INFO_CHAIN: i32 = 16;
/// Offset of an array's length (`u32`).
pub const GC_ARRAY_LEN: i32 = 8;
/// Offset of a GC object's kind (`u32`): 0 for a struct, 1 for an array
/// (what `ref.test` of `struct` or `array` reads). The collector marks a
/// live object by setting bit 31 while Wasm is stopped, and clears it
/// before Wasm runs again.
pub const GC_KIND: i32 = 12;
/// The collector's mark bit in [`GC_KIND`]'s word.
pub const GC_MARK: u32 = 1 << 31;

/// Size of one argument/result slot of the array calling convention used by
/// entry trampolines and host stubs.
pub const VALUE_SLOT: i32 = 16;

/// Functions of the runtime that generated code calls. The vmctx's
/// `builtins` pointer leads to an array indexed by these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Builtin {
    /// `(vmctx, mem: u32, delta: u64) -> u64`: old size in pages, or -1,
    /// or [`MEMORY_GROW_FAILED`] (trap with the store's limiter's error).
    MemoryGrow,
    /// `(vmctx, mem: u32, dst: u64, val: u32, len: u64) -> u32`: 0 or trap.
    MemoryFill,
    /// `(vmctx, dst_mem: u32, src_mem: u32, dst: u64, src: u64, len: u64) -> u32`.
    MemoryCopy,
    /// `(vmctx, mem: u32, data: u32, dst: u64, src: u32, len: u32) -> u32`.
    MemoryInit,
    /// `(vmctx, data: u32)`.
    DataDrop,
    /// `(vmctx, table: u32, init: u64, delta: u32) -> u32`: old size or -1,
    /// or [`TABLE_GROW_FAILED`] (trap with the store's limiter's error).
    TableGrow,
    /// `(vmctx, table: u32, dst: u32, val: u64, len: u32) -> u32`.
    TableFill,
    /// `(vmctx, dst_table: u32, src_table: u32, dst: u32, src: u32, len: u32) -> u32`.
    TableCopy,
    /// `(vmctx, table: u32, elem: u32, dst: u32, src: u32, len: u32) -> u32`.
    TableInit,
    /// `(vmctx, elem: u32)`.
    ElemDrop,
    /// `(vmctx, func: u32, offset: u32, point: u32) -> u32`: an armed
    /// attestation hook; non-zero means trap (the policy stops on detection).
    /// Generated code reaches it through each module's hook trampoline
    /// (see `compile.rs`), which preserves every register.
    AttestHook,
    /// `(vmctx, role: u32, a: u32, b: u32, c: u32, result: u32)`: the
    /// module's allocator function of [`AllocRole`] `role` returns, called
    /// with arguments `a, b, c` (unused ones 0). Emitted only when the
    /// engine tracks allocations.
    HeapEvent,
    /// `(vmctx, role: u32, a: u32, b: u32, c: u32, fp: u64) -> u64`: the
    /// tag monitor's allocator wrapper is entered; the answer is a
    /// [`TagAction`] in the high half and its value in the low half.
    TagEnter,
    /// `(vmctx, result: u32) -> u32`: the module's own allocator returned
    /// `result` for the wrapper's call; the answer is what the wrapper
    /// returns (the user pointer, coloured).
    TagExit,
    /// `(vmctx) -> u64`: the next chunk the wrapper must hand to the
    /// module's `free` (a chunk leaving quarantine), or `u64::MAX` when
    /// there is none, which also ends the allocator call.
    TagEvict,
    /// `(vmctx, addr: u64, len | write << 63: u64, func << 32 | offset:
    /// u64, fp: u64) -> u32` (packed: four words fit the registers of the
    /// trampoline it is called through): an access of `len` bytes at Wasm
    /// address `addr` (colour bits included) failed the inline tag check, or a bulk-memory operation
    /// is about to touch them: the runtime checks, and reports what it
    /// finds; non-zero means trap (`--on-detect trap`).
    TagCheck,
    /// `(vmctx, addr: u64, size_write: u32)`: an access, for `--trace`.
    TagTrace,
    /// `(vmctx, tag: u32) -> u64`: a new exception of the instance's tag
    /// `tag`, its payload zeroed (a `*mut VMException` the store owns), for
    /// `throw` to fill in.
    ExceptionNew,
    /// `(vmctx, exn: u64)`: a `catch` or `catch_all` took the exception:
    /// unless [`EXCEPTION_KEPT`], its record may be reused.
    ExceptionDone,
    /// `(vmctx, return_address: u64) -> u32`: non-zero when the code a
    /// function returns to passes a pending exception on (code of a
    /// module that handles exceptions, or the host's entry), for a return
    /// with an exception pending.
    ExceptionMayReturn,
    /// `(vmctx, a: u64, b: u64) -> u32`: non-zero when engine type `a`
    /// is `b` or declares it among its supertypes (GC's subtyping; only
    /// asked where `b` is not final and the ids differ).
    IsSubtype,
    /// `(vmctx, type: u32, len: u32) -> u64`: a new zeroed GC object of
    /// the module's type `type` (`len` elements for an array), header
    /// written; [`GcFailure::Exhausted`] when the store's GC heap limit
    /// is reached.
    GcAlloc,
    /// `(vmctx, type: u32, segment: u32, src: u32, len: u32) -> u64`:
    /// `array.new_data`/`array.new_elem` (see [`ARRAY_SEGMENT_ELEM`]):
    /// the array, or a [`GcFailure`].
    ArrayNewSegment,
    /// `(vmctx, type: u32, segment: u32, arr: u64, dst: u32, src: u32,
    /// len: u32) -> u64`: `array.init_data`/`array.init_elem` of a
    /// non-null array: 0, or a [`GcFailure`].
    ArrayInitSegment,
    /// `(vmctx, addr: u64, expected: u64, timeout: i64, wide: u32) -> u32`:
    /// `memory.atomic.wait32` (`wide` 0) or `wait64` at native address
    /// `addr` of a shared memory, bounds and alignment checked by the
    /// caller; `timeout` in nanoseconds, negative for none. The answer is
    /// Wasm's: 0 woken, 1 not equal, 2 timed out.
    MemoryAtomicWait,
    /// `(vmctx, addr: u64, count: u32) -> u32`: `memory.atomic.notify` at
    /// native address `addr` of a shared memory: wakes at most `count`
    /// waiters, and answers how many it woke.
    MemoryAtomicNotify,
    /// `(vmctx, fp: u64, func << 32 | offset: u64) -> u32`: the engine's
    /// epoch reached the store's deadline in function `func` at Wasm
    /// offset `offset`, whose frame pointer is `fp`.
    /// The store's choice answers: [`EPOCH_CONTINUE`] (it set a later
    /// deadline), [`EPOCH_INTERRUPT`] (trap with
    /// [`crate::TrapKind::Interrupt`]) or [`EPOCH_HOST_ERROR`] (the
    /// embedder's callback failed: trap with [`crate::TrapKind::HostError`]).
    EpochDeadline,
    /// `(vmctx) -> u32`: the fuel count is no longer negative. The store
    /// answers as for [`Builtin::EpochDeadline`]: [`EPOCH_CONTINUE`] (it
    /// refilled the count from its reserve, and may have yielded an
    /// asynchronous call), [`EPOCH_INTERRUPT`] (none left: trap with
    /// [`crate::TrapKind::OutOfFuel`]) or [`EPOCH_HOST_ERROR`].
    OutOfFuel,
}

/// [`Builtin::MemoryGrow`]'s answer when the store's resource limiter
/// failed (rather than refused): no memory has that many pages.
pub const MEMORY_GROW_FAILED: u64 = u64::MAX - 1;
/// [`Builtin::TableGrow`]'s answer when the store's resource limiter
/// failed: no table has that many elements.
pub const TABLE_GROW_FAILED: u32 = u32::MAX - 1;

/// [`Builtin::EpochDeadline`]'s answer: run on.
pub const EPOCH_CONTINUE: u32 = 0;
/// [`Builtin::EpochDeadline`]'s answer: trap with `interrupt`.
pub const EPOCH_INTERRUPT: u32 = 1;
/// [`Builtin::EpochDeadline`]'s answer: the embedder's callback failed.
pub const EPOCH_HOST_ERROR: u32 = 2;

/// Why a GC builtin failed: what [`Builtin::GcAlloc`],
/// [`Builtin::ArrayNewSegment`] and [`Builtin::ArrayInitSegment`] answer
/// instead of an address (objects are 8-aligned, so these small values are
/// never one), and generated code traps with [`GcFailure::trap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum GcFailure {
    /// The store's GC heap limit is reached.
    Exhausted = 1,
    /// A data segment read past its end.
    DataOutOfBounds = 2,
    /// An element segment read past its end.
    ElemOutOfBounds = 3,
    /// An array written past its length.
    ArrayOutOfBounds = 4,
}

impl GcFailure {
    /// The trap generated code raises for it.
    pub fn trap(self) -> crate::trap::TrapKind {
        use crate::trap::TrapKind;
        match self {
            GcFailure::Exhausted => TrapKind::GcHeapExhausted,
            GcFailure::DataOutOfBounds => TrapKind::MemoryOutOfBounds,
            GcFailure::ElemOutOfBounds => TrapKind::TableOutOfBounds,
            GcFailure::ArrayOutOfBounds => TrapKind::ArrayOutOfBounds,
        }
    }
}

/// Set in a segment number passed to [`Builtin::ArrayNewSegment`] and
/// [`Builtin::ArrayInitSegment`] when it is an element segment's (else a
/// data segment's).
pub const ARRAY_SEGMENT_ELEM: u32 = 1 << 31;

impl Builtin {
    /// Number of builtins: the length of the builtin table.
    pub const COUNT: usize = 28;
}

/// What a tag monitor's allocator wrapper does next ([`Builtin::TagEnter`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TagAction {
    /// A call from inside the allocator: call the module's function with
    /// the original arguments and return its result untouched.
    PassThrough = 0,
    /// Call the module's allocator for a chunk of `value` bytes (redzones
    /// included), then [`Builtin::TagExit`].
    Allocate = 1,
    /// Return `value` without calling the module's allocator (a `free`
    /// into quarantine, a refused request).
    Return = 2,
    /// Stop: a violation under `--on-detect trap`.
    Trap = 3,
}

/// The allocator functions walmart interposes on, found by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum AllocRole {
    /// `malloc(size) -> ptr`
    Malloc = 0,
    /// `free(ptr)`
    Free = 1,
    /// `calloc(n, size) -> ptr`
    Calloc = 2,
    /// `realloc(ptr, size) -> ptr`
    Realloc = 3,
    /// `aligned_alloc(align, size) -> ptr` (and `memalign`)
    AlignedAlloc = 4,
    /// `posix_memalign(&ptr, align, size) -> errno`
    PosixMemalign = 5,
}

impl AllocRole {
    /// The roles a function called `name` may have (wasi-libc's dlmalloc
    /// names included), each with its parameter count and whether it
    /// returns a value: the first its signature fits is its role. Empty
    /// for a name that names none.
    pub fn from_name(name: &str) -> &'static [(AllocRole, usize, bool)] {
        use AllocRole::*;
        match name {
            "malloc" | "dlmalloc" => &[(Malloc, 1, true)],
            "free" | "dlfree" => &[(Free, 1, false)],
            "calloc" | "dlcalloc" => &[(Calloc, 2, true)],
            "realloc" | "dlrealloc" => &[(Realloc, 2, true)],
            "aligned_alloc" | "memalign" | "dlmemalign" => &[(AlignedAlloc, 2, true)],
            "posix_memalign" | "dlposix_memalign" => &[(PosixMemalign, 3, true)],
            // emmalloc's (wasi-libc's other allocator, zig's): with
            // `malloc` inlined, its callers call this directly, and a
            // link-time optimizer that sees one alignment everywhere drops
            // that parameter (`malloc(size)` then).
            "emmalloc_memalign" => &[(AlignedAlloc, 2, true), (Malloc, 1, true)],
            _ => &[],
        }
    }

    /// From the value generated code passes.
    pub fn from_u32(v: u32) -> Option<AllocRole> {
        use AllocRole::*;
        [Malloc, Free, Calloc, Realloc, AlignedAlloc, PosixMemalign]
            .get(v as usize)
            .copied()
    }
}

/// Offsets of the per-module parts of the vmctx.
#[derive(Clone, Copy, Debug)]
pub struct VMOffsets {
    memories: u32,
    tables: u32,
    globals: u32,
    funcrefs: u32,
    tags: u32,
    type_ids: u32,
    type_infos: u32,
    size: u32,
}

impl VMOffsets {
    /// Computes the layout for a module.
    pub fn new(info: &ModuleInfo) -> VMOffsets {
        let memories = HEADER;
        let tables = memories + 8 * info.memories.len() as u32;
        let globals = tables + 8 * info.tables.len() as u32;
        let funcrefs = globals + 8 * info.globals.len() as u32;
        let tags = funcrefs + 8 * info.func_types.len() as u32;
        let type_ids = tags + 8 * info.tags.len() as u32;
        let type_infos = type_ids + 8 * info.types.len() as u32;
        let size = type_infos + 8 * info.types.len() as u32;
        VMOffsets {
            memories,
            tables,
            globals,
            funcrefs,
            tags,
            type_ids,
            type_infos,
            size,
        }
    }

    /// Offset of the `*mut VMMemory` of memory `i`.
    pub fn memory(&self, i: u32) -> i32 {
        (self.memories + 8 * i) as i32
    }

    /// Offset of the `*mut VMTable` of table `i`.
    pub fn table(&self, i: u32) -> i32 {
        (self.tables + 8 * i) as i32
    }

    /// Offset of the `*mut VMGlobal` of global `i`.
    pub fn global(&self, i: u32) -> i32 {
        (self.globals + 8 * i) as i32
    }

    /// Offset of the `*const VMFuncRef` of function `i`.
    pub fn funcref(&self, i: u32) -> i32 {
        (self.funcrefs + 8 * i) as i32
    }

    /// Offset of the `*const VMTag` of tag `i`.
    pub fn tag(&self, i: u32) -> i32 {
        (self.tags + 8 * i) as i32
    }

    /// Offset of the engine-wide id of the module's type `i`
    /// ([`VMFuncRef::type_id`]), which `call_indirect` and the casts of
    /// function references compare with. In the vmctx, not in the code,
    /// so that code does not depend on the engine that compiled it
    /// (precompiled modules).
    pub fn type_id(&self, i: u32) -> i32 {
        (self.type_ids + 8 * i) as i32
    }

    /// Offset of the address of the engine's info record of the module's
    /// type `i` ([`GC_TYPE_INFO`]), which `struct.new` and the casts of
    /// GC objects use.
    pub fn type_info(&self, i: u32) -> i32 {
        (self.type_infos + 8 * i) as i32
    }

    /// Total size in bytes.
    pub fn size(&self) -> usize {
        self.size as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_marks_say_every_length_under_every_key_and_are_never_0() {
        for key in 0..=254 {
            let mut seen = [false; 256];
            for k in 1..=HEAP_SLACK_MAX {
                let mark = slack_mark(k, key);
                assert!((1..=255).contains(&mark), "k {k} key {key}");
                assert!(!seen[mark as usize], "k {k} key {key}: mark {mark} twice");
                seen[mark as usize] = true;
                assert_eq!(slack_of_mark(mark, key), Some(k), "k {k} key {key}");
            }
            assert_eq!(slack_of_mark(0, key), None);
        }
        // Key 0 marks the length itself; others do not.
        assert_eq!(slack_mark(1, 0), 1);
        assert!((1..=254).all(|key| slack_mark(1, key) != 1));
    }

    /// The offsets generated code uses are where the fields are.
    #[test]
    fn attest_state_offsets_match_its_layout() {
        // A field's name and offset.
        macro_rules! field {
            ($f:ident) => {
                (stringify!($f), std::mem::offset_of!(VMAttestState, $f))
            };
        }
        let fields = [
            (field!(armed), ATTEST_ARMED),
            (field!(heap_floor), ATTEST_HEAP_FLOOR),
            (field!(heap_state), ATTEST_HEAP_STATE),
            (field!(heap_arg), ATTEST_HEAP_ARG),
            (field!(heap_top), ATTEST_HEAP_TOP),
            (field!(heap_slack_key), ATTEST_HEAP_SLACK_KEY),
            (field!(heap_top_bytes), ATTEST_HEAP_TOP_BYTES),
            (field!(allocator_calls), ATTEST_ALLOCATOR_CALLS),
            (field!(allocator_call_mark), ATTEST_ALLOCATOR_CALL_MARK),
        ];
        for ((field, at), offset) in fields {
            assert_eq!(at, offset as usize, "{field}");
        }
        assert_eq!(
            std::mem::size_of::<[std::sync::atomic::AtomicU64; 4]>(),
            HEAP_TOP_COPIED as usize
        );
    }
}
