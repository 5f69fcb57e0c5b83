//! Attestation end to end: dirty pages, snapshots, host tampering, events.

mod common;

use std::collections::BTreeSet;

use common::instantiated;
use std::sync::{Arc, Mutex};

use walmart::attest::{
    DigestVerifier, Event, EventKind, HookKind, OnDetect, PageKind, PageSnapshot, Policy, Verdict,
    Verifier,
};
use walmart::{
    AttestOptions, Config, Engine, Error, FuncType, Linker, Module, Store, TrapKind, Val,
};

/// Records the written pages it is shown (the module's and the host's
/// input), and judges with the digest verifier.
struct Recorder {
    pages: Arc<Mutex<Vec<(u32, u32)>>>,
    inner: DigestVerifier,
}

impl Verifier for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn event_kind(&self) -> EventKind {
        EventKind::HostTamper
    }
    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        let mut seen = self.pages.lock().unwrap();
        for p in pages.iter().filter(|p| p.kind != PageKind::Audit) {
            assert_eq!(p.bytes.len(), 4096);
            seen.push((p.memory, p.page));
        }
        self.inner.verify(pages, out);
    }
}

struct Setup {
    store: Store<()>,
    instance: walmart::Instance,
    pages: Arc<Mutex<Vec<(u32, u32)>>>,
    events: Arc<Mutex<Vec<Event>>>,
}

fn setup(policy: Policy, sync: bool, guarded: bool, on_detect: OnDetect, wat: &str) -> Setup {
    let mut config = Config::new();
    config
        .attest(policy)
        .attest_sync(sync)
        .guarded_memory(guarded);
    setup_with(&config, on_detect, wat)
}

fn setup_with(config: &Config, on_detect: OnDetect, wat: &str) -> Setup {
    setup_adding(config, on_detect, wat, |o| o)
}

/// A `coarse` store running `wat`, under kernel tracking when `kernel`
/// (and the kernel offers it) or the store barrier.
fn coarse(kernel: bool, wat: &str) -> Setup {
    let mut config = Config::new();
    config.attest(Policy::Coarse).attest_kernel_dirty(kernel);
    setup_with(&config, OnDetect::Log, wat)
}

/// [`setup_with`], with `more` applied to the attestation options.
fn setup_adding(
    config: &Config,
    on_detect: OnDetect,
    wat: &str,
    more: impl FnOnce(AttestOptions) -> AttestOptions,
) -> Setup {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let pages = Arc::new(Mutex::new(Vec::new()));
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    store
        .configure_attestation(more(
            AttestOptions::new()
                .verifier(Recorder {
                    pages: pages.clone(),
                    inner: DigestVerifier::new(),
                })
                .on_detect(on_detect)
                .on_event(move |e| sink.lock().unwrap().push(e.clone())),
        ))
        .unwrap();
    let mut linker = Linker::new(&engine);
    // A host function that writes guest memory behind walmart's back.
    linker
        .func_new(
            "env",
            "poke",
            FuncType::new([walmart::ValType::I32], []),
            |mut caller, params, _| {
                let mem = caller.get_export("memory").unwrap().into_memory().unwrap();
                let at = params[0].i32().unwrap() as usize;
                mem.data_mut(&mut caller)[at] = 0xAA;
                Ok(())
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    Setup {
        store,
        instance,
        pages,
        events,
    }
}

const WRITER: &str = r#"(module
    (import "env" "poke" (func $poke (param i32)))
    (memory (export "memory") 4)
    (func (export "write") (local $p i32)
        (i32.store (i32.const 0x1000) (i32.const 7))      ;; page 1
        ;; Stores through one index, marked together: pages 31, 32, 35.
        (local.set $p (i32.const 0x1fff8))
        (i64.store (local.get $p) (i64.const 1))
        (i64.store offset=8 (local.get $p) (i64.const 2))
        (i32.store offset=0x3010 (local.get $p) (i32.const 3))
        ;; Indexes computed as $p + constant: pages 36, 37.
        (local.set $p (i32.const 0x24ffc))
        (i32.store (local.get $p) (i32.const 4))
        (i32.store (i32.add (local.get $p) (i32.const 4)) (i32.const 5))
        (i64.store (i32.const 0x5ffc) (i64.const -1))     ;; straddles pages 5 and 6
        (i32.store8 (i32.const 0x9000) (i32.const 1))     ;; page 9
        (v128.store (i32.const 0xa010) (v128.const i64x2 1 2)) ;; page 10
        ;; Pages 14, 15; long enough that fuel and epoch checks come
        ;; before it (in the run of the stores to pages 9 and 10).
        (memory.fill (i32.const 0xeff0) (i32.const 3) (i32.const 0x200))
        (call $leaf)
        (drop (memory.grow (i32.const 1)))
        (i32.store (i32.const 0x42000) (i32.const 9)))            ;; page 66, grown
    (data (i32.const 0xc004) "written by instantiation")          ;; page 12
    (func $leaf (i32.store16 (i32.const 0x3000) (i32.const 5)))  ;; page 3
    (func (export "read") (result i32)
        (i32.add (i32.load (i32.const 0x1000)) (i32.load (i32.const 0x9000))))
    (func (export "call_poke") (param i32) (call $poke (local.get 0))))"#;

fn call(s: &mut Setup, name: &str, args: &[Val]) -> Result<Vec<Val>, Error> {
    let f = s.instance.get_func(&mut s.store, name).unwrap();
    let mut results: Vec<Val> = f
        .ty(&s.store)
        .results()
        .iter()
        .map(|t| Val::default_for(*t))
        .collect();
    f.call(&mut s.store, args, &mut results)?;
    Ok(results)
}

fn dirty_pages(s: &Setup) -> BTreeSet<(u32, u32)> {
    s.pages.lock().unwrap().iter().copied().collect()
}

/// How many times page `page` went to the verifiers as written.
fn times_judged(s: &Setup, page: u32) -> usize {
    s.pages
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.1 == page)
        .count()
}

#[test]
fn written_pages_are_reported_dirty_exactly() {
    let expected: BTreeSet<(u32, u32)> = [1, 3, 5, 6, 9, 10, 12, 14, 15, 31, 32, 35, 36, 37, 66]
        .iter()
        .map(|p| (0, *p))
        .collect();
    // `kernel`: coarse and asynchronous fine may take written pages from
    // the kernel instead of the store barrier; both must give the same
    // pages (synchronous fine always has the barrier: it arms the hooks).
    // And with fuel and epoch checks, which come before the fill.
    let configs = [
        (Policy::Coarse, false, true, true),
        (Policy::Coarse, false, true, false),
        (Policy::Coarse, false, false, true),
        (Policy::Coarse, false, false, false),
        (Policy::Fine, false, true, true),
        (Policy::Fine, false, false, true),
        (Policy::Fine, false, true, false),
        (Policy::Fine, true, true, true),
        (Policy::Fine, true, true, false),
        (Policy::Fine, true, false, false),
    ];
    for ((policy, sync, guarded, kernel), interrupts) in
        configs.into_iter().flat_map(|c| [(c, false), (c, true)])
    {
        let mut config = Config::new();
        config
            .attest(policy)
            .attest_sync(sync)
            .guarded_memory(guarded)
            .attest_kernel_dirty(kernel)
            .consume_fuel(interrupts)
            .epoch_interruption(interrupts);
        let mut s = setup_with(&config, OnDetect::Log, WRITER);
        if interrupts {
            s.store.set_fuel(1 << 40).unwrap();
            s.store.set_epoch_deadline(1 << 40);
        }
        let tracking = s.store.engine().attest_dirty_tracking();
        assert!((kernel && !sync) || tracking == "barrier", "{tracking}");
        call(&mut s, "write", &[]).unwrap();
        let stats = s.store.finish_attestation().unwrap().unwrap();
        assert_eq!(
            dirty_pages(&s),
            expected,
            "{policy} sync={sync} guarded={guarded} tracking={tracking} interrupts={interrupts}"
        );
        assert!(s.events.lock().unwrap().is_empty());
        assert_eq!(stats.detections, 0);
        assert_eq!(stats.ring_drops, 0);
    }
}

#[test]
fn stores_whose_index_wraps_around_are_marked_where_they_land() {
    // $p + 8 wraps to index 0: the two stores are 4 GiB apart in memory,
    // not 8 bytes, and must not share one mark.
    let wat = r#"(module
        (memory (export "memory") 65536)
        (func (export "write") (param $p i32)
            (i64.store (local.get $p) (i64.const 1))
            (i64.store (i32.add (local.get $p) (i32.const 8)) (i64.const 2)))
        (func (export "write_wrapped_first") (param $p i32)
            (i64.store (i32.add (local.get $p) (i32.const 8)) (i64.const 2))
            (i64.store (local.get $p) (i64.const 1))))"#;
    for policy in [Policy::Fine, Policy::Coarse] {
        for f in ["write", "write_wrapped_first"] {
            let mut config = Config::new();
            config.attest(policy).attest_kernel_dirty(false);
            let mut s = setup_with(&config, OnDetect::Log, wat);
            call(&mut s, f, &[Val::I32(-8)]).unwrap();
            s.store.finish_attestation().unwrap().unwrap();
            let expected: BTreeSet<(u32, u32)> = [(0, 0), (0, (1 << 20) - 1)].into();
            assert_eq!(dirty_pages(&s), expected, "{policy} {f}");
        }
    }
}

#[test]
fn pages_written_before_a_trap_are_reported() {
    // The trap ends a run of stores before its marks would be emitted.
    let wat = r#"(module
        (memory (export "memory") 2)
        (func (export "trap") (param $p i32) (result i32)
            (i32.store (local.get $p) (i32.const 1))
            (i32.store offset=4 (local.get $p) (i32.const 2))
            (i32.div_u (i32.const 1) (i32.const 0))))"#;
    for (policy, kernel) in [
        (Policy::Fine, false),
        (Policy::Coarse, false),
        (Policy::Coarse, true),
    ] {
        let mut config = Config::new();
        config.attest(policy).attest_kernel_dirty(kernel);
        let mut s = setup_with(&config, OnDetect::Log, wat);
        let err = call(&mut s, "trap", &[Val::I32(0x5008)]).unwrap_err();
        assert!(
            matches!(&err, Error::Trap(t) if t.kind() == TrapKind::IntegerDivisionByZero),
            "{err}"
        );
        s.store.finish_attestation().unwrap().unwrap();
        assert!(
            dirty_pages(&s).contains(&(0, 5)),
            "{policy} kernel={kernel}: {:?}",
            dirty_pages(&s)
        );
        // Nothing looks tampered with afterwards.
        assert!(s.events.lock().unwrap().is_empty());
    }
}

#[test]
fn synchronous_fine_hooks_snapshot_at_the_function_that_wrote() {
    let mut s = setup(Policy::Fine, true, true, OnDetect::Log, WRITER);
    call(&mut s, "write", &[]).unwrap();
    // In synchronous mode the leaf's return hook takes page 3 alone.
    let stats = s.store.finish_attestation().unwrap().unwrap();
    assert!(stats.hooks >= 3, "{stats}");
    assert!(stats.snapshots >= 2, "{stats}");
}

#[test]
fn clean_hooks_copy_nothing() {
    for policy in [Policy::Coarse, Policy::Fine] {
        let mut s = setup(policy, true, true, OnDetect::Log, WRITER);
        // The first hook takes the page instantiation wrote.
        call(&mut s, "read", &[]).unwrap();
        let before = s.store.attestation_stats().unwrap();
        assert_eq!(before.pages_snapshotted, 1, "{policy}: {before}");
        for _ in 0..100 {
            call(&mut s, "read", &[]).unwrap();
        }
        let stats = s.store.attestation_stats().unwrap();
        assert!(stats.hooks >= before.hooks + 200, "{policy}: {stats}");
        assert_eq!(stats.snapshots, before.snapshots, "{policy}: {stats}");
        assert_eq!(stats.pages_snapshotted, 1, "{policy}: {stats}");
    }
}

#[test]
fn host_tampering_during_an_import_call_is_detected() {
    let mut s = setup(Policy::Coarse, false, true, OnDetect::Log, WRITER);
    call(&mut s, "call_poke", &[Val::I32(0x2345)]).unwrap();
    s.store.finish_attestation().unwrap();
    let events = s.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.kind, EventKind::HostTamper);
    assert_eq!(e.pages, [2]);
    assert_eq!(e.hook.kind, HookKind::ImportReturn);
    assert_eq!(e.hook.name.as_deref(), Some("env.poke"));
    assert_eq!(e.source, "write-protection");
    // The host's write went through: detection does not change behaviour.
    let mut b = [0u8];
    let mem = s.instance.get_memory(&mut s.store, "memory").unwrap();
    mem.read(&s.store, 0x2345, &mut b).unwrap();
    assert_eq!(b[0], 0xAA);
}

#[test]
fn host_tampering_between_export_calls_is_detected_and_api_writes_are_not() {
    let mut s = setup(Policy::Fine, false, true, OnDetect::Log, WRITER);
    call(&mut s, "read", &[]).unwrap();
    let mem = s.instance.get_memory(&mut s.store, "memory").unwrap();
    // Through the API: legitimate.
    mem.write(&mut s.store, 0x8000, &[1, 2, 3]).unwrap();
    call(&mut s, "read", &[]).unwrap();
    assert!(s.events.lock().unwrap().is_empty());
    // Behind walmart's back: reported at the next entry.
    mem.data_mut(&mut s.store)[0x3_0001] = 9;
    call(&mut s, "read", &[]).unwrap();
    let events = s.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].pages, [0x30]);
    assert_eq!(events[0].hook.kind, HookKind::ExportEntry);
    assert_eq!(events[0].hook.name.as_deref(), Some("read"));
    // Tampering after the last call is caught when the run finishes.
    mem.data_mut(&mut s.store)[0x100] = 1;
    let stats = s.store.finish_attestation().unwrap().unwrap();
    assert_eq!(stats.detections, 2);
    // Memory::write's pages went to the verifier as legitimate writes.
    assert!(dirty_pages(&s).contains(&(0, 8)));
}

#[test]
fn on_detect_trap_stops_the_guest() {
    let mut s = setup(Policy::Coarse, false, true, OnDetect::Trap, WRITER);
    let err = call(&mut s, "call_poke", &[Val::I32(0x10)]).unwrap_err();
    match err {
        Error::Trap(t) => assert_eq!(t.kind(), TrapKind::AttestationViolation),
        other => panic!("expected an attestation trap, got {other}"),
    }
    // The store stays usable.
    call(&mut s, "read", &[]).unwrap();
}

#[test]
fn attestation_settings_are_checked() {
    // The tag monitor's shadow needs guarded memory.
    let mut config = Config::new();
    config.attest(Policy::Tags).guarded_memory(false);
    let err = Engine::new(&config).unwrap_err().to_string();
    assert!(err.contains("tags") && err.contains("guarded"), "{err}");
    config.guarded_memory(true);
    assert!(Engine::new(&config).is_ok());
    // Options need an attesting engine, and must come first.
    let mut store = Store::new(&Engine::default(), ());
    assert!(store.configure_attestation(AttestOptions::new()).is_err());
    let mut config = Config::new();
    config.attest(Policy::Coarse);
    let engine = Engine::new(&config).unwrap();
    let mut store = Store::new(&engine, ());
    assert!(store.attestation_stats().is_none());
    walmart::Memory::new(&mut store, walmart::MemoryType::new(1, None)).unwrap();
    assert!(store.configure_attestation(AttestOptions::new()).is_err());
}

