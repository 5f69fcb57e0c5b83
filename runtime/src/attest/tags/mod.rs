//! The colour-tag memory-safety monitor (`--attest tags`).
//!
//! Generated code checks every load and store of memory 0 against a
//! shadow of colour tags (`shadow`) and runs the module's allocator
//! through wrappers ([`walmart_jit::translate::tags`]) that call back
//! here: `heap` decides redzones, colours and quarantine, and turns a
//! failed check into a `tag-violation` event; `trace` writes the
//! alloc/free/read/write trace.

pub(crate) mod heap;
pub(crate) mod shadow;
pub(crate) mod trace;

use walmart_attest::dataset::Label;
use walmart_attest::{
    Event, EventKind, HookKind, HookSite, OnDetect, TagAccess, TagAllocation, TagColours, TagMode,
    TagReport, ViolationKind,
};
use walmart_jit::vmctx::{AllocRole, TagAction};

pub use heap::TagStats;
pub use trace::TraceOptions;

use crate::error::{Error, Result};
use crate::instance::InstanceData;
use crate::store::StoreOpaque;
use crate::vm::backtrace;

/// Frames kept of each allocation's and free's stack.
const STACK_FRAMES: usize = 16;

/// The tag monitor's settings, an engine setting (they change generated
/// code).
#[derive(Clone, Debug, PartialEq)]
pub struct TagConfig {
    /// Which violations are checked.
    pub mode: TagMode,
    /// Memory colours only, or pointer colours too.
    pub colours: TagColours,
    /// Bytes of freed memory held back from reuse (temporal modes).
    pub quarantine_bytes: u64,
    /// Generated code reports every checked read and write for the trace
    /// ([`crate::attest::AttestOptions::tag_trace`]); slow.
    pub trace_accesses: bool,
}

impl Default for TagConfig {
    fn default() -> TagConfig {
        TagConfig {
            mode: TagMode::Temporal,
            colours: TagColours::Memory,
            quarantine_bytes: 16 << 20,
            trace_accesses: false,
        }
    }
}

/// Pages a memory may have with pointer colours: the colour bits are not
/// address bits.
pub(crate) const POINTER_COLOUR_MAX_PAGES: u64 = 1 << (walmart_jit::vmctx::TAG_COLOUR_SHIFT - 16);

/// The heap state of a new instance under the monitor, or an error when
/// the module has no allocator to wrap.
pub(crate) fn instance_heap(
    config: &TagConfig,
    plan: &walmart_jit::translate::tags::AllocatorPlan,
    shadow: Option<shadow::Shadow>,
    module_name: &str,
    info: &walmart_jit::module_info::ModuleInfo,
    traced: bool,
    memory64: bool,
) -> Result<Option<Box<heap::TagHeap>>> {
    let has_names = !info.func_names.is_empty();
    let allocates = [
        AllocRole::Malloc,
        AllocRole::Calloc,
        AllocRole::Realloc,
        AllocRole::AlignedAlloc,
        AllocRole::PosixMemalign,
    ]
    .iter()
    .any(|r| plan.has(*r));
    // The shadow covers a guarded 32-bit memory: a 64-bit one would go
    // unchecked, which a user must not take for a clean run.
    if memory64 {
        return Err(Error::Usage(format!(
            "`--attest tags` watches 32-bit memories, and the first memory of {module_name} \
             is 64-bit (memory64): its accesses could not be checked"
        )));
    }
    let Some(shadow) = shadow else {
        // No memory to monitor: nothing is checked.
        return Ok(None);
    };
    // A module with names but no allocator never allocates: there is no
    // heap to watch. Without names, its allocator cannot be found.
    if !allocates && !has_names {
        return Err(Error::Usage(format!(
            "`--attest tags` needs the module's allocator, and {module_name} has none it can find: \
             it has no name section and exports no malloc, calloc, realloc, aligned_alloc or \
             posix_memalign (build without stripping names, or export malloc and free)"
        )));
    }
    Ok(Some(Box::new(heap::TagHeap::new(
        config.mode,
        config.colours == TagColours::Pointer,
        config.quarantine_bytes,
        shadow,
        plan.has(AllocRole::Free),
        traced,
        info.emmalloc,
    ))))
}

