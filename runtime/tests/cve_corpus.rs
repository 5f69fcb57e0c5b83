//! The real-exploit corpus (`attest/cve`, built by
//! `scripts/build-cve-corpus.sh`): every benign input gives the native
//! build's output under walmart, every exploit is caught by the tag
//! monitor, and `walmart attest evaluate` writes its table.

mod common;

use common::without_names;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/cve")
}

/// The corpus's applications: (folder, its .wasm).
fn apps() -> Vec<(PathBuf, PathBuf)> {
    let mut v: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(corpus())
        .expect("attest/cve exists")
        .map(|e| e.unwrap().path())
        // As `walmart attest evaluate` does: `.x` and `_x` are not apps.
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(['.', '_'])
        })
        .map(|d| {
            let wasm = inputs(&d, ".", "wasm")
                .pop()
                .unwrap_or_else(|| panic!("{}: no .wasm", d.display()));
            (d, wasm)
        })
        .collect();
    v.sort();
    v
}

fn inputs(app: &Path, sub: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(app.join(sub))
        .map(|r| {
            r.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn walmart_with_input(args: &[&str], input: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(args)
        .stdin(Stdio::from(std::fs::File::open(input).unwrap()))
        .output()
        .expect("walmart runs")
}

/// `walmart attest evaluate ARGS...`.
fn evaluate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_walmart"))
        .args(["attest", "evaluate"])
        .args(args)
        .output()
        .expect("walmart runs")
}

/// The table of `walmart attest evaluate CORPUS MORE... --policies fine
/// --backends cpu --rounds 1`, which must succeed (written to `report`,
/// then removed).
fn one_fine_round(corpus: &Path, more: &[&str], report: &Path) -> String {
    let mut args = vec![corpus.to_str().unwrap()];
    args.extend(more);
    args.extend(["--policies", "fine", "--backends", "cpu", "--rounds", "1"]);
    args.extend(["--out", report.to_str().unwrap()]);
    let out = evaluate(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = std::fs::read_to_string(report).unwrap();
    let _ = std::fs::remove_file(report);
    table
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `walmart run --attest POLICY --model none --attest-log LOG WASM` on
/// `input`: its output and the log's text.
fn logged_run(policy: &str, wasm: &Path, input: &Path) -> (Output, String) {
    let log = temp(&format!("{policy}-log"));
    let out = walmart_with_input(
        &[
            "run",
            "--attest",
            policy,
            "--model",
            "none",
            "--attest-log",
            log.to_str().unwrap(),
            wasm.to_str().unwrap(),
        ],
        input,
    );
    let events = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (out, events)
}

/// A path of its own in the temporary directory: tests run in parallel
/// threads of one process, so the process id alone does not tell two
/// tests' files (two runs logging the same policy) apart.
fn temp(tag: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("walmart-cve-{tag}-{}-{n}", std::process::id()))
}

#[test]
fn the_corpus_has_six_applications_with_benign_and_exploit_inputs() {
    let apps = apps();
    assert_eq!(apps.len(), 6, "{apps:?}");
    for (dir, _) in &apps {
        assert!(inputs(dir, "benign", "in").len() >= 3, "{}", dir.display());
        assert!(
            !inputs(dir, "exploit", "in").is_empty(),
            "{}",
            dir.display()
        );
        assert!(inputs(dir, "train", "in").len() >= 3, "{}", dir.display());
        assert!(dir.join("README.md").is_file(), "{}", dir.display());
        // Each exploit has its control: the same input with the bug's
        // trigger taken out, so that a CNN flag can be told from one on
        // the attacker's bytes.
        let exploits = inputs(dir, "exploit", "in");
        let controls = inputs(dir, "control", "in");
        for exploit in &exploits {
            let control = dir.join("control").join(exploit.file_name().unwrap());
            assert!(
                controls.contains(&control),
                "{}: no control",
                exploit.display()
            );
        }
        assert_eq!(controls.len(), exploits.len(), "{}", dir.display());
    }
}

/// Training must show the models the states real use reaches: inputs as
/// large as the benign ones, never the same bytes. (With only smaller
/// ones, the states of larger buffers were taken for corruption.)
#[test]
fn training_inputs_are_as_large_as_the_benign_ones_and_not_them() {
    let size = |p: &PathBuf| std::fs::metadata(p).unwrap().len();
    for (dir, _) in apps() {
        let benign = inputs(&dir, "benign", "in");
        let train = inputs(&dir, "train", "in");
        let largest = |v: &[PathBuf]| v.iter().map(size).max().unwrap_or(0);
        assert!(
            2 * largest(&train) >= largest(&benign),
            "{}: the largest training input is {} bytes, the largest benign one {}",
            dir.display(),
            largest(&train),
            largest(&benign)
        );
        let trained: Vec<Vec<u8>> = train.iter().map(|t| std::fs::read(t).unwrap()).collect();
        for b in &benign {
            let bytes = std::fs::read(b).unwrap();
            if let Some(i) = trained.iter().position(|t| *t == bytes) {
                panic!("{} is {}", train[i].display(), b.display());
            }
        }
    }
}

/// Applications that take arbitrary text or bytes train on what real
/// files hold (`attest/cve/realistic.py`): without it their models took
/// an SVG's embedded image, a C file's `//////` banner or an executable's
/// code for an attacker's payload.
#[test]
fn open_ended_applications_train_on_contents_real_files_have() {
    let banner = |t: &[u8]| {
        t.windows(24)
            .any(|w| b"=-*#/_~.+".contains(&w[0]) && w.iter().all(|&c| c == w[0]))
    };
    for app in ["expat", "jq", "lz4", "oniguruma", "zlib"] {
        let dir = corpus().join(app);
        let varied: Vec<PathBuf> = inputs(&dir, "train", "in")
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("varied-")
            })
            .collect();
        assert!(
            varied.len() >= 5,
            "{app}: {} varied-*.in in train/",
            varied.len()
        );
        let generator = std::fs::read_to_string(dir.join("gen-inputs.py")).unwrap();
        assert!(generator.contains("realistic."), "{app}: gen-inputs.py");
        if app == "lz4" || app == "zlib" {
            continue; // compressed: the generator's use of realistic.py is what shows
        }
        let text: Vec<u8> = varied
            .iter()
            .flat_map(|p| std::fs::read(p).unwrap())
            .collect();
        assert!(banner(&text), "{app}: no banner line in its varied inputs");
        assert!(
            text.windows(7).any(|w| w == b"base64,"),
            "{app}: no base64 data in its varied inputs"
        );
    }
}

#[test]
fn benign_and_control_inputs_give_the_native_output() {
    for (dir, wasm) in apps() {
        let mut all = inputs(&dir, "benign", "in");
        all.extend(inputs(&dir, "control", "in"));
        for input in all {
            let out = walmart_with_input(&["run", wasm.to_str().unwrap()], &input);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                input.display(),
                text(&out.stderr)
            );
            let expected = std::fs::read(input.with_extension("out")).unwrap();
            assert!(
                out.stdout == expected,
                "{}: output differs from the native build's",
                input.display()
            );
        }
    }
}