/// Flags every dirty page that holds the byte 0xEE.
struct MarkerVerifier;

impl Verifier for MarkerVerifier {
    fn name(&self) -> &str {
        "marker"
    }
    fn event_kind(&self) -> EventKind {
        EventKind::Cnn
    }
    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        out.extend(pages.iter().map(|p| {
            let flagged = p.kind == PageKind::Dirty && p.bytes.contains(&0xEE);
            Verdict {
                score: flagged as u8 as f32,
                flagged,
            }
        }));
    }
}

#[test]
fn a_function_hook_in_generated_code_stops_the_guest() {
    // Synchronous `fine` arms every hook after a store, so `$g`'s entry
    // hook calls out on each iteration: the loop's values must survive
    // (the hook trampoline preserves every register). With `$mark` set,
    // the page `f` marks is flagged and `$g`'s entry hook stops the guest
    // before `$g`'s body runs.
    let wat = r#"(module
        (memory (export "memory") 1)
        (func $g (param i32) (result i32)
            (i32.store (i32.const 0x8000) (i32.const 1))
            (i32.add (local.get 0) (i32.const 1)))
        (func (export "f") (param $n i32) (param $mark i32) (result i32)
            (local $i i32) (local $acc i32) (local $k i64) (local $x f64)
            (local.set $k (i64.const 0x1234567890))
            (local.set $x (f64.const 0.5))
            (loop $l
                (local.set $acc (call $g (local.get $acc)))
                (local.set $x (f64.add (local.get $x) (f64.const 1)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
            (if (local.get $mark)
                (then (i32.store8 (i32.const 0x5000) (i32.const 0xEE))))
            (drop (call $g (i32.const 0)))
            (i32.add
                (i32.add (local.get $acc) (i32.trunc_f64_u (local.get $x)))
                (i32.wrap_i64 (i64.shr_u (local.get $k) (i64.const 32))))))"#;
    let mut config = Config::new();
    config.attest(Policy::Fine).attest_sync(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    store
        .configure_attestation(
            AttestOptions::new()
                .verifier(MarkerVerifier)
                .on_detect(OnDetect::Trap)
                .on_event(move |e| sink.lock().unwrap().push(e.clone())),
        )
        .unwrap();
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(1000), Val::I32(0)], &mut out)
        .unwrap();
    // acc 1000, x 1000.5 truncated, k >> 32 = 0x12.
    assert_eq!(out[0].i32(), Some(1000 + 1000 + 0x12));
    assert!(events.lock().unwrap().is_empty());
    let err = f
        .call(&mut store, &[Val::I32(50), Val::I32(1)], &mut out)
        .unwrap_err();
    match err {
        Error::Trap(t) => assert_eq!(t.kind(), TrapKind::AttestationViolation),
        other => panic!("expected an attestation trap, got {other}"),
    }
    // First at `$g`'s entry; the export's exit may report the page again
    // (after a trap every resident page counts as written).
    let events = events.lock().unwrap().clone();
    assert_eq!(events[0].hook.kind, HookKind::FunctionEntry, "{events:?}");
    assert_eq!(events[0].hook.name.as_deref(), Some("g"));
    assert!(events.iter().all(|e| e.pages == [5]), "{events:?}");
}

#[test]
fn the_evidence_of_a_flagged_page_is_its_bytes_as_judged() {
    // The page is flagged, then rewritten: the kept file holds the bytes
    // the verifier saw, not the page's later contents.
    let wat = r#"(module
        (memory (export "memory") 1)
        (func (export "mark") (param i32)
            (i32.store8 (i32.const 0x5000) (i32.const 0xEE))
            (i32.store8 (i32.const 0x5001) (local.get 0))))"#;
    let dir = std::env::temp_dir().join(format!("walmart-evidence-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = Config::new();
    config.attest(Policy::Fine).attest_sync(true);
    let marked = |o: AttestOptions| o.verifier(MarkerVerifier).evidence_dir(dir.join("kept"));
    let mut s = setup_adding(&config, OnDetect::Log, wat, marked);
    call(&mut s, "mark", &[Val::I32(7)]).unwrap();
    call(&mut s, "mark", &[Val::I32(9)]).unwrap();
    // Flagged again with the bytes it had first: it names that file.
    call(&mut s, "mark", &[Val::I32(7)]).unwrap();
    let events = s.events.lock().unwrap().clone();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[2].evidence, events[0].evidence);
    assert_eq!(std::fs::read_dir(dir.join("kept")).unwrap().count(), 2);
    for (event, second) in events.iter().zip([7u8, 9]) {
        assert_eq!(event.pages, [5]);
        assert_eq!(event.evidence.len(), 1, "{event:?}");
        let path = std::path::Path::new(&event.evidence[0]);
        assert!(path.starts_with(dir.join("kept")), "{path:?}");
        let name = path.file_name().unwrap().to_str().unwrap();
        let session = format!("{}.", std::process::id());
        assert!(name.starts_with(&session), "{name}");
        assert!(
            name.ends_with(&format!("-{}-m0-p5-marker.page", event.epoch)),
            "{name}"
        );
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert_eq!(&bytes[..2], &[0xEE, second]);
        assert!(bytes[2..].iter().all(|&b| b == 0));
    }
    // A second store keeping evidence in the same folder adds its files
    // beside the first's (its epochs start again).
    let mut s = setup_adding(&config, OnDetect::Log, wat, marked);
    call(&mut s, "mark", &[Val::I32(7)]).unwrap();
    assert_eq!(std::fs::read_dir(dir.join("kept")).unwrap().count(), 3);
    std::fs::remove_dir_all(&dir).unwrap();

    // A folder that cannot be made is an error when attestation starts
    // (with the store's first memory), as a log that cannot be made is.
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    store
        .configure_attestation(AttestOptions::new().evidence_dir("/proc/self/no/such"))
        .unwrap();
    let Err(err) = Linker::new(&engine).instantiate(&mut store, &module) else {
        panic!("an evidence folder under /proc cannot be created");
    };
    assert!(
        err.to_string()
            .contains("cannot create the evidence folder /proc/self/no/such"),
        "{err}"
    );
}

#[test]
fn allocator_calls_are_tracked_by_name() {
    // A bump allocator with a free list of one, named like wasi-libc's.
    let wat = r#"(module
        (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 1024))
        (func $malloc (export "malloc") (param $n i32) (result i32)
            (local $p i32)
            (local.set $p (global.get $next))
            (global.set $next (i32.add (global.get $next) (local.get $n)))
            ;; The parameter is reassigned: the event must report the
            ;; argument as passed.
            (local.set $n (i32.const 0))
            (local.get $p))
        (func $free (export "free") (param i32))
        (func (export "run") (result i32)
            (local $a i32) (local $b i32)
            (local.set $a (call $malloc (i32.const 16)))
            (local.set $b (call $malloc (i32.const 32)))
            (call $free (local.get $a))
            (local.get $b)))"#;
    let mut config = Config::new();
    config.track_allocations(true);
    let (mut store, instance) = instantiated(&config, wat);
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut out = [Val::I32(0)];
    run.call(&mut store, &[], &mut out).unwrap();
    let heap = store.heap();
    assert_eq!(heap.live().collect::<Vec<_>>(), [(1040, 32)]);
    assert_eq!(heap.freed().collect::<Vec<_>>(), [(1024, 16)]);
    assert_eq!(heap.events, 3);

    // Without the option nothing is reported.
    let engine = Engine::new(&Config::new()).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    run.call(&mut store, &[], &mut out).unwrap();
    assert_eq!(store.heap().events, 0);
}

#[test]
fn an_added_verifier_reports_beside_the_digest_checks() {
    let mut config = Config::new();
    config.attest(Policy::Fine);
    let mut s = setup_adding(&config, OnDetect::Log, WRITER, |o| {
        o.also_verify(MarkerVerifier)
    });
    call(&mut s, "write", &[]).unwrap();
    let mem = s.instance.get_memory(&mut s.store, "memory").unwrap();
    // Through the API, legitimately: the marker's to judge.
    mem.write(&mut s.store, 0x8000, &[0xEE]).unwrap();
    // Behind walmart's back: the exact checks' to find.
    mem.data_mut(&mut s.store)[0x3_0001] = 9;
    call(&mut s, "read", &[]).unwrap();
    s.store.finish_attestation().unwrap();
    let mut events = s.events.lock().unwrap().clone();
    events.sort_by(|a, b| a.source.cmp(&b.source));
    let seen: Vec<(&str, EventKind, Vec<u32>)> = events
        .iter()
        .map(|e| (e.source.as_str(), e.kind, e.pages.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("marker", EventKind::Cnn, vec![8]),
            ("write-protection", EventKind::HostTamper, vec![0x30]),
        ]
    );
    assert_eq!(events[0].scores, [1.0]);
}

/// Writes one page, then calls WASI's `fd_write`, 2,000 times: pages 1-32
/// in turn.
const WASI_CHATTER: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_write"
        (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 40)
    (func (export "_start") (local $i i32)
        (i32.store (i32.const 0x100) (i32.const 0x200)) ;; iov: 1 byte at 0x200
        (i32.store (i32.const 0x104) (i32.const 1))
        (loop $again
            (i32.store
                (i32.add (i32.const 0x1000)
                    (i32.mul (i32.rem_u (local.get $i) (i32.const 32)) (i32.const 0x1000)))
                (local.get $i))
            (drop (call $fd_write (i32.const 1) (i32.const 0x100) (i32.const 1) (i32.const 0x108)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $again (i32.lt_u (local.get $i) (i32.const 2000))))))"#;

/// Runs `wat`'s `_start` with WASI (`ctx`) in a store of `config`
/// attested with `options`, and finishes the attestation.
fn run_wasi_start(
    config: &Config,
    wat: &str,
    ctx: walmart::wasi::WasiCtx,
    options: AttestOptions,
) -> walmart::attest::AttestStats {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ctx);
    store.configure_attestation(options).unwrap();
    let mut linker = Linker::new(&engine);
    walmart::wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_func(&mut store, "_start").unwrap();
    start.call(&mut store, &[], &mut []).unwrap();
    store.finish_attestation().unwrap().unwrap()
}

#[test]
fn frequent_wasi_calls_share_snapshots_and_lose_no_write() {
    for sync in [false, true] {
        let mut config = Config::new();
        config.attest(Policy::Coarse).attest_sync(sync);
        let mut ctx = walmart::wasi::WasiCtx::new();
        ctx.redirect(1, std::fs::File::create("/dev/null").unwrap());
        let pages = Arc::new(Mutex::new(Vec::new()));
        let options = AttestOptions::new().verifier(Recorder {
            pages: pages.clone(),
            inner: DigestVerifier::new(),
        });
        let stats = run_wasi_start(&config, WASI_CHATTER, ctx, options);
        assert!(stats.hooks >= 4000, "{stats}");
        if sync {
            // Synchronous hooks judge every crossing's writes.
            assert!(stats.snapshots >= 2000, "{stats}");
        } else {
            // Crossings within the interval leave their pages to a later
            // snapshot: far fewer snapshots than crossings.
            assert!(stats.snapshots < stats.hooks / 4, "{stats}");
        }
        // Every written page still reaches the verifier.
        let seen: BTreeSet<u32> = pages.lock().unwrap().iter().map(|p| p.1).collect();
        for page in 1..=32 {
            assert!(
                seen.contains(&page),
                "page {page} never judged (sync {sync})"
            );
        }
    }
}

/// `coarse` arms its snapshots every 5 ms, `fine` every 1 ms, unless the
/// options say otherwise; synchronous hooks have no interval.
#[test]
fn each_policy_has_its_own_snapshot_interval_unless_the_options_set_one() {
    use std::time::Duration;
    let interval = |policy: Policy, sync: bool, set: Option<Duration>| {
        let mut config = Config::new();
        config.attest(policy).attest_sync(sync);
        let mut ctx = walmart::wasi::WasiCtx::new();
        ctx.redirect(1, std::fs::File::create("/dev/null").unwrap());
        let mut options = AttestOptions::new();
        if let Some(d) = set {
            options = options.interval(d);
        }
        run_wasi_start(&config, WASI_CHATTER, ctx, options).interval
    };
    let ms = Duration::from_millis;
    assert_eq!(interval(Policy::Coarse, false, None), Some(ms(5)));
    assert_eq!(interval(Policy::Fine, false, None), Some(ms(1)));
    let quarter = Duration::from_micros(250);
    assert_eq!(
        interval(Policy::Coarse, false, Some(quarter)),
        Some(quarter)
    );
    assert_eq!(interval(Policy::Fine, false, Some(ms(7))), Some(ms(7)));
    assert_eq!(interval(Policy::Fine, true, None), None);
}

/// Writes page 3, reads 0x3000 bytes of standard input to 0x3800 (the
/// second half of page 3, pages 4 and 5 whole, the first half of page 6),
/// writes a byte of page 5, asks `random_get` for page 7 whole, then
/// writes page 9 and asks for 0x3000 bytes more at page 8, of which the
/// input has 0x1000 left.
const WASI_INPUT: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_read"
        (func $fd_read (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "random_get"
        (func $random_get (param i32 i32) (result i32)))
    (memory (export "memory") 8)
    (func (export "_start")
        (i32.store8 (i32.const 0x3010) (i32.const 0x11))
        (i32.store (i32.const 0x100) (i32.const 0x3800)) ;; iov
        (i32.store (i32.const 0x104) (i32.const 0x3000))
        (if (call $fd_read (i32.const 0) (i32.const 0x100) (i32.const 1) (i32.const 0x108))
            (then unreachable))
        (if (i32.ne (i32.load (i32.const 0x108)) (i32.const 0x3000))
            (then unreachable))
        (i32.store8 (i32.const 0x5abc) (i32.const 0x22))
        (if (call $random_get (i32.const 0x7000) (i32.const 0x1000))
            (then unreachable))
        ;; Pages 8 to 10 asked for, page 9 written first; the 0x1000 bytes
        ;; left in the input fill page 8 only.
        (i32.store8 (i32.const 0x9020) (i32.const 0x33))
        (i32.store (i32.const 0x104) (i32.const 0x3000))
        (i32.store (i32.const 0x100) (i32.const 0x8000))
        (if (call $fd_read (i32.const 0) (i32.const 0x100) (i32.const 1) (i32.const 0x108))
            (then unreachable))
        (if (i32.ne (i32.load (i32.const 0x108)) (i32.const 0x1000))
            (then unreachable))))"#;

