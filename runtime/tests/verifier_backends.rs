//! The verifier back ends agree: the CNN run as WebAssembly (`wasm`) gives
//! the CPU back end's float scores within 1e-4 for the same model and
//! pages where it computes in floats; where the widths fit, it computes in
//! 16-bit integers, within a hundredth of a log-odd of the floats, and
//! gives the CPU's 16-bit build's scores exactly (where the CPU has AVX2
//! and runs that build).

use walmart::attest::model::default::default_model;
use walmart::attest::model::verifier::{CnnVerifier, CpuScorer};
use walmart::attest::model::{Architecture, Model};
use walmart::attest::wasm_verifier::wasm_cnn_verifier;
use walmart::attest::{PageKind, PageSnapshot, Policy, Verdict, Verifier};
use walmart::{AttestOptions, Config, Engine, Instance, Module, Store};
use walmart_attest::rng::Rng;
use walmart_attest::PAGE_SIZE;

/// Pages of several kinds: random bytes, text, mostly zero, a page of
/// pointers, one of a single repeated byte, and zeros in blocks.
fn pages(seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    out.push((0..PAGE_SIZE).map(|_| rng.below(256) as u8).collect());
    out.push(
        b"{\"name\": \"walmart\", \"pages\": [1, 2, 3]} "
            .iter()
            .cycle()
            .take(PAGE_SIZE)
            .copied()
            .collect(),
    );
    let mut sparse = vec![0u8; PAGE_SIZE];
    for _ in 0..40 {
        sparse[rng.below(PAGE_SIZE as u64) as usize] = rng.below(256) as u8;
    }
    out.push(sparse);
    out.push(
        (0..PAGE_SIZE / 4)
            .flat_map(|i| (0x10000u32 + 16 * i as u32).to_le_bytes())
            .collect(),
    );
    out.push(vec![0xa5; PAGE_SIZE]);
    // Pages whose blocks of zeros (of every network's block size) both
    // back ends take from a precomputed result: all zeros, runs of bytes
    // between runs of zeros, and only the last bytes set.
    out.push(vec![0; PAGE_SIZE]);
    out.push(
        (0..PAGE_SIZE)
            .map(|i| {
                if (i / 40) % 5 < 2 {
                    rng.below(256) as u8
                } else {
                    0
                }
            })
            .collect(),
    );
    let mut last = vec![0u8; PAGE_SIZE];
    last[PAGE_SIZE - 3..].copy_from_slice(b"end");
    out.push(last);
    // More than one `score` call's worth.
    for _ in 0..20 {
        out.push((0..PAGE_SIZE).map(|_| (rng.below(8) * 31) as u8).collect());
    }
    out
}

fn snapshots(pages: &[Vec<u8>]) -> Vec<PageSnapshot<'_>> {
    pages
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            // Every fifth page is an audit, which neither back end scores.
            let kind = if i % 5 == 4 {
                PageKind::Audit
            } else {
                PageKind::Dirty
            };
            PageSnapshot::new(0, i as u32, 1, kind, bytes)
        })
        .collect()
}

fn agree(model: Model, what: &str) {
    let pages = pages(3);
    let snaps = snapshots(&pages);
    // A batch during the run (one thread each), and the final flush,
    // which splits this many pages across the cores on both back ends
    // (fresh verifiers: scores are remembered).
    for last in [false, true] {
        let threshold = model.threshold;
        let mut floats = CnnVerifier::with_scorer(CpuScorer::in_floats(model.clone()), threshold);
        let mut cpu = CnnVerifier::new(model.clone()).unwrap();
        let mut wasm = wasm_cnn_verifier(&model).unwrap_or_else(|e| panic!("{what}: {e}"));
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        if last {
            floats.verify_final(&snaps, &mut a);
            wasm.verify_final(&snaps, &mut b);
            cpu.verify_final(&snaps, &mut c);
        } else {
            floats.verify(&snaps, &mut a);
            wasm.verify(&snaps, &mut b);
            cpu.verify(&snaps, &mut c);
        }
        let what = format!("{what} (final flush: {last})");
        // The `wasm` back end computes in 16 bits wherever the widths fit,
        // the `cpu` one where the CPU has AVX2 too: then the two
        // give the same bits.
        let wasm_int16 = model.runs_int16_in_wasm();
        let tolerances = [
            (if wasm_int16 { 1e-2 } else { 5e-4 }, &b, "wasm"),
            (1e-2, &c, "cpu's own build"),
        ];
        for (tolerance, other, name) in tolerances {
            compare(
                &snaps,
                &a,
                other,
                (tolerance, threshold),
                &format!("{what}, {name}"),
            );
        }
        if wasm_int16 && model.runs_int16_on_cpu() {
            let what = format!("{what}, wasm and cpu in 16 bits");
            compare(&snaps, &c, &b, (0.0, threshold), &what);
        }
    }
}

/// Scores within `tolerance` near even odds and relatively so beyond,
/// flags the same (but for scores that close to `threshold`), audits not
/// scored.
fn compare(
    snaps: &[PageSnapshot<'_>],
    a: &[Verdict],
    b: &[Verdict],
    (tolerance, threshold): (f32, f32),
    what: &str,
) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        // Log-odds: 5e-4 near even odds is a probability within about
        // 1e-4, and relatively so for the large magnitudes the shipped
        // model gives clean pages (-20 within 0.01).
        assert!(
            (x.score - y.score).abs() <= tolerance * x.score.abs().max(1.0),
            "{what}: page {i}: {} against {}",
            x.score,
            y.score
        );
        if (x.score - threshold).abs() > 2.0 * tolerance * x.score.abs().max(1.0) {
            assert_eq!(x.flagged, y.flagged, "{what}: page {i}");
        }
        if snaps[i].kind == PageKind::Audit {
            assert_eq!(*y, Verdict::CLEAN, "{what}: audit page {i}");
        }
    }
}

