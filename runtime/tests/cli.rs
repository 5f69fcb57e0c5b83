//! The `walmart` command line on real C programs (fixtures built by
//! `scripts/build-fixtures.sh`) and on bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn walmart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(args)
        .output()
        .expect("walmart runs")
}

/// `walmart ARGS` with `input` on standard input.
fn walmart_fed(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("walmart runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The number after `what` in a run's standard error (a counter of the
/// attestation summary: `heap chunks checked `, `snapshots `).
fn stat(stderr: &str, what: &str) -> u64 {
    let at = stderr
        .find(what)
        .unwrap_or_else(|| panic!("no `{what}` in: {stderr}"));
    let digits: String = stderr[at + what.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after `{what}` in: {stderr}"))
}

/// `walmart run --attest POLICY --model none --attest-log LOG WASM ARGS`
/// (WASM a fixture's name or a path), fed `stdin` where given: its output
/// and the `heap-corrupt` events it logged.
fn heap_checked_run(
    policy: &str,
    log: &Path,
    wasm: &str,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> (Output, Vec<serde_json::Value>) {
    let _ = std::fs::remove_file(log);
    let wasm = if Path::new(wasm).is_absolute() {
        wasm.to_string()
    } else {
        fixture(wasm)
    };
    let log_arg = log.display().to_string();
    let mut cmd = vec![
        "run",
        "--attest",
        policy,
        "--model",
        "none",
        "--attest-log",
        &log_arg,
        &wasm,
    ];
    cmd.extend(args.iter().copied());
    let out = match stdin {
        Some(input) => walmart_fed(&cmd, input),
        None => walmart(&cmd),
    };
    let events = logged_events(log)
        .into_iter()
        .filter(|e| e["kind"] == "heap-corrupt")
        .collect();
    (out, events)
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/c")
        .join(name)
        .display()
        .to_string()
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("walmart-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `out` is a failure (status 1) whose standard error is one line that
/// says `says`; `context` names the case.
fn fails_in_one_line(out: &Output, says: &str, context: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{context}: {err}");
    assert!(
        err.contains(says) && err.lines().count() == 1,
        "{context}: {err}"
    );
}

/// The events of an `--attest-log` file (none where it is missing).
fn logged_events(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Fixture `name` as built, and a copy in `root` without its names.
fn named_and_stripped(root: &Path, name: &str) -> (String, String) {
    let named = fixture(name);
    let stripped = root.join(format!("stripped-{name}"));
    std::fs::write(
        &stripped,
        common::without_names(&std::fs::read(&named).unwrap()),
    )
    .unwrap();
    (named, stripped.display().to_string())
}

/// `walmart run --attest POLICY --model none --on-detect trap` of `wasm`
/// with argument `case`, and the events it logged to `log`.
fn trapping_run(
    policy: &str,
    wasm: &str,
    case: &str,
    log: &Path,
) -> (Output, Vec<serde_json::Value>) {
    let _ = std::fs::remove_file(log);
    let log_arg = log.display().to_string();
    let out = walmart(&[
        "run",
        "--attest",
        policy,
        "--model",
        "none",
        "--on-detect",
        "trap",
        "--attest-log",
        &log_arg,
        wasm,
        case,
    ]);
    let events = logged_events(log);
    (out, events)
}

#[test]
fn hello_gets_args_env_and_its_exit_status() {
    let out = walmart(&[
        "run",
        "--env",
        "GREETING=hi",
        &fixture("hello.wasm"),
        "7",
        "two words",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "argc=3\nargv[1]=7\nargv[2]=two words\nGREETING=hi\n"
    );
    assert_eq!(text(&out.stderr), "to stderr\n");
    let out = walmart(&["run", &fixture("hello.wasm")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("GREETING=(unset)"));
}

#[test]
fn files_live_in_the_preopened_directory_only() {
    let root = temp_dir("files");
    std::fs::create_dir(root.join("data")).unwrap();
    std::fs::write(root.join("outside.txt"), "secret").unwrap();
    let dir = format!("{}::data", root.join("data").display());
    let out = walmart(&["run", "--dir", &dir, &fixture("files.wasm")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("lines=1000 sum=499500 size=8890"),
        "{stdout}"
    );
    assert!(stdout.contains("stat size=8890 regular=1"), "{stdout}");
    assert!(stdout.contains("entry b.txt"), "{stdout}");
    assert!(stdout.contains("done entries=1"), "{stdout}");
    assert!(std::fs::read_dir(root.join("data"))
        .unwrap()
        .next()
        .is_none());
    std::fs::remove_dir_all(&root).unwrap();
}

/// `--dir HOST::GUEST::ro`: the guest lists and reads, and changes
/// nothing (the program's first `mkdir` fails with EPERM); a bad mode is
/// an error naming it.
#[test]
fn a_read_only_directory_refuses_the_programs_changes() {
    let root = temp_dir("files-ro");
    std::fs::create_dir_all(root.join("data")).unwrap();
    let dir = format!("{}::data::ro", root.join("data").display());
    let out = walmart(&["run", "--dir", &dir, &fixture("files.wasm")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("mkdir: Operation not permitted"),
        "{stderr}"
    );
    assert!(std::fs::read_dir(root.join("data"))
        .unwrap()
        .next()
        .is_none());
    // `rw` is the default's explicit form: the program runs through.
    let dir = format!("{}::data::rw", root.join("data").display());
    let out = walmart(&["run", "--dir", &dir, &fixture("files.wasm")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = format!("{}::data::readonly", root.join("data").display());
    let out = walmart(&["run", "--dir", &dir, &fixture("files.wasm")]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("unknown mode `readonly`"), "{stderr}");
    // Two parts: `ro` is the guest's name for it (read and write, as
    // before), with a warning that says so.
    let dir = format!("{}::ro", root.join("data").display());
    let out = walmart(&["run", "--dir", &dir, &fixture("hello.wasm")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("as the directory `ro`, read and write"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// `-S clock-resolution=1h`: the program's clocks read whole hours, so
/// neither its busy loop nor its 2 ms sleep shows on the monotonic clock;
/// its randomness is untouched. A malformed duration is an error.
#[test]
fn a_coarse_clock_resolution_hides_short_intervals() {
    let out = walmart(&[
        "run",
        "-S",
        "clock-resolution=1h",
        &fixture("clocks_random.wasm"),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("monotonic advances: no"), "{stdout}");
    assert!(stdout.contains("slept at least 2ms: no"), "{stdout}");
    assert!(
        stdout.contains("random nonzero: yes, differs: yes"),
        "{stdout}"
    );
    let out = walmart(&[
        "run",
        "-S",
        "clock-resolution=fast",
        &fixture("clocks_random.wasm"),
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("expected clock-resolution=DURATION"),
        "{stderr}"
    );
    let out = walmart(&[
        "run",
        "-S",
        "clock-resolution=0.1ns",
        &fixture("clocks_random.wasm"),
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("at least 1ns"));
}

/// `walmart compile --emit-clif DIR --emit-asm DIR` writes each Wasm
/// function's IR and machine code, named by index with its name-section
/// name on top; under `--attest fine` the IR holds the hooks' calls
/// (`preserve_all` trampolines) that `off` has not. A directory that
/// cannot be made is an error naming the flag.
#[test]
fn compile_writes_each_functions_ir_and_machine_code_where_asked() {
    let root = temp_dir("emit");
    let main_of = |policy: &str| {
        let clif = root.join(format!("{policy}-clif"));
        let asm = root.join(format!("{policy}-asm"));
        let out = walmart(&[
            "compile",
            "--attest",
            policy,
            "--emit-clif",
            clif.to_str().unwrap(),
            "--emit-asm",
            asm.to_str().unwrap(),
            &fixture("hello.wasm"),
            "-o",
            root.join(format!("{policy}.cwasm")).to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let count = |dir: &std::path::Path, ext: &str| {
            std::fs::read_dir(dir)
                .unwrap()
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    let name = name.to_str().unwrap();
                    name.starts_with("wasm_func_") && name.ends_with(ext)
                })
                .count()
        };
        assert!(count(&clif, ".clif") > 10);
        assert_eq!(count(&clif, ".clif"), count(&asm, ".s"));
        // The function the name section calls `main`.
        let name = std::fs::read_dir(&clif)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                std::fs::read_to_string(p)
                    .unwrap()
                    .lines()
                    .next()
                    .is_some_and(|l| l.ends_with(": \"main\""))
            })
            .expect("a function named main");
        let ir = std::fs::read_to_string(&name).unwrap();
        let stem = name.file_stem().unwrap().to_str().unwrap().to_string();
        let asm_text = std::fs::read_to_string(asm.join(format!("{stem}.s"))).unwrap();
        assert!(ir.contains("function u0:"), "{ir}");
        assert!(asm_text.contains("ret"), "{asm_text}");
        ir
    };
    let fine = main_of("fine");
    let off = main_of("off");
    assert!(fine.contains("preserve_all"), "{fine}");
    assert!(!off.contains("preserve_all"), "{off}");
    // A directory that cannot be made (a file is in the way).
    std::fs::write(root.join("file"), "x").unwrap();
    let bad = root.join("file/sub");
    let out = walmart(&[
        "compile",
        "--emit-clif",
        bad.to_str().unwrap(),
        &fixture("hello.wasm"),
        "-o",
        root.join("x.cwasm").to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--emit-clif") && stderr.contains("cannot create"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn simd_program_matches_the_native_output() {
    let out = walmart(&["run", &fixture("simd.wasm")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let expected = std::fs::read_to_string(fixture("simd.expected")).unwrap();
    assert_eq!(text(&out.stdout), expected);
}

/// A threaded interpreter built with `-mtail-call` (`tail_calls.c`): 1.8
/// million handler-to-handler `return_call_indirect`s, with allocations
/// and frames between them, run in constant stack under each policy,
/// print what the native build prints and leave the heap and stack
/// checks nothing to find.
#[test]
fn a_tail_calling_interpreter_matches_the_native_output_under_every_policy() {
    let wasm = fixture("tail_calls.wasm");
    let expected = std::fs::read_to_string(fixture("tail_calls.expected")).unwrap();
    for flags in [
        &["--attest", "off"][..],
        &["--attest", "coarse"],
        &["--attest", "fine"],
        &["--attest", "tags"],
    ] {
        // Not `--attest-sync`: each handler writes the interpreter's
        // stack, so each would wait for a verdict (a minute in debug).
        let mut args = vec!["run", "--model", "none", "--on-detect", "trap"];
        args.extend(flags);
        args.push(wasm.as_str());
        let out = walmart(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{flags:?}: {err}");
        assert!(!err.contains("walmart: detection"), "{flags:?}: {err}");
        assert_eq!(text(&out.stdout), expected, "{flags:?}");
    }
}

/// `-W` switches a Wasm 3.0 proposal off (or on again), for `run` and
/// `wast`; an unknown one or value is a one-line error naming it.
#[test]
fn nan_canonicalization_with_w() {
    let dir = temp_dir("nan-canonicalization");
    let wat = dir.join("nan.wat");
    std::fs::write(
        &wat,
        r#"(module (global $g (mut f32) (f32.const nan:0x600001))
             (func (export "f") (result i32)
               (i32.reinterpret_f32 (f32.add (global.get $g) (f32.const 1)))))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    let out = walmart(&["run", "-W", "nan-canonicalization", "--invoke", "f", &wat]);
    assert_eq!(text(&out.stdout), "2143289344\n", "{}", text(&out.stderr));
    let out = walmart(&["run", "-W", "nan-canonicalization=n", "--invoke", "f", &wat]);
    let bits: u32 = text(&out.stdout).trim().parse().unwrap();
    assert!(f32::from_bits(bits).is_nan());
    #[cfg(target_arch = "x86_64")]
    assert_eq!(bits, 0x7fe0_0001, "x86-64 keeps the operand's payload");
}

#[test]
fn wasm_features_switch_on_and_off_with_w() {
    let dir = temp_dir("wasm-features");
    let wat = dir.join("tail.wat");
    std::fs::write(
        &wat,
        r#"(module (func $f (result i32) (i32.const 7))
                   (func (export "g") (result i32) (return_call $f)))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    let out = walmart(&["run", "--invoke", "g", &wat]);
    assert_eq!(text(&out.stdout), "7\n", "{}", text(&out.stderr));
    let out = walmart(&["run", "-W", "tail-call=y", "--invoke", "g", &wat]);
    assert_eq!(text(&out.stdout), "7\n", "{}", text(&out.stderr));
    let out = walmart(&["run", "-W", "tail-call=n", "--invoke", "g", &wat]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("tail calls support is not enabled"),
        "{}",
        text(&out.stderr)
    );
    for (setting, says) in [
        (
            "tails",
            "unknown Wasm feature `tails` (known: simd, relaxed-simd,",
        ),
        ("memory64=maybe", "expected `memory64=y` or `memory64=n`"),
    ] {
        for command in ["run", "wast"] {
            let out = walmart(&[command, "-W", setting, &wat]);
            let err = text(&out.stderr);
            assert!(
                !out.status.success() && err.contains(says),
                "{command} -W {setting}: {err}"
            );
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        }
    }
    let wast = dir.join("tail.wast");
    std::fs::write(
        &wast,
        r#"(module (func $f (result i32) (i32.const 7))
                   (func (export "g") (result i32) (return_call $f)))
           (assert_return (invoke "g") (i32.const 7))"#,
    )
    .unwrap();
    let wast = wast.display().to_string();
    assert!(walmart(&["wast", &wast]).status.success());
    assert!(!walmart(&["wast", "-W", "tail-call=n", &wast])
        .status
        .success());
    // Wide arithmetic is off until switched on.
    let wide = dir.join("wide.wat");
    std::fs::write(
        &wide,
        r#"(module (func (export "mul") (param i64 i64) (result i64 i64)
                (i64.mul_wide_u (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let wide = wide.display().to_string();
    let out = walmart(&["run", "--invoke", "mul", &wide, "-1", "-1"]);
    assert!(
        text(&out.stderr).contains("wide arithmetic"),
        "{}",
        text(&out.stderr)
    );
    let out = walmart(&[
        "run",
        "-W",
        "wide-arithmetic",
        "--invoke",
        "mul",
        &wide,
        "-1",
        "-1",
    ]);
    // (2^64 - 1)^2 = 2^128 - 2^65 + 1: low half 1, high half 2^64 - 2.
    assert_eq!(text(&out.stdout), "1\n-2\n", "{}", text(&out.stderr));

    // Custom descriptors too.
    let desc = dir.join("desc.wat");
    std::fs::write(
        &desc,
        r#"(module
            (rec (type $t (descriptor $d) (struct (field i32)))
                 (type $d (describes $t) (struct (field i32))))
            (func (export "f") (result i32)
                (struct.get $d 0 (ref.get_desc $t
                    (struct.new_desc $t (i32.const 1) (struct.new $d (i32.const 42)))))))"#,
    )
    .unwrap();
    let desc = desc.display().to_string();
    let out = walmart(&["run", "--invoke", "f", &desc]);
    let err = text(&out.stderr);
    assert!(
        !out.status.success() && err.contains("custom descriptors"),
        "{err}"
    );
    let out = walmart(&["run", "-W", "custom-descriptors", "--invoke", "f", &desc]);
    assert_eq!(text(&out.stdout), "42\n", "{}", text(&out.stderr));

    // And the legacy exception-handling instructions.
    let legacy = dir.join("legacy.wat");
    std::fs::write(
        &legacy,
        r#"(module (tag $e (param i32))
            (func (export "f") (result i32)
                try (result i32)
                    (throw $e (i32.const 41))
                catch $e
                    (i32.add (i32.const 1))
                end))"#,
    )
    .unwrap();
    let legacy = legacy.display().to_string();
    let out = walmart(&["run", "--invoke", "f", &legacy]);
    let err = text(&out.stderr);
    assert!(
        !out.status.success() && err.contains("legacy_exceptions"),
        "{err}"
    );
    let out = walmart(&["run", "-W", "legacy-exceptions", "--invoke", "f", &legacy]);
    assert_eq!(text(&out.stdout), "42\n", "{}", text(&out.stderr));
}

/// `-W fuel=N` and `-W timeout=DURATION` bound a run: a loop that never
/// ends traps with wasmtime's messages; a run within its bounds is
/// untouched; malformed bounds are refused.
#[test]
fn fuel_and_timeout_bound_a_run() {
    let dir = temp_dir("bounds");
    let wat = dir.join("spin.wat");
    std::fs::write(
        &wat,
        r#"(module
            (func (export "spin") (loop $l (br $l)))
            (func (export "count") (param $n i32) (result i32)
                (local $i i32)
                (block $done
                    (loop $l
                        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                        (local.set $i (i32.add (local.get $i) (i32.const 1)))
                        (br $l)))
                (local.get $i)))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    let started = std::time::Instant::now();
    let out = walmart(&["run", "-W", "timeout=200ms", "--invoke", "spin", &wat]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        text(&out.stderr).contains("interrupt"),
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let out = walmart(&["run", "-W", "fuel=100000", "--invoke", "spin", &wat]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        text(&out.stderr).contains("all fuel consumed by WebAssembly"),
        "{}",
        text(&out.stderr)
    );
    // count(100) spends 9 * 100 + 6 units, 901 of them by the loop's last
    // header, whose check needs some left: 902 is enough, 901 is not.
    let out = walmart(&["run", "-W", "fuel=902", "--invoke", "count", &wat, "100"]);
    assert_eq!(text(&out.stdout), "100\n", "{}", text(&out.stderr));
    let out = walmart(&["run", "-W", "fuel=901", "--invoke", "count", &wat, "100"]);
    assert_eq!(out.status.code(), Some(134));
    let out = walmart(&[
        "run",
        "-W",
        "timeout=10s",
        "-W",
        "fuel=10000",
        "--invoke",
        "count",
        &wat,
        "100",
    ]);
    assert_eq!(text(&out.stdout), "100\n", "{}", text(&out.stderr));
    for bad in [
        "fuel=-1",
        "fuel=lots",
        "timeout=0",
        "timeout=5x",
        "timeout=",
    ] {
        let out = walmart(&["run", "-W", bad, "--invoke", "spin", &wat]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with(&format!("error: -W {bad}: expected")),
            "{bad}: {err}"
        );
    }
    let out = walmart(&["wast", "-W", "fuel=10", &wat]);
    assert!(
        text(&out.stderr).contains("bound `walmart run`"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `-W max-memory-size` and the other store limits bound what a run may
/// take: growth past them fails (or traps), and malformed values are
/// refused.
#[test]
fn store_limits_bound_what_a_run_takes() {
    let dir = temp_dir("limits");
    let wat = dir.join("grow.wat");
    std::fs::write(
        &wat,
        r#"(module (memory 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    let run = |extra: &[&str], pages: &str| {
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend(["--invoke", "grow", &wat, pages]);
        walmart(&args)
    };
    assert_eq!(text(&run(&[], "3").stdout), "1\n");
    assert_eq!(
        text(&run(&["-W", "max-memory-size=256K"], "3").stdout),
        "1\n"
    );
    assert_eq!(
        text(&run(&["-W", "max-memory-size=256K"], "4").stdout),
        "-1\n"
    );
    let out = run(
        &["-W", "max-memory-size=256K", "-W", "trap-on-grow-failure"],
        "4",
    );
    assert_eq!(out.status.code(), Some(134));
    assert!(
        text(&out.stderr).contains("forcing trap when growing memory (bytes) to 327680"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["-W", "max-memories=0"], "1");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("memory count too high at 1"),
        "{}",
        text(&out.stderr)
    );
    for bad in [
        "max-memory-size=lots",
        "max-instances=-1",
        "trap-on-grow-failure=maybe",
    ] {
        let out = run(&["-W", bad], "1");
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with(&format!("error: -W {bad}: expected")),
            "{bad}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `-W max-gc-heap=BYTES` bounds the GC heap: a program that keeps more
/// than it traps, one that keeps little runs through the collector.
#[test]
fn the_gc_heap_limit_is_set_with_w() {
    let dir = temp_dir("gc-heap");
    let wat = dir.join("gc.wat");
    // Keeps every array in a list when $keep is 1, none when 0.
    std::fs::write(
        &wat,
        r#"(module
            (type $bytes (array (mut i8)))
            (type $cell (struct (field (ref $bytes)) (field (ref null $cell))))
            (func (export "f") (param $keep i32) (result i32)
                (local $i i32) (local $list (ref null $cell)) (local $c (ref $cell))
                (loop $l
                    (local.set $c (struct.new $cell
                        (array.new_default $bytes (i32.const 10000)) (local.get $list)))
                    (if (local.get $keep) (then (local.set $list (local.get $c))))
                    (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $l (i32.lt_u (i32.const 2000))))
                (local.get $i)))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    for stress in ["gc-stress=n", "gc-stress=y"] {
        let out = walmart(&[
            "run",
            "-W",
            "max-gc-heap=8M",
            "-W",
            stress,
            "--invoke",
            "f",
            &wat,
            "0",
        ]);
        assert_eq!(text(&out.stdout), "2000\n", "{}", text(&out.stderr));
    }
    let out = walmart(&["run", "-W", "max-gc-heap=8M", "--invoke", "f", &wat, "1"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("GC heap exhausted"),
        "{}",
        text(&out.stderr)
    );
    let out = walmart(&["run", "--invoke", "f", &wat, "1"]);
    assert_eq!(text(&out.stdout), "2000\n", "{}", text(&out.stderr));
    // A script's results are released after their directive.
    let wast = dir.join("arrays.wast");
    let mut script = String::from(
        r#"(module (type $a (array i8))
             (func (export "mk") (result (ref $a)) (array.new_default $a (i32.const 400000))))"#,
    );
    script.push_str(&"(assert_return (invoke \"mk\") (ref.array))\n".repeat(12));
    std::fs::write(&wast, script).unwrap();
    let out = walmart(&["wast", "-W", "max-gc-heap=2M", &wast.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = walmart(&["run", "-W", "max-gc-heap=lots", "--invoke", "f", &wat, "1"]);
    let err = text(&out.stderr);
    assert!(
        !out.status.success() && err.contains("expected a number of bytes"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn a_wast_script_that_does_not_parse_says_why() {
    let dir = temp_dir("wast-parse");
    let wast = dir.join("bad.wast");
    std::fs::write(
        &wast,
        "(module (func (export \"f\") (result i32) (i32.const 1)))\n(assert_return (invoke \"f\")\n",
    )
    .unwrap();
    let out = walmart(&["wast", &wast.display().to_string()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.wast:3: the script does not parse: expected"),
        "{err}"
    );
}

#[test]
fn an_uncaught_exception_ends_the_run_like_a_trap() {
    let dir = temp_dir("exceptions");
    let wat = dir.join("throw.wat");
    std::fs::write(
        &wat,
        r#"(module (tag $t (param i32))
                   (func (export "catch") (param i32) (result i32)
                       (block $h (result i32)
                           (try_table (catch $t $h) (throw $t (local.get 0)))
                           (unreachable)))
                   (func (export "_start") (throw $t (i32.const 1))))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    let out = walmart(&["run", "--invoke", "catch", &wat, "41"]);
    assert_eq!(text(&out.stdout), "41\n", "{}", text(&out.stderr));
    let out = walmart(&["run", &wat]);
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "error: uncaught Wasm exception\n");
    let out = walmart(&["run", "-W", "exceptions=n", &wat]);
    assert!(
        text(&out.stderr).contains("exceptions proposal not enabled"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn traps_print_message_and_backtrace_and_fail() {
    let out = walmart(&["run", &fixture("trap.wasm")]);
    assert_eq!(out.status.code(), Some(134));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("wasm trap: integer divide by zero"),
        "{stderr}"
    );
    let divide = stderr.find("!divide").expect("divide frame");
    let compute = stderr.find("!compute").expect("compute frame");
    assert!(divide < compute, "innermost frame first:\n{stderr}");
    // Built with its DWARF: each frame's file and line under it, unless
    // switched off.
    let out = walmart(&["run", &fixture("trap_debug.wasm")]);
    assert_eq!(out.status.code(), Some(134));
    let stderr = text(&out.stderr);
    let at = |line: u32| {
        stderr
            .lines()
            .position(|l| {
                l.trim_start().starts_with("at ") && l.contains(&format!("trap.c:{line}:"))
            })
            .unwrap_or_else(|| panic!("no trap.c:{line}:\n{stderr}"))
    };
    assert!(at(3) < at(4) && at(4) < at(5), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", &fixture("trap_debug.wasm")])
        .env("WALMART_BACKTRACE_DETAILS", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(134));
    assert!(
        !text(&out.stderr).contains("trap.c"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn invoke_parses_arguments_by_type_and_prints_results() {
    let dir = temp_dir("invoke");
    let wat = dir.join("m.wat");
    std::fs::write(
        &wat,
        r#"(module (func (export "mix") (param i32 i64 f64) (result i64 f64)
            (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1))
            (f64.mul (local.get 2) (f64.const 2))))"#,
    )
    .unwrap();
    let out = walmart(&[
        "run",
        "--invoke",
        "mix",
        wat.to_str().unwrap(),
        "-5",
        "12",
        "1.25",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "7\n2.5\n");
    let out = walmart(&[
        "run",
        "--invoke",
        "mix",
        wat.to_str().unwrap(),
        "x",
        "1",
        "1",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("cannot parse `x` as i32"));
    let out = walmart(&["run", "--invoke", "nope", wat.to_str().unwrap()]);
    assert!(text(&out.stderr).contains("no exported function `nope`"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_gets_one_clear_line_and_a_failure_status() {
    let dir = temp_dir("bad");
    let junk = dir.join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0\x05\x03\x01").unwrap();
    let hello = fixture("hello.wasm");
    // A component, and a core module built for WASI 0.2.
    let component = dir.join("component.wat");
    std::fs::write(&component, "(component)").unwrap();
    let unknown = dir.join("unknown.wat");
    std::fs::write(
        &unknown,
        r#"(module (import "env" "foo" (func)) (func (export "_start")))"#,
    )
    .unwrap();
    let p2 = dir.join("p2.wat");
    std::fs::write(
        &p2,
        r#"(module (import "wasi:cli/environment@0.2.0" "get-environment" (func))
             (func (export "_start")))"#,
    )
    .unwrap();
    for (args, needle) in [
        (
            vec!["run", "/no/such/file.wasm"],
            "cannot read /no/such/file.wasm",
        ),
        (
            vec!["run", component.to_str().unwrap()],
            "the component exports no `wasi:cli/run` interface (a WASI 0.2 command's entry); \
             its exports: none",
        ),
        (
            vec!["run", p2.to_str().unwrap()],
            "a WASI 0.2 interface of the component model",
        ),
        (
            vec!["run", unknown.to_str().unwrap()],
            "unknown import: env::foo; --trap-unknown-imports runs the module",
        ),
        (vec!["run", junk.to_str().unwrap()], "junk.wasm"),
        (
            vec!["run", "--frobnicate", "x.wasm"],
            "unexpected argument '--frobnicate'",
        ),
        (
            vec!["run", "--dir", "/no/such/dir", &hello],
            "--dir /no/such/dir",
        ),
        (vec!["run", "--env", "=x", &hello], "expected KEY=VALUE"),
    ] {
        let out = walmart(&args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let version = walmart(&["--version"]);
    assert!(text(&version.stdout).starts_with("walmart "));
    let help = walmart(&["run", "--help"]);
    for flag in ["--invoke", "--dir", "--env"] {
        assert!(text(&help.stdout).contains(flag));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn attested_runs_report_no_false_positives_for_wasi_writes() {
    for policy in ["coarse", "fine"] {
        let root = temp_dir(&format!("attest-{policy}"));
        std::fs::create_dir_all(root.join("data")).unwrap();
        let log = root.join("events.jsonl");
        let dir = format!("{}::.", root.display());
        let out = walmart(&[
            "run",
            "--attest",
            policy,
            "--attest-log",
            &log.display().to_string(),
            // The exact checks only: a CNN may flag a page of a program it
            // never saw (its false-positive rate is measured in benches/).
            "--model",
            "none",
            "--dir",
            &dir,
            &fixture("files.wasm"),
        ]);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{policy}: {err}");
        // fgets reads the file with fd_read into guest memory: legitimate.
        assert!(text(&out.stdout).contains("lines=1000"));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "", "{policy}");
        assert!(
            err.contains(&format!("attestation ({policy}, ")) && err.contains("detections 0"),
            "{err}"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}

#[test]
fn the_cnn_passes_over_the_inputs_runs_unless_told_to_score_them() {
    let root = temp_dir("input-runs");
    // Reads stdin into 0x100 and copies what it read into page 1.
    let wat = root.join("m.wat");
    std::fs::write(
        &wat,
        r#"(module
          (import "wasi_snapshot_preview1" "fd_read"
            (func $fd_read (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 2)
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 0x100))
            (i32.store (i32.const 4) (i32.const 2048))
            (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
            (memory.copy (i32.const 0x1000) (i32.const 0x100) (i32.load (i32.const 8)))))"#,
    )
    .unwrap();
    let input = root.join("in");
    std::fs::write(&input, [b"name=".as_slice(), &[b'A'; 600]].concat()).unwrap();
    let run = |flags: &[&str]| {
        let log = root.join("events.jsonl");
        let _ = std::fs::remove_file(&log);
        let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
            .args(["run", "--attest", "fine", "--attest-log"])
            .arg(&log)
            .args(flags)
            .arg(&wat)
            .stdin(std::process::Stdio::from(
                std::fs::File::open(&input).unwrap(),
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "{flags:?}: {}", text(&out.stderr));
        std::fs::read_to_string(&log).unwrap_or_default()
    };
    let passed = run(&[]);
    let scored = run(&["--cnn-score-input-runs"]);
    std::fs::remove_dir_all(&root).unwrap();
    assert!(!passed.contains(r#""kind":"cnn""#), "{passed}");
    assert!(scored.contains(r#""kind":"cnn""#), "{scored}");

    let hello = fixture("hello.wasm");
    for (flags, why) in [
        (&["run"][..], "need --attest coarse or fine"),
        (
            &["run", "--attest", "fine", "--model", "none"][..],
            "--model none",
        ),
    ] {
        let mut args = flags.to_vec();
        args.extend(["--cnn-score-input-runs", &hello]);
        let out = walmart(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(why) && err.lines().count() == 1, "{err}");
    }
}

#[test]
fn injected_host_tampering_is_logged_and_on_detect_trap_exits_86() {
    let root = temp_dir("attest-inject");
    let log = root.join("events.jsonl");
    let out = walmart(&[
        "run",
        "--attest",
        "coarse",
        "--inject",
        "host-tamper",
        "--attest-log",
        &log.display().to_string(),
        &fixture("hello.wasm"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events = std::fs::read_to_string(&log).unwrap();
    let first = events.lines().next().expect("at least one event");
    assert!(first.contains(r#""kind":"host-tamper""#), "{first}");
    assert!(first.contains(r#""source":"write-protection""#), "{first}");
    std::fs::remove_dir_all(&root).unwrap();

    let out = walmart(&[
        "run",
        "--attest",
        "fine",
        "--inject",
        "host-tamper",
        "--on-detect",
        "trap",
        &fixture("hello.wasm"),
    ]);
    assert_eq!(out.status.code(), Some(86), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("attestation detected memory corruption"));
}

#[test]
fn attest_interval_sets_the_snapshot_pace_and_each_policy_has_its_own() {
    let summary = |args: &[&str]| {
        let out = walmart(args);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{args:?}: {err}");
        err.lines()
            .find(|l| l.contains("attestation ("))
            .unwrap_or_else(|| panic!("{args:?}: no summary in {err}"))
            .to_string()
    };
    let hello = fixture("hello.wasm");
    let coarse = summary(&["run", "--attest", "coarse", &hello]);
    assert!(coarse.ends_with("snapshot interval 5 ms"), "{coarse}");
    let fine = summary(&["run", "--attest", "fine", &hello]);
    assert!(fine.ends_with("snapshot interval 1 ms"), "{fine}");
    let set = summary(&[
        "run",
        "--attest",
        "coarse",
        "--attest-interval",
        "0.035",
        &hello,
    ]);
    assert!(set.ends_with("snapshot interval 0.035 ms"), "{set}");
    // Synchronous hooks snapshot after every write: no interval.
    let sync = summary(&["run", "--attest", "fine", "--attest-sync", &hello]);
    assert!(!sync.contains("interval"), "{sync}");
}

#[test]
fn bad_attestation_flags_are_one_line_errors() {
    for args in [
        &["run", "--attest", "loud", "x.wasm"][..],
        &["run", "--attest", "tags", "x.wasm"][..],
        &["run", "--attest-log", "/tmp/x", "x.wasm"][..],
        &[
            "run",
            "--attest",
            "coarse",
            "--inject",
            "heap-overflow",
            "x.wasm",
        ][..],
        &[
            "run",
            "--attest",
            "coarse",
            "--on-detect",
            "explode",
            "x.wasm",
        ][..],
        &[
            "run",
            "--attest",
            "coarse",
            "--attest-interval",
            "0",
            "x.wasm",
        ][..],
        &[
            "run",
            "--attest",
            "fine",
            "--attest-interval",
            "soon",
            "x.wasm",
        ][..],
        &["run", "--attest-interval", "2", "x.wasm"][..],
        &[
            "run",
            "--attest",
            "tags",
            "--attest-evidence",
            "/tmp/x",
            "x.wasm",
        ][..],
        &[
            "run",
            "--attest",
            "coarse",
            "--attest-interval",
            "0.0000001",
            "x.wasm",
        ][..],
        &[
            "run",
            "--attest",
            "fine",
            "--attest-sync",
            "--attest-interval",
            "2",
            "x.wasm",
        ][..],
    ]
    .into_iter()
    .map(<[&str]>::to_vec)
    // Fillers: zero, one digit (`A` would be 0x0a, not the letter), a
    // doubled prefix.
    .chain(["00", "41,A", "0x0x41"].map(|fillers| {
        vec![
            "attest",
            "collect",
            "x.wasm",
            "--policy",
            "fine",
            "--out",
            "/tmp/x.wds",
            "--fillers",
            fillers,
        ]
    })) {
        let out = walmart(&args);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.trim().lines().count() <= 3, "{args:?}: {err}");
    }
}

#[test]
fn attest_collect_train_eval_and_run_with_the_model() {
    let dir = temp_dir("cnn");
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::write(
        inputs.join("a.txt"),
        "abcabcabc hello hello hello ".repeat(400),
    )
    .unwrap();
    std::fs::write(inputs.join("b.txt"), "the quick brown fox ".repeat(600)).unwrap();
    let ds = dir.join("lz.wds");
    let out = walmart(&[
        "attest",
        "collect",
        &fixture("lz.wasm"),
        "--inputs",
        inputs.to_str().unwrap(),
        "--policy",
        "fine",
        "--inject",
        "heap-overflow,stack-smash,host-tamper",
        "--rate",
        "1",
        "--fillers",
        "42,0xcc",
        "--out",
        ds.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("from 2 run(s)"), "{err}");
    assert!(err.contains("benign"), "{err}");

    let train = |out: &Path, options: &[&str]| {
        let mut args = vec![
            "attest",
            "train",
            ds.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "2",
        ];
        args.extend_from_slice(options);
        walmart(&args)
    };
    let model = dir.join("lz.model");
    let out = train(&model, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("epoch 1/2"),
        "{}",
        text(&out.stderr)
    );
    // Training is reproducible: the same dataset and seed, the same file.
    let again = dir.join("lz-again.model");
    let out = train(&again, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        std::fs::read(&model).unwrap() == std::fs::read(&again).unwrap(),
        "two trainings of one dataset differ"
    );
    // Hard negatives shown again: a flag of its own, a count.
    let mined = dir.join("lz-mined.model");
    let out = train(&mined, &["--hard-negatives", "4"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(mined.is_file());
    let out = train(&mined, &["--validation-stretches", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = train(&mined, &["--hard-negatives", "many"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--hard-negatives"),
        "{}",
        text(&out.stderr)
    );

    let out = walmart(&[
        "attest",
        "eval",
        model.to_str().unwrap(),
        ds.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("ROC AUC") && table.contains("all"),
        "{table}"
    );
    let out = walmart(&[
        "attest",
        "eval",
        model.to_str().unwrap(),
        ds.to_str().unwrap(),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["overall"]["roc_auc"].as_f64().is_some(), "{json}");
    assert!(json["false_positives"].is_array(), "{json}");
    // The clean pages nearest the threshold: clean, below it, highest first.
    let threshold = json["overall"]["threshold"].as_f64().unwrap();
    let closest: Vec<(String, f64)> = json["closest_clean"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let label = p["label"].as_str().unwrap().to_string();
            (label, p["score"].as_f64().unwrap())
        })
        .collect();
    assert!(!closest.is_empty(), "{json}");
    assert!(
        closest.iter().all(|(l, s)| l == "benign" && *s < threshold),
        "{closest:?}"
    );
    assert!(closest.windows(2).all(|w| w[0].1 >= w[1].1), "{closest:?}");
    // The built-in model, with its worst pages listed.
    let out = walmart(&[
        "attest",
        "eval",
        "default",
        ds.to_str().unwrap(),
        "--misses",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("worst false positives")
            && table.contains("worst misses")
            && table.contains("closest clean pages"),
        "{table}"
    );

    // The model as the verifier of a run.
    let out = walmart(&[
        "run",
        "--attest",
        "fine",
        "--model",
        model.to_str().unwrap(),
        &fixture("lz.wasm"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A damaged model or dataset is refused in one line.
    let mut bytes = std::fs::read(&model).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    let bad = dir.join("bad.model");
    std::fs::write(&bad, &bytes).unwrap();
    for args in [
        vec![
            "attest",
            "eval",
            bad.to_str().unwrap(),
            ds.to_str().unwrap(),
        ],
        vec![
            "run",
            "--attest",
            "fine",
            "--model",
            bad.to_str().unwrap(),
            &fixture("lz.wasm"),
        ],
        vec![
            "attest",
            "eval",
            model.to_str().unwrap(),
            model.to_str().unwrap(),
        ],
        vec![
            "attest",
            "train",
            model.to_str().unwrap(),
            "--out",
            bad.to_str().unwrap(),
        ],
        vec![
            "attest",
            "train",
            ds.to_str().unwrap(),
            "--out",
            bad.to_str().unwrap(),
            "--arch",
            "embed4,conv8,gmax,dense2",
        ],
    ] {
        let out = walmart(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The built-in model on programs it was never trained on, in three
/// languages whose heaps look unlike C's (`attest/corpus/{rust,zig,
/// assemblyscript}`, each `tokens` or `invindex` held out of its
/// training), over text it never saw: Rust's strings run up to the next
/// chunk's head, Zig's general-purpose allocator packs words of one length
/// side by side, AssemblyScript's strings are UTF-16 behind small object
/// headers. A model trained on C programs alone took the first for an
/// overflow in every run of this input, and one trained on C and Rust
/// the other two. No `cnn` event, and the output is the unattested run's.
#[test]
fn the_built_in_model_passes_over_held_out_rust_zig_and_assemblyscript_programs() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/corpus");
    let input = corpus.join("heldout/docs.txt");
    let root = temp_dir("corpus-heldout");
    for program in [
        "rust/tokens.wasm",
        "zig/invindex.wasm",
        "assemblyscript/invindex.wasm",
    ] {
        let wasm = corpus.join(program).display().to_string();
        let run = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_walmart"))
                .args(args)
                .stdin(std::process::Stdio::from(
                    std::fs::File::open(&input).unwrap(),
                ))
                .output()
                .expect("walmart runs")
        };
        let plain = run(&["run", &wasm]);
        assert!(plain.status.success(), "{program}: {}", text(&plain.stderr));
        assert!(text(&plain.stdout).lines().count() > 5, "{program}");
        for policy in ["coarse", "fine"] {
            for round in 0..2 {
                let log = root.join(format!(
                    "{}-{policy}{round}.jsonl",
                    program.replace('/', "-")
                ));
                let log_arg = log.display().to_string();
                let out = run(&["run", "--attest", policy, "--attest-log", &log_arg, &wasm]);
                let err = text(&out.stderr);
                assert!(out.status.success(), "{program}: {err}");
                assert_eq!(out.stdout, plain.stdout, "{program} {policy}");
                // The CNN judged pages the program wrote, not only its input,
                // and dropped none.
                let count = |what: &str| stat(&err, what);
                let written = count("pages snapshotted ");
                let input = count(&format!("pages snapshotted {written} ("));
                assert!(written > input + 10, "{program} {policy}: {err}");
                assert_eq!(count("ring drops "), 0, "{program} {policy}: {err}");
                let cnn: Vec<_> = logged_events(&log)
                    .into_iter()
                    .filter(|e| e["kind"] == "cnn")
                    .collect();
                assert!(cnn.is_empty(), "{program} {policy}: {cnn:?}");
            }
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// The built-in model on a program it was never trained on: a real heap
/// overflow (160 `A`s and pointers over the next records) is a `cnn`
/// event, the same program without the bug runs clean.
#[test]
fn the_built_in_model_flags_a_real_heap_overflow() {
    let root = temp_dir("cnn-overflow");
    for (args, flagged) in [(vec![], false), (vec!["go"], true)] {
        let log = root.join(format!("events{}.jsonl", args.len()));
        let log_arg = log.display().to_string();
        let evidence = root.join(format!("evidence{}", args.len()));
        let evidence_arg = evidence.display().to_string();
        let wasm = fixture("heap_overflow.wasm");
        let mut cmd = vec![
            "run",
            "--attest",
            "fine",
            "--attest-log",
            &log_arg,
            "--attest-evidence",
            &evidence_arg,
            &wasm,
        ];
        cmd.extend(args.iter().copied());
        let out = walmart(&cmd);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let logged = std::fs::read_to_string(&log).unwrap();
        let cnn: Vec<serde_json::Value> = logged
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|e: &serde_json::Value| e["kind"] == "cnn")
            .collect();
        assert_eq!(!cnn.is_empty(), flagged, "{args:?}: {logged}");
        // Each flagged page's bytes are kept, named by its event, and the
        // model scores the kept page as it scored it in the run.
        // A page flagged again with the same bytes names the same file.
        let files: std::collections::BTreeSet<String> = cnn
            .iter()
            .flat_map(|e| {
                let kept = e["evidence"].as_array().unwrap();
                assert_eq!(kept.len(), e["pages"].as_array().unwrap().len(), "{e}");
                kept.iter().map(|f| f.as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(
            std::fs::read_dir(&evidence).unwrap().count(),
            files.len(),
            "{logged}"
        );
        let mut filler = false;
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert_eq!(bytes.len(), 4096, "{f}");
            filler |= bytes.windows(32).any(|w| w.iter().all(|&b| b == b'A'));
            let out = walmart(&["attest", "score", "default", f]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert!(
                text(&out.stdout).contains("flagged"),
                "{}",
                text(&out.stdout)
            );
        }
        assert_eq!(filler, flagged, "the overflow's `A`s are in the evidence");
    }
    // A file that is not one page is a one-line error naming it.
    let short = root.join("short.page");
    std::fs::write(&short, b"not a page").unwrap();
    let out = walmart(&["attest", "score", "default", short.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("short.page: 10 bytes, expected a page of 4096"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // Synchronous hooks stop the guest at the first hook after the write.
    let out = walmart(&[
        "run",
        "--attest",
        "fine",
        "--attest-sync",
        "--on-detect",
        "trap",
        &fixture("heap_overflow.wasm"),
        "go",
    ]);
    assert_eq!(out.status.code(), Some(86), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&root).unwrap();
}

/// `collect` records a page as the CNN judges it at run time: the blocks
/// that still hold what the module's data segments shipped are zeroed, so
/// a model trains on what it will be shown. Here a page shipped whole as
/// `Q`s, of which the program writes one byte.
#[test]
fn attest_collect_records_pages_without_the_blocks_the_module_shipped() {
    use walmart::attest::dataset::Dataset;
    let dir = temp_dir("collect-shipped");
    let wat = dir.join("m.wat");
    std::fs::write(
        &wat,
        format!(
            r#"(module (memory (export "memory") 2)
                (data (i32.const 69632) "{}")
                (func (export "_start") (i32.store8 (i32.const 69632) (i32.const 7))))"#,
            "Q".repeat(4096)
        ),
    )
    .unwrap();
    let ds = dir.join("m.wds");
    let out = walmart(&[
        "attest",
        "collect",
        wat.to_str().unwrap(),
        "--policy",
        "fine",
        "--out",
        ds.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let d = Dataset::load(&ds).unwrap();
    let page: Vec<_> = d.records.iter().filter(|r| r.page == 17).collect();
    assert!(!page.is_empty(), "page 17 recorded");
    let zeroed = |bytes: &[u8], block: usize| bytes[block * 128..][..128].iter().all(|&b| b == 0);
    for r in &page {
        assert!(
            (1..32).all(|b| zeroed(&r.bytes, b)),
            "shipped blocks zeroed"
        );
    }
    // The block the program wrote is judged whole.
    assert!(
        page.iter()
            .any(|r| r.bytes[0] == 7 && r.bytes[1..128].iter().all(|&b| b == b'Q')),
        "the written block kept"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The same collection writes the same dataset, byte for byte: what a
/// program reads of the clock and the random source, and the slack marks
/// past its allocations, are drawn from the seed. Another seed draws
/// other bytes, so the pages do hold them.
#[test]
fn attest_collect_is_the_same_byte_for_byte_when_run_again() {
    let dir = temp_dir("collect-again");
    let wat = dir.join("m.wat");
    std::fs::write(
        &wat,
        r#"(module
            (import "wasi_snapshot_preview1" "clock_time_get"
              (func $clock (param i32 i64 i32) (result i32)))
            (import "wasi_snapshot_preview1" "random_get"
              (func $random (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "poll_oneoff"
              (func $poll (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 2)
            (func (export "_start")
              (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 4096)))
              ;; Sleep a minute on the monotonic clock: virtual time passes
              ;; it at once.
              (i32.store8 (i32.const 8200) (i32.const 0))
              (i32.store (i32.const 8208) (i32.const 1))
              (i64.store (i32.const 8216) (i64.const 60000000000))
              (drop (call $poll (i32.const 8192) (i32.const 8256) (i32.const 1) (i32.const 8300)))
              (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 4104)))
              (drop (call $random (i32.const 4112) (i32.const 64)))))"#,
    )
    .unwrap();
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::write(inputs.join("a.txt"), "one two three four ".repeat(300)).unwrap();
    // `coarse` snapshots at every boundary, `fine --sync` at every hook
    // after a write: both at points the program's run fixes. (`fine`
    // without `--sync` snapshots at the verifier's pace, by the clock.)
    let collect = |app: &str, policy: &str, seed: &str, out: &str| {
        let ds = dir.join(out);
        let mut args = vec![
            "attest",
            "collect",
            app,
            "--inputs",
            inputs.to_str().unwrap(),
            "--policy",
            policy,
            "--inject",
            "heap-overflow,use-after-free",
            "--seed",
            seed,
            "--out",
            ds.to_str().unwrap(),
        ];
        if policy == "fine" {
            args.push("--sync");
        }
        let out = walmart(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::read(ds).unwrap()
    };
    // The pages' bytes alone (the file also names the seed).
    let pages = |out: &str| -> Vec<Vec<u8>> {
        walmart::attest::dataset::Dataset::load(&dir.join(out))
            .unwrap()
            .records
            .into_iter()
            .map(|r| r.bytes)
            .collect()
    };
    let wat = wat.to_str().unwrap();
    let lz = fixture("lz.wasm");
    for (app, policy) in [
        (wat, "fine"),
        (lz.as_str(), "coarse"),
        (lz.as_str(), "fine"),
    ] {
        let began = std::time::Instant::now();
        let first = collect(app, policy, "3", "first.wds");
        assert!(
            began.elapsed() < std::time::Duration::from_secs(30),
            "a virtual minute's sleep took real time"
        );
        let again = collect(app, policy, "3", "again.wds");
        assert!(first == again, "{app} under {policy}: the datasets differ");
        if app == wat {
            // After the minute's sleep the monotonic clock reads past it.
            let page = pages("first.wds")
                .into_iter()
                .find(|p| p[8..16] != [0; 8])
                .expect("the clock's page recorded");
            let monotonic = u64::from_le_bytes(page[8..16].try_into().unwrap());
            assert!(monotonic >= 60_000_000_000, "{monotonic}");
            collect(app, policy, "4", "other.wds");
            assert!(
                pages("first.wds") != pages("other.wds"),
                "another seed, other bytes"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn attest_collect_with_tags_labels_pages_real_violations_wrote() {
    let dir = temp_dir("collect-tags");
    let collect = |case: &str| {
        let ds = dir.join(format!("{case}.wds"));
        let out = walmart(&[
            "attest",
            "collect",
            &fixture("tag_violations.wasm"),
            "--policy",
            "tags",
            "--out",
            ds.to_str().unwrap(),
            "--args",
            case,
        ]);
        assert!(out.status.success(), "{case}: {}", text(&out.stderr));
        text(&out.stderr)
    };
    // (case, label its writes get, whether it writes out of bounds)
    for (case, label, writes) in [
        ("benign", None, 0),
        ("overflow-1", Some("heap-overflow"), 1),
        ("overflow-many", Some("heap-overflow"), 1),
        ("underflow", Some("heap-overflow"), 1),
        ("uaf-write", Some("use-after-free"), 1),
        // Reads corrupt nothing; refused frees touch no memory.
        ("uaf-read", None, 0),
        ("double-free", None, 0),
    ] {
        let err = collect(case);
        let seen: usize = err
            .split("walmart: ")
            .find_map(|l| l.strip_suffix(" violating write(s) seen by the tag monitor\n"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{case}: {err}"));
        // A memset is several stores, each one violating write.
        assert_eq!(seen > 0, writes > 0, "{case}: {err}");
        for l in [
            "heap-overflow",
            "use-after-free",
            "stack-smash",
            "host-tamper",
        ] {
            assert_eq!(
                err.contains(&format!("{l} ")),
                Some(l) == label,
                "{case}: {err}"
            );
        }
        assert!(err.contains("benign "), "{case}: {err}");
    }
    // Injections pick their chunks from the monitor's heap.
    let ds = dir.join("inject.wds");
    let out = walmart(&[
        "attest",
        "collect",
        &fixture("wordindex.wasm"),
        "--policy",
        "tags",
        "--inject",
        "heap-overflow,use-after-free",
        "--rate",
        "2",
        "--out",
        ds.to_str().unwrap(),
    ]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("heap-overflow ") && err.contains("0 violating write(s)"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Without `--attest-log`, each detection is still one line on standard
/// error, saying what, which check, where and the detail; under
/// `--on-detect trap` the stop points at it.
#[test]
fn run_shows_detections_on_stderr() {
    let wasm = fixture("tag_violations.wasm");
    let out = walmart(&[
        "run",
        "--attest",
        "coarse",
        "--model",
        "none",
        &wasm,
        "double-free",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let shown: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("walmart: detection: "))
        .collect();
    assert_eq!(shown.len(), 1, "{err}");
    assert!(
        shown[0].contains("heap-corrupt (free-check) at the FunctionEntry hook of `dlfree`")
            && shown[0].contains("is not in use"),
        "{}",
        shown[0]
    );
    let out = walmart(&[
        "run",
        "--attest",
        "fine",
        "--model",
        "none",
        "--on-detect",
        "trap",
        &wasm,
        "double-free",
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("walmart: detection: heap-corrupt (free-check)"),
        "{err}"
    );
    assert!(
        err.contains("stopped by --on-detect trap: the detection is above"),
        "{err}"
    );
    // A benign run shows none.
    let out = walmart(&[
        "run", "--attest", "coarse", "--model", "none", &wasm, "benign",
    ]);
    assert!(
        !text(&out.stderr).contains("walmart: detection:"),
        "{}",
        text(&out.stderr)
    );
}

/// Every allocator function used correctly, at random (`heap_stress.c`:
/// `realloc` growing into a chunk's slack in place among them, the path
/// that keeps a head and with it the marks of the request before): the
/// exact heap checks find nothing under `coarse`, `fine` (its slack
/// marks) and `fine --attest-sync` (their stores seen by the store
/// barrier, or the digest audit reports the host), and the program's
/// output is the one it prints without attestation.
#[test]
fn correct_use_of_every_allocator_function_is_clean() {
    let wasm = fixture("heap_stress.wasm");
    let plain = walmart(&["run", &wasm, "20000"]);
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    for flags in [
        &["--attest", "coarse"][..],
        &["--attest", "fine"],
        &["--attest", "fine", "--attest-sync"],
    ] {
        let mut args = vec!["run", "--model", "none"];
        args.extend(flags);
        args.extend([wasm.as_str(), "20000"]);
        let out = walmart(&args);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{flags:?}: {err}");
        assert!(!err.contains("walmart: detection"), "{flags:?}: {err}");
        assert!(err.contains("detections 0"), "{flags:?}: {err}");
        // The generated free check called the runtime for nothing: a
        // disagreement with the runtime's reading (a cost per free).
        assert!(!err.contains("free checks unconfirmed"), "{flags:?}: {err}");
        assert_eq!(out.stdout, plain.stdout, "{flags:?}");
    }
}

/// A use after free over a freed chunk's links is found at the entry of
/// the `malloc` that would unlink the chunk by writing through them
/// (wasi-libc's dlmalloc does not check them first), before the write:
/// a small chunk's bin by the generated check and the walk it asks for,
/// a large chunk's tree by the runtime's walk of dlmalloc's search.
/// Without attestation the same program writes into its static
/// (`tree-fd`) or traps (`fd`, `wild`); stopped at the detection, it
/// prints nothing. Named and stripped, `coarse` and `fine`.
#[test]
fn malloc_finds_links_written_over_before_it_unlinks_through_them() {
    let root = temp_dir("heap-unlink");
    let (named, stripped) = named_and_stripped(&root, "heap_unlink.wasm");
    let plain = walmart(&["run", &named, "tree-fd"]);
    assert!(
        text(&plain.stdout).starts_with("tree-fd: target ")
            && !text(&plain.stdout).contains("target 1 2 3 4"),
        "{}",
        text(&plain.stdout)
    );
    let log = root.join("events.jsonl");
    for wasm in [&named, &stripped] {
        for policy in ["coarse", "fine"] {
            for (case, source, says) in [
                ("benign", None, ""),
                ("tree-benign", None, ""),
                (
                    "fd",
                    Some("heap-walk"),
                    "the chunk is free (48 bytes) but not in a free list",
                ),
                ("wild", Some("heap-walk"), "(fd 0x41414141, "),
                (
                    "second",
                    Some("heap-walk"),
                    "the chunk is free (48 bytes) but not in a free list",
                ),
                (
                    "tree-fd",
                    Some("malloc-check"),
                    "not in its ring of same-sized chunks",
                ),
                (
                    "tree-index",
                    Some("malloc-check"),
                    "filed under tree bin 3 where",
                ),
            ] {
                let (out, events) = trapping_run(policy, wasm, case, &log);
                let what = format!("{wasm} {policy} {case}: {}", text(&out.stderr));
                let Some(source) = source else {
                    assert!(out.status.success() && events.is_empty(), "{what}");
                    assert_eq!(text(&out.stdout), format!("{case}: target 1 2 3 4\n"));
                    continue;
                };
                assert!(!out.status.success(), "{what}");
                assert_eq!(text(&out.stdout), "", "{what}");
                assert_eq!(events.len(), 1, "{what}: {events:?}");
                let e = &events[0];
                assert_eq!(e["source"], source, "{what}");
                assert_eq!(e["hook"]["kind"], "function-entry", "{what}");
                if wasm == &named {
                    assert_eq!(e["hook"]["name"], "dlmalloc", "{what}");
                }
                let detail = e["detail"].as_str().unwrap();
                assert!(detail.contains(says), "{what}: {detail}");
            }
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Writes into the top chunk's free bytes that skip its head (a bit set
/// past the end of the last allocation, a byte written through a pointer
/// to the last allocation after `free` merged it into the top) are found
/// at the next allocator entry, from the copy the allocator's last return
/// took; allocations carved from the top, freed back into it, grown into
/// it by `realloc`, `calloc`'d and aligned leave nothing to find. Without
/// attestation the writes go unnoticed and the program prints its line;
/// stopped at the detection, it prints nothing. Named and stripped,
/// `coarse` and `fine`.
#[test]
fn writes_into_the_top_chunks_free_bytes_are_found_at_the_next_allocator_entry() {
    let root = temp_dir("heap-top");
    let (named, stripped) = named_and_stripped(&root, "heap_top.wasm");
    let log = root.join("events.jsonl");
    for case in ["index", "stale"] {
        let plain = walmart(&["run", &named, case]);
        assert!(
            plain.status.success() && text(&plain.stdout).starts_with(&format!("{case}: ")),
            "{case}: {}",
            text(&plain.stderr)
        );
    }
    for wasm in [&named, &stripped] {
        for policy in ["coarse", "fine"] {
            for (case, says) in [
                ("benign", None),
                ("index", Some("byte 31 of the top chunk (free, ")),
                ("stale", Some("byte 18 of the top chunk (free, ")),
            ] {
                let (out, events) = trapping_run(policy, wasm, case, &log);
                let what = format!("{wasm} {policy} {case}: {}", text(&out.stderr));
                let Some(says) = says else {
                    assert!(out.status.success() && events.is_empty(), "{what}");
                    assert!(text(&out.stdout).starts_with("benign: "), "{what}");
                    continue;
                };
                assert!(!out.status.success(), "{what}");
                assert_eq!(text(&out.stdout), "", "{what}");
                assert_eq!(events.len(), 1, "{what}: {events:?}");
                let e = &events[0];
                assert_eq!(e["source"], "heap-walk", "{what}");
                assert_eq!(e["hook"]["kind"], "function-entry", "{what}");
                if wasm == &named {
                    assert_eq!(e["hook"]["name"], "dlmalloc", "{what}");
                }
                let detail = e["detail"].as_str().unwrap();
                assert!(
                    detail.starts_with("the allocator's free top chunk was written into at 0x")
                        && detail.contains(says),
                    "{what}: {detail}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// The heap walk on wasi-libc's own dlmalloc (no model: the exact checks
/// alone): writes over chunk headers are `heap-corrupt` events, and so
/// are writes that stay in a chunk's slack (its marks), under `coarse`
/// and `fine`; writes that land in another object's data are not, and
/// every allocator function used correctly leaves the chain intact; a
/// double free and a free of a pointer malloc never returned are reported
/// by `free`'s check.
#[test]
fn the_heap_walk_finds_writes_over_real_dlmalloc_chunk_headers() {
    let root = temp_dir("heap-walk");
    let log = root.join("events.jsonl");
    let policy = std::cell::Cell::new("coarse");
    let heap_events = |wasm: &str, args: &[&str]| -> Vec<serde_json::Value> {
        let (out, events) = heap_checked_run(policy.get(), &log, wasm, args, None);
        // dlmalloc's own read past memory traps the invalid free.
        assert_eq!(
            out.status.success(),
            args != ["invalid-free"],
            "{args:?}: {}",
            text(&out.stderr)
        );
        events
    };
    for (case, found) in [
        ("benign", None),
        // 13 bytes asked, 28 usable: the byte past stays in the chunk,
        // over the first of the slack's marks.
        (
            "overflow-1",
            Some((
                "heap-walk",
                "the first of the 15 bytes past its request holds 0x",
            )),
        ),
        ("neighbour", None),
        // 100 bytes from the request's end: over the slack's marks first.
        (
            "overflow-many",
            Some(("heap-walk", "was written past its request")),
        ),
        (
            "underflow",
            Some(("heap-walk", "chunk chain is broken at 0x")),
        ),
        // dlmalloc ignores both as usage errors; `free` reports them.
        ("double-free", Some(("free-check", "is not in use"))),
        (
            "invalid-free",
            Some(("free-check", "runs past the end of memory")),
        ),
        // q was merged into the top as it was freed: the write is into
        // the top's free bytes.
        (
            "uaf-merge",
            Some(("heap-walk", "free top chunk was written into")),
        ),
    ] {
        let events = heap_events("tag_violations.wasm", &[case]);
        assert_eq!(
            events.len(),
            usize::from(found.is_some()),
            "{case}: {events:?}"
        );
        if let Some((source, says)) = found {
            assert_eq!(events[0]["source"], source, "{case}");
            let detail = events[0]["detail"].as_str().unwrap();
            assert!(detail.contains(says), "{detail}");
        }
    }
    // Under `fine` the same.
    policy.set("fine");
    assert!(heap_events("tag_violations.wasm", &["benign"]).is_empty());
    let past = heap_events("tag_violations.wasm", &["overflow-1"]);
    assert_eq!(past.len(), 1, "{past:?}");
    assert_eq!(past[0]["source"], "heap-walk");
    let detail = past[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("the first of the 15 bytes past its request holds 0x"),
        "{detail}"
    );
    policy.set("coarse");
    assert!(heap_events("heap_overflow.wasm", &[]).is_empty());
    assert_eq!(heap_events("heap_overflow.wasm", &["go"]).len(), 1);
    // A heap of two segments: the second, which holds the top, is walked
    // too.
    assert!(heap_events("heap_segments.wasm", &[]).is_empty());
    let second = heap_events("heap_segments.wasm", &["go"]);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0]["source"], "heap-walk");
    // Without names: dlmalloc told by its code, `free` by its signature.
    let stripped = root.join("stripped.wasm");
    let named = std::fs::read(fixture("tag_violations.wasm")).unwrap();
    std::fs::write(&stripped, common::without_names(&named)).unwrap();
    let stripped = stripped.display().to_string();
    for (case, source) in [
        ("benign", None),
        ("overflow-many", Some("heap-walk")),
        ("double-free", Some("free-check")),
    ] {
        let events = heap_events(&stripped, &[case]);
        let sources: Vec<&str> = events.iter().filter_map(|e| e["source"].as_str()).collect();
        assert_eq!(sources, Vec::from_iter(source), "{case}: {events:?}");
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// zig's wasi-libc allocates with emmalloc: its heap is walked region by
/// region and its `free` checks the region it is handed, under `coarse`
/// and `fine` alike. What emmalloc's layout leaves unseen is said: a byte
/// past a 13-byte request stays in the region's rounding, a write into
/// another allocation is no structure's.
#[test]
fn the_heap_walk_finds_writes_over_real_emmalloc_regions() {
    let root = temp_dir("emmalloc-walk");
    let log = root.join("events.jsonl");
    let log_arg = log.display().to_string();
    let run = |policy: &str, wasm: &str, args: &[&str], stdin: Option<&[u8]>| {
        heap_checked_run(policy, &log, wasm, args, stdin)
    };
    for policy in ["coarse", "fine"] {
        for (case, found) in [
            ("benign", None),
            ("overflow-1", None),
            ("neighbour", None),
            (
                "overflow-many",
                Some(("heap-walk", "a write past the end of the allocation at 0x")),
            ),
            (
                "underflow",
                Some(("heap-walk", "or over the size before it (an underflow)")),
            ),
            ("uaf-write", Some(("heap-walk", "a use after free"))),
            ("double-free", Some(("free-check", "is free already"))),
            (
                "invalid-free",
                Some(("free-check", "leads to no region inside memory")),
            ),
            // The free region q's links written over, then p freed: the
            // entry of `free` finds the neighbour it would unlink.
            (
                "uaf-merge",
                Some((
                    "free-check",
                    "emmalloc would merge it with the free region after it",
                )),
            ),
        ] {
            let (out, events) = run(policy, "tag_violations_emmalloc.wasm", &[case], None);
            let stderr = text(&out.stderr);
            // emmalloc goes on with the invalid free and reads past
            // memory, and unlinks through the links written over.
            assert_eq!(
                out.status.success(),
                !matches!(case, "invalid-free" | "uaf-merge"),
                "{case}: {stderr}"
            );
            assert!(
                !stderr.contains("exact heap checks did not run"),
                "{stderr}"
            );
            // The entry check refused nothing the runtime did not confirm.
            assert!(!stderr.contains("free checks unconfirmed"), "{stderr}");
            if case == "double-free" {
                // The second free linked the region into a bucket twice:
                // the walk finds the buckets where the data placed them.
                assert!(
                    events.iter().any(|e| e["detail"]
                        .as_str()
                        .is_some_and(|d| d.contains("free-list bucket"))),
                    "{events:?}"
                );
            }
            match found {
                None => assert!(events.is_empty(), "{policy} {case}: {events:?}"),
                Some((source, says)) => {
                    assert!(!events.is_empty(), "{policy} {case}: {stderr}");
                    assert_eq!(events[0]["source"], source, "{policy} {case}");
                    let detail = events[0]["detail"].as_str().unwrap();
                    assert!(detail.contains("emmalloc"), "{detail}");
                    assert!(detail.contains(says), "{policy} {case}: {detail}");
                }
            }
        }
        // Every allocator function used correctly, many times over, and a
        // heap of two blocks (memory grown behind emmalloc's back).
        let readme =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
        let (out, events) = run(
            policy,
            "heap_stress_emmalloc.wasm",
            &["20000"],
            Some(&readme),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(events.is_empty(), "{policy}: {events:?}");
        let stats = text(&out.stderr);
        assert!(stat(&stats, "heap chunks checked ") > 0, "{stats}");
        let (out, events) = run(policy, "heap_segments_emmalloc.wasm", &[], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(events.is_empty(), "{policy}: {events:?}");
        let (_, events) = run(policy, "heap_segments_emmalloc.wasm", &["go"], None);
        assert_eq!(events.len(), 1, "{policy}: {events:?}");
        let detail = events[0]["detail"].as_str().unwrap();
        assert!(
            detail.contains("a write past the end of the allocation"),
            "{detail}"
        );
    }
    // A freed region's links written over, then an allocation of its
    // size: the entry of `malloc` finds the bucket it takes from wrong
    // before emmalloc unlinks the region through them (`second`: at the
    // second allocation, which takes the region whose `next` was written;
    // `tree-index` writes past the links, where no check looks).
    for (case, found) in [
        ("benign", false),
        ("fd", true),
        ("wild", true),
        ("second", true),
        ("tree-benign", false),
        ("tree-fd", true),
        ("tree-index", false),
    ] {
        let (out, events) = run("coarse", "heap_unlink_emmalloc.wasm", &[case], None);
        let stderr = text(&out.stderr);
        assert_eq!(events.len(), usize::from(found), "{case}: {events:?}");
        if found {
            assert_eq!(events[0]["source"], "heap-walk", "{case}");
            assert!(
                events[0]["detail"]
                    .as_str()
                    .unwrap()
                    .contains("a use after free"),
                "{case}: {events:?}"
            );
            assert!(
                events[0]["hook"]["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("malloc") || n.contains("emmalloc_memalign")),
                "{case}: {events:?}"
            );
        } else {
            assert!(out.status.success(), "{case}: {stderr}");
        }
    }
    // Without names: emmalloc told by its buckets in the data, its `free`
    // by its code.
    let stripped = root.join("stripped.wasm");
    let named = std::fs::read(fixture("tag_violations_emmalloc.wasm")).unwrap();
    std::fs::write(&stripped, common::without_names(&named)).unwrap();
    let stripped = stripped.display().to_string();
    for (case, source) in [
        ("benign", None),
        ("overflow-many", Some("heap-walk")),
        ("double-free", Some("free-check")),
        ("uaf-merge", Some("free-check")),
    ] {
        let (out, events) = run("coarse", &stripped, &[case], None);
        let sources: Vec<&str> = events.iter().filter_map(|e| e["source"].as_str()).collect();
        assert_eq!(sources.first().copied(), source, "{case}: {events:?}");
        assert!(
            !text(&out.stderr).contains("exact heap checks did not run"),
            "{}",
            text(&out.stderr)
        );
    }
    // Under `--on-detect trap` the double free stops the guest at `free`.
    let wasm = fixture("tag_violations_emmalloc.wasm");
    let out = walmart(&[
        "run",
        "--attest",
        "coarse",
        "--model",
        "none",
        "--on-detect",
        "trap",
        &wasm,
        "double-free",
    ]);
    assert_eq!(out.status.code(), Some(86), "{}", text(&out.stderr));
    // Without the heap checks, nothing.
    let _ = std::fs::remove_file(&log);
    let out = walmart(&[
        "run",
        "--attest",
        "coarse",
        "--model",
        "none",
        "--no-heap-check",
        "--attest-log",
        &log_arg,
        &wasm,
        "double-free",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !logged_events(&log)
            .iter()
            .any(|e| e["kind"] == "heap-corrupt"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// Under `coarse` and `fine` a frame of clang's shape has 16 zero bytes
/// above it, checked as its function returns: a buffer that runs out of
/// its frame is a `stack-smash` event naming the function and the bytes
/// written, reported once; a buffer filled to its end is not, and without
/// the guards (`--no-stack-guards`) the overflow goes unseen. The
/// program's output is its own either way.
#[test]
fn stack_guards_find_a_buffer_that_runs_out_of_its_frame() {
    let root = temp_dir("stack-guard");
    let log = root.join("events.jsonl");
    let log_arg = log.display().to_string();
    let wasm = fixture("tag_violations.wasm");
    let run = |policy: &str, case: &str, extra: &[&str]| {
        let _ = std::fs::remove_file(&log);
        let mut args = vec!["run", "--attest", policy, "--model", "none", "--attest-log"];
        args.extend([log_arg.as_str()]);
        args.extend(extra.iter().copied());
        args.extend([wasm.as_str(), case]);
        let out = walmart(&args);
        assert!(
            out.status.success(),
            "{policy} {case}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), format!("x=120\ndone {case}\n"));
        logged_events(&log)
            .into_iter()
            .filter(|e| e["kind"] == "stack-smash")
            .collect::<Vec<_>>()
    };
    for policy in ["coarse", "fine"] {
        let found = run(policy, "stack-frame", &[]);
        assert_eq!(found.len(), 1, "{policy}: {found:?}");
        let e = &found[0];
        assert_eq!(e["source"], "stack-guard");
        assert_eq!(e["hook"]["kind"], "function-return", "{policy}");
        assert_eq!(e["hook"]["name"], "overflow_frame", "{policy}");
        let detail = e["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("the guard above the stack frame of `overflow_frame` at 0x")
                && detail.ends_with(": 78 78 78 78 00 00 00 00 00 00 00 00 00 00 00 00"),
            "{policy}: {detail}"
        );
        assert!(run(policy, "stack-frame-fits", &[]).is_empty(), "{policy}");
        assert!(
            run(policy, "stack-frame", &["--no-stack-guards"]).is_empty(),
            "{policy}"
        );
    }
    // `--on-detect trap`: the guest stops as `overflow_frame` returns,
    // before it prints.
    let out = walmart(&[
        "run",
        "--attest",
        "fine",
        "--model",
        "none",
        "--on-detect",
        "trap",
        &wasm,
        "stack-frame",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("stack-smash"),
        "{}",
        text(&out.stderr)
    );
    let out = walmart(&["run", "--no-stack-guards", &wasm, "stack-frame"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--no-stack-guards needs --attest coarse, fine or tags"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_wasi_threads_program_runs_its_threads_on_one_memory() {
    let wat = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wat/wasi_threads.wat")
        .display()
        .to_string();
    // Four threads count to 40,000 on the shared memory, each printing
    // through the one WASI context, while `_start` waits for them.
    for _ in 0..5 {
        let out = walmart(&["run", &wat]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert_eq!(stdout.matches("a thread is done\n").count(), 4, "{stdout}");
        assert!(stdout.ends_with("total 40000\n"), "{stdout}");
    }
    // A thread that traps ends the process, and says which thread.
    let out = walmart(&["run", &wat, "trap"]);
    assert_eq!(out.status.code(), Some(134));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: thread ") && stderr.contains("unreachable"),
        "{stderr}"
    );
    // One that calls proc_exit ends it with that status.
    let out = walmart(&["run", &wat, "exit"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    // Threads that spin for ever are stopped by the run's bounds, which
    // they inherit (`_start` waits for them without a timeout).
    for (bound, message) in [
        ("timeout=300ms", "interrupt"),
        ("fuel=5000000", "all fuel consumed by WebAssembly"),
    ] {
        let child = Command::new(env!("CARGO_BIN_EXE_walmart"))
            .args(["run", "-W", bound, &wat, "spin"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = finished_within(child, std::time::Duration::from_secs(60));
        assert_eq!(
            out.status.code(),
            Some(134),
            "{bound}: {}",
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("error: thread ") && stderr.contains(message),
            "{bound}: {stderr}"
        );
    }
    // Attestation follows one store's writes: refused, with the reason.
    let out = walmart(&["run", "--attest", "coarse", &wat]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot be attested"),
        "{}",
        text(&out.stderr)
    );
    // Without the threads proposal the module does not compile.
    let out = walmart(&["run", "-W", "threads=n", &wat]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("threads"),
        "{}",
        text(&out.stderr)
    );
}

/// Waits for `child` at most `limit`; kills it and fails if it runs on.
fn finished_within(mut child: std::process::Child, limit: std::time::Duration) -> Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_thread_blocked_in_a_read_holds_up_no_other_thread() {
    use std::process::Stdio;
    let wat = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wat/wasi_threads_blocking.wat")
        .display()
        .to_string();
    // Standard input stays open and empty: the thread's read never
    // returns, and `_start` must sleep, print and exit regardless.
    let mut child = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", &wat])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let out = finished_within(child, std::time::Duration::from_secs(20));
    drop(stdin);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "main is not held up\n");

    // A thread's trap ends the process even where its message cannot be
    // written (standard error closed).
    let trapping = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wat/wasi_threads.wat")
        .display()
        .to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", &trapping, "trap"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let out = finished_within(child, std::time::Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(134));
}

#[test]
fn precompiled_modules_run_as_the_binary_does() {
    let dir = temp_dir("precompiled");
    let hello = dir.join("hello.wasm");
    std::fs::copy(fixture("hello.wasm"), &hello).unwrap();
    // The output is named after the input by default.
    let out = walmart(&["compile", hello.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cwasm = dir.join("hello.cwasm");
    let cwasm = cwasm.to_str().unwrap();
    let run = |extra: &[&str], wasm: &str| {
        let mut args = vec!["run", "--env", "GREETING=hi"];
        args.extend_from_slice(extra);
        args.extend([wasm, "7", "two words"]);
        walmart(&args)
    };
    let expected = run(&[], hello.to_str().unwrap());
    let got = run(&["--allow-precompiled"], cwasm);
    assert_eq!(got.status.code(), Some(7), "{}", text(&got.stderr));
    assert_eq!(got.stdout, expected.stdout);
    assert_eq!(got.stderr, expected.stderr);

    // Refused without the flag, and under other settings, in one line.
    for (extra, says) in [
        (&[][..], "pass --allow-precompiled"),
        (
            &["--allow-precompiled", "--attest", "fine"][..],
            "compiled for another attestation policy (the policy, `--attest` or \
             `Config::attest`, and its code options must be the compile's): `attest:",
        ),
        (
            &["--allow-precompiled", "-W", "fuel=1000000"][..],
            "`consume_fuel: false`, where this engine has `consume_fuel: true`",
        ),
    ] {
        let out = run(extra, cwasm);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says) && err.lines().count() == 1, "{err}");
    }
    // `walmart compile FLAGS -o dir/NAME hello.wasm`: the output's path.
    let compile = |flags: &[&str], name: &str| {
        let out_path = dir.join(name);
        let mut args = vec!["compile"];
        args.extend_from_slice(flags);
        args.extend(["-o", out_path.to_str().unwrap(), hello.to_str().unwrap()]);
        let out = walmart(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        out_path
    };
    // Compiled with the run's settings, it runs under them.
    let fuelled = compile(&["-W", "fuel=1"], "fuelled.cwasm");
    let out = run(
        &["--allow-precompiled", "-W", "fuel=100000000"],
        fuelled.to_str().unwrap(),
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let out = run(
        &["--allow-precompiled", "-W", "fuel=50"],
        fuelled.to_str().unwrap(),
    );
    assert!(
        text(&out.stderr).contains("all fuel consumed"),
        "{}",
        text(&out.stderr)
    );

    // Another optimisation level is another compilation.
    let unoptimised = compile(&["-O", "opt-level=0"], "o0.cwasm");
    let out = run(&["--allow-precompiled"], unoptimised.to_str().unwrap());
    assert!(
        text(&out.stderr).contains("opt_level"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &["--allow-precompiled", "-O", "opt-level=0"],
        unoptimised.to_str().unwrap(),
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(out.stdout, expected.stdout);

    // Compiling over an existing output renames a new file over it (a
    // process running the old one maps it), leaving no temporary file;
    // a path that is not a regular file is written as it is.
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let inode = |p: &Path| std::fs::metadata(p).unwrap().ino();
    let before = inode(&unoptimised);
    let again = compile(&["-O", "opt-level=0"], "o0.cwasm");
    assert_ne!(inode(&again), before);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A killed compile's temporary file goes at the next compile of the
    // same output; a running one's, and names of other shapes, stay.
    let dead = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        child.wait().unwrap();
        child.id()
    };
    let abandoned = dir.join(format!(".o0.cwasm.{dead}-12345.tmp"));
    let running = dir.join(format!(".o0.cwasm.{}-12345.tmp", std::process::id()));
    // Younger than an hour: perhaps another machine's compile, writing.
    let young = dir.join(format!(".o0.cwasm.{dead}-23456.tmp"));
    let others = [
        dir.join(".o0.cwasm.notes.tmp"),
        dir.join(format!("o0.cwasm.{dead}-1.tmp")),
        young,
    ];
    for f in others.iter().chain([&abandoned, &running]) {
        std::fs::write(f, b"partial").unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for f in others[..2].iter().chain([&abandoned, &running]) {
        let file = std::fs::File::options().write(true).open(f).unwrap();
        file.set_modified(two_hours_ago).unwrap();
    }
    compile(&["-O", "opt-level=0"], "o0.cwasm");
    assert!(!abandoned.exists());
    assert!(running.exists() && others.iter().all(|f| f.exists()));
    for f in others.iter().chain([&running]) {
        std::fs::remove_file(f).unwrap();
    }
    // An output name as long as a name may be: the temporary's is cut.
    let long = format!("{}.cwasm", "n".repeat(249));
    let out = compile(&["-O", "opt-level=0"], &long);
    assert!(out.exists());
    std::fs::remove_file(out).unwrap();
    let out = walmart(&["compile", "-o", "/dev/null", hello.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // A symbolic link is followed, and stays a link.
    let (link, target) = (dir.join("link.cwasm"), dir.join("target.cwasm"));
    std::fs::write(&target, b"old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let target_before = inode(&target);
    let out = walmart(&[
        "compile",
        "-O",
        "opt-level=0",
        "-o",
        link.to_str().unwrap(),
        hello.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // The file it names was replaced (renamed over), not written into.
    assert_ne!(inode(&target), target_before);
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(&again).unwrap()
    );

    // Modules read from a pipe (`/dev/stdin`): a binary, compiled or
    // through the cache, and a precompiled one.
    let cache_dir = dir.join("cache");
    for (input, extra) in [
        (hello.clone(), vec![]),
        (
            hello.clone(),
            vec!["--cache-dir", cache_dir.to_str().unwrap()],
        ),
        (
            again.clone(),
            vec!["--allow-precompiled", "-O", "opt-level=0"],
        ),
    ] {
        let mut args = vec!["run", "--env", "GREETING=hi"];
        args.extend(extra.iter().copied());
        args.extend(["/dev/stdin", "7", "two words"]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_walmart"))
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let bytes = std::fs::read(&input).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&bytes);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(
            out.status.code(),
            Some(7),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(out.stdout, expected.stdout, "{args:?}");
    }

    // Bad input to `compile`.
    for (args, says) in [
        (vec!["compile", cwasm], "already a precompiled module"),
        (
            vec!["compile", "/nonexistent/x.wasm"],
            "cannot read /nonexistent/x.wasm",
        ),
        (vec!["compile", &fixture("hello.c")], "hello.c"),
        (
            vec!["compile", "--attest-sync", hello.to_str().unwrap()],
            "need --attest coarse or fine",
        ),
        (
            vec!["compile", "-O", "opt-level=3", hello.to_str().unwrap()],
            "expected opt-level=0, 1, 2 or s",
        ),
    ] {
        let out = walmart(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(says) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn precompiled_code_keeps_its_attestation() {
    let dir = temp_dir("precompiled-attest");
    // (policy, fixture, argument, whether it is detected)
    for (policy, name, case, detected) in [
        ("tags", "tag_violations.wasm", "overflow-1", true),
        ("tags", "tag_violations.wasm", "benign", false),
        ("coarse", "heap_overflow.wasm", "go", true),
        ("fine", "tag_violations.wasm", "overflow-1", true),
        ("fine", "tag_violations.wasm", "benign", false),
    ] {
        let cwasm = dir.join(format!("{policy}-{name}.cwasm"));
        let cwasm = cwasm.to_str().unwrap();
        let out = walmart(&["compile", "--attest", policy, "-o", cwasm, &fixture(name)]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let log = dir.join("log.jsonl");
        let run = |extra: &[&str], wasm: &str| {
            let _ = std::fs::remove_file(&log);
            let mut args = vec!["run", "--attest", policy, "--on-detect", "trap"];
            if policy != "tags" {
                args.extend(["--model", "none"]);
            }
            args.extend(["--attest-log", log.to_str().unwrap()]);
            args.extend_from_slice(extra);
            args.extend([wasm, case]);
            let out = walmart(&args);
            let sources: Vec<String> = logged_events(&log)
                .iter()
                .filter(|e| e["kind"] != "summary")
                .map(|e| format!("{} {}", e["kind"], e["source"]))
                .collect();
            (out.status.code(), out.stdout, sources)
        };
        let expected = run(&[], &fixture(name));
        assert_eq!(
            !expected.2.is_empty(),
            detected,
            "{policy} {name} {case}: {expected:?}"
        );
        let got = run(&["--allow-precompiled"], cwasm);
        // The same detections, and a detected run fails (`--on-detect
        // trap`), whether its verdict came before the guest's end or at it.
        assert_eq!(
            (got.0, &got.2),
            (expected.0, &expected.2),
            "{policy} {name} {case}"
        );
        assert_eq!(expected.0, Some(if detected { 86 } else { 0 }));
        // Under `coarse` and `fine` the walks as control leaves the module
        // are paced, so whether the guest is stopped before it prints
        // varies from run to run, binary or precompiled alike; the tag
        // monitor stops it at the violating access.
        if policy == "tags" {
            assert_eq!(got.1, expected.1, "{policy} {name} {case}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_imports_can_trap_or_return_defaults() {
    let dir = temp_dir("unknown-imports");
    let wat = dir.join("imports.wat");
    std::fs::write(
        &wat,
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
            (import "env" "answer" (func $answer (result i32)))
            (func (export "run") (result i32) (call $answer))
            (func (export "quiet") (result i32) (i32.const 3)))"#,
    )
    .unwrap();
    let wat = wat.to_str().unwrap();
    let out = walmart(&["run", "--invoke", "quiet", wat]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unknown import: env::answer"));
    // Trapping: the module runs until it calls the missing function.
    let out = walmart(&["run", "--trap-unknown-imports", "--invoke", "quiet", wat]);
    assert_eq!(text(&out.stdout), "3\n", "{}", text(&out.stderr));
    let out = walmart(&["run", "--trap-unknown-imports", "--invoke", "run", wat]);
    assert_eq!(out.status.code(), Some(134));
    assert!(
        text(&out.stderr).contains("unknown import `env::answer` called"),
        "{}",
        text(&out.stderr)
    );
    let out = walmart(&[
        "run",
        "--default-values-unknown-imports",
        "--invoke",
        "run",
        wat,
    ]);
    assert_eq!(text(&out.stdout), "0\n", "{}", text(&out.stderr));
    let out = walmart(&[
        "run",
        "--trap-unknown-imports",
        "--default-values-unknown-imports",
        wat,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--on-detect trap`: a detection fails the run with 86 once, whether
/// the guest was stopped at it (the tag monitor: one error line, not a
/// second one from the run's end) or ended first, with a status of its
/// own (the heap check: the guest exits 3 with dlmalloc's chain broken).
#[test]
fn a_detection_fails_the_run_once_whatever_the_guest_exits_with() {
    let out = walmart(&[
        "run",
        "--attest",
        "tags",
        "--on-detect",
        "trap",
        &fixture("tag_violations.wasm"),
        "overflow-1",
    ]);
    assert_eq!(out.status.code(), Some(86));
    let err = text(&out.stderr);
    assert_eq!(err.matches("error:").count(), 1, "{err}");

    let dir = temp_dir("exit-after-smash");
    let wat = dir.join("exit3.wat");
    std::fs::write(
        &wat,
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (data (i32.const 0x1004) "\23\00\00\00")
            (data (i32.const 0x1024) "\33\00\00\00")
            (data (i32.const 0x1054) "\01\01\00\00")
            (data (i32.const 0x1154) "\38\00\00\00")
            (func $dlmalloc (param i32) (result i32)
                (select (i32.const 0x1008) (i32.const 0x1028)
                    (i32.le_u (local.get 0) (i32.const 24))))
            (func (export "_start")
                (drop (call $dlmalloc (i32.const 40)))
                (drop (call $dlmalloc (i32.const 20)))
                (i32.store8 (i32.const 0x1024) (i32.const 0))
                (call $exit (i32.const 3))))"#,
    )
    .unwrap();
    for _ in 0..3 {
        let out = walmart(&[
            "run",
            "--attest",
            "coarse",
            "--model",
            "none",
            "--on-detect",
            "trap",
            wat.to_str().unwrap(),
        ]);
        let err = text(&out.stderr);
        assert!(err.contains("heap-corrupt"), "{err}");
        assert_eq!(out.status.code(), Some(86), "{err}");
    }
    // Logged only, the guest's status stands.
    let out = walmart(&[
        "run",
        "--attest",
        "coarse",
        "--model",
        "none",
        wat.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_with_a_cache_compiles_once() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("run-cache");
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().unwrap();
    let run = || walmart(&["run", "--cache-dir", cache_arg, &fixture("hello.wasm"), "7"]);
    let first = run();
    let second = run();
    assert_eq!(first.status.code(), Some(7), "{}", text(&first.stderr));
    assert_eq!(
        (second.status.code(), &second.stdout),
        (Some(7), &first.stdout)
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    // Under other settings, an entry of their own.
    let out = walmart(&[
        "run",
        "--cache-dir",
        cache_arg,
        "-W",
        "fuel=100000000",
        &fixture("hello.wasm"),
        "7",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);
    // `--cache` finds its directory in the environment.
    let env_cache = dir.join("env-cache");
    let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", "--cache", &fixture("hello.wasm")])
        .env("WALMART_CACHE_DIR", &env_cache)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_dir(&env_cache).unwrap().count(), 1);
    // A size limit one entry fills: saving another evicts the first.
    let limited = |limit: &str, extra: &[&str]| {
        let mut args = vec!["run", "--cache-dir", cache_arg, "--cache-size-limit", limit];
        args.extend_from_slice(extra);
        args.extend([fixture("hello.wasm").leak() as &str, "7"]);
        walmart(&args)
    };
    let out = limited("1K", &["-O", "opt-level=0"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    let out = limited("none", &[]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);
    let out = limited("lots", &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--cache-size-limit lots") && err.lines().count() == 1,
        "{err}"
    );
    // A directory others may write is refused, in one line.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("writable by others") && err.lines().count() == 1,
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn preloaded_modules_are_linked_by_name() {
    let dir = temp_dir("preload");
    let lib = dir.join("lib.wat");
    std::fs::write(
        &lib,
        r#"(module
            (global $ready (mut i32) (i32.const 0))
            (func (export "_initialize") (global.set $ready (i32.const 100)))
            (func (export "double") (param i32) (result i32)
                (i32.add (global.get $ready) (i32.mul (local.get 0) (i32.const 2)))))"#,
    )
    .unwrap();
    let main = dir.join("main.wat");
    std::fs::write(
        &main,
        r#"(module
            (import "lib" "double" (func $double (param i32) (result i32)))
            (func (export "run") (param i32) (result i32) (call $double (local.get 0))))"#,
    )
    .unwrap();
    let preload = format!("lib={}", lib.display());
    let main = main.to_str().unwrap();
    let out = walmart(&["run", "--preload", &preload, "--invoke", "run", main, "21"]);
    // 142: `_initialize` ran before the main module called in.
    assert_eq!(text(&out.stdout), "142\n", "{}", text(&out.stderr));
    let trapping = dir.join("trapping.wat");
    std::fs::write(
        &trapping,
        r#"(module (func (export "_initialize") unreachable))"#,
    )
    .unwrap();
    for (flag, says, status) in [
        ("lib".to_string(), "expected NAME=PATH", 1),
        (
            "lib=/nonexistent.wasm".to_string(),
            "--preload lib: cannot read /nonexistent.wasm",
            1,
        ),
        // A trap exits as the main module's would.
        (
            format!("lib={}", trapping.display()),
            "--preload lib: its _initialize failed\nerror: wasm trap: unreachable",
            134,
        ),
    ] {
        let out = walmart(&["run", "--preload", &flag, "--invoke", "run", main, "1"]);
        assert_eq!(out.status.code(), Some(status), "{flag}");
        let err = text(&out.stderr);
        assert!(err.contains(says), "{flag}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_pooling_allocator_is_chosen_with_dash_o() {
    let dir = temp_dir("pooling");
    let lib = dir.join("lib.wat");
    std::fs::write(
        &lib,
        r#"(module (memory (export "m") 1) (data (i32.const 8) "\05")
            (func (export "get") (result i32) (i32.load8_u (i32.const 8))))"#,
    )
    .unwrap();
    let main = dir.join("main.wat");
    std::fs::write(
        &main,
        r#"(module (import "lib" "get" (func $get (result i32))) (memory 2)
            (func (export "run") (param i32) (result i32)
              (i32.add (call $get) (memory.grow (local.get 0)))))"#,
    )
    .unwrap();
    let (lib, main) = (format!("lib={}", lib.display()), main.display().to_string());
    let run = |flags: &[&str], grow: &str| {
        let mut args = vec!["run", "--preload", &lib];
        args.extend_from_slice(flags);
        args.extend(["--invoke", "run", &main, grow]);
        walmart(&args)
    };
    // Two memories, from a pool of two; growth within the pool's size.
    let out = run(
        &["-O", "pooling-allocator", "-O", "pooling-total-memories=2"],
        "1",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "7\n");
    // Past the pool's size, memory.grow fails.
    let out = run(
        &[
            "-O",
            "pooling-allocator=y",
            "-O",
            "pooling-max-memory-size=192K",
        ],
        "2",
    );
    assert_eq!(text(&out.stdout), "4\n", "{}", text(&out.stderr));
    // Limits the module exceeds, and bad settings, are one-line errors.
    for (flags, says) in [
        (
            vec!["-O", "pooling-allocator", "-O", "pooling-total-memories=1"],
            "no free memory slot: all 1 are in use",
        ),
        (
            vec![
                "-O",
                "pooling-allocator",
                "-O",
                "pooling-max-memory-size=64K",
            ],
            "exceeds the pooling allocator's limit of 1 pages",
        ),
        (
            vec!["-O", "pooling-total-memories=4"],
            "need -O pooling-allocator",
        ),
        (
            vec!["-O", "pooling-allocator=maybe"],
            "expected `pooling-allocator=y`",
        ),
        (
            vec!["-O", "pooling-max-memory-size=lots"],
            "expected a number of bytes",
        ),
        (vec!["-O", "inline=y"], "unknown setting `inline`"),
    ] {
        fails_in_one_line(&run(&flags, "1"), says, &format!("{flags:?}"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_guest_serves_connections_on_a_tcplisten_socket() {
    let dir = temp_dir("tcplisten");
    let server = dir.join("echo.wat");
    // Echoes each connection until its end of stream, for two connections.
    std::fs::write(
        &server,
        r#"(module
  (import "wasi_snapshot_preview1" "sock_accept" (func $accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $setflags (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $conn i32) (local $n i32) (local $served i32)
    ;; The listener is non-blocking, as wasmtime's: this server waits in
    ;; accept instead of polling.
    (if (call $setflags (i32.const 3) (i32.const 0)) (then unreachable))
    (loop $conns
      (if (call $accept (i32.const 3) (i32.const 0) (i32.const 0)) (then unreachable))
      (local.set $conn (i32.load (i32.const 0)))
      (block $done
        (loop $io
          (i32.store (i32.const 16) (i32.const 1024))
          (i32.store (i32.const 20) (i32.const 4096))
          (if (call $recv (local.get $conn) (i32.const 16) (i32.const 1) (i32.const 0)
                (i32.const 4) (i32.const 8)) (then unreachable))
          (local.set $n (i32.load (i32.const 4)))
          (br_if $done (i32.eqz (local.get $n)))
          (i32.store (i32.const 32) (i32.const 1024))
          (i32.store (i32.const 36) (local.get $n))
          (if (call $send (local.get $conn) (i32.const 32) (i32.const 1) (i32.const 0)
                (i32.const 12)) (then unreachable))
          (br $io)))
      (drop (call $close (local.get $conn)))
      (local.set $served (i32.add (local.get $served) (i32.const 1)))
      (br_if $conns (i32.lt_u (local.get $served) (i32.const 2))))))"#,
    )
    .unwrap();
    let server = server.display().to_string();
    // The WAT echo, then wasi-libc's poll, accept, recv, send, read,
    // write and shutdown (`tests/fixtures/c/echo_server.c`).
    let c_server = fixture("echo_server.wasm");
    for (program, argv, upper) in [(&server, None, false), (&c_server, Some("2"), true)] {
        let message = [&b"ping, Pong"[..], &[b'q'; 20000]];
        let (replies, out) = serve(program, &[], argv.as_slice(), &message);
        for (reply, sent) in replies.iter().zip(message) {
            let expected = if upper {
                sent.to_ascii_uppercase()
            } else {
                sent.to_vec()
            };
            assert_eq!(*reply, expected, "{program}");
        }
        if upper {
            assert_eq!(
                text(&out.stdout),
                "connection 0: 10 bytes\nconnection 1: 20000 bytes\n"
            );
        }
    }

    // With a directory too: wasi-libc still finds it (the directory is
    // descriptor 3, the socket 4), and the server sends a file from it.
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("greeting.txt"), "hello from a file\n").unwrap();
    let mapped = format!("{}::www", www.display());
    let (replies, out) = serve(
        &c_server,
        &["--dir", &mapped],
        &["1", "www/greeting.txt"],
        &[b"echo"],
    );
    assert_eq!(replies, [b"hello from a file\nECHO".to_vec()]);
    assert_eq!(text(&out.stdout), "connection 0: 4 bytes\n");

    // An address in use, or no address, or another -S option: one line.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    for (flags, says) in [
        (vec!["--tcplisten", &taken], "cannot listen"),
        (
            vec!["-S", "tcplisten=nowhere"],
            "-S tcplisten=nowhere: cannot listen",
        ),
        (vec!["-S", "nn=y"], "unknown WASI option"),
    ] {
        let mut args = vec!["run"];
        args.extend_from_slice(&flags);
        args.push(&server);
        fails_in_one_line(&walmart(&args), says, &format!("{flags:?}"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `walmart run --tcplisten ADDR FLAGS PROGRAM ARGS` on a free port,
/// sends each message on a connection of its own (closing its writing
/// side), and returns what came back on each and the run's output once it
/// ends (within a minute, or the test fails).
fn serve(
    program: &str,
    flags: &[&str],
    argv: &[&str],
    messages: &[&[u8]],
) -> (Vec<Vec<u8>>, Output) {
    use std::io::{Read, Write};
    /// Kills the server should the test fail before it exits (it would
    /// wait for connections forever).
    struct Server(Option<std::process::Child>);
    impl Drop for Server {
        fn drop(&mut self) {
            if let Some(child) = self.0.as_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["run", "--tcplisten", &addr];
    args.extend_from_slice(flags);
    args.push(program);
    args.extend_from_slice(argv);
    let mut child = Server(Some(
        Command::new(env!("CARGO_BIN_EXE_walmart"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let mut connect = || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            match std::net::TcpStream::connect(&addr) {
                Ok(s) => return s,
                Err(e) if std::time::Instant::now() > deadline => panic!("{addr}: {e}"),
                Err(_) => {
                    // A server that ended cannot be waited for: say why.
                    let server = child.0.as_mut().unwrap();
                    if server.try_wait().unwrap().is_some() {
                        let out = child.0.take().unwrap().wait_with_output().unwrap();
                        panic!("{program} ended: {}", text(&out.stderr));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    };
    let replies = messages
        .iter()
        .map(|message| {
            let mut stream = connect();
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(60)))
                .unwrap();
            stream.write_all(message).unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            let mut reply = Vec::new();
            stream.read_to_end(&mut reply).unwrap();
            reply
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.0.as_mut().unwrap().try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "{program} did not end"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.0.take().unwrap().wait_with_output().unwrap();
    assert!(out.status.success(), "{program}: {}", text(&out.stderr));
    (replies, out)
}

#[test]
fn the_environment_can_be_inherited_and_argv0_set() {
    let run = |args: &[&str], env: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_walmart"));
        cmd.arg("run").args(args).arg(fixture("hello.wasm"));
        match env {
            Some(v) => cmd.env("GREETING", v),
            None => cmd.env_remove("GREETING"),
        };
        cmd.output().unwrap()
    };
    // `--env KEY` alone passes the host's value, or nothing.
    let out = run(&["--env", "GREETING"], Some("from the host"));
    assert!(
        text(&out.stdout).contains("GREETING=from the host"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&["--env", "GREETING"], None);
    assert!(
        text(&out.stdout).contains("GREETING=(unset)"),
        "{}",
        text(&out.stdout)
    );
    // `-S inherit-env` passes everything; --env's values come after it and win.
    let out = run(&["-S", "inherit-env"], Some("inherited"));
    assert!(
        text(&out.stdout).contains("GREETING=inherited"),
        "{}",
        text(&out.stdout)
    );
    let out = run(
        &["-S", "inherit-env=y", "--env", "GREETING=set"],
        Some("inherited"),
    );
    assert!(
        text(&out.stdout).contains("GREETING=set"),
        "{}",
        text(&out.stdout)
    );
    // wasmtime's command lines for its preview 1 (as --tcplisten needs).
    let out = run(
        &["-S", "preview2=n", "-S", "inherit-env"],
        Some("inherited"),
    );
    assert!(
        text(&out.stdout).contains("GREETING=inherited"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["-S", "inherit-env=n"], Some("inherited"));
    assert!(
        text(&out.stdout).contains("GREETING=(unset)"),
        "{}",
        text(&out.stdout)
    );
    for (args, says) in [
        (vec!["-S", "inherit-env=maybe"], "expected `inherit-env=y`"),
        (vec!["-S", "tcplisten"], "expected tcplisten=ADDR"),
        (vec!["-S", "preview2=y"], "preview 1 implementation only"),
        (vec!["--env", "=x"], "expected KEY=VALUE or KEY"),
        (vec!["--env", ""], "expected KEY=VALUE or KEY"),
    ] {
        fails_in_one_line(&run(&args, None), says, &format!("{args:?}"));
    }

    // `--argv0`: what the guest sees as its name.
    let dir = temp_dir("argv0");
    let wat = dir.join("argv0.wat");
    std::fs::write(
        &wat,
        r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $p i32) (local $n i32)
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (drop (call $get (i32.const 16) (i32.const 1024)))
    ;; argv[0]'s length: up to its NUL.
    (local.set $p (i32.load (i32.const 16)))
    (block $end (loop $scan
      (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $scan)))
    (i32.store (i32.const 64) (local.get $p))
    (i32.store (i32.const 68) (local.get $n))
    (drop (call $write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 72)))))"#,
    )
    .unwrap();
    let wat = wat.display().to_string();
    let out = walmart(&["run", "--argv0", "my-name", &wat]);
    assert_eq!(text(&out.stdout), "my-name", "{}", text(&out.stderr));
    let out = walmart(&["run", &wat]);
    assert_eq!(text(&out.stdout), wat);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn profile_perfmap_names_the_generated_code_for_perf() {
    let child = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", "--profile", "perfmap", &fixture("trap.wasm")])
        .env_remove("WALMART_PERFMAP")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    let text_of_map = std::fs::read_to_string(&map).unwrap();
    std::fs::remove_file(&map).unwrap();
    // `ADDRESS SIZE NAME`, hexadecimal, one line a function.
    let divide = text_of_map
        .lines()
        .find(|l| l.ends_with("::divide"))
        .unwrap_or_else(|| panic!("{text_of_map}"));
    let fields: Vec<&str> = divide.split(' ').collect();
    assert_eq!(fields.len(), 3, "{divide}");
    assert!(u64::from_str_radix(fields[0], 16).unwrap() > 0);
    assert!(u64::from_str_radix(fields[1], 16).unwrap() > 0);
    let out = walmart(&["run", "--profile", "vtune", &fixture("trap.wasm")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unsupported profiler"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn profile_jitdump_writes_each_function_with_its_code_for_perf_inject() {
    let dir = temp_dir("jitdump");
    let child = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", "--profile", "jitdump", &fixture("hello.wasm")])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dump = std::fs::read(dir.join(format!("jit-{pid}.dump"))).unwrap();
    let u32_at = |at: usize| u32::from_le_bytes(dump[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(dump[at..at + 8].try_into().unwrap());
    // The header: magic 'JiTD', version 1, its size, the machine, the pid.
    assert_eq!(u32_at(0), 0x4A69_5444);
    assert_eq!(u32_at(4), 1);
    assert_eq!(u32_at(8), 40);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(u32_at(12), 62);
    }
    assert_eq!(u32_at(20), pid);
    // Code-load records to the end: (name, code) each.
    let mut at = 40;
    let mut functions = Vec::new();
    while at < dump.len() {
        assert_eq!(u32_at(at), 0, "a code-load record at {at}");
        let size = u32_at(at + 4) as usize;
        assert_eq!(u32_at(at + 16), pid);
        let (vma, addr, len) = (u64_at(at + 24), u64_at(at + 32), u64_at(at + 40) as usize);
        assert_eq!(vma, addr);
        let name_at = at + 56;
        let nul = dump[name_at..].iter().position(|&b| b == 0).unwrap();
        let name = String::from_utf8(dump[name_at..name_at + nul].to_vec()).unwrap();
        let code = &dump[name_at + nul + 1..at + size];
        assert_eq!(code.len(), len, "{name}");
        functions.push((name, code.to_vec()));
        at += size;
    }
    assert_eq!(at, dump.len());
    let main = functions
        .iter()
        .find(|(n, _)| n.ends_with("::main"))
        .unwrap_or_else(|| panic!("{:?}", functions.iter().map(|f| &f.0).collect::<Vec<_>>()));
    if cfg!(target_arch = "x86_64") {
        // The function's own bytes: Cranelift's frame set-up first
        // (push %rbp; mov %rsp,%rbp).
        assert_eq!(&main.1[..4], &[0x55, 0x48, 0x89, 0xe5], "{}", main.0);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The function names of each sample's stack in the guest profile at
/// `path`, outermost first.
fn profiled_stacks(path: &Path) -> Vec<Vec<String>> {
    let profile: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let t = &profile["threads"][0];
    let name_of = |stack: u64| {
        let frame = t["stackTable"]["frame"][stack as usize].as_u64().unwrap() as usize;
        let func = t["frameTable"]["func"][frame].as_u64().unwrap() as usize;
        let name = t["funcTable"]["name"][func].as_u64().unwrap() as usize;
        t["stringArray"][name].as_str().unwrap().to_string()
    };
    t["samples"]["stack"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut names = Vec::new();
            let mut at = s.as_u64();
            while let Some(i) = at {
                names.push(name_of(i));
                at = t["stackTable"]["prefix"][i as usize].as_u64();
            }
            names.reverse();
            names
        })
        .collect()
}

#[test]
fn profile_guest_samples_the_programs_own_functions() {
    let dir = temp_dir("guest-profile");
    let path = dir.join("words.json");
    let flag = format!("guest,{},1ms", path.display());
    // Eighty passes over the words: tens of milliseconds.
    let out = walmart(&[
        "run",
        "--profile",
        &flag,
        &fixture("wordindex.wasm"),
        "x",
        "80",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stacks = profiled_stacks(&path);
    assert!(!stacks.is_empty());
    // Every sample is under the command's entry (a tick may come before
    // `_start` is entered or after `main` returned), and the work is in
    // `main`, under `_start`, as the name section names them.
    assert!(
        stacks.iter().all(|s| s[0] == "_start.command_export"),
        "{stacks:?}"
    );
    let in_main = stacks
        .iter()
        .filter(|s| {
            let at = |name: &str| s.iter().position(|f| f == name);
            at("main").is_some() && at("_start") < at("main")
        })
        .count();
    assert!(in_main > 0, "{stacks:?}");
    // The run's output is the program's alone.
    assert_eq!(
        text(&out.stdout),
        text(&walmart(&["run", &fixture("wordindex.wasm"), "x", "80"]).stdout)
    );

    // A trapping run's profile is written too; its status is the trap's.
    let trapped = dir.join("trap.json");
    let flag = format!("guest,{}", trapped.display());
    let out = walmart(&["run", "--profile", &flag, &fixture("trap.wasm")]);
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    // A whole profile (an unfinished one is an empty file).
    profiled_stacks(&trapped);

    // A host call that lasts (the program's 2 ms sleep): a sample of its
    // own, under the Wasm that made it.
    let sleepy = dir.join("sleepy.json");
    let flag = format!("guest,{},1ms", sleepy.display());
    let out = walmart(&["run", "--profile", &flag, &fixture("clocks_random.wasm")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stacks = profiled_stacks(&sleepy);
    assert!(
        stacks
            .iter()
            .any(|s| s.ends_with(&["__wasi_poll_oneoff".into(), "host".into()])),
        "{stacks:?}"
    );

    // With a timeout, which the sampling keeps.
    let fib = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/fib.wat")
        .display()
        .to_string();
    let slow = dir.join("slow.json");
    let timed = |interval: &str, timeout: &str| {
        let profile = format!("guest,{},{interval}", slow.display());
        let timeout = format!("timeout={timeout}");
        let args = [
            "run",
            "--profile",
            &profile,
            "-W",
            &timeout,
            "--invoke",
            "fib",
            &fib,
            "45",
        ];
        walmart(&args)
    };
    let out = timed("1ms", "20ms");
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("interrupt"),
        "{}",
        text(&out.stderr)
    );
    let stacks = profiled_stacks(&slow);
    assert!(
        !stacks.is_empty() && stacks.iter().all(|s| s[0] == "fib"),
        "{stacks:?}"
    );
    // The timeout is kept to, not the next sample's tick (an interval
    // of five seconds), and the end of the run waits for no tick either.
    let began = std::time::Instant::now();
    let out = timed("5s", "50ms");
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    assert!(began.elapsed() < std::time::Duration::from_secs(4));

    for bad in [
        "guest,",
        "guest,p.json,0ms",
        "guest,p.json,fast",
        "guest,p.json,10",
        "guestly",
        "guest,a,1ms,b",
    ] {
        let out = walmart(&["run", "--profile", bad, &fixture("hello.wasm")]);
        fails_in_one_line(&out, "expected guest[,PATH[,INTERVAL]]", bad);
    }
    let missing = dir.join("no/such/dir/p.json");
    let out = walmart(&[
        "run",
        "--profile",
        &format!("guest,{}", missing.display()),
        &fixture("hello.wasm"),
    ]);
    fails_in_one_line(&out, "cannot create", "unwritable profile");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dash_c_sets_code_generation_as_wasmtimes() {
    // Settings walmart has, and what they change.
    let out = walmart(&[
        "run",
        "-C",
        "parallel-compilation=n",
        "-C",
        "cranelift-debug-verifier",
        "-C",
        "compiler=cranelift",
        &fixture("hello.wasm"),
        "a",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("argv[1]=a"));
    // `-C cache` is `--cache`: the compiled module saved in the cache.
    let dir = temp_dir("dash-c-cache");
    let out = Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["run", "-C", "cache", &fixture("hello.wasm")])
        .env("WALMART_CACHE_DIR", &dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
    // The rest, refused by name in one line.
    for (args, says) in [
        (&["run", "-C", "compiler=winch"][..], "Cranelift only"),
        (&["run", "-C", "cache-config=c.toml"][..], "--cache-dir"),
        (
            &["run", "-C", "inlining=y"][..],
            "unknown setting `inlining`",
        ),
        (
            &["run", "-C", "parallel-compilation=maybe"][..],
            "parallel-compilation",
        ),
        (&["run", "-C", "cache=n", "--cache"][..], "contradicts"),
    ] {
        let mut all = args.to_vec();
        let hello = fixture("hello.wasm");
        all.push(&hello);
        fails_in_one_line(&walmart(&all), says, &args.join(" "));
    }
}

#[test]
fn dash_d_coredump_writes_the_trapping_stores_snapshot() {
    let dir = temp_dir("coredump");
    let path = dir.join("trap.coredump");
    let flag = format!("coredump={}", path.display());
    let out = walmart(&["run", "-D", &flag, &fixture("trap.wasm")]);
    assert_eq!(out.status.code(), Some(134));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("wasm coredump written to"), "{stderr}");
    let bytes = std::fs::read(&path).unwrap();
    // A Wasm module with the coredump's sections, its stack naming the
    // program's functions by index.
    let mut frames = 0;
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let wasmparser::Payload::CustomSection(c) = payload.unwrap() {
            names.push(c.name().to_string());
            if let wasmparser::KnownCustom::CoreDumpStack(stack) = c.as_known() {
                frames = stack.frames.len();
            }
        }
    }
    assert!(names.contains(&"corestack".to_string()), "{names:?}");
    assert!(frames >= 3, "{frames}");
    // No trap, no file; a bad option, one line.
    std::fs::remove_file(&path).unwrap();
    let out = walmart(&["run", "-D", &flag, &fixture("hello.wasm")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!path.exists());
    for (option, says) in [
        ("debug-infos", "unknown debugging option"),
        ("debug-info=maybe", "-D debug-info=maybe"),
        ("coredump=", "expected coredump=PATH"),
    ] {
        let out = walmart(&["run", "-D", option, &fixture("hello.wasm")]);
        fails_in_one_line(&out, says, option);
    }
    // The last -D coredump= wins.
    let other = dir.join("other.coredump");
    let first = format!("coredump={}", other.display());
    let out = walmart(&["run", "-D", &first, "-D", &flag, &fixture("trap.wasm")]);
    assert_eq!(out.status.code(), Some(134));
    assert!(path.exists() && !other.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wasm_2_0_proposals_can_be_switched_off_with_dash_w() {
    let simd = fixture("simd.wasm");
    let out = walmart(&["run", "-W", "simd=n", &simd]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.to_lowercase().contains("simd") && err.lines().count() == 1,
        "{err}"
    );
    // Switching relaxed SIMD off leaves SIMD: the program runs.
    let out = walmart(&["run", "-W", "relaxed-simd=n", &simd]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = walmart(&["run", "-W", "multi-value=maybe", &simd]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("expected `multi-value=y`"));
}

#[test]
fn settings_prints_what_code_is_compiled_with() {
    let out = walmart(&["settings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plain = text(&out.stdout);
    assert!(
        plain.contains("target: x86_64") || plain.contains("target: aarch64"),
        "{plain}"
    );
    assert!(
        plain.lines().any(|l| l.starts_with("cranelift opt_level")),
        "{plain}"
    );
    assert!(plain.lines().any(|l| l.starts_with("cpu ")), "{plain}");
    // The flags change what it says, as they change the code.
    let fuel = text(&walmart(&["settings", "-W", "fuel=1", "-O", "opt-level=0"]).stdout);
    assert!(fuel.contains("consume_fuel: true") && plain.contains("consume_fuel: false"));
    assert!(fuel.contains("opt_level: None"), "{fuel}");
    let out = walmart(&["settings", "--attest", "sometimes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

fn component_fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/components")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn run_calls_a_components_wasi_cli_run() {
    let out = walmart(&[
        "run",
        "--env",
        "GREETING=hey",
        &component_fixture("hello.wasm"),
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("argv[1]=0\nGREETING=hey\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stderr), "to stderr\n");
    // A failing command exits with 1 (WASI 0.2's exit has no number).
    let out = walmart(&["run", &component_fixture("hello.wasm"), "5"]);
    assert_eq!(out.status.code(), Some(1));

    let root = temp_dir("component-files");
    std::fs::create_dir(root.join("data")).unwrap();
    let dir = format!("{}::data", root.join("data").display());
    let out = walmart(&["run", "--dir", &dir, &component_fixture("files.wasm")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("done entries=1"));
    let dir = format!("{}::data::ro", root.join("data").display());
    let out = walmart(&["run", "--dir", &dir, &component_fixture("files.wasm")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "mkdir: Operation not permitted\n");
    std::fs::remove_dir_all(&root).unwrap();

    let out = walmart(&["run", &component_fixture("trap.wasm")]);
    assert_eq!(out.status.code(), Some(134));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("wasm trap: integer divide by zero"),
        "{stderr}"
    );
    assert!(stderr.contains("!divide"), "{stderr}");

    // A timeout bounds a component as a module.
    let out = walmart(&[
        "run",
        "-W",
        "fuel=1000",
        &component_fixture("clocks_random.wasm"),
    ]);
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("all fuel consumed"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_attests_a_component() {
    // records.wasm exports cabi_realloc, so the preview 1 adapter's state
    // and stack are the C heap's allocations.
    let records = component_fixture("records.wasm");
    let lines: String = (1..=60).map(|i| format!("line {i}\n")).collect();
    for policy in ["coarse", "fine", "tags"] {
        let out = walmart_fed(&["run", "--attest", policy, &records], lines.as_bytes());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{policy}: {stderr}");
        assert_eq!(text(&out.stdout), "records=60 bytes=411\n");
        assert!(!stderr.contains("detection:"), "{policy}: {stderr}");
        let summary = if policy == "tags" {
            // Every record and the adapter's state, each freed but the state.
            "64 allocations, 60 frees, 0 violations"
        } else {
            "detections 0"
        };
        assert!(stderr.contains(summary), "{policy}: {stderr}");
        // A heap overflow in the component's C code is found by each.
        let out = walmart_fed(
            &[
                "run",
                "--attest",
                policy,
                "--on-detect",
                "trap",
                &records,
                "overflow",
            ],
            lines.as_bytes(),
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(86), "{policy}: {stderr}");
        let found = if policy == "tags" {
            "overflow: write of 8 byte(s)"
        } else {
            "the allocator's chunk chain is broken"
        };
        assert!(stderr.contains(found), "{policy}: {stderr}");
    }
    // WASI 0.2 is walmart's own, as preview 1 is: memory is not
    // write-protected around its calls (one tamper check, the run's end),
    // and events name the interface function.
    let out = walmart_fed(&["run", "--attest", "coarse", &records], lines.as_bytes());
    assert!(
        text(&out.stderr).contains("tamper checks 1,"),
        "{}",
        text(&out.stderr)
    );
    let out = walmart_fed(
        &[
            "run",
            "--attest",
            "coarse",
            "--inject",
            "host-tamper",
            "--inject-rate",
            "1",
            &records,
        ],
        lines.as_bytes(),
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("host-tamper (write-protection) at the ImportReturn hook of `wasi:"),
        "{stderr}"
    );

    // A libc that sized its heap by the memory's size (wasi-libc before
    // 2023, the other fixtures') claims the pages the adapter grew for
    // itself: reported at the first walk of the heap, naming the adapter.
    for policy in ["coarse", "fine"] {
        let out = walmart(&["run", "--attest", policy, &component_fixture("hello.wasm")]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("which module `wit-component:adapter:wasi_snapshot_preview1` took for itself with memory.grow: two allocators own the same bytes"),
            "{stderr}"
        );
        assert!(stderr.contains("detections 1,"), "{stderr}");
    }
    // The heap check goes on past that finding: an overflow of the
    // program's own is found after it.
    let out = walmart(&[
        "run",
        "--attest",
        "coarse",
        &component_fixture("heap_overflow.wasm"),
        "go",
    ]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("two allocators own the same bytes"),
        "{stderr}"
    );
    assert!(
        stderr.matches("heap-corrupt (heap-walk)").count() >= 2,
        "{stderr}"
    );
    // A call into Wasm that WASI 0.2 makes (the lowering's `realloc` of
    // each read's bytes) is part of the host call, not a boundary with
    // a snapshot of its own: `wc` reads 600 KB in over a thousand calls.
    let words: String = (0..60_000).map(|i| format!("w{} x y\n", i % 97)).collect();
    let out = walmart_fed(
        &["run", "--attest", "coarse", &component_fixture("wc.wasm")],
        words.as_bytes(),
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let count = |what: &str| stat(&stderr, what);
    assert!(count("hooks ") > 1000, "{stderr}");
    assert!(count("snapshots ") < 200, "{stderr}");
    // The same program as a core module has no adapter: nothing found.
    let out = walmart(&["run", "--attest", "coarse", &fixture("hello.wasm")]);
    assert!(
        text(&out.stderr).contains("detections 0,"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_profiles_a_component() {
    let dir = temp_dir("component-profile");
    let path = dir.join("clocks.json");
    let flag = format!("guest,{},1ms", path.display());
    let out = walmart(&[
        "run",
        "--profile",
        &flag,
        &component_fixture("clocks_random.wasm"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The program's 2 ms sleep: a sample under the host, below the C
    // program's frames, the adapter's and wit-component's shim, each core
    // module's frames named by its name section.
    let stacks = profiled_stacks(&path);
    assert!(
        stacks.iter().any(|s| s.ends_with(&["host".into()])
            && s.contains(&"__wasi_poll_oneoff".into())
            && s.iter()
                .any(|f| f.starts_with("wit-component:adapter:wasi_snapshot_preview1!"))),
        "{stacks:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_says_when_the_exact_heap_checks_could_not_run() {
    let note = "its heap was not walked (an allocator other than dlmalloc and emmalloc, or a \
                store of several memories or a 64-bit one): the exact heap checks did not run";
    // An allocator of the program's own (a bump allocator named `malloc`):
    // its allocations are called, no heap walked.
    let root = temp_dir("bump-allocator");
    let bump = root.join("bump.wat");
    std::fs::write(
        &bump,
        r#"(module
            (memory (export "memory") 1)
            (global $next (mut i32) (i32.const 1024))
            (func $malloc (export "malloc") (param $n i32) (result i32)
                (global.get $next)
                (global.set $next (i32.add (global.get $next) (local.get $n))))
            (func (export "_start")
                (drop (call $malloc (i32.const 16)))
                (drop (call $malloc (i32.const 32)))))"#,
    )
    .unwrap();
    let out = walmart(&["run", "--attest", "coarse", &bump.display().to_string()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(note), "{stderr}");
    // dlmalloc's and emmalloc's heaps are walked; a program that
    // allocates nothing, or a run that turned the checks off, has nothing
    // to say.
    for args in [
        vec!["run", "--attest", "coarse", "HEAP"],
        vec!["run", "--attest", "coarse", "EMMALLOC"],
        vec!["run", "--attest", "coarse", "--no-heap-check", "HEAP"],
        vec!["run", "--attest", "fine", "HELLO"],
    ] {
        let (heap, hello) = (fixture("heap_overflow.wasm"), fixture("hello.wasm"));
        let emmalloc = fixture("heap_overflow_emmalloc.wasm");
        let args: Vec<&str> = args
            .iter()
            .map(|a| match *a {
                "HEAP" => heap.as_str(),
                "EMMALLOC" => emmalloc.as_str(),
                "HELLO" => hello.as_str(),
                a => a,
            })
            .collect();
        let out = walmart(&args);
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("walmart: attestation"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("exact heap checks did not run"),
            "{args:?}: {stderr}"
        );
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn run_of_a_component_refuses_what_it_cannot_do() {
    let hello = component_fixture("hello.wasm");
    for (flags, needle) in [
        (
            vec!["--tcplisten", "127.0.0.1:0"],
            "--tcplisten (sockets are WASI preview 1's)",
        ),
        (
            vec!["--preload", "lib=x.wasm"],
            "--preload is not supported for components yet",
        ),
    ] {
        let mut args = vec!["run"];
        args.extend(flags);
        args.push(&hello);
        let out = walmart(&args);
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(stderr.contains(needle), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    // A component that is no command says what it exports instead.
    let dir = temp_dir("component-lib");
    let lib = dir.join("lib.wat");
    std::fs::write(
        &lib,
        r#"(component
             (core module $m (func (export "f") (result i32) i32.const 7))
             (core instance $i (instantiate $m))
             (func (export "seven") (result u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    let out = walmart(&["run", lib.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the component exports no `wasi:cli/run` interface")
            && stderr.contains("seven"),
        "{stderr}"
    );
    // A command in the text format: its result is the exit status; an
    // import of an interface walmart lacks is named.
    let command = |result: i32, import: &str| {
        format!(
            r#"(component
                 {import}
                 (core module $m (func (export "run") (result i32) i32.const {result}))
                 (core instance $i (instantiate $m))
                 (func $run (result (result)) (canon lift (core func $i "run")))
                 (instance $ri (export "run" (func $run)))
                 (export "wasi:cli/run@0.2.3" (instance $ri)))"#
        )
    };
    for (result, status) in [(0, 0), (1, 1)] {
        std::fs::write(&lib, command(result, "")).unwrap();
        let out = walmart(&["run", lib.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(status), "{}", text(&out.stderr));
    }
    let http = r#"(import "wasi:http/outgoing-handler@0.2.0" (instance (export "f" (func))))"#;
    std::fs::write(&lib, command(0, http)).unwrap();
    let out = walmart(&["run", lib.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "component imports the instance `wasi:http/outgoing-handler@0.2.0`, which the linker does not define"
        ),
        "{stderr}"
    );
    // --trap-unknown-imports: it runs, until it calls what is missing.
    let out = walmart(&["run", "--trap-unknown-imports", lib.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::write(
        &lib,
        r#"(component
             (import "wasi:http/outgoing-handler@0.2.0" (instance $t (export "f" (func))))
             (alias export $t "f" (func $f))
             (core func $f_l (canon lower (func $f)))
             (core module $m (import "t" "f" (func $f))
               (func (export "run") (result i32) call $f i32.const 0))
             (core instance $i (instantiate $m (with "t" (instance (export "f" (func $f_l))))))
             (func $run (result (result)) (canon lift (core func $i "run")))
             (instance $ri (export "run" (func $run)))
             (export "wasi:cli/run@0.2.3" (instance $ri)))"#,
    )
    .unwrap();
    let out = walmart(&["run", "--trap-unknown-imports", lib.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("unknown import: `wasi:http/outgoing-handler@0.2.0#f` has not been defined"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A component through a pipe (`/dev/stdin`): its binary, its text, its
/// precompiled form (with --allow-precompiled only), read once and run as
/// from a file; a module through a pipe still runs as one.
#[test]
fn components_come_through_a_pipe() {
    let hello = std::fs::read(component_fixture("hello.wasm")).unwrap();
    let out = walmart_fed(&["run", "/dev/stdin", "a", "b"], &hello);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("argc=3"),
        "{}",
        text(&out.stdout)
    );

    let command = br#"(component
      (core module $m (func (export "run") (result i32) i32.const 1))
      (core instance $i (instantiate $m))
      (func $run (result (result)) (canon lift (core func $i "run")))
      (instance $ri (export "run" (func $run)))
      (export "wasi:cli/run@0.2.3" (instance $ri)))"#;
    let out = walmart_fed(&["run", "/dev/stdin"], command);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");

    let dir = temp_dir("component-pipe");
    let cwasm = dir.join("hello.cwasm");
    let out = walmart(&[
        "compile",
        &component_fixture("hello.wasm"),
        "-o",
        cwasm.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let precompiled = std::fs::read(&cwasm).unwrap();
    let out = walmart_fed(&["run", "/dev/stdin", "x"], &precompiled);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("pass --allow-precompiled"),
        "{}",
        text(&out.stderr)
    );
    let out = walmart_fed(
        &["run", "--allow-precompiled", "/dev/stdin", "x"],
        &precompiled,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("argc=2"),
        "{}",
        text(&out.stdout)
    );

    let module = std::fs::read(fixture("hello.wasm")).unwrap();
    let out = walmart_fed(&["run", "/dev/stdin", "y"], &module);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("argc=2"),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A WASI 0.2 command that binds a TCP socket to 127.0.0.1 (an ephemeral
/// port) through the lowered `wasi:sockets` calls, and fails where the
/// bind does: `-S inherit-network` lets it; without it, or with
/// `-S tcp=n`, it is refused. A malformed switch is an error.
#[test]
fn a_component_reaches_the_network_only_when_allowed() {
    let dir = temp_dir("component-sockets");
    let cmd = dir.join("bind.wat");
    std::fs::write(
        &cmd,
        format!(
            r#"(component
          {network}
          (import "wasi:sockets/instance-network@0.2.3" (instance $inet
            (alias outer 1 $network (type $net0))
            (export "network" (type $net (eq $net0)))
            (export "instance-network" (func (result (own $net))))))
          (import "wasi:sockets/tcp@0.2.3" (instance $tcp
            (alias outer 1 $network (type $net0)) (export "network" (type $net (eq $net0)))
            (alias outer 1 $error-code (type $ec0)) (export "error-code" (type $ec (eq $ec0)))
            (alias outer 1 $socket-address (type $sa0))
            (export "ip-socket-address" (type $sa (eq $sa0)))
            (export "tcp-socket" (type $sock (sub resource)))
            (export "[method]tcp-socket.start-bind" (func (param "self" (borrow $sock))
              (param "network" (borrow $net)) (param "local-address" $sa)
              (result (result (error $ec)))))))
          (alias export $tcp "tcp-socket" (type $tcp-socket))
          (import "wasi:sockets/tcp-create-socket@0.2.3" (instance $create
            (alias outer 1 $error-code (type $ec0)) (export "error-code" (type $ec (eq $ec0)))
            (alias outer 1 $family (type $f0)) (export "ip-address-family" (type $f (eq $f0)))
            (alias outer 1 $tcp-socket (type $sock0))
            (export "tcp-socket" (type $sock (eq $sock0)))
            (export "create-tcp-socket" (func (param "address-family" $f)
              (result (result (own $sock) (error $ec)))))))
          (core module $libc (memory (export "memory") 1))
          (core instance $libc (instantiate $libc))
          (alias core export $libc "memory" (core memory $memory))
          (alias export $inet "instance-network" (func $inet-f))
          (alias export $create "create-tcp-socket" (func $create-f))
          (alias export $tcp "[method]tcp-socket.start-bind" (func $bind-f))
          (core func $inet-l (canon lower (func $inet-f)))
          (core func $create-l (canon lower (func $create-f) (memory $memory)))
          (core func $bind-l (canon lower (func $bind-f) (memory $memory)))
          (core module $m
            (import "libc" "memory" (memory 1))
            (import "s" "instance-network" (func $inet (result i32)))
            (import "s" "create" (func $create (param i32 i32)))
            (import "s" "start-bind" (func $bind (param i32 i32 i32 i32 i32 i32 i32 i32
              i32 i32 i32 i32 i32 i32 i32)))
            (func (export "run") (result i32)
              (local $net i32)
              (local.set $net (call $inet))
              ;; result<own<tcp-socket>, error-code> at 16: a tag, the
              ;; handle at 20.
              (call $create (i32.const 0) (i32.const 16))
              (if (i32.load8_u (i32.const 16)) (then (return (i32.const 1))))
              ;; 127.0.0.1:0: the variant's tag, the port, four octets, and
              ;; the six places IPv6's case has more.
              (call $bind (i32.load (i32.const 20)) (local.get $net)
                (i32.const 0) (i32.const 0)
                (i32.const 127) (i32.const 0) (i32.const 0) (i32.const 1)
                (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                (i32.const 0) (i32.const 32))
              (i32.load8_u (i32.const 32))))
          (core instance $i (instantiate $m
            (with "libc" (instance $libc))
            (with "s" (instance
              (export "instance-network" (func $inet-l))
              (export "create" (func $create-l))
              (export "start-bind" (func $bind-l))))))
          (func $run (result (result)) (canon lift (core func $i "run")))
          (instance $ri (export "run" (func $run)))
          (export "wasi:cli/run@0.2.3" (instance $ri)))"#,
            network = common::sockets_network_import("0.2.3")
        ),
    )
    .unwrap();
    let cmd = cmd.to_str().unwrap();
    // The guest's refusal is its `err`: status 1 with nothing on standard
    // error (a switch walmart refused would say so there).
    let status = |flags: &[&str]| {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.push(cmd);
        let out = walmart(&args);
        assert_eq!(text(&out.stderr), "", "{flags:?}");
        out.status.code()
    };
    assert_eq!(status(&["-S", "inherit-network"]), Some(0));
    assert_eq!(status(&[]), Some(1));
    assert_eq!(status(&["-S", "inherit-network=n"]), Some(1));
    // The last one says, as in wasmtime.
    assert_eq!(
        status(&["-S", "inherit-network", "-S", "inherit-network=n"]),
        Some(1)
    );
    assert_eq!(
        status(&["-S", "inherit-network=n", "-S", "inherit-network"]),
        Some(0)
    );
    assert_eq!(status(&["-S", "inherit-network", "-S", "tcp=n"]), Some(1));
    assert_eq!(status(&["-S", "inherit-network", "-S", "tcp=y"]), Some(0));
    let out = walmart(&["run", "-S", "udp=maybe", cmd]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("-S udp=maybe"),
        "{}",
        text(&out.stderr)
    );
    let out = walmart(&["run", "-S", "help"]);
    let help = text(&out.stdout) + &text(&out.stderr);
    for name in [
        "inherit-network",
        "allow-ip-name-lookup",
        "tcp[=y|n]",
        "udp[=y|n]",
    ] {
        assert!(help.contains(name), "{help}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invoke_calls_a_components_export_written_in_wave() {
    let dir = temp_dir("component-invoke");
    let lib = dir.join("lib.wat");
    std::fs::write(
        &lib,
        r#"(component
          LIBC
          (core module $m
            (import "libc" "memory" (memory 1))
            (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
            (func (export "echo") (param i32 i32) (result i32)
              i32.const 16 local.get 0 i32.store i32.const 20 local.get 1 i32.store i32.const 16)
            (func (export "first") (param i32 i32 i32) (result i32) local.get 1)
            (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u))
          (core instance $i (instantiate $m (with "libc" (instance $libc))))
          (func (export "add") (param "a" u32) (param "b" u32) (result u32)
            (canon lift (core func $i "add")))
          (func (export "echo") (param "s" string) (result string)
            (canon lift (core func $i "echo") (memory $memory) (realloc $realloc)))
          (func (export "first") (param "xs" (list u32)) (param "c" char) (result u32)
            (canon lift (core func $i "first") (memory $memory) (realloc $realloc)))
          (func $div (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "div")))
          (instance $math (export "div" (func $div)))
          (export "test:x/math" (instance $math)))"#
            .replace("LIBC", common::COMPONENT_LIBC),
    )
    .unwrap();
    let lib = lib.to_str().unwrap();
    for (call, printed) in [
        ("add(40, 2)", "42\n"),
        (
            r#"echo("tab\there \"q\" \u{1F600}")"#,
            "\"tab\\there \\\"q\\\" \u{1F600}\"\n",
        ),
        ("first([7, 8, 9,], 'x')", "3\n"),
        ("test:x/math#div(9, 2)", "4\n"),
    ] {
        let out = walmart(&["run", "--invoke", call, lib]);
        assert_eq!(out.status.code(), Some(0), "{call}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), printed, "{call}");
    }
    let out = walmart(&["run", "--invoke", "test:x/math#div(9, 0)", lib]);
    assert_eq!(out.status.code(), Some(134));
    assert!(text(&out.stderr).contains("integer divide by zero"));
    for (call, needle) in [
        ("add(1)", "expected `,`"),
        ("add(1, -2)", "`-2` is not a u32"),
        ("add(1, 2, 3)", "2 arguments expected"),
        ("nope()", "the component exports no function `nope`"),
        ("add", "expected a call, NAME(ARG, ...)"),
        (r#"echo("open)"#, "unterminated string"),
    ] {
        let out = walmart(&["run", "--invoke", call, lib]);
        assert_eq!(out.status.code(), Some(1), "{call}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(needle), "{call}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let out = walmart(&["run", "--invoke", "add(1, 2)", lib, "5"]);
    assert!(text(&out.stderr).contains("takes its arguments inside the call"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compile_precompiles_a_component_for_run_to_load() {
    let dir = temp_dir("component-compile");
    let out_path = dir.join("hello.cwasm");
    let cwasm = out_path.to_str().unwrap();
    let out = walmart(&["compile", &component_fixture("hello.wasm"), "-o", cwasm]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = walmart(&["run", "--allow-precompiled", cwasm, "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("argc=2\nargv[1]=0\n"));
    let out = walmart(&["run", cwasm]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is precompiled: pass --allow-precompiled"));
    let out = walmart(&[
        "compile",
        cwasm,
        "-o",
        dir.join("again.cwasm").to_str().unwrap(),
    ]);
    assert!(text(&out.stderr).contains("already a precompiled component"));
    // Settings that differ from the compile's are named.
    let out = walmart(&["run", "-O", "opt-level=0", "--allow-precompiled", cwasm]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("compiled with other settings"),
        "{}",
        text(&out.stderr)
    );
    // A damaged file is refused in one line.
    let bytes = std::fs::read(&out_path).unwrap();
    std::fs::write(&out_path, &bytes[..bytes.len() / 2]).unwrap();
    let out = walmart(&["run", "--allow-precompiled", cwasm]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("precompiled component damaged"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_caches_a_compiled_component() {
    let dir = temp_dir("component-cache");
    let cache = dir.join("cache");
    let cache = cache.to_str().unwrap();
    let hello = component_fixture("hello.wasm");
    for _ in 0..2 {
        let out = walmart(&["run", "--cache-dir", cache, &hello, "0"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("argc=2\nargv[1]=0\n"));
    }
    let entries: Vec<_> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    // A damaged entry is compiled again and replaced.
    std::fs::write(&entries[0], b"\0walmcmp damaged").unwrap();
    let out = walmart(&["run", "--cache-dir", cache, &hello, "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::metadata(&entries[0]).unwrap().len() > 1000);

    // The file is named as it reads: another component at the same path
    // runs as itself (it traps), never as the entry of what was there.
    let app = dir.join("app.wasm");
    let app = app.to_str().unwrap();
    std::fs::copy(&hello, app).unwrap();
    let out = walmart(&["run", "--cache-dir", cache, app, "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::copy(component_fixture("trap.wasm"), app).unwrap();
    let out = walmart(&["run", "--cache-dir", cache, app]);
    assert_eq!(out.status.code(), Some(134), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("integer divide by zero"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--attest-report FILE` writes one JSON document as an attested run
/// ends: what ran (the module's SHA-256), under what, how the guest ended,
/// the detections by kind and source, a verdict and what limits it, and
/// the event log by its SHA-256. An empty event log cannot tell a clean
/// run from one that never wrote; the report can.
#[test]
fn the_attest_report_says_what_was_attested_and_what_was_found() {
    use sha2::{Digest, Sha256};
    let dir = temp_dir("attest-report");
    let (log, report) = (dir.join("events.jsonl"), dir.join("report.json"));
    let (log_s, report_s) = (log.to_str().unwrap(), report.to_str().unwrap());
    let sha = |path: &str| -> String {
        Sha256::digest(std::fs::read(path).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let read = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap()
    };
    let run = |policy: &str, extra: &[&str], module: &str, guest: &[&str]| {
        let mut args = vec!["run", "--attest", policy, "--attest-report", report_s];
        args.extend_from_slice(extra);
        let module = fixture(module);
        args.push(&module);
        args.extend_from_slice(guest);
        walmart(&args)
    };

    // A clean run: the module and the log named by their digests.
    let out = run(
        "coarse",
        &["--attest-log", log_s],
        "tag_violations.wasm",
        &["benign"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = read();
    assert_eq!(r["verdict"], "no-corruption-detected", "{r}");
    assert_eq!(r["guest"], "success", "{r}");
    assert_eq!(r["policy"], "coarse");
    assert_eq!(r["module"]["sha256"], sha(&fixture("tag_violations.wasm")));
    assert_eq!(r["log"]["sha256"], sha(log_s), "{r}");
    assert_eq!(r["log"]["events"], 0);
    assert_eq!(r["detections"]["total"], 0);
    assert_eq!(r["stats"]["heap_walked"], true, "{r}");
    assert!(r["stats"]["hooks"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["verifier"]["model"], "default");
    assert_eq!(r["caveats"].as_array().unwrap().len(), 0, "{r}");

    // An overflow found by the heap walk, the run stopped for it: every
    // event of the log counted, the first one given whole.
    let out = run(
        "fine",
        &[
            "--attest-log",
            log_s,
            "--on-detect",
            "trap",
            "--model",
            "none",
        ],
        "tag_violations.wasm",
        &["overflow-many"],
    );
    assert_eq!(out.status.code(), Some(86), "{}", text(&out.stderr));
    let r = read();
    assert_eq!(r["verdict"], "corruption-detected", "{r}");
    assert_eq!(r["stopped_by_detection"], true, "{r}");
    assert_eq!(r["verifier"], serde_json::Value::Null, "{r}");
    let events = std::fs::read_to_string(&log).unwrap().lines().count() as u64;
    assert!(events > 0);
    assert_eq!(r["detections"]["total"], events, "{r}");
    assert_eq!(r["log"]["sha256"], sha(log_s), "{r}");
    assert_eq!(r["detections"]["first"]["kind"], "heap-corrupt", "{r}");
    assert!(
        r["detections"]["by_source"]["heap-walk"].as_u64().unwrap() >= 1,
        "{r}"
    );

    // The tag monitor: its own counters and settings.
    let out = run("tags", &[], "tag_violations.wasm", &["overflow-1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = read();
    assert_eq!(r["detections"]["by_kind"]["tag-violation"], 1, "{r}");
    assert_eq!(r["stats"]["violations"], 1, "{r}");
    assert_eq!(r["settings"]["tags"], "temporal", "{r}");
    assert_eq!(r["log"], serde_json::Value::Null, "{r}");

    // A guest that traps: clean as far as it ran, and the report says so.
    let out = run("coarse", &[], "trap.wasm", &[]);
    assert!(!out.status.success());
    let r = read();
    assert_eq!(r["verdict"], "no-corruption-detected", "{r}");
    assert_eq!(r["guest"], "error", "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("divide by zero"),
        "{r}"
    );
    assert!(
        r["caveats"][0]
            .as_str()
            .unwrap()
            .contains("did not run to its end"),
        "{r}"
    );

    // A module read from a pipe is not read again to be hashed.
    let hello = std::fs::read(fixture("hello.wasm")).unwrap();
    let out = walmart_fed(
        &[
            "run",
            "--attest",
            "coarse",
            "--attest-report",
            report_s,
            "/dev/stdin",
        ],
        &hello,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = read();
    assert_eq!(r["module"]["sha256"], serde_json::Value::Null, "{r}");
    assert!(
        r["caveats"][0].as_str().unwrap().contains("not hashed"),
        "{r}"
    );

    // No report without attestation, and none where it cannot be
    // written: both said before the guest runs.
    let out = walmart(&["run", "--attest-report", report_s, &fixture("hello.wasm")]);
    fails_in_one_line(&out, "--attest-report reports an attested run", "off");
    let nowhere = dir.join("missing").join("report.json");
    let out = walmart(&[
        "run",
        "--attest",
        "coarse",
        "--attest-report",
        nowhere.to_str().unwrap(),
        &fixture("hello.wasm"),
    ]);
    fails_in_one_line(&out, "--attest-report: cannot write", "unwritable");
    assert!(
        out.stdout.is_empty(),
        "the guest ran: {}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `-W help`, `-S help`, `-C help`, `-D help` and `-O help`, as wasmtime
/// users type them: each group's settings with what they do, with or
/// without a module named, and an unknown setting's error points there.
#[test]
fn option_groups_list_their_settings_on_help() {
    for (args, says) in [
        (vec!["run", "-W", "help"], "-W max-memory-size=BYTES"),
        (vec!["run", "-Whelp", &fixture("hello.wasm")], "-W fuel=N"),
        (
            vec!["run", "-S", "help", "missing.wasm"],
            "-S inherit-env[=y|n]",
        ),
        (vec!["run", "--debug=help"], "-D coredump=PATH"),
        (
            vec!["compile", "-C", "help"],
            "-C parallel-compilation[=y|n]",
        ),
        (vec!["run", "-O", "help-long"], "-O opt-level=0|1|2|s"),
        (vec!["wast", "-W", "help"], "-W gc[=y|n]"),
    ] {
        let out = walmart(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(says),
            "{args:?}: {}",
            text(&out.stdout)
        );
    }
    let out = walmart(&["run", "-W", "bogus", &fixture("hello.wasm")]);
    fails_in_one_line(&out, "`-W help` says what each does", "-W bogus");
    let out = walmart(&["run", "-S", "bogus", &fixture("hello.wasm")]);
    fails_in_one_line(&out, "`-S help` says what each does", "-S bogus");
}

/// Everything after the module is the guest's, as in wasmtime, even what
/// walmart would take for its own options (`--help`, `-W`, `--dir`).
#[test]
fn everything_after_the_module_is_the_guests() {
    let out = walmart(&[
        "run",
        "--env",
        "GREETING=hi",
        &fixture("hello.wasm"),
        "--help",
        "-W",
        "help",
        "--dir",
        ".",
    ]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("argc=6"), "{stdout}");
    for (i, a) in ["--help", "-W", "help", "--dir", "."].iter().enumerate() {
        assert!(
            stdout.contains(&format!("argv[{}]={a}\n", i + 1)),
            "{stdout}"
        );
    }
    // A `--` right after it is the separator scripts write, not the guest's.
    let out = walmart(&["run", &fixture("hello.wasm"), "--", "-x"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("argc=2\n") && stdout.contains("argv[1]=-x\n"),
        "{stdout}"
    );
    // Options before it are still walmart's, and unknown ones refused.
    let out = walmart(&["run", "--frobnicate", &fixture("hello.wasm")]);
    assert!(text(&out.stderr).contains("unexpected argument '--frobnicate'"));
}

/// `-S http` gives a component `wasi:http` (here, a command that makes
/// header fields and drops them); without it the link fails and says how.
#[test]
fn a_component_gets_wasi_http_with_s_http() {
    let dir = temp_dir("component-http");
    let cmd = dir.join("fields.wat");
    std::fs::write(
        &cmd,
        r#"(component
          (import "wasi:http/types@0.2.3" (instance $types
            (export "fields" (type $f (sub resource)))
            (export "[constructor]fields" (func (result (own $f))))
            (export "[method]fields.has" (func (param "self" (borrow $f))
              (param "name" string) (result bool)))))
          (alias export $types "fields" (type $fields))
          (core module $libc (memory (export "memory") 1)
            (data (i32.const 8) "content-type"))
          (core instance $libc (instantiate $libc))
          (alias core export $libc "memory" (core memory $memory))
          (alias export $types "[constructor]fields" (func $new-f))
          (alias export $types "[method]fields.has" (func $has-f))
          (core func $new-l (canon lower (func $new-f)))
          (core func $has-l (canon lower (func $has-f) (memory $memory)))
          (core func $drop (canon resource.drop $fields))
          (core module $m
            (import "h" "new" (func $new (result i32)))
            (import "h" "has" (func $has (param i32 i32 i32) (result i32)))
            (import "h" "drop" (func $drop (param i32)))
            (func (export "run") (result i32)
              (local $f i32)
              (local.set $f (call $new))
              ;; A new fields has no content-type: ok (0) when it says so.
              (call $has (local.get $f) (i32.const 8) (i32.const 12))
              (call $drop (local.get $f))))
          (core instance $i (instantiate $m
            (with "h" (instance
              (export "new" (func $new-l))
              (export "has" (func $has-l))
              (export "drop" (func $drop))))))
          (func $run (result (result)) (canon lift (core func $i "run")))
          (instance $ri (export "run" (func $run)))
          (export "wasi:cli/run@0.2.3" (instance $ri)))"#,
    )
    .unwrap();
    let cmd = cmd.to_str().unwrap();
    let out = walmart(&["run", "-S", "http", cmd]);
    assert_eq!(
        (out.status.code(), text(&out.stderr).as_str()),
        (Some(0), "")
    );
    let out = walmart(&["run", cmd]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("wasi:http/types@0.2.3")
            && text(&out.stderr).contains("`-S http` gives a component wasi:http"),
        "{}",
        text(&out.stderr)
    );
    // The last one says.
    assert_eq!(
        walmart(&["run", "-S", "http", "-S", "http=n", cmd])
            .status
            .code(),
        Some(1)
    );
    let out = walmart(&["run", "-S", "http", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}