#[test]
fn pages_filled_whole_by_wasi_input_are_input_until_the_module_writes_them() {
    let input = std::env::temp_dir().join(format!("walmart-input-{}", std::process::id()));
    std::fs::write(&input, vec![b'A'; 0x4000]).unwrap();
    for (sync, kernel) in [(false, true), (false, false), (true, false)] {
        let mut config = Config::new();
        config
            .attest(Policy::Coarse)
            .attest_sync(sync)
            .attest_kernel_dirty(kernel);
        let mut ctx = walmart::wasi::WasiCtx::new();
        ctx.redirect(0, std::fs::File::open(&input).unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let options = AttestOptions::new().also_verify(kind_recorder(seen.clone()));
        let stats = run_wasi_start(&config, WASI_INPUT, ctx, options);
        let seen = seen.lock().unwrap();
        let last = |page: u32| {
            seen.iter()
                .rev()
                .find(|p| p.0 == page)
                .map(|p| p.1)
                .unwrap_or_else(|| panic!("page {page} never judged: {seen:?}"))
        };
        let case = format!("sync {sync}, kernel {kernel}: {seen:?}");
        // Filled whole by the read, or by random bytes, and not written
        // after: input.
        assert_eq!(last(4), PageKind::Input, "{case}");
        assert_eq!(last(7), PageKind::Input, "{case}");
        assert!(
            seen.iter().all(|p| p.0 != 4 || p.1 == PageKind::Input),
            "{case}"
        );
        // Written by the module after the read: its contents are judged.
        assert_eq!(last(5), PageKind::Dirty, "{case}");
        // Half read, half the module's (page 3 written before the read).
        assert_eq!(last(3), PageKind::Dirty, "{case}");
        assert_eq!(last(6), PageKind::Dirty, "{case}");
        assert_eq!(last(0), PageKind::Dirty, "{case}");
        // A short read: what it filled is input, what it was asked to fill
        // and did not reach holds the module's bytes.
        assert_eq!(last(8), PageKind::Input, "{case}");
        assert_eq!(last(9), PageKind::Dirty, "{case}");
        assert!(stats.pages_input >= 3, "{stats}");
        if sync {
            // A synchronous hook after the read saw page 5 as input first.
            assert!(seen.contains(&(5, PageKind::Input)), "{case}");
        }
    }
    std::fs::remove_file(&input).unwrap();
}

#[test]
fn pages_the_embedder_writes_whole_are_input() {
    let kinds = Arc::new(Mutex::new(Vec::new()));
    let mut config = Config::new();
    config.attest(Policy::Coarse);
    let mut s = setup_adding(&config, OnDetect::Log, WRITER, |o| {
        o.also_verify(kind_recorder(kinds.clone()))
    });
    let mem = s.instance.get_memory(&mut s.store, "memory").unwrap();
    mem.write(&mut s.store, 20 << 12, &[9; 4096]).unwrap();
    // All of page 21 but its first byte.
    mem.write(&mut s.store, (21 << 12) + 1, &[9; 4095]).unwrap();
    call(&mut s, "read", &[]).unwrap();
    // One byte of page 20 now: the rest is what the input left, but the
    // page is no longer all input.
    mem.write(&mut s.store, 20 << 12, &[1]).unwrap();
    call(&mut s, "read", &[]).unwrap();
    s.store.finish_attestation().unwrap();
    let seen = |page: u32| -> Vec<PageKind> {
        kinds
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.0 == page)
            .map(|p| p.1)
            .collect()
    };
    assert_eq!(seen(20), [PageKind::Input, PageKind::Dirty]);
    assert_eq!(seen(21), [PageKind::Dirty]);
}

/// Data segments: pages 1, 2 and 3 (one straddling 2 and 3), and page 5,
/// which the test writes a byte of before the first call.
const SEGMENTS: &str = r#"(module
    (memory (export "memory") 4)
    (data (i32.const 0x1004) "segment")
    (data (i32.const 0x2ffc) "straddles a page boundary")
    (data (i32.const 0x5000) "rewritten")
    (func (export "touch") (i32.store (i32.const 0x1000) (i32.const 1))))"#;

/// A start function that writes page 5, which a data segment wrote first.
const STARTER: &str = r#"(module
    (memory (export "memory") 4)
    (data (i32.const 0x5000) "rewritten")
    (func $start (i32.store (i32.const 0x5000) (i32.const 1)))
    (start $start)
    (func (export "noop")))"#;

/// Segments into a memory the module imports: page 1.
const IMPORTER: &str = r#"(module
    (import "host" "memory" (memory 4))
    (data (i32.const 0x1004) "segment")
    (func (export "noop")))"#;

#[test]
fn the_pages_data_segments_write_into_a_fresh_memory_are_input() {
    for kernel in [true, false] {
        let kinds = Arc::new(Mutex::new(Vec::new()));
        let mut config = Config::new();
        config.attest(Policy::Coarse).attest_kernel_dirty(kernel);
        let engine = Engine::new(&config).unwrap();
        let run = |wat: &str, export: &str, import: bool| {
            let mut store = Store::new(&engine, ());
            kinds.lock().unwrap().clear();
            store
                .configure_attestation(AttestOptions::new().verifier(kind_recorder(kinds.clone())))
                .unwrap();
            let mut linker = Linker::new(&engine);
            if import {
                let ty = walmart::MemoryType::new(4, None);
                let memory = walmart::Memory::new(&mut store, ty).unwrap();
                linker.define(&mut store, "host", "memory", memory).unwrap();
            }
            let module = Module::new(&engine, wat).unwrap();
            let instance = linker.instantiate(&mut store, &module).unwrap();
            if wat == SEGMENTS {
                let memory = instance.get_memory(&mut store, "memory").unwrap();
                memory.write(&mut store, 0x5001, b"x").unwrap();
            }
            let f = instance.get_func(&mut store, export).unwrap();
            f.call(&mut store, &[], &mut []).unwrap();
            store.finish_attestation().unwrap();
            kinds.lock().unwrap().clone()
        };
        let seen = run(SEGMENTS, "touch", false);
        let of = |page: u32| -> Vec<PageKind> {
            seen.iter().filter(|p| p.0 == page).map(|p| p.1).collect()
        };
        // Input at the first snapshot, page 1 judged once the module
        // wrote it; page 5, which the embedder wrote a byte of after the
        // segments, is judged from the start.
        assert_eq!(of(1), [PageKind::Input, PageKind::Dirty], "kernel {kernel}");
        assert_eq!(of(2), [PageKind::Input], "kernel {kernel}");
        assert_eq!(of(3), [PageKind::Input], "kernel {kernel}");
        assert_eq!(of(5), [PageKind::Dirty], "kernel {kernel}");
        // Recorded before the start function runs: the snapshot at its
        // entry finds the segment's bytes, the next what it wrote.
        let seen = run(STARTER, "noop", false);
        assert_eq!(
            seen,
            [(5, PageKind::Input), (5, PageKind::Dirty)],
            "kernel {kernel}"
        );
        // Another's memory may hold what its modules wrote.
        let seen = run(IMPORTER, "noop", true);
        assert_eq!(seen, [(1, PageKind::Dirty)], "kernel {kernel}");
    }
}

/// An embedder's write straight into memory (`Memory::data_mut`, no
/// tracked path) between instantiation and the first call, over a page
/// the data segments wrote: the first snapshot judges what memory holds,
/// not the module image's bytes, whichever tracks writes; and a page
/// nothing wrote since is taken as the segments left it.
#[test]
fn a_raw_write_before_the_first_call_is_judged_not_taken_from_the_image() {
    for kernel in [true, false] {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let seen = bytes.clone();
        let mut config = Config::new();
        config.attest(Policy::Coarse).attest_kernel_dirty(kernel);
        let engine = Engine::new(&config).unwrap();
        let mut store = Store::new(&engine, ());
        let recorder = page_recorder("bytes", seen, |p| (p.page, p.kind, p.bytes[4..11].to_vec()));
        store
            .configure_attestation(AttestOptions::new().verifier(recorder))
            .unwrap();
        let module = Module::new(&engine, SEGMENTS).unwrap();
        let instance = walmart::Instance::new(&mut store, &module, &[]).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        memory.data_mut(&mut store)[0x5004..0x500b].copy_from_slice(b"changed");
        let f = instance.get_func(&mut store, "touch").unwrap();
        f.call(&mut store, &[], &mut []).unwrap();
        store.finish_attestation().unwrap();
        let seen = bytes.lock().unwrap().clone();
        let first = |page: u32| seen.iter().find(|p| p.0 == page).cloned();
        assert_eq!(
            first(5),
            Some((5, PageKind::Dirty, b"changed".to_vec())),
            "kernel {kernel}: {seen:?}"
        );
        assert_eq!(
            first(1),
            Some((1, PageKind::Input, b"segment".to_vec())),
            "kernel {kernel}: {seen:?}"
        );
    }
}

/// Records the page number and kind of every page it is shown but audits.
fn kind_recorder(kinds: Arc<Mutex<Vec<(u32, PageKind)>>>) -> impl Verifier {
    page_recorder("kinds", kinds, |p| (p.page, p.kind))
}

/// Records `what` of every page it is shown but audits, in `into`.
fn page_recorder<T: Send + 'static>(
    name: &'static str,
    into: Arc<Mutex<Vec<T>>>,
    what: impl Fn(&PageSnapshot<'_>) -> T + Send + Sync + 'static,
) -> impl Verifier {
    Watcher {
        name,
        seen: move |pages: &[PageSnapshot<'_>], _| {
            into.lock().unwrap().extend(
                pages
                    .iter()
                    .filter(|p| p.kind != PageKind::Audit)
                    .map(&what),
            )
        },
    }
}

/// A verifier named `name` that shows each batch, and whether it is
/// judged as final, to `seen`, then finds every page clean.
struct Watcher<F> {
    name: &'static str,
    seen: F,
}

impl<F: FnMut(&[PageSnapshot<'_>], bool) + Send> Verifier for Watcher<F> {
    fn name(&self) -> &str {
        self.name
    }
    fn event_kind(&self) -> EventKind {
        EventKind::Cnn
    }
    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        (self.seen)(pages, false);
        out.extend(pages.iter().map(|_| Verdict::CLEAN));
    }
    fn verify_final(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        (self.seen)(pages, true);
        out.extend(pages.iter().map(|_| Verdict::CLEAN));
    }
}

/// A batch as [`thread_recorder`] saw it: the thread that judged it,
/// whether as final, and its pages other than audits.
type Judged = (std::thread::ThreadId, bool, Vec<u32>);

/// Records, per batch, the thread that judged it and whether as final.
fn thread_recorder(judged: Arc<Mutex<Vec<Judged>>>) -> impl Verifier {
    Watcher {
        name: "threads",
        seen: move |pages: &[PageSnapshot<'_>], last| {
            let dirty = pages
                .iter()
                .filter(|p| p.kind != PageKind::Audit)
                .map(|p| p.page)
                .collect();
            let me = std::thread::current().id();
            judged.lock().unwrap().push((me, last, dirty));
        },
    }
}

#[test]
fn a_calls_last_pages_are_judged_as_final_and_queued_batches_in_order() {
    let mut config = Config::new();
    config.attest(Policy::Coarse);
    let judged = Arc::new(Mutex::new(Vec::new()));
    let recorder = thread_recorder(judged.clone());
    // An interval long enough that the verifier thread never wakes by
    // itself during the test.
    let mut s = setup_adding(&config, OnDetect::Log, WRITER, |o| {
        o.also_verify(recorder)
            .interval(std::time::Duration::from_secs(600))
    });
    call(&mut s, "write", &[]).unwrap();
    s.store.finish_attestation().unwrap();
    let judged = judged.lock().unwrap().clone();
    let me = std::thread::current().id();
    // The write call's pages, snapshotted as it returned, were judged as
    // final, and nothing was left for the flush itself. (On this thread,
    // usually: the verifier thread was not woken for them, but one that
    // starts late takes what is queued when it starts.)
    let last = judged
        .iter()
        .find(|(_, _, pages)| pages.contains(&31))
        .expect("the write call's pages were judged");
    assert!(last.1, "not judged as final: {judged:?}");
    assert!(last.2.contains(&66), "{judged:?}");

    // No flush: the verifier thread, waking by itself within the arming
    // interval, takes what is queued, in order.
    let judged = Arc::new(Mutex::new(Vec::new()));
    let recorder = thread_recorder(judged.clone());
    let mut s = setup_adding(&config, OnDetect::Log, WRITER, |o| {
        o.also_verify(recorder)
            .interval(std::time::Duration::from_millis(1))
    });
    call(&mut s, "write", &[]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while judged.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let seen = judged.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "batches left unjudged: {seen:?}");
    assert_eq!(seen[0].2, [12], "instantiation's page first: {seen:?}");
    assert!(seen[1].2.contains(&31), "{seen:?}");
    assert!(seen.iter().all(|(t, _, _)| *t != me), "{seen:?}");
    s.store.finish_attestation().unwrap();
}

/// Instantiation writes page 2; `touch` writes it again with the value
/// given (the data segment's bytes are `seed`).
const TOUCHER: &str = r#"(module
    (memory (export "memory") 4)
    (data (i32.const 0x2000) "seed")
    (func (export "touch") (param i32)
        (i32.store (i32.const 0x2000) (local.get 0))))"#;

#[test]
fn pages_left_writable_at_an_export_entry_still_report_their_writes() {
    let seed = i32::from_le_bytes(*b"seed");
    for (value, judged, kernel) in [
        (7, 3, true),
        (seed, 2, true),
        (7, 3, false),
        (seed, 3, false),
    ] {
        let mut s = coarse(kernel, TOUCHER);
        // The store barrier (also where the kernel cannot track) reports
        // every write, even one of the same bytes.
        let judged = match s.store.engine().attest_dirty_tracking() {
            "kernel" => judged,
            _ => 3,
        };
        // The first call's entry takes the page from the module's image
        // (it was not written: nothing carries it); the second's, written
        // by the first call, from memory, and leaves it written.
        call(&mut s, "touch", &[Val::I32(seed)]).unwrap();
        call(&mut s, "touch", &[Val::I32(value)]).unwrap();
        s.store.finish_attestation().unwrap();
        // At the first entry with the segment's bytes, at the second
        // with what the first call wrote; again after the second call
        // only if it changed them.
        assert_eq!(
            times_judged(&s, 2),
            judged,
            "value {value}, kernel {kernel}: {:?}",
            s.pages
        );
    }
}

/// Instantiation writes `seed` to page 2; `flip` writes 7 there, calls the
/// host (which writes page 3), and writes `seed` back.
const FLIPPER: &str = r#"(module
    (import "env" "poke" (func $poke (param i32)))
    (memory (export "memory") 4)
    (data (i32.const 0x2000) "seed")
    (func (export "flip")
        (i32.store (i32.const 0x2000) (i32.const 7))
        (call $poke (i32.const 0x3000))
        (i32.store (i32.const 0x2000) (i32.const 0x64656573))))"#;

#[test]
fn a_page_written_back_to_its_export_entry_bytes_is_judged_again() {
    for kernel in [true, false] {
        let mut s = coarse(kernel, FLIPPER);
        call(&mut s, "flip", &[]).unwrap();
        s.store.finish_attestation().unwrap();
        // At the entry (`seed`), before the host call (7), and at the exit
        // (`seed` again, which the verifier last saw as 7: skipping it
        // would leave a stale reference that an audit reports as
        // tampering).
        assert_eq!(times_judged(&s, 2), 3, "kernel {kernel}: {:?}", s.pages);
        let events = s.events.lock().unwrap();
        assert!(
            events.iter().all(|e| e.pages == [3]),
            "only the host's write is reported: {events:?}"
        );
    }
}

/// `fill n v` writes `v` to the first word of pages 16 to 16 + n - 1.
const FILLER: &str = r#"(module
    (memory (export "memory") 256)
    (func (export "fill") (param $n i32) (param $v i32) (local $p i32)
        (local.set $p (i32.const 16))
        (block $done (loop $next
            (br_if $done (i32.eq (local.get $p) (i32.add (local.get $n) (i32.const 16))))
            (i32.store (i32.shl (local.get $p) (i32.const 12)) (local.get $v))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $next)))))"#;