#[test]
fn the_shipped_model_scores_alike_on_cpu_and_in_wasm() {
    let mut model = default_model().unwrap();
    // A threshold inside the range of scores, so flags are compared too.
    model.threshold = 0.0;
    agree(model, "default model");
}

#[test]
fn other_tiling_stacks_score_alike_including_widths_that_are_not_vectors() {
    for (seed, text) in [
        (
            1,
            "embed4,conv16k8s8,relu,conv16k4s4,relu,conv32k4s4,relu,gmax,dense16,relu,dense2",
        ),
        (
            2,
            "embed3,conv5k4s4,relu,conv7k8s8,relu,gavg,relu,dense3,dense2",
        ),
        (3, "embed2,conv12k16s16,gmax,dense2"),
        (
            4,
            "embed4,conv8k8s8,relu,conv6k2s2,conv8k4s4,relu,gmax,dense9,relu,dense5,relu,dense2",
        ),
        // 16-bit widths other than the default's: a first layer of 4
        // taps, outputs of 24 and 8.
        (
            5,
            "embed4,conv16k4s4,relu,conv24k4s4,relu,conv8k2s2,relu,gmax,dense2",
        ),
        // A first layer of 16 taps (not the wide table loop's 8).
        (
            6,
            "embed4,conv16k16s16,relu,conv16k4s4,relu,conv32k4s4,relu,gmax,dense16,relu,dense2",
        ),
    ] {
        let model = Model::init(Architecture::parse(text).unwrap(), seed);
        agree(model, text);
    }
}

#[test]
fn a_stack_that_does_not_tile_is_refused_with_the_reason() {
    let model = Model::init(
        Architecture::parse("embed4,conv8k4s2,relu,gmax,dense2").unwrap(),
        1,
    );
    let err = wasm_cnn_verifier(&model)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("stride equal to kernel"), "{err}");
    assert!(err.contains("conv8k4s2"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
}

#[test]
fn run_takes_the_backend_and_refuses_one_it_lacks() {
    let app = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../attest/cve/zlib");
    let input = app.join("benign/access-log.in");
    let expected = std::fs::read(app.join("benign/access-log.out")).unwrap();
    let device = walmart::attest::model::gpu::probe();
    let mut backends = vec!["cpu", "wasm"];
    if device.is_ok() {
        backends.push("gpu");
    }
    for backend in backends {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_walmart"))
            .args(["run", "--attest", "fine", "--backend", backend])
            .arg(app.join("zlib.wasm"))
            .stdin(std::fs::File::open(&input).unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{backend}: {err}");
        assert_eq!(out.stdout, expected, "{backend}");
        assert!(
            err.contains("walmart: attestation (fine"),
            "{backend}: {err}"
        );
    }
    if let Err(why) = device {
        // No CUDA device here: refused in one line that says so.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_walmart"))
            .args(["run", "--attest", "fine", "--backend", "gpu"])
            .arg(app.join("zlib.wasm"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0));
        assert!(err.contains("--backend gpu: no CUDA device: "), "{err}");
        assert!(err.contains(&why.to_string()), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// A module whose memory (32 pages of 4 KiB) the embedder fills.
/// `fill` writes 32 pages (two Wasm pages) of sevens.
const MEMORY_32_PAGES: &str = r#"(module (memory (export "memory") 2)
    (func (export "fill") (memory.fill (i32.const 0) (i32.const 7) (i32.const 0x20000))))"#;

#[test]
fn final_verdicts_finish_while_every_global_pool_thread_waits_for_one() {
    // An embedder runs one guest on each of rayon's global threads, and all
    // of them wait in their final flush at once. No flush may wait for a
    // share queued on that pool, whose threads are the ones waiting (with
    // fixed shares on the global pool, this hung).
    use rayon::prelude::*;
    let threads = rayon::current_num_threads();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let all_waiting = std::sync::Barrier::new(threads);
        let stats: Vec<u64> = (0..threads)
            .into_par_iter()
            .map(|_| {
                let mut config = Config::new();
                config.attest(Policy::Coarse);
                let engine = Engine::new(&config).unwrap();
                let module = Module::new(&engine, MEMORY_32_PAGES).unwrap();
                let mut store = Store::new(&engine, ());
                let cnn = CnnVerifier::new(default_model().unwrap()).unwrap();
                store
                    .configure_attestation(
                        // No verifier wake-up in between: the pages wait
                        // for the final flush.
                        AttestOptions::new()
                            .also_verify(cnn)
                            .interval(std::time::Duration::from_secs(600)),
                    )
                    .unwrap();
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                // Written by the module's only call: its pages are left to
                // the final flush, which splits them across threads (the
                // pages are too few to wake the verifier thread).
                let fill = instance.get_func(&mut store, "fill").unwrap();
                fill.call(&mut store, &[], &mut []).unwrap();
                all_waiting.wait();
                store
                    .finish_attestation()
                    .unwrap()
                    .unwrap()
                    .pages_snapshotted
            })
            .collect();
        let _ = done.send(stats);
    });
    let stats = finished
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("every final verdict within two minutes");
    assert!(stats.iter().all(|&pages| pages >= 32), "{stats:?}");
}
