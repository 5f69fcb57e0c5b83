//! The colour-tag monitor end to end (`walmart run --attest tags`): each
//! violation kind of `tests/fixtures/c/tag_violations.c` is reported with
//! its kind and place, benign programs report nothing, the relaxations
//! relax, `--on-detect trap` stops, `--trace` writes the trace.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/c");
    root.join(name).display().to_string()
}

/// A file of this test process's own in the temporary folder (each test
/// removes what it wrote).
fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("walmart-tags-{}-{name}", std::process::id()))
}

/// Runs `walmart run --attest tags FLAGS MODULE ARGS` with a log; the
/// output and the logged events.
fn run(flags: &[&str], module: &str, args: &[&str]) -> (Output, Vec<serde_json::Value>) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = scratch(&format!("run-{n}.log"));
    let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", "--attest", "tags", "--attest-log"])
        .arg(&log)
        .args(flags)
        .arg(fixture(module))
        .args(args)
        .output()
        .unwrap();
    let events = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let _ = std::fs::remove_file(&log);
    (out, events)
}

fn kinds(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["tag"]["violation"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_violation_kind_is_reported_with_its_kind_access_and_allocation() {
    // (case, kind, write, allocation size, function, caught by memory colours)
    let cases = [
        ("overflow-1", "overflow", true, 13, "main", true),
        ("overflow-many", "overflow", true, 32, "memset", true),
        ("neighbour", "overflow", true, 13, "main", false),
        ("underflow", "underflow", true, 32, "main", true),
        ("uaf-read", "use-after-free", false, 32, "main", true),
        ("uaf-write", "use-after-free", true, 32, "main", true),
        ("uaf-reused", "use-after-free", true, 32, "main", true),
        ("double-free", "double-free", false, 32, "main", true),
        ("invalid-free", "invalid-free", false, 32, "main", true),
    ];
    for colours in ["pointer", "memory"] {
        for (case, kind, write, size, func, by_memory) in cases {
            let (out, events) = run(&["--tag-colours", colours], "tag_violations.wasm", &[case]);
            assert!(out.status.success(), "{case} {colours}: {out:?}");
            if colours == "memory" && !by_memory {
                assert!(events.is_empty(), "{case} {colours}: {events:?}");
                continue;
            }
            assert_eq!(kinds(&events), [kind], "{case} {colours}");
            let e = &events[0];
            assert_eq!(e["kind"], "tag-violation");
            let tag = &e["tag"];
            assert_eq!(tag["allocation"]["size"], size, "{case} {colours}");
            assert!(tag["allocation"]["allocated"][0]
                .as_str()
                .unwrap()
                .ends_with("!main"));
            let bad_free = kind == "double-free" || kind == "invalid-free";
            assert_eq!(
                tag["allocation"]["freed"].is_null(),
                kind == "overflow" || kind == "underflow" || kind == "invalid-free",
                "{case} {colours}: {tag}"
            );
            if bad_free {
                assert!(tag["access"].is_null());
            } else {
                assert_eq!(tag["access"]["write"], write, "{case} {colours}");
                assert_eq!(e["hook"]["name"], func, "{case} {colours}");
            }
            let trace = tag["backtrace"].as_array().unwrap();
            assert!(
                trace.iter().any(|f| f.as_str().unwrap().ends_with("!main")),
                "{case} {colours}: {trace:?}"
            );
        }
    }
}

/// `p[13] |= 0x80` reads the byte past the buffer, then writes it: both
/// are reported, as only the write corrupts (what dates a corruption).
#[test]
fn a_read_then_a_write_past_a_buffer_are_reported_apart() {
    let (out, events) = run(&[], "tag_violations.wasm", &["overflow-or"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(kinds(&events), ["overflow", "overflow"]);
    let writes: Vec<&serde_json::Value> = events
        .iter()
        .map(|e| &e["tag"]["access"]["write"])
        .collect();
    assert_eq!(writes, [false, true]);
    // The program's two allocations came before both.
    for e in &events {
        assert!(e["allocator_calls"].as_u64().unwrap() >= 2, "{e}");
    }
}

/// A pointer a corrupting write sent past the memory's end has no colour
/// to check: the trap is the sign, and the monitor reports it (ASan
/// reports the SEGV of such a pointer). Oniguruma's CVE-2017-9226 with
/// `[\430]` is one (scripts/cve-variants.py).
#[test]
fn an_access_past_the_memorys_end_is_a_violation_reported_before_the_trap() {
    for colours in ["pointer", "memory"] {
        let (out, events) = run(
            &["--tag-colours", colours],
            "tag_violations.wasm",
            &["beyond-memory"],
        );
        assert!(!out.status.success(), "{colours}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("out of bounds memory access"),
            "{colours}: {out:?}"
        );
        // Under pointer colours the store's colour check may see it first,
        // as an overflow of the pointer's allocation.
        let beyond: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| e["tag"]["violation"] == "beyond-memory")
            .collect();
        assert_eq!(beyond.len(), 1, "{colours}: {events:?}");
        let e = beyond[0];
        assert_eq!(e["hook"]["name"], "main", "{colours}: {e}");
        // The faulting byte: 16 MiB past the 13-byte buffer's address.
        let page = e["pages"][0].as_u64().unwrap();
        assert!((4096..8192).contains(&page), "{colours}: {e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap()
                .contains("past the end of the memory, trapped"),
            "{colours}: {e}"
        );
        assert!(e["tag"]["access"].is_null(), "{colours}: {e}");
        if colours == "memory" {
            assert_eq!(kinds(&events), ["beyond-memory"]);
        }
    }
    // A trap that names no address (abort's `unreachable`) is not one.
    let (out, events) = run(&[], "tag_violations.wasm", &["abort"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn benign_programs_report_nothing_in_any_mode() {
    for mode in ["spatial", "temporal", "relaxed-temporal", "write-only"] {
        for colours in ["pointer", "memory"] {
            let flags = ["--tags", mode, "--tag-colours", colours];
            let (out, events) = run(&flags, "tag_violations.wasm", &["benign"]);
            assert!(out.status.success(), "{mode} {colours}: {out:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "benign sum=499859\n",
                "{mode} {colours}"
            );
            assert!(events.is_empty(), "{mode} {colours}: {events:?}");
            // A buffer overflowing into the next field of its own frame
            // is not the monitor's (frames have guards, not each
            // buffer): no report, the program's own result.
            let (out, events) = run(&flags, "tag_violations.wasm", &["stack"]);
            assert!(out.status.success());
            assert!(events.is_empty(), "{mode} {colours}: {events:?}");
        }
    }
    for (module, args) in [
        ("hello.wasm", &[][..]),
        ("lz.wasm", &[]),
        ("wordindex.wasm", &[]),
        ("heap_overflow.wasm", &[]),
        ("simd.wasm", &[]),
    ] {
        let (out, events) = run(&[], module, args);
        assert!(out.status.success(), "{module}: {out:?}");
        assert!(events.is_empty(), "{module}: {events:?}");
    }
}

/// A buffer that runs out of its function's stack frame writes into the
/// guard the monitor keeps above the frame (`walmart_jit::translate::
/// stack_guard`): reported once, at the write, under either colour mode;
/// a buffer filled to its end is not, and the program's output is its own.
#[test]
fn a_buffer_that_overflows_its_stack_frame_hits_the_frames_guard() {
    for colours in ["pointer", "memory"] {
        let (out, events) = run(
            &["--tag-colours", colours],
            "tag_violations.wasm",
            &["stack-frame"],
        );
        assert!(out.status.success(), "{colours}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "x=120\ndone stack-frame\n"
        );
        assert_eq!(kinds(&events), ["stack-buffer-overflow"], "{colours}");
        let tag = &events[0]["tag"];
        assert_eq!(tag["access"]["write"], true, "{colours}");
        assert!(tag["allocation"].is_null(), "{colours}: {tag}");
        assert_eq!(events[0]["hook"]["name"], "memset", "{colours}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("stack buffer overflow: write of 1 byte(s) at 0x")
                && stderr.contains("above a stack frame"),
            "{stderr}"
        );
        let (out, events) = run(
            &["--tag-colours", colours],
            "tag_violations.wasm",
            &["stack-frame-fits"],
        );
        assert!(out.status.success(), "{colours}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "x=120\ndone stack-frame-fits\n"
        );
        assert!(events.is_empty(), "{colours}: {events:?}");
    }
    // Without the guards the overflow goes unseen.
    let (out, events) = run(
        &["--no-stack-guards"],
        "tag_violations.wasm",
        &["stack-frame"],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(events.is_empty(), "{events:?}");
    // With `--on-detect trap` the guest stops at the write.
    let (out, _) = run(
        &["--on-detect", "trap"],
        "tag_violations.wasm",
        &["stack-frame"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}

#[test]
fn relaxations_leave_out_what_they_relax() {
    let case = |flags: &[&str], case: &str| kinds(&run(flags, "tag_violations.wasm", &[case]).1);
    // Spatial: no temporal reports; bad frees and overflows still.
    assert!(case(&["--tags", "spatial"], "uaf-write").is_empty());
    assert_eq!(case(&["--tags", "spatial"], "overflow-1"), ["overflow"]);
    assert_eq!(
        case(&["--tags", "spatial"], "invalid-free"),
        ["invalid-free"]
    );
    // Write-only: loads are not checked.
    assert!(case(&["--tags", "write-only"], "uaf-read").is_empty());
    assert_eq!(
        case(&["--tags", "write-only"], "uaf-write"),
        ["use-after-free"]
    );
    // Relaxed temporal (pointer colours): a dangling write is tolerated
    // until the memory is reallocated.
    let relaxed = ["--tags", "relaxed-temporal", "--tag-colours", "pointer"];
    assert!(case(&relaxed, "uaf-write").is_empty());
    assert_eq!(case(&relaxed, "uaf-reused"), ["use-after-free"]);
}

#[test]
fn on_detect_trap_stops_at_the_first_violation() {
    let (out, events) = run(
        &["--on-detect", "trap"],
        "tag_violations.wasm",
        &["overflow-many"],
    );
    assert_eq!(out.status.code(), Some(86), "{out:?}");
    assert_eq!(kinds(&events), ["overflow"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("done"));
    let (out, _) = run(
        &["--on-detect", "trap"],
        "tag_violations.wasm",
        &["double-free"],
    );
    assert_eq!(out.status.code(), Some(86), "{out:?}");
    // An access that trapped past the memory's end stops as a violation
    // too, not as the trap (memory colours: no colour check sees it first).
    let (out, events) = run(
        &["--on-detect", "trap", "--tag-colours", "memory"],
        "tag_violations.wasm",
        &["beyond-memory"],
    );
    assert_eq!(out.status.code(), Some(86), "{out:?}");
    assert_eq!(kinds(&events), ["beyond-memory"]);
}

#[test]
fn the_trace_holds_allocations_frees_and_filtered_accesses() {
    let path = scratch("trace.txt");
    let p = path.display().to_string();
    let (out, _) = run(
        &[
            "--trace",
            &p,
            "--trace-accesses=0x10000-0x20000",
            "--trace-sample",
            "2",
        ],
        "tag_violations.wasm",
        &["uaf-write"],
    );
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("# walmart tag trace 1"));
    let ops: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    for op in ["alloc", "free", "read", "write", "violation"] {
        assert!(ops.contains(&op), "{op} missing from the trace");
    }
    for l in text
        .lines()
        .filter(|l| l.starts_with("read") || l.starts_with("write"))
    {
        let a =
            u32::from_str_radix(l.split(' ').nth(1).unwrap().trim_start_matches("0x"), 16).unwrap();
        assert!((0x10000..0x20000).contains(&a), "{l}");
    }
}

#[test]
fn bad_settings_and_modules_without_an_allocator_get_clear_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", "--tags", "spatial"])
        .arg(fixture("hello.wasm"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("need --attest tags"));
    let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", "--attest", "tags", "--tags", "strict"])
        .arg(fixture("hello.wasm"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown tag mode"));
    // No name section, no exported allocator.
    let wat = scratch("anonymous.wat");
    std::fs::write(
        &wat,
        "(module (memory (export \"memory\") 1) (func (export \"_start\") (i32.store (i32.const 8) (i32.const 1))))",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", "--attest", "tags"])
        .arg(&wat)
        .output()
        .unwrap();
    std::fs::remove_file(&wat).unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no name section") && err.contains("malloc"),
        "{err}"
    );
}

/// A module with a bump `malloc` that calls `$helper`, which `go` also
/// calls, with a pointer 16 bytes past a 16-byte allocation, through
/// `REACH`'s reference to it.
const ESCAPING_HELPER: &str = r#"(module
    (memory (export "memory") 2)
    (global $brk (mut i32) (i32.const 1024))
    (type $h (func (param i32)))
    REACH
    (func $helper (param $p i32) (i32.store (local.get $p) (i32.const 0)))
    (func $malloc (export "malloc") (param $n i32) (result i32)
        (local $p i32)
        (local.set $p (global.get $brk))
        (global.set $brk (i32.add (local.get $p)
            (i32.and (i32.add (local.get $n) (i32.const 15)) (i32.const -16))))
        (call $helper (local.get $p))
        (local.get $p))
    (func $free (export "free") (param i32))
    (func (export "go") (result i32)
        (local $p i32)
        (local.set $p (call $malloc (i32.const 16)))
        CALL
        (local.get $p)))"#;

/// The allocator's helpers go without tag checks only where nothing else
/// can call them: a function a table's initial element or a global refers
/// to escapes, as one an element segment holds does.
#[test]
fn a_helper_a_table_or_global_refers_to_keeps_its_checks() {
    let through_table = (
        "(table $t 1 (ref null $h) (ref.func $helper))",
        "(call_indirect $t (type $h) (i32.add (local.get $p) (i32.const 16)) (i32.const 0))",
    );
    let through_global = (
        "(global $g (ref null $h) (ref.func $helper))",
        "(call_ref $h (i32.add (local.get $p) (i32.const 16)) (global.get $g))",
    );
    for (name, (reach, call)) in [("table", through_table), ("global", through_global)] {
        let wat = scratch(&format!("escaping-{name}.wat"));
        let text = ESCAPING_HELPER
            .replace("REACH", reach)
            .replace("CALL", call);
        std::fs::write(&wat, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
            .args(["run", "--attest", "tags", "--invoke", "go"])
            .arg(&wat)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&wat);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("overflow: write of 4 byte(s)"),
            "{name}: {err}"
        );
        assert!(err.contains("1 violations"), "{name}: {err}");
    }
}

/// zig's wasi-libc allocates with emmalloc and optimizes the whole program:
/// `malloc` is inlined into its callers, which call `emmalloc_memalign`
/// (its alignment parameter dropped) directly. Every allocation is still
/// followed, so an overflow of one is found.
#[test]
fn emmalloc_allocations_inlined_into_callers_are_followed() {
    let (out, events) = run(&[], "heap_overflow_emmalloc.wasm", &[]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sum=79800\n");
    assert!(events.is_empty(), "{events:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("402 allocations"), "{stderr}");
    let (_, events) = run(&[], "heap_overflow_emmalloc.wasm", &["go"]);
    // The copy runs past a record into the redzones around the next.
    assert_eq!(kinds(&events)[0], "overflow", "{events:?}");
    assert!(
        kinds(&events)
            .iter()
            .all(|k| k == "overflow" || k == "underflow"),
        "{events:?}"
    );
    assert_eq!(events[0]["tag"]["allocation"]["size"], 32, "{}", events[0]);
}

/// zig's build inlines emmalloc's `realloc` into the program's functions,
/// out of the wrapper's sight: that code reads the region header before
/// the wrapper's object (its left redzone) as its region's size. The
/// monitor leaves zeros there, which that code takes for a region it
/// cannot resize in place (stale bytes once sent it to resize regions that
/// were none: the heap broken, the run trapped), then, once it has its new
/// object, the old object's size for the copy (with zeros it copied the new
/// size: reads past the old object, and past memory's end where a small
/// object at the top grows into a region freed below it, as the fixture's
/// last rounds do). Its header reads are the allocator's, not the
/// program's; the program's own violations are still found.
#[test]
fn emmalloc_realloc_inlined_into_the_program_keeps_the_heap_and_reports_nothing() {
    for flags in [
        ["--tag-colours", "memory"],
        ["--tag-colours", "pointer"],
        ["--tags", "spatial"],
    ] {
        let (out, events) = run(&flags, "realloc_stress_emmalloc.wasm", &["3000"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{flags:?}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.ends_with(" mismatches=0\n"), "{flags:?}: {stdout}");
        assert!(events.is_empty(), "{flags:?}: {events:?}");
        assert!(stderr.contains(" 0 violations"), "{flags:?}: {stderr}");
        // tag_violations.c's benign run grows a `calloc`ed array by a
        // `realloc` inlined into `main`.
        let (out, events) = run(&flags, "tag_violations_emmalloc.wasm", &["benign"]);
        assert!(out.status.success(), "{flags:?}: {out:?}");
        assert!(events.is_empty(), "{flags:?}: {events:?}");
    }
    // The program's own accesses before and past an object are still its.
    for (case, kind) in [
        ("underflow", "underflow"),
        ("overflow-1", "overflow"),
        ("uaf-read", "use-after-free"),
    ] {
        let (_, events) = run(&[], "tag_violations_emmalloc.wasm", &[case]);
        assert_eq!(kinds(&events), [kind], "{case}: {events:?}");
    }
}