#[test]
fn pages_left_written_are_judged_again_only_when_changed_until_a_scan_protects() {
    // (pages, first value, second value, times page 16 is judged under
    // kernel tracking). Up to the carried limit (64 pages) no scan
    // protects, and a page rewritten with its bytes is not judged again;
    // past it, the next scan protects, and the rewrite is a write again.
    for (n, first, second, kernel_judged) in
        [(8, 7, 7, 1), (8, 7, 9, 2), (200, 7, 7, 2), (200, 7, 9, 2)]
    {
        for kernel in [true, false] {
            let mut s = coarse(kernel, FILLER);
            call(&mut s, "fill", &[Val::I32(n), Val::I32(first)]).unwrap();
            call(&mut s, "fill", &[Val::I32(n), Val::I32(second)]).unwrap();
            s.store.finish_attestation().unwrap();
            let judged = match s.store.engine().attest_dirty_tracking() {
                "kernel" => kernel_judged,
                // The store barrier reports every write.
                _ => 2,
            };
            for page in [16, 15 + n as u32] {
                assert_eq!(
                    times_judged(&s, page),
                    judged,
                    "page {page}, {n} pages, {first} then {second}, kernel {kernel}: {:?}",
                    s.pages
                );
            }
            assert!(s.events.lock().unwrap().is_empty(), "no tampering");
        }
    }
}

/// `put p v` writes `v` to the first word of page `p`.
const PUTTER: &str = r#"(module
    (memory (export "memory") 320)
    (func (export "put") (param $p i32) (param $v i32)
        (i32.store (i32.shl (local.get $p) (i32.const 12)) (local.get $v))))"#;

#[test]
fn pages_written_between_calls_are_judged_at_the_next_entry() {
    for kernel in [true, false] {
        let mut s = coarse(kernel, PUTTER);
        let put = |s: &mut Setup, page: i32| call(s, "put", &[Val::I32(page), Val::I32(7)]);
        // Each page left written at its call's exit under kernel tracking,
        // and carried from hook to hook.
        for page in [17, 19, 20] {
            put(&mut s, page).unwrap();
        }
        // Between calls, with memory write-protected: page 17 through the
        // API, page 19 behind walmart's back, page 20 not at all. The next
        // entry judges 17 and 19 (and reports 19), and the calls that
        // write 7 back have those judged again, since the verifier's
        // last look at them was not 7.
        let mem = s.instance.get_memory(&mut s.store, "memory").unwrap();
        mem.write(&mut s.store, 17 << 12, &[1, 2, 3, 4]).unwrap();
        mem.data_mut(&mut s.store)[(19 << 12) + 1] = 5;
        put(&mut s, 17).unwrap();
        put(&mut s, 19).unwrap();
        s.store.finish_attestation().unwrap();
        assert_eq!(
            [17, 19, 20].map(|p| times_judged(&s, p)),
            [3, 3, 1],
            "kernel {kernel}: {:?}",
            s.pages
        );
        let events = s.events.lock().unwrap();
        assert_eq!(events.len(), 1, "kernel {kernel}: {events:?}");
        assert_eq!(events[0].pages, [19], "kernel {kernel}");
    }
}

#[test]
fn a_write_behind_walmarts_back_after_a_finished_run_is_reported_at_the_next_call() {
    for kernel in [true, false] {
        let mut s = coarse(kernel, PUTTER);
        call(&mut s, "put", &[Val::I32(17), Val::I32(7)]).unwrap();
        let mem = s.instance.get_memory(&mut s.store, "memory").unwrap();
        // Reported by the finish; its page must be protected again after.
        mem.data_mut(&mut s.store)[(21 << 12) + 2] = 8;
        s.store.finish_attestation().unwrap();
        assert_eq!(s.events.lock().unwrap().len(), 1);
        // Memory stays readable, and the API may write it.
        assert_eq!(mem.data(&s.store)[17 << 12], 7);
        mem.write(&mut s.store, 20 << 12, &[1]).unwrap();
        mem.data_mut(&mut s.store)[(21 << 12) + 3] = 9;
        call(&mut s, "put", &[Val::I32(17), Val::I32(8)]).unwrap();
        let stats = s.store.finish_attestation().unwrap().unwrap();
        let events = s.events.lock().unwrap();
        assert_eq!(events.len(), 2, "kernel {kernel}: {events:?}");
        assert_eq!(events[1].pages, [21], "kernel {kernel}");
        assert_eq!(
            events[1].hook.kind,
            HookKind::ExportEntry,
            "kernel {kernel}"
        );
        assert_eq!(stats.detections, 2);
        // The API's write went to the verifier as a legitimate one.
        assert!(dirty_pages(&s).contains(&(0, 20)), "kernel {kernel}");
    }
}

#[test]
fn a_carried_page_among_more_host_writes_than_the_guard_lists_is_judged_again() {
    let mut s = coarse(true, PUTTER);
    if s.store.engine().attest_dirty_tracking() != "kernel" {
        // The store barrier does not carry pages.
        eprintln!("kernel dirty tracking unavailable here; nothing to check");
        return;
    }
    call(&mut s, "put", &[Val::I32(17), Val::I32(7)]).unwrap();
    // Behind walmart's back: 280 pages, then the carried page 17, past
    // what the guard lists.
    let mem = s.instance.get_memory(&mut s.store, "memory").unwrap();
    for page in 30..310 {
        mem.data_mut(&mut s.store)[page << 12] = 1;
    }
    mem.data_mut(&mut s.store)[17 << 12] = 1;
    // The call writes page 17's bytes back: the host's version is judged
    // at the call's entry or never.
    call(&mut s, "put", &[Val::I32(17), Val::I32(7)]).unwrap();
    s.store.finish_attestation().unwrap();
    assert_eq!(
        times_judged(&s, 17),
        3,
        "the host's change to page 17 is judged: {:?}",
        s.pages
    );
    let events = s.events.lock().unwrap();
    assert!(
        events.iter().any(|e| e.detail.contains("not listed")),
        "{events:?}"
    );
}

/// Imports PUTTER's memory and writes "hello" to page 26 when it is
/// instantiated.
const SEGMENT: &str = r#"(module
    (import "a" "memory" (memory 1))
    (data (i32.const 0x1A000) "hello"))"#;

#[test]
fn a_data_segment_written_into_a_protected_memory_is_not_tampering() {
    for kernel in [true, false] {
        let mut s = coarse(kernel, PUTTER);
        let segment = Module::new(s.store.engine(), SEGMENT).unwrap();
        let mem = s.instance.get_memory(&mut s.store, "memory").unwrap();
        let mut linker = Linker::new(s.store.engine());
        linker.define(&mut s.store, "a", "memory", mem).unwrap();
        // Between calls (the memory is write-protected against the
        // embedder), then after the run's end (it still is).
        call(&mut s, "put", &[Val::I32(17), Val::I32(7)]).unwrap();
        linker.instantiate(&mut s.store, &segment).unwrap();
        call(&mut s, "put", &[Val::I32(18), Val::I32(7)]).unwrap();
        s.store.finish_attestation().unwrap();
        linker.instantiate(&mut s.store, &segment).unwrap();
        call(&mut s, "put", &[Val::I32(19), Val::I32(7)]).unwrap();
        s.store.finish_attestation().unwrap();
        assert_eq!(&mem.data(&s.store)[0x1A000..0x1A005], b"hello");
        let events = s.events.lock().unwrap();
        assert!(events.is_empty(), "kernel {kernel}: {events:?}");
        assert!(dirty_pages(&s).contains(&(0, 26)), "kernel {kernel}");
    }
}

/// Panics on its first batch with a dirty page.
fn panicker() -> impl Verifier {
    Watcher {
        name: "panicker",
        seen: |pages: &[PageSnapshot<'_>], _| {
            assert!(
                pages.iter().all(|p| p.kind != PageKind::Dirty),
                "a verifier bug"
            )
        },
    }
}

#[test]
fn a_panicking_verifier_fails_closed_and_the_run_goes_on() {
    // Synchronous: the guest's own thread judges, inside generated code.
    for sync in [false, true] {
        let mut config = Config::new();
        config.attest(Policy::Fine).attest_sync(sync);
        let mut s = setup_adding(&config, OnDetect::Log, WRITER, |o| {
            o.also_verify(panicker())
        });
        call(&mut s, "write", &[]).unwrap();
        call(&mut s, "read", &[]).unwrap();
        s.store.finish_attestation().unwrap();
        let events = s.events.lock().unwrap();
        let flagged: BTreeSet<u32> = events
            .iter()
            .filter(|e| e.source == "panicker")
            .flat_map(|e| e.pages.iter().copied())
            .collect();
        // Every page written from the panic on is flagged.
        assert!(flagged.contains(&66), "sync {sync}: {flagged:?}");
    }
}

#[test]
fn a_panicking_event_callback_is_reported_when_the_run_ends() {
    let mut config = Config::new();
    config.attest(Policy::Coarse);
    let mut s = setup_adding(&config, OnDetect::Log, WRITER, |o| {
        o.on_event(|_| panic!("an embedder bug"))
    });
    // The host writes behind walmart's back: a tampering event.
    call(&mut s, "call_poke", &[Val::I32(0x2345)]).unwrap();
    call(&mut s, "read", &[]).unwrap();
    let err = s.store.finish_attestation().unwrap_err();
    assert!(err.to_string().contains("event callback panicked"), "{err}");
}

/// A heap laid out as wasm32 dlmalloc lays it (chunks of 32 and 48 bytes
/// in use, then the top chunk and its trailer), a `dlmalloc` that hands
/// out its chunks, and an export that writes a byte anywhere.
fn dlmalloc_heap(allocator: &str) -> String {
    format!(
        r#"(module
    (memory (export "memory") 1)
    (data (i32.const 0x1004) "\23\00\00\00")   ;; chunk 0x1000: 32 bytes, in use
    (data (i32.const 0x1024) "\33\00\00\00")   ;; chunk 0x1020: 48 bytes, in use
    (data (i32.const 0x1054) "\01\01\00\00")   ;; top 0x1050: 256 bytes
    (data (i32.const 0x1154) "\38\00\00\00")   ;; the top's trailer
    (func ${allocator} (param i32) (result i32)
        (select (i32.const 0x1008) (i32.const 0x1028) (i32.le_u (local.get 0) (i32.const 24))))
    (func (export "alloc")
        (drop (call ${allocator} (i32.const 40)))
        (drop (call ${allocator} (i32.const 20))))
    (func (export "smash") (param i32 i32)
        (i32.store8 (local.get 0) (local.get 1))))"#
    )
}

/// wasm32 dlmalloc's state for a state at 0x400 (as the bytes of a WAT
/// data string): the heap's lowest byte at 0x1000, a top of 256 bytes at
/// `top`, the designated victim `dv` (address, size), and every small bin
/// empty but `binned` (bin, its one chunk), and every tree bin empty.
fn dlmalloc_state(top: u32, dv: Option<(u32, u32)>, binned: Option<(u32, u32)>) -> String {
    dlmalloc_state_with_tree(top, dv, binned, None)
}

/// [`dlmalloc_state`] with tree bin `tree.0`'s root the chunk at
/// `tree.1`.
fn dlmalloc_state_with_tree(
    top: u32,
    dv: Option<(u32, u32)>,
    binned: Option<(u32, u32)>,
    tree: Option<(u32, u32)>,
) -> String {
    let mut state = [0u8; 40 + 33 * 8 + 32 * 4];
    let mut put = |at: usize, v: u32| state[at..at + 4].copy_from_slice(&v.to_le_bytes());
    if let Some((at, size)) = dv {
        put(8, size); // dvsize
        put(20, at); // dv
    }
    put(12, 256); // topsize
    put(16, 0x1000); // least_addr
    put(24, top); // top
    put(36, 0x5555_0001); // magic
    for i in 0..32u32 {
        let header = 0x400 + 40 + 8 * i;
        let first = match binned {
            Some((bin, chunk)) if bin == i => chunk,
            _ => header,
        };
        put(48 + 8 * i as usize, first);
        put(52 + 8 * i as usize, first);
    }
    if let Some((bin, _)) = binned {
        put(0, 1 << bin); // smallmap
    }
    if let Some((bin, root)) = tree {
        put(4, 1 << bin); // treemap
        put(304 + 4 * bin as usize, root);
    }
    state.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// [`dlmalloc_heap`] with dlmalloc's state laid out at 0x400 as wasm32
/// dlmalloc keeps it (every small bin empty, the top at 0x1050 of 256
/// bytes), and an export that writes a byte and then allocates, with no
/// hook between the two.
fn dlmalloc_heap_with_state() -> String {
    let bytes = dlmalloc_state(0x1050, None, None);
    let heap = dlmalloc_heap("dlmalloc");
    let (head, tail) = heap.split_at(heap.rfind(")").unwrap());
    format!(
        r#"{head}
    (data (i32.const 0x400) "{bytes}")
    (func (export "smash_then_alloc") (param i32 i32)
        (i32.store8 (local.get 0) (local.get 1))
        (drop (call $dlmalloc (i32.const 8))))
    (func $dlfree (param i32))
    (func (export "release") (param i32)
        (call $dlfree (local.get 0)))
    (func (export "smash_then_release") (param i32 i32 i32)
        (i32.store8 (local.get 0) (local.get 1))
        (call $dlfree (local.get 2))){tail}"#
    )
}

/// A module whose names do not name dlmalloc (its functions inlined into
/// others under link-time optimisation, or renamed) but whose code reads
/// dlmalloc's state as statics, as dlmalloc's allocation path does: its
/// entries are told by that code, and get the entry and free checks; the
/// state is taken where the code reads it.
#[test]
fn an_allocator_told_by_its_code_gets_the_entry_and_free_checks() {
    let reads: String = [0x400, 0x408, 0x40c, 0x414, 0x418]
        .iter()
        .map(|a| format!("(drop (i32.load offset={a} (i32.const 0))) "))
        .collect();
    let wat = dlmalloc_heap_with_state()
        .replace("$dlmalloc", "$my_alloc")
        .replace(
            "(func $my_alloc (param i32) (result i32)",
            &format!("(func $my_alloc (param i32) (result i32) {reads}"),
        )
        .replace(
            "(func $dlfree (param i32))",
            "(func $my_free (param i32) (drop (i32.load offset=0x418 (i32.const 0))))",
        )
        .replace("(call $dlfree", "(call $my_free");
    assert!(!wat.contains("$dl"), "{wat}");
    let mut s = setup(Policy::Coarse, false, true, OnDetect::Log, &wat);
    call(&mut s, "alloc", &[]).unwrap();
    call(&mut s, "release", &[Val::I32(0x1008)]).unwrap();
    assert!(s.events.lock().unwrap().is_empty());
    call(&mut s, "release", &[Val::I32(0x1010)]).unwrap();
    call(
        &mut s,
        "smash_then_alloc",
        &[Val::I32(0x1054), Val::I32(0x41)],
    )
    .unwrap();
    s.store.finish_attestation().unwrap();
    let events = s.events.lock().unwrap().clone();
    let found: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| (e.source.as_str(), e.hook.name.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("free-check", Some("my_free")),
            ("heap-walk", Some("my_alloc"))
        ],
        "{events:?}"
    );
    assert!(
        events[1].detail.contains("top chunk's head 0x141"),
        "{}",
        events[1].detail
    );
}