/// Inputs an application refuses (a damaged lz4 archive): the error and
/// exit status are the native build's too. lz4's did not match until both
/// builds took the same decoding loop (attest/cve/lz4/README.md).
#[test]
fn malformed_inputs_are_refused_as_natively() {
    let mut seen = 0;
    for (dir, wasm) in apps() {
        for input in inputs(&dir, "malformed", "in") {
            seen += 1;
            let out = walmart_with_input(&["run", wasm.to_str().unwrap()], &input);
            let mut got = out.stdout.clone();
            got.extend(format!("exit {}\n", out.status.code().unwrap_or(-1)).bytes());
            let expected = std::fs::read(input.with_extension("out")).unwrap();
            assert!(
                got == expected,
                "{}: output or exit status differ from the native build's: {}",
                input.display(),
                text(&out.stderr)
            );
        }
    }
    assert!(seen >= 1, "no malformed/*.in in the corpus");
}

#[test]
fn the_tag_monitor_catches_every_exploit_and_no_benign_or_control_input() {
    for (dir, wasm) in apps() {
        let benign = inputs(&dir, "benign", "in");
        let controls = inputs(&dir, "control", "in");
        let exploits = inputs(&dir, "exploit", "in");
        for (input, bad) in benign
            .iter()
            .take(1)
            .chain(&controls)
            .map(|i| (i, false))
            .chain(exploits.iter().map(|i| (i, true)))
        {
            let (out, events) = logged_run("tags", &wasm, input);
            let violations = events
                .lines()
                .filter(|l| l.contains("\"kind\":\"tag-violation\""))
                .count();
            if bad {
                assert!(
                    violations > 0,
                    "{}: no violation reported\n{}",
                    input.display(),
                    text(&out.stderr)
                );
            } else {
                assert_eq!(violations, 0, "{}: {events}", input.display());
                assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            }
        }
    }
}