/// Raw return addresses of the stack whose innermost Wasm frame has
/// frame pointer `fp`.
fn stack_at(fp: u64) -> Vec<usize> {
    backtrace::return_addresses(fp as usize, STACK_FRAMES)
}

/// The depot id of the stack whose innermost Wasm frame has frame
/// pointer `fp`, walked without allocating (every allocation and free).
fn stack_id(depot: &mut heap::StackDepot, fp: u64) -> u32 {
    let mut buf = [0usize; STACK_FRAMES];
    let mut n = 0;
    backtrace::walk_return_addresses(fp as usize, STACK_FRAMES, |ret| {
        buf[n] = ret;
        n += 1;
    });
    depot.put(&buf[..n])
}

fn lines(frames: &[backtrace::Frame]) -> Vec<String> {
    frames.iter().map(backtrace::frame_line).collect()
}

/// [`walmart_jit::vmctx::Builtin::TagEnter`].
pub(crate) fn enter(
    store: &mut StoreOpaque,
    inst: &mut InstanceData,
    role: u32,
    args: [u32; 3],
    fp: u64,
) -> u64 {
    let pack = |a: TagAction, v: u32| (u64::from(a as u32) << 32) | u64::from(v);
    let (Some(role), Some(heap)) = (AllocRole::from_u32(role), inst.tags.as_deref_mut()) else {
        return pack(TagAction::PassThrough, 0);
    };
    let outcome = heap.enter(role, args, |depot| stack_id(depot, fp));
    trace_heap_events(store, heap);
    match outcome {
        heap::Enter::Go(action, v) => pack(action, v),
        heap::Enter::Bad(found) => {
            let frames = backtrace::frames_of(&stack_at(fp));
            let site = frames.first().and_then(|f| f.wasm_offset).unwrap_or(0);
            let func = frames.first().map(|f| f.func_index);
            if report(store, inst, found, None, frames, func, u64::from(site)) {
                pack(TagAction::Trap, 0)
            } else {
                let heap = inst.tags.as_deref_mut().expect("checked above");
                pack(TagAction::Return, heap.refused())
            }
        }
    }
}

/// Writes the heap's allocations and frees to the trace.
fn trace_heap_events(store: &mut StoreOpaque, heap: &mut heap::TagHeap) {
    let Some(t) = store.tag_trace.as_mut() else {
        return;
    };
    for e in heap.take_events() {
        match e {
            heap::HeapEvent::Alloc(p, size, colour) => t.alloc(p, size, colour),
            heap::HeapEvent::Free(p, colour) => t.free(p, colour),
        }
    }
}

/// [`walmart_jit::vmctx::Builtin::TagExit`].
pub(crate) fn exit(store: &mut StoreOpaque, inst: &mut InstanceData, result: u32) -> u32 {
    let Some(mem) = inst.memories.first().copied() else {
        return result;
    };
    let Some(heap) = inst.tags.as_deref_mut() else {
        return result;
    };
    let data = mem.data_in_mut(store);
    let r = heap.exit(result, data.bytes_mut());
    // Generated code skips the shadow below the lowest coloured granule.
    let floor = (data.def.base as u64).saturating_add(u64::from(heap.floor()));
    data.def.tag_floor = data.def.tag_floor.min(floor);
    trace_heap_events(store, heap);
    r
}

/// [`walmart_jit::vmctx::Builtin::TagEvict`].
pub(crate) fn evict(inst: &mut InstanceData) -> u64 {
    inst.tags
        .as_deref_mut()
        .and_then(|h| h.next_eviction())
        .map_or(u64::MAX, u64::from)
}

