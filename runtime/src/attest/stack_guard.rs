//! The guards above stack frames under `coarse` and `fine`
//! (`walmart_jit::translate::stack_guard`): 16 zero bytes above each frame
//! of clang's shape, checked by generated code as the function returns. A
//! guard found written reaches here ([`HookPoint::StackCheck`]) and is
//! reported as a [`EventKind::StackSmash`] event.
//!
//! [`HookPoint::StackCheck`]: walmart_jit::vmctx::HookPoint::StackCheck

use std::sync::atomic::Ordering;

use walmart_attest::{Event, EventKind, HookSite, PAGE_SIZE};

use crate::store::StoreOpaque;

/// Bytes of a guard.
const GUARD: u32 = walmart_jit::translate::stack_guard::FRAME_GUARD;

/// A returning function found its frame's guard (at the Wasm address in
/// the attestation state's argument, in the store's memory `memory`, the
/// function's instance's first) written over. Reports it, once per
/// return site, and returns whether the guest must stop
/// (`--on-detect trap`).
pub(crate) fn check(
    store: &mut StoreOpaque,
    memory: Option<u32>,
    site: &dyn Fn(&StoreOpaque) -> HookSite,
) -> bool {
    let Some(s) = store.attest.as_deref() else {
        return false;
    };
    let at = s.shared.state.heap_arg.load(Ordering::Relaxed);
    let bytes: Vec<u8> = memory
        .and_then(|m| store.memories.get(m as usize))
        .and_then(|m| m.bytes().get(at as usize..at as usize + GUARD as usize))
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let hook = site(store);
    let s = store.attest.as_deref_mut().expect("checked above");
    if !s.stack_smash_reported.insert((hook.func, hook.offset)) {
        return false;
    }
    let whose = hook
        .name
        .as_deref()
        .map_or_else(|| "a function".to_string(), |n| format!("`{n}`"));
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let detail = format!(
        "the guard above the stack frame of {whose} at {at:#x} was written over before it \
         returned (a buffer in the frame overflowed): {}",
        hex.join(" ")
    );
    s.shared.report(Event {
        time: Event::now(),
        policy: s.shared.policy,
        kind: EventKind::StackSmash,
        hook,
        epoch: s.epoch(),
        allocator_calls: s.allocator_calls(),
        memory: memory.unwrap_or(0),
        pages: vec![at / PAGE_SIZE as u32],
        scores: vec![1.0],
        source: "stack-guard".into(),
        detail,
        tag: None,
        evidence: Vec::new(),
    });
    s.stop_requested()
}