/// jq's CVE-2023-50268 copies a NaN's payload up the stack from a local
/// `decNumber`. The tag monitor finds the copy in the guard above that
/// local's frame (`walmart_jit::translate::stack_guard`), and `coarse`
/// and `fine` find the guard written as the frame's function returns,
/// whether the payload reaches the heap (the corpus's exploit) or stays
/// within the stack, where the heap checks see nothing.
#[test]
fn the_stack_guards_find_jqs_nan_payload() {
    let jq = corpus().join("jq");
    let short = temp("nan-short.in");
    let mut text_in = String::from("{\"reading\": {\"sensor\": \"t1\", \"value\": 21.5}}\n");
    text_in.push_str("{\"reading\": {\"sensor\": \"t1\", \"value\": NaN1999");
    text_in.push_str(&"001999".repeat(399));
    text_in.push_str("}}\n");
    std::fs::write(&short, text_in).unwrap();
    let wasm = jq.join("jq.wasm");
    for (input, reaches_heap) in [
        (jq.join("exploit/nan-payload.in"), true),
        (short.clone(), false),
    ] {
        // Each policy's first event: the tag monitor's violation in the
        // guard above `jvp_number_cmp`'s frame; under `coarse` and
        // `fine`, that guard found written as it returns, before any
        // heap check.
        for (policy, says) in [
            ("tags", "\"violation\":\"stack-buffer-overflow\""),
            ("coarse", "stack frame of `jvp_number_cmp`"),
            ("fine", "stack frame of `jvp_number_cmp`"),
        ] {
            let (out, events) = logged_run(policy, &wasm, &input);
            let first = events.lines().next().unwrap_or_default();
            assert!(
                first.contains(says),
                "{policy} {}: {first}\n{}",
                input.display(),
                text(&out.stderr)
            );
            if policy != "tags" {
                // Once per return site: `jvp_number_cmp`'s, and one for
                // the three `jv_equal` frames the copy crosses.
                let smashes = events.matches("\"kind\":\"stack-smash\"").count();
                assert_eq!(smashes, 2, "{policy} {}: {events}", input.display());
            }
        }
        let (found, _) = coarse_heap_check("jq", &input, true);
        assert_eq!(
            !found.is_empty(),
            reaches_heap,
            "{}: {found:?}",
            input.display()
        );
    }
    let _ = std::fs::remove_file(&short);
}