/// dlmalloc's `free` checks its pointer as dlmalloc does, and wasi-libc's
/// dlmalloc ignores one it refuses: the entry of `dlfree` reports it (a
/// double free, a pointer malloc never returned), once, and stops the
/// guest under `--on-detect trap`; a chunk in use and a null pointer pass.
#[test]
fn free_reports_a_pointer_dlmalloc_would_refuse() {
    for guarded in [true, false] {
        let mut config = Config::new();
        config.attest(Policy::Coarse).guarded_memory(guarded);
        let mut s = setup_with(&config, OnDetect::Log, &dlmalloc_heap_with_state());
        call(&mut s, "alloc", &[]).unwrap();
        for fine in [0x1008, 0x1028, 0] {
            call(&mut s, "release", &[Val::I32(fine)]).unwrap();
        }
        assert!(s.events.lock().unwrap().is_empty(), "{:?}", s.events);
        // Below the heap, then inside a chunk's payload (zeros: a head
        // that says the chunk is free).
        call(&mut s, "release", &[Val::I32(0x800)]).unwrap();
        call(&mut s, "release", &[Val::I32(0x1010)]).unwrap();
        s.store.finish_attestation().unwrap();
        let events = s.events.lock().unwrap().clone();
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(
            (e.kind, e.source.as_str()),
            (EventKind::HeapCorrupt, "free-check")
        );
        assert_eq!(e.hook.name.as_deref(), Some("dlfree"));
        assert!(
            e.detail.contains("handed 0x800") && e.detail.contains("lowest byte 0x1000"),
            "{}",
            e.detail
        );
    }
    // A pointer whose chunk's head lies past the end of memory: `free(1)`
    // (Oniguruma's `[\400]` sets bit 0 of a node's null pointer, then
    // frees it), whose chunk wraps to just below 2^32. Reported before
    // anything reads that head (dlmalloc's read traps).
    for guarded in [true, false] {
        let mut config = Config::new();
        config.attest(Policy::Coarse).guarded_memory(guarded);
        let mut s = setup_with(&config, OnDetect::Log, &dlmalloc_heap_with_state());
        call(&mut s, "alloc", &[]).unwrap();
        call(&mut s, "release", &[Val::I32(1)]).unwrap();
        let events = s.events.lock().unwrap().clone();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].source, "free-check");
        assert!(
            events[0].detail.contains("handed 0x1,")
                && events[0]
                    .detail
                    .contains("0xfffffff9, its head past the end of memory"),
            "{}",
            events[0].detail
        );
    }
    // The chunk freed after its own overflow over its successor's head:
    // the in-use bits kept, the size changed (dlmalloc itself looks no
    // further than the bits).
    for guarded in [true, false] {
        let mut config = Config::new();
        config.attest(Policy::Coarse).guarded_memory(guarded);
        let mut s = setup_with(&config, OnDetect::Log, &dlmalloc_heap_with_state());
        call(&mut s, "alloc", &[]).unwrap();
        call(
            &mut s,
            "smash_then_release",
            &[Val::I32(0x1024), Val::I32(0x23), Val::I32(0x1008)],
        )
        .unwrap();
        let events = s.events.lock().unwrap().clone();
        // Found at the free, before the walk at the export's return.
        let e = &events[0];
        assert_eq!(e.source, "free-check", "{events:?}");
        assert!(
            e.detail.contains("successor's head was written over") && e.detail.contains("disagree"),
            "{}",
            e.detail
        );
    }
    // The second reason, and the stop.
    let mut s = setup(
        Policy::Fine,
        false,
        true,
        OnDetect::Trap,
        &dlmalloc_heap_with_state(),
    );
    call(&mut s, "alloc", &[]).unwrap();
    let err = call(&mut s, "release", &[Val::I32(0x1010)]).unwrap_err();
    assert!(
        matches!(&err, Error::Trap(t) if t.kind() == TrapKind::AttestationViolation),
        "{err}"
    );
    let events = s.events.lock().unwrap().clone();
    assert!(
        events[0]
            .detail
            .contains("chunk at 0x1008 is not in use (head 0x0)"),
        "{}",
        events[0].detail
    );
}

/// The entry check of dlmalloc's functions: with the allocator's state
/// found, a byte over the top chunk's head is found at the next
/// allocator call, before dlmalloc could rewrite the head (no walk runs
/// between the write and the call).
#[test]
fn an_allocator_entry_finds_a_byte_over_the_top_chunks_head() {
    for policy in [Policy::Coarse, Policy::Fine] {
        let mut s = setup(
            policy,
            false,
            true,
            OnDetect::Log,
            &dlmalloc_heap_with_state(),
        );
        call(&mut s, "alloc", &[]).unwrap();
        // A write into a payload, then an allocation: nothing.
        call(
            &mut s,
            "smash_then_alloc",
            &[Val::I32(0x1030), Val::I32(0x41)],
        )
        .unwrap();
        assert!(s.events.lock().unwrap().is_empty());
        // The overflow of the chunk before the top onto the top's head:
        // its bits kept, its size changed.
        call(
            &mut s,
            "smash_then_alloc",
            &[Val::I32(0x1054), Val::I32(0x41)],
        )
        .unwrap();
        let events = s.events.lock().unwrap().clone();
        assert_eq!(events.len(), 1, "{policy:?}: {events:?}");
        let e = &events[0];
        assert_eq!(e.kind, EventKind::HeapCorrupt);
        assert_eq!(e.hook.kind, HookKind::FunctionEntry);
        assert_eq!(e.hook.name.as_deref(), Some("dlmalloc"));
        assert!(
            e.detail.contains("top chunk's head 0x141")
                && e.detail.contains("the top is 256 bytes"),
            "{}",
            e.detail
        );
        // Reported once.
        call(
            &mut s,
            "smash_then_alloc",
            &[Val::I32(0x1054), Val::I32(0x51)],
        )
        .unwrap();
        s.store.finish_attestation().unwrap();
        assert_eq!(s.events.lock().unwrap().len(), 1);
    }
    // A memory with explicit bounds checks (the top bounded by the
    // memory's length first), and a top pointer past memory: found too.
    let mut config = Config::new();
    config.attest(Policy::Coarse).guarded_memory(false);
    for (at, byte, says) in [
        (0x1054, 0x41, "top chunk's head 0x141"),
        (
            0x400 + 27,
            0x7f,
            "the top chunk is at 0x7f001050, but the chain ends",
        ),
    ] {
        let mut s = setup_with(&config, OnDetect::Log, &dlmalloc_heap_with_state());
        call(&mut s, "alloc", &[]).unwrap();
        call(&mut s, "smash_then_alloc", &[Val::I32(at), Val::I32(byte)]).unwrap();
        let events = s.events.lock().unwrap().clone();
        assert_eq!(events.len(), 1, "{at:#x}: {events:?}");
        assert_eq!(events[0].hook.kind, HookKind::FunctionEntry);
        assert!(events[0].detail.contains(says), "{}", events[0].detail);
    }
    // Under `--on-detect trap` the guest stops at that allocator call.
    let mut s = setup(
        Policy::Coarse,
        false,
        true,
        OnDetect::Trap,
        &dlmalloc_heap_with_state(),
    );
    call(&mut s, "alloc", &[]).unwrap();
    let err = call(&mut s, "smash_then_alloc", &[Val::I32(0x1054), Val::I32(0)]).unwrap_err();
    assert!(
        matches!(&err, Error::Trap(t) if t.kind() == TrapKind::AttestationViolation),
        "{err}"
    );
}

/// The entry check of dlmalloc's functions: a byte written into the top
/// chunk's first free bytes (32 past its head, which the allocator's last
/// return copied) is found at the next allocator call, where nothing of
/// the heap's structure changed; a byte past them is not, nor one in the
/// top's `prev_foot` (the last allocation's), nor a write that puts back
/// what was there. Guarded and bounds-checked memories,
/// `coarse` and `fine`.
#[test]
fn an_allocator_entry_finds_a_byte_written_into_the_top_chunks_free_bytes() {
    for guarded in [true, false] {
        for policy in [Policy::Coarse, Policy::Fine] {
            let mut s = setup(
                policy,
                false,
                guarded,
                OnDetect::Log,
                &dlmalloc_heap_with_state(),
            );
            call(&mut s, "alloc", &[]).unwrap();
            for at in [0x1078, 0x1053] {
                call(&mut s, "smash_then_alloc", &[Val::I32(at), Val::I32(0x41)]).unwrap();
            }
            call(&mut s, "smash_then_alloc", &[Val::I32(0x1060), Val::I32(0)]).unwrap();
            assert!(s.events.lock().unwrap().is_empty(), "{policy:?}");
            call(
                &mut s,
                "smash_then_alloc",
                &[Val::I32(0x1077), Val::I32(0x41)],
            )
            .unwrap();
            let events = s.events.lock().unwrap().clone();
            let what = format!("{policy:?}, guarded {guarded}: {events:?}");
            assert_eq!(events.len(), 1, "{what}");
            let e = &events[0];
            assert_eq!(e.kind, EventKind::HeapCorrupt, "{what}");
            assert_eq!(e.hook.kind, HookKind::FunctionEntry, "{what}");
            assert_eq!(e.hook.name.as_deref(), Some("dlmalloc"), "{what}");
            assert!(
                e.detail.starts_with(
                    "the allocator's free top chunk was written into at 0x1077 (chunk at 0x1050)"
                ) && e.detail.contains(
                    "byte 39 of the top chunk (free, 256 bytes) holds 0x41 where it held 0x0"
                ),
                "{}",
                e.detail
            );
            s.store.finish_attestation().unwrap();
            assert_eq!(s.events.lock().unwrap().len(), 1, "{policy:?}");
        }
    }
}

/// A heap whose designated victim (a free chunk of 48 bytes at 0x1020,
/// between two chunks in use) dlmalloc carves small requests from, with
/// the state at 0x400 that says so (the top at 0x1070 of 256 bytes), an
/// allocator that returns the chunk before the victim, and an export that
/// writes a byte and then allocates.
fn dlmalloc_heap_with_victim() -> String {
    dlmalloc_heap_with_free_chunk(false)
}

/// [`dlmalloc_heap_with_victim`], or with `binned` the free chunk at
/// 0x1020 not the victim but alone in its small bin (6, of 48 bytes),
/// its links and the bin header's pointing at each other, and exports
/// that free the chunks on either side of it.
fn dlmalloc_heap_with_free_chunk(binned: bool) -> String {
    let bytes = if binned {
        dlmalloc_state(0x1070, None, Some((6, 0x1020)))
    } else {
        dlmalloc_state(0x1070, Some((0x1020, 48)), None)
    };
    let links = if binned {
        "(data (i32.const 0x1028) \"\\58\\04\\00\\00\\58\\04\\00\\00\")   ;; fd, bk: bin 6's header"
    } else {
        ""
    };
    format!(
        r#"(module
    (memory (export "memory") 1)
    (data (i32.const 0x400) "{bytes}")
    (data (i32.const 0x1004) "\23\00\00\00")   ;; chunk 0x1000: 32 bytes, in use
    (data (i32.const 0x1024) "\31\00\00\00")   ;; the victim 0x1020: 48 bytes, free
    (data (i32.const 0x1050) "\30\00\00\00\22\00\00\00") ;; its footer; 0x1050 in use
    (data (i32.const 0x1074) "\01\01\00\00")   ;; top 0x1070: 256 bytes
    (data (i32.const 0x1174) "\38\00\00\00")   ;; the top's trailer
    {links}
    (func $dlmalloc (param i32) (result i32) (i32.const 0x1008))
    (func $dlfree (param i32))
    (func (export "alloc") (drop (call $dlmalloc (i32.const 24))))
    (func (export "smash_then_alloc") (param i32 i32)
        (i32.store8 (local.get 0) (local.get 1))
        (drop (call $dlmalloc (i32.const 24))))
    (func (export "smash_then_release") (param i32 i32 i32)
        (i32.store8 (local.get 0) (local.get 1))
        (call $dlfree (local.get 2))))"#
    )
}

/// dlmalloc merges a freed chunk with its free neighbours, unlinking them
/// from their lists through their links, which wasi-libc's build does not
/// check: `free` checks that a neighbour's links point back at it (a use
/// after free over a freed chunk's `fd` or `bk` is found at the free that
/// would write through them), on either side, and not for the victim,
/// which is in no list.
#[test]
fn free_finds_links_written_over_in_a_neighbour_it_would_merge_with() {
    for guarded in [true, false] {
        let mut config = Config::new();
        config.attest(Policy::Coarse).guarded_memory(guarded);
        // The chunk before the free one, then the one after it.
        for (freed, byte_at) in [(0x1008, 0x1028), (0x1058, 0x102c)] {
            let wat = dlmalloc_heap_with_free_chunk(true);
            let mut s = setup_with(&config, OnDetect::Log, &wat);
            // The state found at the first allocation.
            call(&mut s, "alloc", &[]).unwrap();
            // Intact: nothing (a byte past the links is the chunk's own).
            call(
                &mut s,
                "smash_then_release",
                &[Val::I32(0x1030), Val::I32(0x41), Val::I32(freed)],
            )
            .unwrap();
            assert!(s.events.lock().unwrap().is_empty(), "{:?}", s.events);
            call(
                &mut s,
                "smash_then_release",
                &[Val::I32(byte_at), Val::I32(0x41), Val::I32(freed)],
            )
            .unwrap();
            let events = s.events.lock().unwrap().clone();
            let e = &events[0];
            assert_eq!(
                (e.source.as_str(), e.hook.name.as_deref()),
                ("free-check", Some("dlfree")),
                "{events:?}"
            );
            assert!(
                e.detail.contains("list links were written over")
                    && e.detail.contains("(at 0x1020) is not in its free list"),
                "{}",
                e.detail
            );
        }
        // The victim's links are stale by design: not checked.
        let mut s = setup_with(&config, OnDetect::Log, &dlmalloc_heap_with_victim());
        call(&mut s, "alloc", &[]).unwrap();
        call(
            &mut s,
            "smash_then_release",
            &[Val::I32(0x1028), Val::I32(0x41), Val::I32(0x1058)],
        )
        .unwrap();
        assert!(s.events.lock().unwrap().is_empty(), "{:?}", s.events);
    }
}

