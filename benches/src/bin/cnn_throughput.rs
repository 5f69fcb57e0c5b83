//! CNN inference throughput on one core: the built-in model (or a model
//! file) scoring batches of 4 KiB pages, as the verifier does, on the
//! `cpu` back end (its one-page path as this CPU runs it, the same path
//! in floats, the two alternating five times and their medians shown with
//! the largest difference of a page's score between them, and the
//! batched training forward pass) and on the `wasm` back end (the network
//! as WebAssembly in its own store and thread), with the ratio of the two
//! back ends.
//!
//! `cargo run --release -p walmart-benches --bin cnn_throughput -- [--model FILE] [--batch N] [--seconds S] [--gpu]`
//!
//! `--gpu` then measures the `gpu` back end (CUDA device 0, pages copied
//! from the host in every batch, as in a run) at batch sizes from 1 to
//! 65,536 beside the `cpu` back end on one thread, and names the
//! crossover: the smallest batch the GPU scores faster. Without a device
//! it says why and measures nothing.
//!
//! Pages are taken from a real workload's memory image when one is given
//! (`--pages DATASET`), else pseudo-random text-like bytes with no block
//! of zeros: the kernels' cost is then the full network's (blocks of
//! zeros, common in real pages, are skipped).

use std::time::{Duration, Instant};

use walmart::attest::dataset::Dataset;
use walmart::attest::model::default::default_model;
use walmart::attest::model::gpu::{probe, GpuScorer};
use walmart::attest::model::verifier::PageScorer;
use walmart::attest::model::{batch_of, Model};
use walmart::attest::wasm_verifier::{WasmClassifier, WasmScorer};
use walmart_benches::die;

fn main() {
    let mut model = None;
    let mut pages_from = None;
    let (mut batch, mut seconds) = (64usize, 3.0f64);
    let mut gpu = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| die(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--model" => model = Some(value()),
            "--pages" => pages_from = Some(value()),
            "--batch" => batch = value().parse().unwrap_or_else(|_| die("--batch: a number")),
            "--seconds" => {
                seconds = value()
                    .parse()
                    .unwrap_or_else(|_| die("--seconds: a number"))
            }
            "--gpu" => gpu = true,
            other => die(&format!("unknown argument {other}")),
        }
    }
    let model = match model {
        Some(p) => Model::load(p.as_ref()).unwrap_or_else(|e| die(&e.to_string())),
        None => default_model().unwrap_or_else(|e| die(&format!("the built-in model: {e}"))),
    };
    let pages: Vec<Vec<u8>> = match pages_from {
        Some(p) => Dataset::load(p.as_ref())
            .unwrap_or_else(|e| die(&e.to_string()))
            .records
            .into_iter()
            .take(batch)
            .map(|r| r.bytes)
            .collect(),
        None => {
            let mut s = 0x1234_5678u64;
            (0..batch)
                .map(|_| {
                    (0..model.arch.input_len)
                        .map(|_| {
                            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                            b"etaoin shrdlu\0\x01\x02"[(s >> 60) as usize]
                        })
                        .collect()
                })
                .collect()
        }
    };
    if pages.is_empty() {
        die("no pages");
    }
    if gpu {
        gpu_rates(&model, &pages[0], seconds);
        return;
    }
    let refs: Vec<&[u8]> = pages.iter().map(|p| p.as_slice()).collect();
    let b = batch_of(&refs, model.arch.input_len);
    let timed = |f: &mut dyn FnMut()| rate(refs.len(), seconds, f);
    let mut plan = model.plan();
    let mut float_plan = model.plan_in_floats();
    // The two builds alternating, five times each, medians: this
    // machine's speed drifts by a third from one second to the next.
    let (mut fast, mut floats) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        fast.push(rate(refs.len(), seconds / 5.0, &mut || {
            std::hint::black_box(
                model
                    .scores_planned(&mut plan, b.view())
                    .expect("page size"),
            );
        }));
        floats.push(rate(refs.len(), seconds / 5.0, &mut || {
            std::hint::black_box(
                model
                    .scores_planned(&mut float_plan, b.view())
                    .expect("page size"),
            );
        }));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (fast, floats) = (median(&mut fast), median(&mut floats));
    let (ours, theirs) = (
        model
            .scores_planned(&mut plan, b.view())
            .expect("page size"),
        model
            .scores_planned(&mut float_plan, b.view())
            .expect("page size"),
    );
    let drift = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    let plain = timed(&mut || {
        std::hint::black_box(model.forward(b.view()).expect("page size"));
    });
    let mut wasm = WasmClassifier::new(&model)
        .and_then(|c| WasmScorer::new(&c))
        .unwrap_or_else(|e| die(&e.to_string()));
    let sandboxed = timed(&mut || {
        std::hint::black_box(wasm.score(&refs, false).unwrap_or_else(|e| die(&e)));
    });
    println!(
        "batch {}: {:.0} pages/s (cpu, inference path), {:.0} pages/s (cpu, in floats; \
         scores differ by {:.4} at most), {:.0} pages/s (cpu, training forward), \
         {:.0} pages/s (wasm back end; {:.2}x cpu), one thread",
        refs.len(),
        fast,
        floats,
        drift,
        plain,
        sandboxed,
        sandboxed / fast
    );
}

/// Pages per second of `score`, a batch of `batch` pages per call, over
/// about `seconds` (after one call to warm up).
fn rate(batch: usize, seconds: f64, score: &mut dyn FnMut()) -> f64 {
    score();
    let (start, mut done) = (Instant::now(), 0usize);
    while start.elapsed() < Duration::from_secs_f64(seconds) {
        score();
        done += batch;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// The `gpu` back end against the `cpu` one (one thread) by batch size.
fn gpu_rates(model: &Model, page: &[u8], seconds: f64) {
    let device = match probe() {
        Ok(d) => d,
        Err(e) => {
            println!("gpu: {e}; nothing measured");
            return;
        }
    };
    let scorer = GpuScorer::new(model).unwrap_or_else(|e| die(&e.to_string()));
    println!(
        "gpu: {} (compute capability {}.{})",
        device.name, device.compute_capability.0, device.compute_capability.1
    );
    let fused = scorer.set_fused(true);
    let mut plan = model.plan();
    let mut crossover = None;
    for n in [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536] {
        let pages: Vec<&[u8]> = vec![page; n];
        let gpu_rate = |one_kernel: bool| {
            scorer.set_fused(one_kernel);
            rate(n, seconds, &mut || {
                std::hint::black_box(
                    scorer
                        .scores(&pages)
                        .unwrap_or_else(|e| die(&e.to_string())),
                );
            })
        };
        let gpu = gpu_rate(fused);
        let per_layer = if fused { gpu_rate(false) } else { gpu };
        let cpu_pages = &pages[..n.min(4096)];
        let cpu = rate(cpu_pages.len(), seconds.min(1.0), &mut || {
            std::hint::black_box(model.score_pages(&mut plan, cpu_pages));
        });
        if crossover.is_none() && gpu > cpu {
            crossover = Some(n);
        }
        println!(
            "batch {n:>6}: gpu {gpu:>11.0} pages/s (one kernel: {fused}; a launch per layer {per_layer:.0}), \
             cpu {cpu:>8.0} pages/s (one thread), gpu/cpu {:.2}",
            gpu / cpu
        );
    }
    match crossover {
        Some(n) => println!("crossover: the gpu is faster from batches of {n} pages"),
        None => println!("crossover: none up to 65,536 pages"),
    }
}