#[test]
fn evaluate_writes_the_table_for_a_corpus() {
    let report = temp("report.md");
    let out = evaluate(&[
        corpus().to_str().unwrap(),
        "--apps",
        "lz4",
        "--policies",
        "fine,tags",
        "--rounds",
        "1",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = std::fs::read_to_string(&report).unwrap();
    let _ = std::fs::remove_file(&report);
    let row = |policy: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("| lz4 | CVE-2021-3520 | {policy} |")))
            .unwrap_or_else(|| panic!("no {policy} row in\n{table}"))
            .to_string()
    };
    let benign = inputs(&corpus().join("lz4"), "benign", "in").len();
    let exploits = inputs(&corpus().join("lz4"), "exploit", "in").len();
    assert!(
        row("off").contains(&format!("| {benign}/{benign} |")),
        "{table}"
    );
    let tags = row("tags");
    assert!(
        tags.contains(&format!("| {exploits}/{exploits} |")),
        "tags must catch every exploit: {tags}"
    );
    assert!(tags.contains("| 0 / 0 |"), "tags false positive: {tags}");
    // One run of each control where no CNN judges.
    assert!(
        tags.contains(&format!("| {exploits}/{exploits} | 0/{exploits} |")),
        "tags flagged a control: {tags}"
    );
    // The CNN's rows, one per back end (gpu where a device is; the
    // report says why not elsewhere), each running every benign input
    // to the native output.
    let mut backends = vec!["cpu", "wasm"];
    match walmart::attest::model::gpu::probe() {
        Ok(_) => backends.push("gpu"),
        Err(e) => assert!(
            table.contains(&format!("`gpu` has no rows: {e}.")),
            "{table}"
        ),
    }
    for backend in backends {
        let fine = row(&format!("fine | {backend}"));
        assert!(fine.contains(&format!("| {benign}/{benign} |")), "{fine}");
        // lz4's backward copy writes over the first chunk's head before
        // it traps: the walk of the chunk chain finds it in every run.
        assert!(
            fine.contains(&format!("| {exploits}/{exploits} (cnn "))
                && fine.contains(&format!(", heap walk {exploits}, stack guard 0) |")),
            "{fine}"
        );
        // ... before the program calls its allocator again: dated by the
        // allocator calls the runs with and without the tag monitor count
        // alike, and timed from the last call before the write.
        assert!(fine.contains(" | - | 0 / "), "{fine}");
    }
    assert!(
        table.contains(
            "exploit negative-target.in: the exact checks' detection came 0 allocator call(s) \
             after the first violating write"
        ),
        "{table}"
    );
    assert!(
        table.contains("exploit negative-target.in: heap walk at the ")
            && table.contains("the allocator's chunk chain is broken at 0x"),
        "{table}"
    );
    assert!(table.contains("Machine: "), "{table}");

    // c-ares's `escaped-dot` names ten `a`s. The CNN flagged that name's
    // page in the exploit's runs and its control's alike (the name, not
    // the corruption) until it passed over the runs the input held: now
    // in neither.
    let table = one_fine_round(&corpus(), &["--apps", "c-ares"], &report);
    assert!(!table.contains("false positive on control"), "{table}");
    assert!(!table.contains("the CNN flagged page"), "{table}");
    let fine = table
        .lines()
        .find(|l| l.starts_with("| c-ares | CVE-2016-5180 | fine | cpu |"))
        .unwrap_or_else(|| panic!("no fine row in\n{table}"));
    // Found by the heap checks.
    assert!(fine.contains("| 3/3 (cnn 0"), "{fine}");
    assert!(fine.contains(", heap walk 3, stack guard 0) | "), "{fine}");
    // The overflows past a chunk's head are found at the next allocator
    // call's entry; the one into a request's slack when its chunk is
    // freed, eight calls on.
    let calls: Vec<&str> = fine
        .split(" | - | ")
        .nth(1)
        .and_then(|rest| rest.split(" | ").next())
        .unwrap_or_else(|| panic!("no latency in {fine}"))
        .split(", ")
        .map(|d| d.split(" / ").next().unwrap())
        .collect();
    assert_eq!(calls, ["1", "8", "1"], "{fine}");

    // --evidence keeps the flagged pages. An lz4 record of one `A` and a
    // match that repeats it 2,000 times: the run is the program's doing,
    // not the input's, and lz4's model flags it; with no control beside
    // it, the flag counts.
    let kept = temp("evidence");
    let runs = temp("runs-corpus");
    let app = runs.join("lz4");
    for sub in ["benign", "exploit"] {
        std::fs::create_dir_all(app.join(sub)).unwrap();
    }
    let lz4 = corpus().join("lz4");
    for file in [
        "lz4.wasm",
        "model.wcnn",
        "benign/mixed.in",
        "benign/mixed.out",
    ] {
        std::fs::copy(lz4.join(file), app.join(file)).unwrap();
    }
    std::fs::write(app.join("exploit/runs.in"), lz4_record_of_a_run(2000)).unwrap();
    let table = one_fine_round(&runs, &["--evidence", kept.to_str().unwrap()], &report);
    let _ = std::fs::remove_dir_all(&runs);
    assert!(
        table.contains("| 1/1 (cnn 1, heap walk 0, stack guard 0) |"),
        "{table}"
    );
    let pages: Vec<Vec<u8>> = std::fs::read_dir(&kept)
        .map(|d| {
            d.map(|f| std::fs::read(f.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&kept);
    assert!(
        pages
            .iter()
            .any(|p| p.len() == 4096 && p.windows(1000).any(|w| w.iter().all(|&b| b == b'A'))),
        "{} evidence files, none with the run",
        pages.len()
    );

    // A back end this build lacks: one line, exit 1, before any work.
    if walmart::attest::model::gpu::probe().is_err() {
        let out = evaluate(&[corpus().to_str().unwrap(), "--backends", "cpu,gpu"]);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(err.contains("--backend gpu: no CUDA device"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    // A control whose exploit is missing (a misspelt name): one line,
    // exit 1, before any run.
    let typo = temp("control-typo");
    let app = typo.join("lz4");
    for sub in ["benign", "exploit", "control"] {
        std::fs::create_dir_all(app.join(sub)).unwrap();
    }
    let lz4 = corpus().join("lz4");
    std::fs::copy(lz4.join("lz4.wasm"), app.join("lz4.wasm")).unwrap();
    for (from, to) in [
        ("benign/mixed.in", "benign/mixed.in"),
        ("benign/mixed.out", "benign/mixed.out"),
        ("exploit/negative-target.in", "exploit/negative-target.in"),
        ("control/negative-target.in", "control/negative-targt.in"),
        ("control/negative-target.out", "control/negative-targt.out"),
    ] {
        std::fs::copy(lz4.join(from), app.join(to)).unwrap();
    }
    let out = evaluate(&[typo.to_str().unwrap(), "--policies", "tags"]);
    let _ = std::fs::remove_dir_all(&typo);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("negative-targt.in: a control with no exploit/ input of its name"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // A folder that is not a corpus: one line, exit 1.
    let empty = temp("empty-corpus");
    std::fs::create_dir_all(empty.join("app")).unwrap();
    let out = evaluate(&[empty.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&empty);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("no .wasm application"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// An input of lz4's driver (`attest/cve/lz4/driver.c`): one record whose
/// block is a literal `A`, a match at offset 1 that repeats it `len` times
/// (at least 19), and five literal newlines.
fn lz4_record_of_a_run(len: usize) -> Vec<u8> {
    let mut block = vec![0x1f, b'A', 1, 0];
    // The match's length past 4, and past the token's 15, in bytes of 255.
    let mut rest = len - 4 - 15;
    while rest >= 255 {
        block.push(255);
        rest -= 255;
    }
    block.push(rest as u8);
    block.push(5 << 4);
    block.extend(b"\n\n\n\n\n");
    let mut input = ((1 + len + 5) as i32).to_le_bytes().to_vec();
    input.extend((block.len() as i32).to_le_bytes());
    input.extend(block);
    input
}

/// Runs `input` through `app`'s module under `coarse` with the exact checks
/// only, through the library: (heap-corrupt events, the run's counters).
fn coarse_heap_check(
    app: &str,
    input: &Path,
    heap_check: bool,
) -> (Vec<String>, walmart::attest::AttestStats) {
    let wasm = std::fs::read(corpus().join(app).join(format!("{app}.wasm"))).unwrap();
    coarse_heap_check_of(app, &wasm, input, heap_check)
}

/// [`coarse_heap_check`] of the module `wasm`.
fn coarse_heap_check_of(
    app: &str,
    wasm: &[u8],
    input: &Path,
    heap_check: bool,
) -> (Vec<String>, walmart::attest::AttestStats) {
    use walmart::attest::{EventKind, OnDetect, Policy};
    use walmart::wasi::{self, WasiCtx};
    use walmart::{AttestOptions, Config, Engine, Linker, Module, Store};
    let mut config = Config::new();
    config.attest(Policy::Coarse).attest_heap_check(heap_check);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wasm).unwrap();
    let mut ctx = WasiCtx::new();
    ctx.args([app]);
    ctx.redirect(0, std::fs::File::open(input).unwrap());
    ctx.redirect(1, std::fs::File::create("/dev/null").unwrap());
    let mut store = Store::new(&engine, ctx);
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    store
        .configure_attestation(
            AttestOptions::new()
                .on_detect(OnDetect::Log)
                .on_event(move |e| {
                    if e.kind == EventKind::HeapCorrupt {
                        seen.lock()
                            .unwrap()
                            .push(format!("{} {}", e.source, e.detail));
                    }
                }),
        )
        .unwrap();
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance.get_func(&mut store, "_start").unwrap();
    // Exploits trap; the verdict comes after either way.
    let _ = start.call(&mut store, &[], &mut []);
    let stats = store.finish_attestation().unwrap().unwrap();
    let found = events.lock().unwrap().clone();
    (found, stats)
}

/// The walk of dlmalloc's chunk chain at the end of a `coarse` run finds
/// the exploits whose writes cross chunk headers (zlib's copy over the
/// following chunks, lz4's backward copy over the first chunk's head),
/// and the allocator's entry check those whose byte lands on the top
/// chunk's head, which dlmalloc rewrites at its next use of the top
/// (c-ares's one-byte overflow, the bit Oniguruma's `[\477]` sets) or on
/// the designated victim's head, which dlmalloc rewrites at its next carve
/// from the victim (jq's NUL), or at `free` of a chunk whose head the
/// write replaced (jq's NaN payload, copied from the stack into the
/// heap), or in the top chunk's first free bytes,
/// which the allocator's last return copied (the bit Oniguruma's `[\777]`
/// sets), and the slack's marks (since 2026-12-03 under `coarse` too)
/// c-ares's byte that stays in its buffer's slack, and the copies from a
/// request's end before they reach the next header; it stays silent on
/// every benign input of every application, and is off when the engine
/// says so. expat's bug only reads: no check of the
/// heap can find it.
#[test]
fn the_heap_walk_finds_exploits_that_write_over_chunk_headers() {
    for (dir, _) in apps() {
        let app = dir.file_name().unwrap().to_str().unwrap().to_string();
        for input in inputs(&dir, "benign", "in") {
            let (found, stats) = coarse_heap_check(&app, &input, true);
            assert!(found.is_empty(), "{}: {found:?}", input.display());
            assert!(
                stats.heap_chunks > 0,
                "{}: no chunk walked",
                input.display()
            );
            // The allocator's state found: its top is checked at every
            // allocator entry.
            assert!(stats.heap_state.is_some(), "{}: {stats}", input.display());
            // No free check called the runtime for nothing.
            assert_eq!(stats.free_checks_unconfirmed, 0, "{}", input.display());
        }
    }
    let top = "disagrees with the allocator's state";
    let expected = [
        ("zlib", "extra-overflow.in", None, 1),
        ("zlib", "extra-overflow-random.in", None, 1),
        ("zlib", "extra-overflow-text.in", None, 1),
        ("lz4", "negative-target.in", None, 1),
        ("c-ares", "escaped-dot.in", Some(top), 1),
        ("c-ares", "escaped-dot-letters.in", Some(top), 1),
        ("oniguruma", "octal-class.in", Some(top), 1),
        // Found as the allocator is entered: the bit lands in the top
        // chunk's free bytes, which only dlmalloc writes.
        (
            "oniguruma",
            "octal-777.in",
            Some("free top chunk was written into at 0x"),
            1,
        ),
        // Found as `free` enters: the victim's head is wrong.
        (
            "jq",
            "long-literal.in",
            Some("successor's head 0x0 says it is free"),
            1,
        ),
        // Found as `free` enters, the buffer's head overwritten by the
        // copy from the stack; the guest then traps in `free`, and the
        // walk at the export's return finds the chain broken there.
        (
            "jq",
            "nan-payload.in",
            Some("which dlmalloc did not return or already freed"),
            2,
        ),
        // Found as `free` enters: the byte is over the slack's mark.
        (
            "c-ares",
            "escaped-dot-slack.in",
            Some("with the slack past its request marked"),
            1,
        ),
    ];
    for (dir, _) in apps() {
        let app = dir.file_name().unwrap().to_str().unwrap().to_string();
        for input in inputs(&dir, "exploit", "in") {
            let name = input.file_name().unwrap().to_str().unwrap();
            let want = expected.iter().find(|(a, n, _, _)| *a == app && *n == name);
            let (found, _) = coarse_heap_check(&app, &input, true);
            let Some((_, _, detail, reports)) = want else {
                assert!(found.is_empty(), "{}: {found:?}", input.display());
                continue;
            };
            assert_eq!(found.len(), *reports, "{}: {found:?}", input.display());
            // A copy from a request's end breaks the slack's marks before
            // the next header.
            let chain = "heap-walk the allocator's chunk chain is broken at 0x";
            let slack = "heap-walk a chunk of the allocator's heap was written past its request";
            let ok = match detail {
                None => found[0].starts_with(chain) || found[0].starts_with(slack),
                Some(d) => {
                    (found[0].starts_with("heap-walk ") || found[0].starts_with("free-check "))
                        && found[0].contains(d)
                }
            };
            assert!(ok, "{}", found[0]);
            let (off, stats) = coarse_heap_check(&app, &input, false);
            assert!(
                off.is_empty() && stats.heap_chunks == 0 && stats.heap_state.is_none(),
                "{}: {off:?}",
                input.display()
            );
        }
    }
}

/// A module without names: its allocator's functions are told by their
/// code instead (`walmart_jit::unnamed_dlmalloc`: the static they read
/// as dlmalloc's allocation path reads its state), and the state is found
/// where that code reads it, else by a scan of the statics. The checks
/// then find what they find in the named build, at the address it finds
/// the state: the ten exploits (the entry check's c-ares, both of jq's
/// and both of Oniguruma's among them), nothing on any benign input; but
/// the slack marks need names (which entry is `malloc` cannot be told
/// from `calloc`'s by signature), so c-ares's `escaped-dot-slack` is
/// found with names only.
#[test]
fn without_names_the_heap_checks_find_what_they_find_with_names() {
    for (dir, _) in apps() {
        let app = dir.file_name().unwrap().to_str().unwrap().to_string();
        let named = std::fs::read(dir.join(format!("{app}.wasm"))).unwrap();
        let stripped = without_names(&named);
        assert!(stripped.len() < named.len(), "{app}: no name section");
        let benign = inputs(&dir, "benign", "in");
        let (_, with_names) = coarse_heap_check_of(&app, &named, &benign[0], true);
        for input in &benign {
            let (found, stats) = coarse_heap_check_of(&app, &stripped, input, true);
            assert!(found.is_empty(), "{}: {found:?}", input.display());
            assert!(stats.heap_chunks > 0, "{}: {stats}", input.display());
            assert_eq!(
                stats.heap_state,
                with_names.heap_state,
                "{}",
                input.display()
            );
        }
        for input in inputs(&dir, "exploit", "in") {
            let (found, _) = coarse_heap_check_of(&app, &stripped, &input, true);
            let (want, _) = coarse_heap_check_of(&app, &named, &input, true);
            if want
                .iter()
                .any(|w| w.contains("with the slack past its request marked"))
            {
                // Without marks: found at the next header, if it reaches
                // one.
                assert!(
                    found.is_empty()
                        || found.len() == 1
                            && found[0]
                                .starts_with("heap-walk the allocator's chunk chain is broken"),
                    "{}: {found:?}",
                    input.display()
                );
            } else {
                // Without names a free check calls `dlfree` by its role.
                let want: Vec<String> = want
                    .iter()
                    .map(|w| w.replace("`dlfree`", "the allocator's free"))
                    .collect();
                assert_eq!(found, want, "{}", input.display());
            }
        }
    }
}

/// `walmart run`: the heap walk's event in the log and its count in the
/// exit summary, `--no-heap-check` turning it off, and refused without
/// hooks to run it.
#[test]
fn run_reports_the_heap_walk_and_takes_no_heap_check() {
    let zlib = corpus().join("zlib");
    let wasm = zlib.join("zlib.wasm");
    let exploit = zlib.join("exploit/extra-overflow.in");
    for (flags, found) in [(vec![], true), (vec!["--no-heap-check"], false)] {
        let log = temp("heap-log");
        let mut args = vec!["run", "--attest", "fine", "--model", "none"];
        args.extend(flags.iter().copied());
        args.extend([
            "--attest-log",
            log.to_str().unwrap(),
            wasm.to_str().unwrap(),
        ]);
        let out = walmart_with_input(&args, &exploit);
        let events = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        let heap = events
            .lines()
            .filter(|l| {
                l.contains("\"kind\":\"heap-corrupt\"") && l.contains("\"source\":\"heap-walk\"")
            })
            .count();
        assert_eq!(heap, usize::from(found), "{flags:?}: {events}");
        let stderr = text(&out.stderr);
        if found {
            assert!(stderr.contains("heap chunks checked "), "{stderr}");
        } else {
            assert!(stderr.contains("heap chunks checked 0,"), "{stderr}");
        }
    }
    let out = walmart_with_input(
        &["run", "--no-heap-check", wasm.to_str().unwrap()],
        &exploit,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--no-heap-check"),
        "{}",
        text(&out.stderr)
    );
}

/// c-ares's overflow on a 27-byte buffer (`escaped-dot-slack.in`): the
/// byte past the buffer, the class IN's 1, lands in the one byte of slack
/// of its chunk and breaks no header. The slack marks find it as the
/// buffer is freed, in every run (a mark is never 1), under `coarse` and
/// `fine`.
#[test]
fn the_slack_marks_find_c_ares_byte_in_its_buffers_slack() {
    let cares = corpus().join("c-ares");
    let wasm = cares.join("c-ares.wasm");
    let exploit = cares.join("exploit/escaped-dot-slack.in");
    for (policy, rounds, found) in [("fine", 3, true), ("coarse", 3, true)] {
        for round in 0..rounds {
            let (out, events) = logged_run(policy, &wasm, &exploit);
            assert!(out.status.success(), "{}", text(&out.stderr));
            let slack = events
                .lines()
                .filter(|l| {
                    l.contains("\"kind\":\"heap-corrupt\"")
                        && l.contains("the slack past its request marked")
                })
                .count();
            assert_eq!(slack, usize::from(found), "{policy} {round}: {events}");
        }
    }
}