/// dlmalloc takes a small request's chunk from the first non-empty small
/// bin that fits it and unlinks it by writing through the chunk's `fd`,
/// a check wasi-libc's build compiles out: the entry of `malloc` checks
/// that chunk's links, so a use after free over them is found before
/// dlmalloc writes through them; a request too large for the bin does
/// not look at it (the walk at the export's return, when not paced, finds
/// it then).
#[test]
fn malloc_finds_links_written_over_in_the_small_bin_it_takes_from() {
    for guarded in [true, false] {
        let mut config = Config::new();
        config.attest(Policy::Coarse).guarded_memory(guarded);
        let wat = dlmalloc_heap_with_free_chunk(true).replace(
            "(func (export \"alloc\")",
            "(func (export \"smash_then_alloc_large\") (param i32 i32)
        (i32.store8 (local.get 0) (local.get 1))
        (drop (call $dlmalloc (i32.const 100))))
    (func (export \"alloc\")",
        );
        // A request of 24 bytes (a 32-byte chunk, bin 4, empty) takes from
        // bin 6; one of 100 (bin 14) does not.
        for (export, byte_at, kind) in [
            ("smash_then_alloc", 0x1028, HookKind::FunctionEntry),
            ("smash_then_alloc", 0x102c, HookKind::FunctionEntry),
            ("smash_then_alloc_large", 0x1028, HookKind::ExportExit),
        ] {
            let mut s = setup_with(&config, OnDetect::Log, &wat);
            call(&mut s, "alloc", &[]).unwrap();
            // Intact links: nothing (a byte past them is the chunk's own).
            call(&mut s, export, &[Val::I32(0x1030), Val::I32(0x41)]).unwrap();
            assert!(s.events.lock().unwrap().is_empty(), "{:?}", s.events);
            call(&mut s, export, &[Val::I32(byte_at), Val::I32(0x41)]).unwrap();
            let events = s.events.lock().unwrap().clone();
            if kind == HookKind::ExportExit && events.is_empty() {
                // The walk at the export's return is paced, and may have
                // waited (a slow build): the entry did not ask for one.
                continue;
            }
            assert_eq!(events.len(), 1, "{export} {byte_at:#x}: {events:?}");
            let e = &events[0];
            assert_eq!(e.hook.kind, kind, "{export} {byte_at:#x}: {e:?}");
            if kind == HookKind::FunctionEntry {
                assert_eq!(e.hook.name.as_deref(), Some("dlmalloc"));
            }
            assert!(
                e.detail.contains(
                    "(chunk at 0x1020): the chunk is free (48 bytes) but not in a free list"
                ),
                "{}",
                e.detail
            );
        }
    }
}

/// dlmalloc takes a large request's chunk (and a small one's, where no
/// small bin or victim serves it) from a tree bin, unlinking it through
/// its ring links, parent and children unchecked: the entry of `malloc`
/// checks the chunk where it is alone in its tree (in generated code),
/// and has the runtime follow dlmalloc's search elsewhere, so any of
/// those fields written over is found before the unlink.
#[test]
fn malloc_finds_fields_written_over_in_the_tree_chunk_it_would_take() {
    // [0x1000 used 32][0x1020 free 304, tree bin 0's lone chunk]
    // [0x1150 used 32][0x1170 top 256]
    let state = dlmalloc_state_with_tree(0x1170, None, None, Some((0, 0x1020)));
    let wat = format!(
        r#"(module
    (memory (export "memory") 1)
    (data (i32.const 0x400) "{state}")
    (data (i32.const 0x1004) "\23\00\00\00")   ;; chunk 0x1000: 32 bytes, in use
    (data (i32.const 0x1024) "\31\01\00\00\20\10\00\00\20\10\00\00") ;; 304, free; fd, bk
    (data (i32.const 0x1038) "\30\05\00\00\00\00\00\00") ;; parent: bin 0's slot; index 0
    (data (i32.const 0x1150) "\30\01\00\00\22\00\00\00") ;; its footer; 0x1150 in use
    (data (i32.const 0x1174) "\01\01\00\00")   ;; top 0x1170: 256 bytes
    (data (i32.const 0x1274) "\38\00\00\00")   ;; the top's trailer
    (func $dlmalloc (param i32) (result i32) (i32.const 0x1008))
    (func (export "alloc") (param i32) (drop (call $dlmalloc (local.get 0))))
    (func (export "smash_then_alloc") (param i32 i32 i32)
        (i32.store8 (local.get 0) (local.get 1))
        (drop (call $dlmalloc (local.get 2)))))"#
    );
    for guarded in [true, false] {
        let mut config = Config::new();
        config.attest(Policy::Coarse).guarded_memory(guarded);
        // (byte, value, request, what the report says): a large request
        // and a small one; the lone chunk's links, index, parent and head
        // (inline), and a child where it has none (the runtime's search).
        for (at, byte, request, says) in [
            (0x1028, 0x41, 300, "not in its ring of same-sized chunks"),
            (0x102c, 0x41, 100, "not in its ring of same-sized chunks"),
            (0x103c, 0x03, 300, "filed under tree bin 3"),
            (0x1038, 0x41, 100, "tree parent 0x541 does not point back"),
            (0x1024, 0x33, 300, "says it is in use"),
            // 0x231: 560 bytes, bin 2's size in bin 0 (the inline check
            // compares the bin its size files it in).
            (
                0x1025,
                0x02,
                300,
                "filed under tree bin 0 where its size belongs in 2",
            ),
            (0x1030, 0x41, 300, "tree child 0x41 does not point back"),
        ] {
            let mut s = setup_with(&config, OnDetect::Log, &wat);
            call(&mut s, "alloc", &[Val::I32(24)]).unwrap();
            for request in [300, 100] {
                call(&mut s, "alloc", &[Val::I32(request)]).unwrap();
            }
            // A byte past the tree fields is the chunk's own.
            call(
                &mut s,
                "smash_then_alloc",
                &[Val::I32(0x1048), Val::I32(0x41), Val::I32(300)],
            )
            .unwrap();
            assert!(s.events.lock().unwrap().is_empty(), "{:?}", s.events);
            call(
                &mut s,
                "smash_then_alloc",
                &[Val::I32(at), Val::I32(byte), Val::I32(request)],
            )
            .unwrap();
            let events = s.events.lock().unwrap().clone();
            let what = format!("{at:#x} {request}: {events:?}");
            let e = events.first().expect(&what);
            assert_eq!(e.source, "malloc-check", "{what}");
            assert_eq!(e.hook.kind, HookKind::FunctionEntry, "{what}");
            assert_eq!(e.hook.name.as_deref(), Some("dlmalloc"), "{what}");
            assert!(e.detail.contains(says), "{what}");
        }
    }
}

/// The entry check of dlmalloc's functions checks the designated
/// victim's head as it checks the top's: a fresh allocation carved from
/// the victim is followed by the victim's remainder, whose head an
/// overflow of the allocation lands on, and which dlmalloc rewrites from
/// its state at its next carve (jq's CVE-2023-50246). No walk runs
/// between the write and the call.
#[test]
fn an_allocator_entry_finds_a_byte_over_the_designated_victims_head() {
    for guarded in [true, false] {
        for (byte, says) in [
            (0x00, "successor's head 0x0 says it is free"),
            (
                0x21,
                "the designated victim's head 0x21 disagrees with the allocator's state, \
                 which says the victim is 48 bytes",
            ),
        ] {
            let mut config = Config::new();
            config.attest(Policy::Coarse).guarded_memory(guarded);
            let mut s = setup_with(&config, OnDetect::Log, &dlmalloc_heap_with_victim());
            // A write inside the victim's payload: nothing.
            call(
                &mut s,
                "smash_then_alloc",
                &[Val::I32(0x1030), Val::I32(0x41)],
            )
            .unwrap();
            assert!(s.events.lock().unwrap().is_empty(), "{:?}", s.events);
            call(
                &mut s,
                "smash_then_alloc",
                &[Val::I32(0x1024), Val::I32(byte)],
            )
            .unwrap();
            let events = s.events.lock().unwrap().clone();
            assert_eq!(events.len(), 1, "{byte:#x}: {events:?}");
            let e = &events[0];
            assert_eq!(e.hook.kind, HookKind::FunctionEntry);
            assert_eq!(e.hook.name.as_deref(), Some("dlmalloc"));
            assert!(e.detail.contains(says), "{}", e.detail);
        }
    }
}

/// dlmalloc's `malloc` and `realloc` mark the slack past a request (its
/// length's mark in its first and last byte, `FLAG4` in the head), under
/// `coarse` and `fine`, and `free`
/// checks the marks: a write of a byte past the request is found as the
/// chunk is freed, and by the walk before that; a `realloc` in place
/// marks the new request's slack, or clears the flag where none is left.
/// [`dlmalloc_heap_with_state`] with a stand-in `realloc` in place
/// (`grow`), and exports that read a head and a byte.
fn heap_with_realloc() -> String {
    dlmalloc_heap_with_state().replace(
        "(func $dlfree (param i32))",
        r#"(func $dlfree (param i32))
    (func $dlrealloc (param i32 i32) (result i32)
        ;; dlmalloc may reuse its parameter's local: the request is the
        ;; value the call received.
        (local.set 1 (i32.const 4000))
        (local.get 0))
    (func (export "grow") (param i32 i32) (drop (call $dlrealloc (local.get 0) (local.get 1))))
    (func (export "head") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0)))"#,
    )
}

/// The i32 an export of one i32 parameter returns.
fn read(s: &mut Setup, name: &str, at: i32) -> i32 {
    match call(s, name, &[Val::I32(at)]).unwrap()[..] {
        [Val::I32(v)] => v,
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn a_write_past_the_request_into_the_chunks_slack_is_found() {
    let wat = heap_with_realloc();
    // A key the test knows, so that it can name the marks' bytes; 0x41
    // then says no length at all.
    const KEY: u8 = 0x20;
    let key = u32::from(KEY);
    let mark = |k| walmart_jit::vmctx::slack_mark(k, key) as i32;
    // No marks in a module that can learn a chunk's usable size (its
    // program may own the slack).
    let sized = wat.replace(
        "(func $dlfree (param i32))",
        "(func $dlfree (param i32))\n    (func $malloc_usable_size (param i32) (result i32) (i32.const 0))",
    );
    let mut s = setup(Policy::Fine, false, true, OnDetect::Log, &sized);
    call(&mut s, "alloc", &[]).unwrap();
    assert_eq!(read(&mut s, "head", 0x1004), 0x23);
    // Nor where the successor's `prev_foot` holds the state's address xor
    // its magic (0x400 ^ 0x55550001): a build with footers keeps it.
    let footed = wat.replace(
        "(func $dlfree (param i32))",
        "(data (i32.const 0x1020) \"\\01\\04\\55\\55\")\n    (func $dlfree (param i32))",
    );
    let mut s = setup(Policy::Fine, false, true, OnDetect::Log, &footed);
    call(&mut s, "alloc", &[]).unwrap();
    assert_eq!(read(&mut s, "head", 0x1004), 0x23);
    assert_eq!(read(&mut s, "head", 0x1020), 0x5555_0401);
    for (policy, guarded) in [
        (Policy::Fine, true),
        (Policy::Fine, false),
        (Policy::Coarse, true),
    ] {
        let mut config = Config::new();
        config.attest(policy).guarded_memory(guarded);
        // 20 bytes asked of the 32-byte chunk at 0x1000: 8 of slack, the
        // last 4 its successor's `prev_foot`.
        let keyed = |o: AttestOptions| o.slack_key(KEY);
        let mut s = setup_adding(&config, OnDetect::Log, &wat, keyed);
        call(&mut s, "alloc", &[]).unwrap();
        assert_eq!(read(&mut s, "head", 0x1004), 0x27);
        assert_eq!(read(&mut s, "byte", 0x1008 + 20), mark(8));
        assert_eq!(read(&mut s, "byte", 0x1008 + 27), mark(8));
        // The 48-byte chunk, allocated first, before the runtime knew
        // the state (to tell a build with footers): no marks.
        assert_eq!(read(&mut s, "head", 0x1024), 0x33);
        call(&mut s, "release", &[Val::I32(0x1008)]).unwrap();
        assert!(s.events.lock().unwrap().is_empty(), "{:?}", s.events);
        // One byte past the request, then `free`.
        call(
            &mut s,
            "smash_then_release",
            &[Val::I32(0x1008 + 20), Val::I32(0), Val::I32(0x1008)],
        )
        .unwrap();
        // (The stand-in `dlfree` frees nothing: the walk as the export
        // returns finds the chunk too.)
        let events = s.events.lock().unwrap().clone();
        let e = &events[0];
        assert_eq!(
            (e.source.as_str(), e.hook.name.as_deref()),
            ("free-check", Some("dlfree"))
        );
        assert!(
            e.detail.contains("wrote past the end of")
                && e.detail
                    .contains("the first of the 8 bytes past its request holds 0x0"),
            "{}",
            e.detail
        );

        // `realloc` in place to all 28 bytes: the flag cleared, the
        // request's bytes the program's.
        let mut s = setup_adding(&config, OnDetect::Log, &wat, keyed);
        call(&mut s, "alloc", &[]).unwrap();
        call(&mut s, "grow", &[Val::I32(0x1008), Val::I32(28)]).unwrap();
        assert_eq!(read(&mut s, "head", 0x1004), 0x23);
        call(
            &mut s,
            "smash_then_release",
            &[Val::I32(0x1008 + 27), Val::I32(0x41), Val::I32(0x1008)],
        )
        .unwrap();
        // Back to 12: marked again, and the walk at the export's return
        // finds the byte over the last mark.
        call(&mut s, "grow", &[Val::I32(0x1008), Val::I32(12)]).unwrap();
        assert_eq!(read(&mut s, "byte", 0x1008 + 12), mark(16));
        assert!(s.events.lock().unwrap().is_empty(), "{:?}", s.events);
        call(&mut s, "smash", &[Val::I32(0x1008 + 27), Val::I32(0x41)]).unwrap();
        s.store.finish_attestation().unwrap();
        let events = s.events.lock().unwrap().clone();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].source, "heap-walk");
        assert!(
            events[0].detail.contains("last byte 0x41 gives no length"),
            "{}",
            events[0].detail
        );
    }
}

/// A byte past the request that holds the slack's length: a slack of 1
/// byte, and the program writes 1 there (c-ares's CVE-2016-5180 writes
/// the class IN, 1, past a 27-byte request). Marks that said the length
/// outright missed it; under any store's key they do not.
#[test]
fn a_byte_past_the_request_that_says_the_slacks_length_is_found() {
    for round in 0..8 {
        let mut config = Config::new();
        config.attest(Policy::Fine);
        let mut s = setup_with(&config, OnDetect::Log, &heap_with_realloc());
        call(&mut s, "alloc", &[]).unwrap();
        call(&mut s, "grow", &[Val::I32(0x1008), Val::I32(27)]).unwrap();
        let mark = read(&mut s, "byte", 0x1008 + 27);
        assert!((2..=255).contains(&mark), "round {round}: mark {mark}");
        call(&mut s, "smash", &[Val::I32(0x1008 + 27), Val::I32(1)]).unwrap();
        s.store.finish_attestation().unwrap();
        let events = s.events.lock().unwrap().clone();
        assert_eq!(events.len(), 1, "round {round}: {events:?}");
        assert_eq!(events[0].source, "heap-walk", "round {round}");
        assert!(
            events[0]
                .detail
                .contains("a chunk of the allocator's heap was written past its request"),
            "round {round}: {}",
            events[0].detail
        );
    }
}

/// The slack marks are the guest's writes for the store barrier: under
/// `fine --attest-sync` (the barrier, hooks snapshotting after every
/// write, digests audited on clean pages) a `realloc` in place whose
/// only writes are the marks leaves no page changed unmarked, which the
/// digest audit would report as the host's doing.
#[test]
fn slack_marks_are_seen_by_the_store_barrier() {
    let wat = dlmalloc_heap_with_state().replace(
        "(func $dlfree (param i32))",
        r#"(func $dlfree (param i32))
    (func $dlrealloc (param i32 i32) (result i32) (local.get 0))
    (func (export "grow") (param i32 i32) (drop (call $dlrealloc (local.get 0) (local.get 1))))"#,
    );
    let mut config = Config::new();
    config
        .attest(Policy::Fine)
        .attest_sync(true)
        .attest_kernel_dirty(false);
    let mut s = setup_with(&config, OnDetect::Log, &wat);
    call(&mut s, "alloc", &[]).unwrap();
    for round in 0..64 {
        let request = [12, 20, 24, 16][round % 4];
        call(&mut s, "grow", &[Val::I32(0x1008), Val::I32(request)]).unwrap();
        call(
            &mut s,
            "smash",
            &[Val::I32(0x8000 + round as i32), Val::I32(1)],
        )
        .unwrap();
    }
    s.store.finish_attestation().unwrap();
    let events = s.events.lock().unwrap().clone();
    assert!(events.is_empty(), "{events:?}");
}