/// [`walmart_jit::vmctx::Builtin::TagCheck`]: non-zero stops the guest.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check(
    store: &mut StoreOpaque,
    inst: &mut InstanceData,
    ptr: u64,
    len: u64,
    write: bool,
    func: u32,
    offset: u32,
    fp: u64,
) -> u32 {
    let Some(heap) = inst.tags.as_deref_mut() else {
        return 0;
    };
    let Ok(size) = u32::try_from(len) else {
        // Out of bounds: the operation traps.
        return 0;
    };
    let Some(found) = heap.check(ptr, size) else {
        return 0;
    };
    let (address, colour) = heap.split(ptr);
    if heap.inlined_realloc_read(&found, address, size, write) {
        return 0;
    }
    let access = TagAccess {
        write,
        address,
        size,
        colour,
    };
    if write {
        label_for_collection(store, &found, &access);
    }
    report_access(store, inst, found, access, func, offset, fp)
}

/// Hands a violating write to the dataset collector, if one runs: the
/// pages from its first forbidden byte to its end are corrupted for real.
fn label_for_collection(store: &StoreOpaque, found: &heap::Found, access: &TagAccess) {
    let Some(c) = store.attest.as_deref().and_then(|s| s.collector.as_ref()) else {
        return;
    };
    let label = match found.kind {
        ViolationKind::UseAfterFree => Label::UseAfterFree,
        // Double and invalid frees are refused before they touch memory.
        ViolationKind::DoubleFree | ViolationKind::InvalidFree => return,
        ViolationKind::Overflow | ViolationKind::Underflow | ViolationKind::Wild => {
            Label::HeapOverflow
        }
        ViolationKind::StackBufferOverflow => Label::StackSmash,
        // The access trapped: nothing was written.
        ViolationKind::BeyondMemory => return,
    };
    let end = access.address.saturating_add(access.size);
    c.lock()
        .unwrap_or_else(|e| e.into_inner())
        .violation(label, found.address, end);
}

/// Reports a failed access check made at `offset` in function `func`
/// (frame pointer `fp`).
fn report_access(
    store: &mut StoreOpaque,
    inst: &mut InstanceData,
    found: heap::Found,
    access: TagAccess,
    func: u32,
    offset: u32,
    fp: u64,
) -> u32 {
    let mut frames = vec![crate::wasm_backtrace::frame_at(inst, func, offset)];
    frames.extend(backtrace::frames_of(&stack_at(fp)));
    report(
        store,
        inst,
        found,
        Some(access),
        frames,
        Some(func),
        u64::from(offset),
    ) as u32
}

/// What a trap of a call into the store (`trap`, as the signal handler
/// recorded it) is to the embedder: an access past a tag-monitored
/// memory's end is reported as a violation first
/// ([`access_beyond_memory`]), and is an attestation violation where
/// `--on-detect trap` stops the guest for it; any other trap is itself.
pub(crate) fn trap_kind(
    store: &mut StoreOpaque,
    trap: &crate::vm::traphandlers::TrapState,
) -> walmart_jit::TrapKind {
    use walmart_jit::TrapKind;
    match (trap.kind, trap.fault) {
        (TrapKind::MemoryOutOfBounds, Some(fault))
            if access_beyond_memory(store, fault, &trap.frames) =>
        {
            TrapKind::AttestationViolation
        }
        (kind, _) => kind,
    }
}

/// A guest access that trapped at host address `fault`, past the end of
/// the memory of a tag-monitored instance (`frames`: the trap's
/// backtrace): a pointer that points into no memory, as a corrupted one
/// does. The shadow has no colour there to check, so the trap is the
/// only sign; it is reported as a `beyond-memory` violation before the
/// trap reaches the embedder. A fault elsewhere (another store's memory)
/// is left alone, as are traps that name no address (a bulk-memory
/// operation's bounds check). Whether the guest must stop for the
/// violation (`OnDetect::Trap`).
fn access_beyond_memory(
    store: &mut StoreOpaque,
    fault: usize,
    frames: &[backtrace::Frame],
) -> bool {
    let Some((i, address)) = store.instances.iter().enumerate().find_map(|(i, inst)| {
        let memory = inst.memories.first().filter(|_| inst.tags.is_some())?;
        let address = memory.data_in(store).beyond_end(fault)?;
        Some((i, u32::try_from(address).unwrap_or(u32::MAX)))
    }) else {
        return false;
    };
    let top = frames.first();
    let func = top.map(|f| f.func_index);
    let site = top.and_then(|f| f.wasm_offset).unwrap_or(0);
    let inst: *mut InstanceData = &mut *store.instances[i];
    // SAFETY: the instance is boxed, so its address is stable, and
    // `report` reaches the store's attestation session and trace, never
    // its instances (the event callbacks it runs are given no store):
    // the two references do not overlap.
    let inst = unsafe { &mut *inst };
    let found = heap::Found {
        kind: ViolationKind::BeyondMemory,
        address,
        alloc: None,
    };
    report(
        store,
        inst,
        found,
        None,
        frames.to_vec(),
        func,
        u64::from(site),
    )
}

