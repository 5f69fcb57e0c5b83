//! The `gpu` back end where it can run and where it cannot: NVRTC must
//! accept the kernels' source wherever NVRTC is installed (no device
//! needed), a machine without a device must get a clear error rather
//! than a panic, and the network's shapes are checked before anything
//! touches CUDA. Tests that need what this machine lacks say so and pass.

use walmart_kernels::cpu::embed_conv_tables;
use walmart_kernels::gpu::{self, GpuError, GpuLayer, GpuNet};

fn zeros(n: usize) -> Vec<f32> {
    vec![0.0; n]
}

#[test]
fn nvrtc_compiles_every_kernel_where_it_is_installed() {
    if !gpu::nvrtc_present() {
        eprintln!("skipped: NVRTC (libnvrtc.so) is not installed here");
        return;
    }
    let ptx = gpu::compile(None)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_src();
    for name in gpu::KERNELS {
        assert!(
            ptx.contains(&format!(".entry {name}(")),
            "{name} in the PTX"
        );
    }
}

#[test]
fn without_a_device_the_back_end_says_so_in_one_line() {
    let table = zeros(256 * 2);
    let dense = zeros(2 * 2);
    let layers = [
        GpuLayer::Embed {
            table: &table,
            dim: 2,
        },
        GpuLayer::GlobalMax,
        GpuLayer::Dense {
            w: &dense,
            b: &[0.0, 0.0],
            out: 2,
        },
    ];
    match (gpu::probe(), GpuNet::new(&layers, 64, 8)) {
        (Ok(dev), Ok(_)) => eprintln!("a device is here ({}): nothing to refuse", dev.name),
        (Err(e), Err(f)) => {
            for e in [e, f] {
                let text = e.to_string();
                assert!(matches!(e, GpuError::NoDevice(_)), "{text}");
                assert!(text.starts_with("no CUDA device: "), "{text}");
                assert!(!text.contains('\n'), "{text}");
            }
        }
        (a, b) => panic!(
            "probe and GpuNet::new disagree: {:?} / {:?}",
            a.map(|d| d.name),
            b.err()
        ),
    }
}

#[test]
fn layers_that_do_not_fit_are_refused_before_cuda_is_touched() {
    let table = zeros(256 * 4);
    let w = zeros(16 * 4 * 8);
    let b = zeros(16);
    let tables = embed_conv_tables(
        ndarray::ArrayView2::from_shape((256, 4), &table).unwrap(),
        ndarray::ArrayView3::from_shape((16, 4, 8), &w).unwrap(),
        ndarray::ArrayView1::from_shape(16, &b).unwrap(),
    );
    let dense = zeros(2 * 16);
    let short = zeros(3);
    let one = zeros(16);
    let cases: Vec<(Vec<GpuLayer>, &str)> = vec![
        (
            vec![GpuLayer::Relu, GpuLayer::GlobalMax],
            "cannot follow Bytes",
        ),
        (
            vec![
                GpuLayer::EmbedConv { tables: &tables },
                GpuLayer::GlobalMax,
                GpuLayer::Dense {
                    w: &short,
                    b: &[0.0, 0.0],
                    out: 2,
                },
            ],
            "dense: 3 weights where the shapes need 32",
        ),
        (
            vec![
                GpuLayer::EmbedConv { tables: &tables },
                GpuLayer::GlobalMax,
                GpuLayer::Dense {
                    w: &one,
                    b: &[0.0],
                    out: 1,
                },
            ],
            "1 output(s); the score needs class 1",
        ),
        (
            vec![
                GpuLayer::EmbedConv { tables: &tables },
                GpuLayer::MaxPool {
                    kernel: 600,
                    stride: 1,
                },
            ],
            "window 600 is longer than the signal (512)",
        ),
        (
            vec![
                GpuLayer::EmbedConv { tables: &tables },
                GpuLayer::GlobalMax,
                GpuLayer::Dense {
                    w: &dense,
                    b: &[0.0, 0.0],
                    out: 2,
                },
                GpuLayer::GlobalMax,
            ],
            "cannot follow Features(2)",
        ),
    ];
    for (layers, want) in cases {
        match GpuNet::new(&layers, 4096, 16) {
            Err(e @ GpuError::Shape(_)) => {
                assert!(e.to_string().contains(want), "{e} (wanted {want})")
            }
            Err(e) => panic!("{e}: a shape error was wanted ({want})"),
            Ok(_) => panic!("accepted: {want}"),
        }
    }
}