/// Under `--on-detect trap`, a detection no hook stopped the guest for
/// (here the final walk's, of a chain the host broke through
/// `Memory::write` after the last call) fails the run's end as a trap, so
/// whether the guest finished before a verdict came does not decide the
/// outcome. Before, such runs ended well: `walmart run` exited 0 or 86 by
/// the race between its last hook and the (paced) walks.
#[test]
fn a_detection_no_hook_acted_on_fails_the_end_of_a_trapping_run() {
    for on_detect in [OnDetect::Trap, OnDetect::Log] {
        let mut s = setup(
            Policy::Coarse,
            false,
            true,
            on_detect,
            &dlmalloc_heap("dlmalloc"),
        );
        call(&mut s, "alloc", &[]).unwrap();
        let memory = s.instance.get_memory(&mut s.store, "memory").unwrap();
        memory.write(&mut s.store, 0x1024, &[0]).unwrap();
        let end = s.store.finish_attestation();
        let found = s
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.kind == EventKind::HeapCorrupt)
            .count();
        assert_eq!(found, 1);
        match (on_detect, end) {
            (OnDetect::Trap, Err(Error::Trap(t))) => {
                assert_eq!(t.kind(), TrapKind::AttestationViolation)
            }
            (OnDetect::Log, Ok(Some(stats))) => assert_eq!(stats.detections, 1),
            (_, other) => panic!("{on_detect:?}: {other:?}"),
        }
        // Acted on once: the store goes on.
        call(&mut s, "alloc", &[]).unwrap();
        assert!(s.store.finish_attestation().is_ok());
    }
}

/// The walk of dlmalloc's chunk chain: silent on an intact heap, a
/// `heap-corrupt` event naming the broken word once a byte lands on a
/// chunk header, found as the export returns; off by configuration, and
/// for an allocator without dlmalloc's names.
#[test]
fn the_heap_walk_finds_a_byte_over_a_chunk_header() {
    let heap_events = |s: &Setup| -> Vec<Event> {
        s.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.kind == EventKind::HeapCorrupt)
            .cloned()
            .collect()
    };
    for policy in [Policy::Coarse, Policy::Fine] {
        let mut s = setup(
            policy,
            false,
            true,
            OnDetect::Log,
            &dlmalloc_heap("dlmalloc"),
        );
        call(&mut s, "alloc", &[]).unwrap();
        // A write into a chunk's payload is not the walk's business.
        call(&mut s, "smash", &[Val::I32(0x1030), Val::I32(0x41)]).unwrap();
        let stats = s.store.finish_attestation().unwrap().unwrap();
        assert!(heap_events(&s).is_empty(), "{:?}", heap_events(&s));
        assert!(stats.heap_chunks >= 3, "{policy:?}: {stats}");
        // The overflow of the first chunk into the second one's head,
        // written until a return is walked (the walks as control leaves
        // the module are paced; see below).
        for _ in 0..200 {
            call(&mut s, "smash", &[Val::I32(0x1024), Val::I32(0)]).unwrap();
            if !heap_events(&s).is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let found = heap_events(&s);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].source, "heap-walk");
        assert_eq!(found[0].pages, vec![1]);
        assert_eq!(found[0].hook.kind, HookKind::ExportExit);
        assert!(
            found[0].detail.contains("broken at 0x1024"),
            "{}",
            found[0].detail
        );
        // Reported once.
        call(&mut s, "alloc", &[]).unwrap();
        s.store.finish_attestation().unwrap();
        assert_eq!(heap_events(&s).len(), 1);
    }
    // Under `--on-detect trap` a call that returns with the chain broken
    // fails. Walks as control leaves the module are paced (a walk that
    // took `t` waits `20 t` for the next), so on a loaded machine the
    // first such return may come too soon after `alloc`'s walk: the
    // write is repeated until a return is walked.
    let mut s = setup(
        Policy::Coarse,
        false,
        true,
        OnDetect::Trap,
        &dlmalloc_heap("dlmalloc"),
    );
    call(&mut s, "alloc", &[]).unwrap();
    let mut tries = 0;
    let err = loop {
        match call(&mut s, "smash", &[Val::I32(0x1024), Val::I32(0)]) {
            Err(e) => break e,
            Ok(_) if tries < 200 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Ok(_) => panic!("no walk stopped the guest in 2 s"),
        }
    };
    assert!(
        matches!(&err, Error::Trap(t) if t.kind() == TrapKind::AttestationViolation),
        "{err}"
    );
    let mut off = Config::new();
    off.attest(Policy::Coarse).attest_heap_check(false);
    for (config, allocator) in [(off, "dlmalloc"), (Config::new(), "malloc")] {
        let mut config = config;
        if allocator == "malloc" {
            config.attest(Policy::Coarse);
        }
        let mut s = setup_with(&config, OnDetect::Log, &dlmalloc_heap(allocator));
        call(&mut s, "alloc", &[]).unwrap();
        call(&mut s, "smash", &[Val::I32(0x1024), Val::I32(0)]).unwrap();
        let stats = s.store.finish_attestation().unwrap().unwrap();
        assert!(heap_events(&s).is_empty(), "{allocator}");
        assert_eq!(stats.heap_chunks, 0, "{allocator}");
    }
}

/// A command (`_start`) and a library export that both leave 0xEE on
/// page 5, and a module whose data segment clears it in a memory it
/// imports.
const MARKS_PAGE_5: &str = r#"(module
    (memory (export "memory") 8)
    (func (export "_start") (i32.store8 (i32.const 0x5000) (i32.const 0xEE)))
    (func (export "mark") (i32.store8 (i32.const 0x5000) (i32.const 0xEE))))"#;
const CLEARS_PAGE_5: &str = r#"(module
    (import "host" "memory" (memory 8))
    (data (i32.const 0x5000) "\00"))"#;

#[test]
fn a_commands_exit_leaves_its_snapshot_to_whatever_next_looks_at_or_changes_memory() {
    /// What happens between the call and the final verdict.
    #[derive(Clone, Copy, Debug)]
    enum Then {
        Nothing,
        /// The embedder clears the mark through walmart's API.
        ApiWrite,
        /// A module instantiated into the store clears it.
        Instantiate,
        /// The embedder clears it behind walmart's back (tampering).
        RawWrite,
        /// Another call into the module.
        Call,
        /// The store is dropped without its final verdict.
        Drop,
    }
    for kernel in [true, false] {
        for (export, then, found_at) in [
            // The command's pages wait for the final flush...
            ("_start", Then::Nothing, Some(HookKind::Finish)),
            // ...unless something could change them first: judged as the
            // command left them, with the exit's site.
            ("_start", Then::ApiWrite, Some(HookKind::ExportExit)),
            ("_start", Then::Instantiate, Some(HookKind::ExportExit)),
            ("_start", Then::Call, Some(HookKind::ExportEntry)),
            ("_start", Then::Drop, Some(HookKind::ExportExit)),
            // Tampering is found exactly, and what it overwrote is not
            // judged.
            ("_start", Then::RawWrite, None),
            // A library export's exit snapshot is not deferred: the mark
            // is judged before the host tampers with it.
            ("mark", Then::RawWrite, Some(HookKind::ExportExit)),
            ("mark", Then::Nothing, Some(HookKind::ExportExit)),
        ] {
            let mut config = Config::new();
            config.attest(Policy::Coarse).attest_kernel_dirty(kernel);
            let mut s = setup_adding(&config, OnDetect::Log, MARKS_PAGE_5, |o| {
                o.verifier(MarkerVerifier)
            });
            let memory = s.instance.get_memory(&mut s.store, "memory").unwrap();
            call(&mut s, export, &[]).unwrap();
            match then {
                Then::Nothing | Then::Drop => {}
                Then::ApiWrite => memory.write(&mut s.store, 0x5000, &[0]).unwrap(),
                Then::Instantiate => {
                    let engine = s.store.engine().clone();
                    let mut linker = Linker::new(&engine);
                    linker
                        .define(&mut s.store, "host", "memory", memory)
                        .unwrap();
                    let clears = Module::new(&engine, CLEARS_PAGE_5).unwrap();
                    linker.instantiate(&mut s.store, &clears).unwrap();
                }
                Then::RawWrite => memory.data_mut(&mut s.store)[0x5000] = 0,
                // Its entry hook takes the page before it runs.
                Then::Call => call(&mut s, "mark", &[]).map(drop).unwrap(),
            }
            let events = s.events.clone();
            if matches!(then, Then::Drop) {
                // The session's end waits for the verifier's queue.
                drop(s);
            } else {
                s.store.finish_attestation().unwrap();
            }
            let events = events.lock().unwrap().clone();
            let marks: Vec<HookKind> = events
                .iter()
                .filter(|e| e.kind == EventKind::Cnn)
                .map(|e| e.hook.kind)
                .collect();
            let case = format!("{export} then {then:?}, kernel {kernel}: {events:?}");
            match found_at {
                Some(kind) => assert_eq!(marks.first(), Some(&kind), "{case}"),
                None => assert!(marks.is_empty(), "{case}"),
            }
            let tampered = events.iter().any(|e| e.kind == EventKind::HostTamper);
            assert_eq!(tampered, matches!(then, Then::RawWrite), "{case}");
        }
    }
}

/// A page of `A`s 600 long, at 0x1000: shipped by a data segment, or
/// written by the module's own code (`fill`); `touch` writes a number
/// further down the same page.
fn shipped_table(shipped: bool) -> String {
    let table = "A".repeat(600);
    let (data, fill) = if shipped {
        (format!(r#"(data (i32.const 0x1000) "{table}")"#), "")
    } else {
        (
            String::new(),
            "(memory.fill (i32.const 0x1000) (i32.const 0x41) (i32.const 600))",
        )
    };
    format!(
        r#"(module
      (memory (export "memory") 2)
      {data}
      (func (export "touch")
        {fill}
        (i32.store (i32.const 0x1f00) (i32.const 777))))"#
    )
}

#[test]
fn the_cnn_passes_over_blocks_that_still_hold_what_the_module_shipped() {
    use walmart::attest::model::default::default_model;
    use walmart::attest::model::verifier::CnnVerifier;
    for kernel in [true, false] {
        for shipped in [true, false] {
            let mut config = Config::new();
            config.attest(Policy::Coarse).attest_kernel_dirty(kernel);
            let cnn = CnnVerifier::new(default_model().unwrap()).unwrap();
            let mut s = setup_adding(&config, OnDetect::Log, &shipped_table(shipped), |o| {
                o.also_verify(cnn)
            });
            let touch = s.instance.get_func(&mut s.store, "touch").unwrap();
            touch.call(&mut s.store, &[], &mut []).unwrap();
            s.store.finish_attestation().unwrap().unwrap();
            let cnn: Vec<Event> = s
                .events
                .lock()
                .unwrap()
                .iter()
                .filter(|e| e.kind == EventKind::Cnn)
                .cloned()
                .collect();
            // The page the call wrote holds the run of `A`s either way;
            // only the module's own writing of it is judged.
            if shipped {
                assert!(cnn.is_empty(), "kernel {kernel}: {cnn:?}");
            } else {
                assert_eq!(cnn.len(), 1, "kernel {kernel}: {cnn:?}");
                assert_eq!(cnn[0].pages, [1], "kernel {kernel}");
            }
        }
    }
}

/// The pages of each CNN event in `events`.
fn cnn_pages(events: &Mutex<Vec<Event>>) -> Vec<Vec<u32>> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind == EventKind::Cnn)
        .map(|e| e.pages.clone())
        .collect()
}

/// The pages of each CNN event (the built-in model) in a `fine` run of
/// `wat`'s `_start` with WASI `ctx`.
fn cnn_pages_under_fine(wat: &str, ctx: walmart::wasi::WasiCtx) -> Vec<Vec<u32>> {
    use walmart::attest::model::default::default_model;
    use walmart::attest::model::verifier::CnnVerifier;
    let mut config = Config::new();
    config.attest(Policy::Fine);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let options = AttestOptions::new()
        .on_detect(OnDetect::Log)
        .also_verify(CnnVerifier::new(default_model().unwrap()).unwrap())
        .on_event(move |e| sink.lock().unwrap().push(e.clone()));
    run_wasi_start(&config, wat, ctx, options);
    cnn_pages(&events)
}

/// Copies `len` bytes the host wrote at 0 to 0x1000 (`copy`), or fills
/// `len` bytes from `at` with `A` itself (`fill`); either then writes a
/// number further down page 1.
const COPIES_INPUT: &str = r#"(module
  (memory (export "memory") 3)
  (func (export "copy") (param $len i32)
    (memory.copy (i32.const 0x1000) (i32.const 0) (local.get $len))
    (i32.store (i32.const 0x1f00) (i32.const 777)))
  (func (export "fill") (param $at i32) (param $len i32)
    (memory.fill (local.get $at) (i32.const 0x41) (local.get $len))
    (i32.store (i32.const 0x1f00) (i32.const 777))))"#;

#[test]
fn the_cnn_passes_over_runs_the_input_held_and_no_longer_ones() {
    use walmart::attest::model::default::default_model;
    use walmart::attest::model::verifier::CnnVerifier;
    let a = |n| vec![b'A'; n];
    let copy = |len| ("copy", vec![Val::I32(len)]);
    let fill = |at, len| ("fill", vec![Val::I32(at), Val::I32(len)]);
    // (what the host writes, what the module does, the pages flagged)
    let cases = [
        ("a copy of the input's run", a(600), copy(600), vec![]),
        (
            "a run the input held as long",
            a(600),
            fill(0x1000, 600),
            vec![],
        ),
        (
            "a run longer than the input's",
            a(40),
            fill(0x1000, 600),
            vec![1],
        ),
        (
            "a run of a byte the input had none of",
            vec![b'B'; 600],
            fill(0x1000, 600),
            vec![1],
        ),
        ("no input", Vec::new(), fill(0x1000, 600), vec![1]),
        // Across the boundary of pages 1 and 2: the run counts whole.
        (
            "a run as long, across two pages",
            a(600),
            fill(0x2000 - 300, 600),
            vec![],
        ),
        (
            "a longer run, across two pages",
            a(600),
            fill(0x2000 - 500, 1000),
            vec![1, 2],
        ),
    ];
    for kernel in [true, false] {
        for (case, input, (func, args), pages) in &cases {
            let mut config = Config::new();
            config.attest(Policy::Fine).attest_kernel_dirty(kernel);
            let cnn = CnnVerifier::new(default_model().unwrap()).unwrap();
            let mut s = setup_adding(&config, OnDetect::Log, COPIES_INPUT, |o| o.also_verify(cnn));
            let memory = s.instance.get_memory(&mut s.store, "memory").unwrap();
            memory.write(&mut s.store, 0, input).unwrap();
            let f = s.instance.get_func(&mut s.store, func).unwrap();
            f.call(&mut s.store, args, &mut []).unwrap();
            s.store.finish_attestation().unwrap().unwrap();
            let want: Vec<Vec<u32>> = if pages.is_empty() {
                vec![]
            } else {
                vec![pages.clone()]
            };
            assert_eq!(cnn_pages(&s.events), want, "{case}, kernel {kernel}");
        }
    }
}