/// [`walmart_jit::vmctx::Builtin::TagTrace`].
pub(crate) fn trace_access(
    store: &mut StoreOpaque,
    inst: &InstanceData,
    ptr: u64,
    size_write: u32,
) {
    let (Some(t), Some(heap)) = (store.tag_trace.as_mut(), inst.tags.as_deref()) else {
        return;
    };
    let (a, colour) = heap.split(ptr);
    t.access(a, size_write & 0xff, size_write & 0x100 != 0, colour);
}

/// Logs a violation once per kind, function, object and direction (read
/// or write); whether the guest must stop.
fn report(
    store: &mut StoreOpaque,
    inst: &mut InstanceData,
    found: heap::Found,
    access: Option<TagAccess>,
    frames: Vec<backtrace::Frame>,
    func: Option<u32>,
    site: u64,
) -> bool {
    let Some(heap) = inst.tags.as_deref_mut() else {
        return false;
    };
    // One event per kind, function, object and direction: an overflowing
    // copy loop unrolled into many stores is one finding, but the write of
    // a `|=` whose read was reported is another (only the write
    // corrupts).
    // A stack frame's guard is one granule, its object.
    let object = match &found.alloc {
        Some(a) => a.p,
        None if found.kind == ViolationKind::StackBufferOverflow => {
            found.address & !(walmart_jit::vmctx::TAG_GRANULE - 1)
        }
        None => found.address,
    };
    let write = access.as_ref().is_some_and(|a| a.write);
    let first = heap.first_report(
        found.kind,
        u64::from(func.unwrap_or(u32::MAX)),
        object,
        write,
    );
    let trap = store
        .attest
        .as_deref()
        .is_some_and(|s| s.shared.on_detect == OnDetect::Trap);
    if !first {
        return trap;
    }
    heap.stats.violations += 1;
    let allocation = found.alloc.as_ref().map(|a| TagAllocation {
        base: a.p,
        size: a.size,
        colour: a.colour,
        allocated: lines(&backtrace::frames_of(heap.depot.get(a.alloc_stack))),
        freed: a
            .free_stack
            .map(|s| lines(&backtrace::frames_of(heap.depot.get(s)))),
    });
    let detail = describe(&found, access.as_ref());
    if let Some(t) = store.tag_trace.as_mut() {
        t.violation(found.kind, found.address);
    }
    let name = func.and_then(|f| inst.module.info().func_names.get(&f).map(str::to_string));
    let event = Event {
        time: Event::now(),
        policy: walmart_attest::Policy::Tags,
        kind: EventKind::TagViolation,
        hook: HookSite {
            kind: HookKind::TagCheck,
            func,
            name,
            offset: u32::try_from(site).ok(),
        },
        epoch: store.attest.as_deref().map_or(0, |s| s.epoch()),
        allocator_calls: store.attest.as_deref().map_or(0, |s| s.allocator_calls()),
        memory: 0,
        pages: vec![found.address / walmart_attest::PAGE_SIZE as u32],
        scores: vec![1.0],
        source: "tags".into(),
        detail,
        tag: Some(TagReport {
            violation: found.kind,
            access,
            allocation,
            backtrace: lines(&frames),
        }),
        evidence: Vec::new(),
    };
    if let Some(s) = store.attest.as_deref() {
        s.shared.report(event);
        if trap {
            // Acted on here, the guest trapping at the access: not a
            // detection for the run's end to act on again.
            s.stop_requested();
        }
    }
    trap
}