/// How [`reads_in_pieces`] reads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reading {
    Once,
    /// Asking where it is (`ftell`: a seek of 0 from here) after each read.
    Telling,
    /// All of it, then again after a seek back to its start.
    Twice,
}

/// Reads stdin until it ends, 256 bytes at a time into two iovecs of 128
/// at 0x100, as `how` says, then writes 600 `A`s into page 1 itself.
fn reads_in_pieces(how: Reading) -> String {
    let again = how == Reading::Twice;
    let tell = if how == Reading::Telling {
        "(drop (call $fd_seek (i32.const 0) (i64.const 0) (i32.const 1) (i32.const 24)))"
    } else {
        ""
    };
    let again = if again {
        "(drop (call $fd_seek (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 24)))
         (call $read_all)"
    } else {
        ""
    };
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek"
    (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func $read_all
    (loop $more
      (i32.store (i32.const 0) (i32.const 0x100))
      (i32.store (i32.const 4) (i32.const 128))
      (i32.store (i32.const 8) (i32.const 0x180))
      (i32.store (i32.const 12) (i32.const 128))
      (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 2) (i32.const 16)))
      {tell}
      (br_if $more (i32.load (i32.const 16)))))
  (func (export "_start")
    (call $read_all)
    {again}
    (memory.fill (i32.const 0x1000) (i32.const 0x41) (i32.const 600))
    (i32.store (i32.const 0x1f00) (i32.const 777))))"#
    )
}

#[test]
fn a_run_the_input_held_counts_whole_when_read_in_pieces_of_one_stream() {
    let input = std::env::temp_dir().join(format!("walmart-runs-{}", std::process::id()));
    let a = |n| vec![b'A'; n];
    let framed = |n| [b"<".as_slice(), &a(n), b">"].concat();
    // (input, how it is read, page 1 flagged)
    let cases = [
        // 600 `A`s over five iovecs in three reads.
        (framed(600), Reading::Once, false),
        (framed(599), Reading::Once, true),
        // Asking the position moves nothing: one stream still.
        (framed(600), Reading::Telling, false),
        // Read twice, but a seek starts another stream: 300 at most.
        (a(300), Reading::Twice, true),
        (a(600), Reading::Twice, false),
    ];
    let mut flagged = Vec::new();
    for (bytes, how, _) in &cases {
        std::fs::write(&input, bytes).unwrap();
        let mut ctx = walmart::wasi::WasiCtx::new();
        ctx.redirect(0, std::fs::File::open(&input).unwrap());
        flagged.push(cnn_pages_under_fine(&reads_in_pieces(*how), ctx));
    }
    std::fs::remove_file(&input).unwrap();
    for ((bytes, how, want), got) in cases.iter().zip(flagged) {
        let want: Vec<Vec<u32>> = if *want { vec![vec![1]] } else { vec![] };
        assert_eq!(got, want, "{} bytes of input, {how:?}", bytes.len());
    }
}

/// Bytes the embedder hands the guest from memory
/// (`WasiCtx::stdin(MemoryInputPipe)`) are input as a file's are: a run
/// read in pieces counts whole, and the CNN passes over the guest's copy
/// of it.
#[test]
fn standard_input_from_memory_is_input_too() {
    let framed = |n| [b"<".as_slice(), &vec![b'A'; n], b">"].concat();
    let mut flagged = Vec::new();
    for n in [600, 599] {
        let mut ctx = walmart::wasi::WasiCtx::new();
        ctx.stdin(walmart::wasi::MemoryInputPipe::new(framed(n)));
        flagged.push(cnn_pages_under_fine(&reads_in_pieces(Reading::Once), ctx));
    }
    assert_eq!(flagged, [vec![], vec![vec![1]]]);
}

#[test]
fn the_arguments_runs_are_input_too() {
    // Takes its arguments at 0x100, then writes 600 `A`s into page 1.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "args_get"
        (func $args_get (param i32 i32) (result i32)))
      (memory (export "memory") 2)
      (func (export "_start")
        (drop (call $args_get (i32.const 0) (i32.const 0x100)))
        (memory.fill (i32.const 0x1000) (i32.const 0x41) (i32.const 600))
        (i32.store (i32.const 0x1f00) (i32.const 777))))"#;
    let mut flagged = Vec::new();
    for arg in ["A".repeat(600), "A".repeat(599)] {
        let mut ctx = walmart::wasi::WasiCtx::new();
        ctx.args(["prog", &arg]);
        flagged.push(cnn_pages_under_fine(wat, ctx));
    }
    assert_eq!(flagged, [vec![], vec![vec![1]]]);
}

/// The tag monitor's guard above a stack frame of clang's shape
/// (`walmart_jit::translate::stack_guard`) stays painted when a trap
/// abandons the frame; walmart clears it as the failed call returns, so
/// an embedder that resets the stack pointer and calls in again (or a
/// host function that catches a nested trap) meets no stale guard.
#[test]
fn a_trap_leaves_no_stack_guard_behind() {
    let wat = r#"(module
      (memory (export "memory") 1)
      (global $sp (export "sp") (mut i32) (i32.const 4096))
      (global $brk (mut i32) (i32.const 8192))
      ;; A bump allocator under the names the monitor wraps.
      (func $malloc (export "malloc") (param i32) (result i32)
        global.get $brk
        global.get $brk local.get 0 i32.add i32.const 15 i32.add i32.const -16 i32.and
        global.set $brk)
      (func $free (export "free") (param i32))
      ;; clang's frame: 16 bytes, written, and a trap when asked.
      (func (export "f") (param $trap i32) (result i32) (local $fp i32)
        global.get $sp i32.const 16 i32.sub local.tee $fp global.set $sp
        local.get $fp i32.const 7 i32.store
        local.get $trap if unreachable end
        local.get $fp i32.load
        local.get $fp i32.const 16 i32.add global.set $sp)
      (func (export "poke") (param i32) local.get 0 i32.const 1 i32.store))"#;
    let mut config = Config::new();
    config.attest(Policy::Tags);
    let (mut store, instance) = instantiated(&config, wat);
    let f = instance.get_func(&mut store, "f").unwrap();
    let poke = instance.get_func(&mut store, "poke").unwrap();
    let sp = instance.get_global(&mut store, "sp").unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(0)], &mut out).unwrap();
    assert_eq!(out[0].i32().unwrap(), 7);
    // The frame's guard (at 4096 - 16) is painted while `f` runs, and
    // cleared as it returns: a write there afterwards is no violation.
    poke.call(&mut store, &[Val::I32(4096 - 16)], &mut [])
        .unwrap();
    assert_eq!(store.tag_stats().unwrap().violations, 0);
    // A trap abandons the frame with its guard; the stack pointer stays
    // where the trap left it, and the embedder resets it.
    assert!(f.call(&mut store, &[Val::I32(1)], &mut out).is_err());
    assert_eq!(sp.get(&mut store).i32().unwrap(), 4096 - 32);
    sp.set(&mut store, Val::I32(4096)).unwrap();
    poke.call(&mut store, &[Val::I32(4096 - 16)], &mut [])
        .unwrap();
    f.call(&mut store, &[Val::I32(0)], &mut out).unwrap();
    assert_eq!(out[0].i32().unwrap(), 7);
    assert_eq!(store.tag_stats().unwrap().violations, 0);
}

/// Under `coarse` a written stack guard (`walmart_jit::translate::
/// stack_guard`) is a `stack-smash` event at the function's return, once
/// per return site however often it returns, with the guard's bytes read
/// from the function's own memory: here the store's second, after one
/// the host made first.
#[test]
fn a_written_stack_guard_is_reported_once_from_its_instances_memory() {
    let wat = r#"(module
      (memory (export "memory") 1)
      (global $sp (mut i32) (i32.const 4096))
      ;; clang's frame of 16 bytes; `over` writes 8 bytes past it, into
      ;; the guard above.
      (func (export "f") (param $over i32) (local $fp i32)
        global.get $sp i32.const 16 i32.sub local.tee $fp global.set $sp
        local.get $fp i64.const 0 i64.store
        local.get $over if
          local.get $fp i64.const 0x4142434445464748 i64.store offset=16
        end
        local.get $fp i32.const 16 i32.add global.set $sp))"#;
    let mut config = Config::new();
    config.attest(Policy::Coarse);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let sink = events.clone();
    store
        .configure_attestation(
            AttestOptions::new().on_event(move |e| sink.lock().unwrap().push(e.clone())),
        )
        .unwrap();
    // The store's first memory is the host's, full of 0xEE.
    let host = walmart::Memory::new(&mut store, walmart::MemoryType::new(1, None)).unwrap();
    host.data_mut(&mut store).fill(0xEE);
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let f = instance.get_func(&mut store, "f").unwrap();
    f.call(&mut store, &[Val::I32(0)], &mut []).unwrap();
    for _ in 0..3 {
        f.call(&mut store, &[Val::I32(1)], &mut []).unwrap();
    }
    store.finish_attestation().unwrap();
    let found: Vec<Event> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind == EventKind::StackSmash)
        .cloned()
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let e = &found[0];
    assert_eq!(e.memory, 1, "{e:?}");
    assert_eq!(e.hook.kind, HookKind::FunctionReturn);
    assert!(
        e.detail
            .ends_with(": 48 47 46 45 44 43 42 41 00 00 00 00 00 00 00 00"),
        "{}",
        e.detail
    );
    assert!(e.detail.contains("at 0xff0"), "{}", e.detail);
}

/// A bump allocator under the C library's names, and a program that
/// calls it: `run(n)` makes `n` rounds of `malloc`, `realloc` (which
/// calls `malloc` and `free` itself), `free` (which forwards to `dlfree`,
/// as wasi-libc's does), `malloc` and `free` through a table, and
/// `aligned_alloc` (which forwards to `memalign`, which forwards to
/// `dlmemalign`, whose helper, called by nothing else, calls `malloc`).
const ALLOCATING: &str = r#"(module
    (memory (export "memory") 4)
    (type $alloc (func (param i32) (result i32)))
    (type $release (func (param i32)))
    (table 2 funcref)
    (elem (i32.const 0) $malloc $free)
    (global $next (mut i32) (i32.const 0x1000))
    (func $malloc (export "malloc") (param $n i32) (result i32) (local $p i32)
        (local.set $p (global.get $next))
        (global.set $next
            (i32.and (i32.add (i32.add (local.get $p) (local.get $n)) (i32.const 15))
                (i32.const -16)))
        (local.get $p))
    (func $free (export "free") (param i32) (call $dlfree (local.get 0)))
    (func $dlfree (param i32))
    (func $realloc (export "realloc") (param $p i32) (param $n i32) (result i32) (local $q i32)
        (local.set $q (call $malloc (local.get $n)))
        (call $free (local.get $p))
        (local.get $q))
    (func $aligned (param $align i32) (param $n i32) (result i32)
        (call $malloc (i32.add (local.get $n) (local.get $align))))
    (func $dlmemalign (param $align i32) (param $n i32) (result i32)
        (call $aligned (local.get $align) (local.get $n)))
    (func $memalign (param i32) (param i32) (result i32)
        (call $dlmemalign (local.get 0) (local.get 1)))
    (func $aligned_alloc (export "aligned_alloc") (param i32) (param i32) (result i32)
        (call $memalign (local.get 0) (local.get 1)))
    (func (export "run") (param $n i32) (local $p i32)
        (loop $again
            (local.set $p (call $malloc (i32.const 16)))
            (i32.store8 (local.get $p) (i32.const 1))
            (local.set $p (call $realloc (local.get $p) (i32.const 32)))
            (call $free (local.get $p))
            (local.set $p (call_indirect (type $alloc) (i32.const 8) (i32.const 0)))
            (call_indirect (type $release) (local.get $p) (i32.const 1))
            (drop (call $aligned_alloc (i32.const 16) (i32.const 8)))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br_if $again (local.get $n)))))"#;

/// [`ALLOCATING`]'s `run(7)` in a store of `config` attested with
/// `options`: its counters, and the Unix seconds just before and after
/// the call.
fn run_allocating(
    config: &Config,
    options: AttestOptions,
) -> (walmart::attest::AttestStats, f64, f64) {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, ALLOCATING).unwrap();
    let mut store = Store::new(&engine, ());
    store.configure_attestation(options).unwrap();
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    let before = Event::now();
    run.call(&mut store, &[Val::I32(7)], &mut []).unwrap();
    let after = Event::now();
    (store.finish_attestation().unwrap().unwrap(), before, after)
}

#[test]
fn the_programs_allocator_calls_are_counted_alike_under_every_policy() {
    let counted = |config: &Config| {
        run_allocating(config, AttestOptions::new())
            .0
            .allocator_calls
    };
    for policy in [Policy::Coarse, Policy::Fine, Policy::Tags] {
        let mut config = Config::new();
        config.attest(policy);
        // Six calls a round: the allocator's calls to itself and its
        // helper's do not count, a forwarder leaves the count to its
        // callee, and the tag monitor's wrappers call the allocator's
        // bodies.
        assert_eq!(counted(&config), 42, "{policy}");
        if policy != Policy::Tags {
            config.tags_alongside(true);
            assert_eq!(
                counted(&config),
                42,
                "{policy} with the tag monitor alongside"
            );
        }
    }
}

#[test]
fn a_marked_allocator_call_records_when_it_was_entered() {
    let marked = |n: u64| {
        let mut config = Config::new();
        config.attest(Policy::Coarse);
        let (stats, before, after) =
            run_allocating(&config, AttestOptions::new().mark_allocator_call(n));
        stats
            .allocator_call_marked
            .map(|t| (before..=after).contains(&t))
    };
    // The 42 calls include the 42nd; there is no 43rd, and 0 marks none.
    assert_eq!(marked(1), Some(true));
    assert_eq!(marked(42), Some(true));
    assert_eq!(marked(43), None);
    assert_eq!(marked(0), None);
    // The tag monitor's wrappers count, and never call at a mark.
    for alongside in [false, true] {
        let mut config = Config::new();
        match alongside {
            false => config.attest(Policy::Tags),
            true => config.attest(Policy::Coarse).tags_alongside(true),
        };
        let engine = Engine::new(&config).unwrap();
        let mut store = Store::new(&engine, ());
        let err = store
            .configure_attestation(AttestOptions::new().mark_allocator_call(3))
            .unwrap_err();
        assert!(
            err.to_string().contains("not under the tag monitor"),
            "{err}"
        );
    }
}

/// The mark calls the runtime through the hook trampoline, which a
/// module then needs even with no other check that calls it.
#[test]
fn allocator_calls_are_counted_and_marked_with_every_other_check_off() {
    let mut config = Config::new();
    config
        .attest(Policy::Coarse)
        .attest_heap_check(false)
        .attest_stack_guards(false);
    let (stats, _, _) = run_allocating(&config, AttestOptions::new().mark_allocator_call(5));
    assert_eq!(stats.allocator_calls, 42);
    assert!(stats.allocator_call_marked.is_some());
}