/// One sentence about a violation.
fn describe(f: &heap::Found, access: Option<&TagAccess>) -> String {
    let what = match access {
        Some(a) => format!(
            "{} of {} byte(s) at {:#x}",
            if a.write { "write" } else { "read" },
            a.size,
            a.address
        ),
        None if f.kind == ViolationKind::BeyondMemory => format!(
            "an access at {}, past the end of the memory, trapped (a pointer that points into \
             no memory)",
            // The faulting byte; an offset past 4 GiB (a 32-bit address
            // plus its static offset) has no 32-bit address to name.
            if f.address == u32::MAX {
                "or past 4 GiB".to_string()
            } else {
                format!("{:#x}", f.address)
            }
        ),
        None => format!("free of {:#x}", f.address),
    };
    let whose = match &f.alloc {
        Some(a) => {
            let rel = if f.address < a.p {
                format!("{} byte(s) before", a.p - f.address)
            } else if f.address >= a.p + a.size {
                format!("{} byte(s) past the end of", f.address - (a.p + a.size))
            } else {
                format!("{} byte(s) into", f.address - a.p)
            };
            format!(
                ", {rel} the {}-byte {}allocation at {:#x} (colour {})",
                a.size,
                if a.free_stack.is_some() { "freed " } else { "" },
                a.p,
                a.colour
            )
        }
        None if f.kind == ViolationKind::StackBufferOverflow => format!(
            ", in the guard at {:#x} above a stack frame (a buffer in a frame below it overflowed)",
            f.address & !(walmart_jit::vmctx::TAG_GRANULE - 1)
        ),
        None => String::new(),
    };
    let kind = match f.kind {
        ViolationKind::Wild => "wild access".to_string(),
        k => k.name().replace('-', " "),
    };
    format!("{kind}: {what}{whose}")
}

/// The most stack a failed call's clearing looks at (64 MiB, more than any
/// `-z stack-size`).
const MAX_STACK_CLEARED: u32 = 64 << 20;

/// Each tag-monitored instance's shadow stack pointer as a call into the
/// store begins: (instance, stack pointer).
pub(crate) fn stack_pointers(store: &StoreOpaque) -> Vec<(usize, u32)> {
    store
        .instances
        .iter()
        .enumerate()
        .filter(|(_, i)| i.tags.is_some())
        .filter_map(|(n, i)| Some((n, crate::attest::shadow_stack_pointer(store, i)?)))
        .collect()
}

/// After a call that failed (a trap, a host error): the guards of the
/// frames it abandoned (`walmart_jit::translate::stack_guard`) lie
/// between the stack pointer the guest was left with and the one at the
/// call's start (`before`, from [`stack_pointers`]), painted still. A
/// host that goes on calling in, or guest code that a host function
/// returns to, would make frames over them; they are cleared (only
/// granules holding a guard: the stack holds no heap colours).
pub(crate) fn clear_abandoned_guards(store: &StoreOpaque, before: &[(usize, u32)]) {
    for &(n, start) in before {
        let Some(inst) = store.instances.get(n) else {
            continue;
        };
        let (Some(heap), Some(now)) = (
            inst.tags.as_deref(),
            crate::attest::shadow_stack_pointer(store, inst),
        ) else {
            continue;
        };
        // A stack pointer the guest set to anything may span more than
        // any stack: then nothing is cleared.
        let granule = walmart_jit::vmctx::TAG_GRANULE;
        let from = now & !(granule - 1);
        if start <= from || start - from > MAX_STACK_CLEARED || start > u32::MAX - granule {
            continue;
        }
        for at in (u64::from(from)..u64::from(start)).step_by(granule as usize) {
            // Below `start`, a u32.
            let at = at as u32;
            if heap.shadow.byte(at) == walmart_jit::vmctx::TAG_STACK_GUARD {
                heap.shadow.fill(at, at + granule, 0);
            }
        }
    }
}

/// The address mask host code applies to guest pointers into memory 0
/// under pointer colours.
pub(crate) fn host_mask(config: Option<&TagConfig>) -> u32 {
    match config {
        Some(c) if c.colours == TagColours::Pointer => walmart_jit::vmctx::TAG_ADDR_MASK,
        _ => u32::MAX,
    }
}
