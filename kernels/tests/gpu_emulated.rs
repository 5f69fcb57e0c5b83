//! The `gpu` back end's CUDA kernels (`src/gpu/cnn.cu`) checked without a
//! GPU: the same source compiled as C with `tests/gpu_emulate.h`, each
//! kernel run on the CPU for every (block, thread) of a grid, against the
//! CPU kernels on random inputs. Grids are deliberately small and sizes
//! no multiple of the block, so partial blocks and the grid-stride loops
//! are exercised. (On a machine with a device, the attest crate's tests
//! compare the whole network on the GPU with the CPU too.)

use std::path::{Path, PathBuf};
use std::process::Command;

use libloading::{Library, Symbol};
use ndarray::{Array1, Array2, Array3};
use walmart_kernels::cpu;
use walmart_kernels::rng::Rng;

/// The kernels built for the CPU, and the grid the launches use.
struct Emulated {
    lib: Library,
    block: u32,
    max_grid: u32,
}

type At = unsafe extern "C" fn(u32, u32, u32, u32);

fn build() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    // One library per test process; tests in it share it.
    let out = dir.join(format!("wm-gpu-emulated-{}.so", std::process::id()));
    if out.exists() {
        return out;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let tmp = dir.join(format!("wm-gpu-emulated-{}.tmp.so", std::process::id()));
    let status = Command::new(&cc)
        .args(["-std=gnu11", "-O1", "-shared", "-fPIC", "-Wall", "-Werror"])
        .arg("-include")
        .arg(root.join("tests/gpu_emulate.h"))
        .args(["-x", "c"])
        .arg(root.join("src/gpu/cnn.cu"))
        .arg(root.join("tests/gpu_emulate_launch.c"))
        .arg("-o")
        .arg(&tmp)
        .args(["-lm", "-pthread"])
        .status()
        .unwrap_or_else(|e| panic!("{cc}: {e} (a C compiler is needed to emulate the kernels)"));
    assert!(
        status.success(),
        "{cc} could not compile src/gpu/cnn.cu as C"
    );
    std::fs::rename(&tmp, &out).expect("rename the emulated kernels");
    out
}

fn emulated(block: u32, max_grid: u32) -> Emulated {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let path = BUILT.get_or_init(build);
    // SAFETY: a library we just compiled from our own source; it runs no
    // initialisers.
    let lib = unsafe { Library::new(path) }.expect("load the emulated kernels");
    Emulated {
        lib,
        block,
        max_grid,
    }
}

impl Emulated {
    /// Runs `call` (one kernel call) as every thread of a launch over
    /// `total` outputs, the grid capped as `launch_for` in src/gpu/net.rs
    /// caps it, but much lower.
    fn launch(&self, total: usize, call: impl Fn()) {
        let blocks = (total as u32).div_ceil(self.block).clamp(1, self.max_grid);
        // SAFETY: `wm_emu_at` only sets four thread-local variables.
        let at: Symbol<At> = unsafe { self.lib.get(b"wm_emu_at") }.expect("wm_emu_at");
        for b in 0..blocks {
            for t in 0..self.block {
                // SAFETY: as above.
                unsafe { at(b, t, self.block, blocks) };
                call();
            }
        }
    }

    fn kernel<T>(&self, name: &str) -> Symbol<'_, T> {
        // SAFETY: the type each caller names is the kernel's C signature.
        unsafe { self.lib.get(name.as_bytes()) }.unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

/// The grids every kernel is tried with: one thread per output, a grid
/// smaller than the work (grid-stride loops), a block of one.
fn grids() -> [Emulated; 3] {
    [emulated(32, 1 << 16), emulated(64, 3), emulated(1, 5)]
}

fn rand_f32(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.unit() as f32 * 2.0 - 1.0).collect()
}

fn rand_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| (rng.unit() * 256.0) as u8).collect()
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * w.abs().max(1.0),
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

type EmbedFn = unsafe extern "C" fn(*const u8, *const f32, *mut f32, i32, i32, i32);
type ScaleFn = unsafe extern "C" fn(*const u8, *mut f32, i32, i32);
type EmbedConvFn =
    unsafe extern "C" fn(*const u8, *const f32, *const f32, *mut f32, i32, i32, i32, i32, i32);
type ConvFn = unsafe extern "C" fn(
    *const f32,
    *const f32,
    *const f32,
    *mut f32,
    i32,
    i32,
    i32,
    i32,
    i32,
    i32,
    i32,
    i32,
);
type ReluFn = unsafe extern "C" fn(*mut f32, i64);
type PoolFn = unsafe extern "C" fn(*const f32, *mut f32, i32, i32, i32, i32, i32, i32);
type GlobalFn = unsafe extern "C" fn(*const f32, *mut f32, i32, i32, i32);
type DenseFn = unsafe extern "C" fn(*const f32, *const f32, *const f32, *mut f32, i32, i32, i32);
type Class1Fn = unsafe extern "C" fn(*const f32, *mut f32, i32, i32);

#[test]
fn input_layers_match_the_cpu() {
    let mut rng = Rng::new(11);
    let (batch, len, dim) = (3, 37, 5);
    let pages = rand_bytes(&mut rng, batch * len);
    let table = rand_f32(&mut rng, 256 * dim);
    let pages_v = ndarray::ArrayView2::from_shape((batch, len), &pages[..]).unwrap();
    let table_v = ndarray::ArrayView2::from_shape((256, dim), &table[..]).unwrap();
    let want_embed = cpu::embed_forward(pages_v, table_v);
    let want_scale = cpu::scale_forward(pages_v);
    for emu in grids() {
        let mut out = vec![f32::NAN; batch * dim * len];
        let op = out.as_mut_ptr();
        let f = emu.kernel::<EmbedFn>("wm_embed");
        emu.launch(out.len(), || unsafe {
            // SAFETY: buffers of the sizes the kernel indexes.
            f(
                pages.as_ptr(),
                table.as_ptr(),
                op,
                batch as i32,
                len as i32,
                dim as i32,
            )
        });
        assert_close("embed", &out, want_embed.as_slice().unwrap());

        let mut out = vec![f32::NAN; batch * len];
        let op = out.as_mut_ptr();
        let f = emu.kernel::<ScaleFn>("wm_scale");
        emu.launch(out.len(), || unsafe {
            // SAFETY: as above.
            f(pages.as_ptr(), op, batch as i32, len as i32)
        });
        assert_close("scale", &out, want_scale.as_slice().unwrap());
    }
}

#[test]
fn embedding_folded_into_a_convolution_matches_the_cpu() {
    let mut rng = Rng::new(12);
    // 8-byte taps over a 70-byte page: 8 positions, 6 bytes left over.
    let (batch, len, dim, out, k) = (5, 70, 4, 7, 8);
    let pages = rand_bytes(&mut rng, batch * len);
    let table = Array2::from_shape_vec((256, dim), rand_f32(&mut rng, 256 * dim)).unwrap();
    let w = Array3::from_shape_vec((out, dim, k), rand_f32(&mut rng, out * dim * k)).unwrap();
    let b = Array1::from_vec(rand_f32(&mut rng, out));
    let tables = cpu::embed_conv_tables(table.view(), w.view(), b.view());
    let pages_v = ndarray::ArrayView2::from_shape((batch, len), &pages[..]).unwrap();
    let want = cpu::embed_conv_forward(pages_v, &tables);
    let positions = len / k;
    for emu in grids() {
        let mut got = vec![f32::NAN; batch * out * positions];
        let gp = got.as_mut_ptr();
        let f = emu.kernel::<EmbedConvFn>("wm_embed_conv");
        emu.launch(got.len(), || unsafe {
            // SAFETY: as in `input_layers_match_the_cpu`.
            f(
                pages.as_ptr(),
                tables.rows().as_ptr(),
                tables.bias().as_ptr(),
                gp,
                batch as i32,
                len as i32,
                k as i32,
                out as i32,
                positions as i32,
            )
        });
        assert_close("embed-conv", &got, want.as_slice().unwrap());
    }
}

#[test]
fn convolutions_with_stride_and_padding_match_the_cpu() {
    let mut rng = Rng::new(13);
    for (cin, lin, cout, k, stride, padding) in [
        (16, 512, 16, 4, 4, 0),
        (3, 29, 5, 3, 1, 1),
        (2, 31, 4, 5, 2, 2),
        (1, 9, 3, 9, 1, 0),
    ] {
        let batch = 3;
        let x = Array3::from_shape_vec((batch, cin, lin), rand_f32(&mut rng, batch * cin * lin))
            .unwrap();
        let w = Array3::from_shape_vec((cout, cin, k), rand_f32(&mut rng, cout * cin * k)).unwrap();
        let b = Array1::from_vec(rand_f32(&mut rng, cout));
        let want = cpu::conv1d_forward(
            x.view(),
            w.view(),
            b.view(),
            cpu::Conv1dSpec { stride, padding },
        );
        let lout = want.dim().2;
        for emu in grids() {
            let mut got = vec![f32::NAN; batch * cout * lout];
            let gp = got.as_mut_ptr();
            let f = emu.kernel::<ConvFn>("wm_conv1d");
            emu.launch(got.len(), || unsafe {
                // SAFETY: as in `input_layers_match_the_cpu`.
                f(
                    x.as_ptr(),
                    w.as_ptr(),
                    b.as_ptr(),
                    gp,
                    batch as i32,
                    cin as i32,
                    lin as i32,
                    cout as i32,
                    k as i32,
                    stride as i32,
                    padding as i32,
                    lout as i32,
                )
            });
            let what = format!("conv {cin}x{lin} -> {cout} k{k} s{stride} p{padding}");
            assert_close(&what, &got, want.as_slice().unwrap());
        }
    }
}

#[test]
fn activation_pooling_dense_and_softmax_match_the_cpu() {
    let mut rng = Rng::new(14);
    let (batch, c, len) = (3, 5, 23);
    let mut xs = rand_f32(&mut rng, batch * c * len);
    xs[7] = f32::NAN;
    let x = Array3::from_shape_vec((batch, c, len), xs.clone()).unwrap();
    let want_relu = cpu::relu_forward(x.view());
    let x = Array3::from_shape_vec((batch, c, len), rand_f32(&mut rng, batch * c * len)).unwrap();
    let (k, s) = (4, 3);
    let want_max = cpu::max_pool1d_forward(x.view(), k, s).0;
    let want_avg = cpu::avg_pool1d_forward(x.view(), k, s);
    let want_gmax = cpu::global_max_pool_forward(x.view()).0;
    let want_gavg = cpu::global_avg_pool_forward(x.view());
    let (fin, fout) = (c, 6);
    let w = Array2::from_shape_vec((fout, fin), rand_f32(&mut rng, fout * fin)).unwrap();
    let b = Array1::from_vec(rand_f32(&mut rng, fout));
    let want_dense = cpu::dense_forward(want_gmax.view(), w.view(), b.view());
    let logits = Array2::from_shape_vec((batch, 3), rand_f32(&mut rng, batch * 3)).unwrap();
    let want_p1 = cpu::softmax(logits.view()).column(1).to_vec();
    let lout = want_max.dim().2;
    for emu in grids() {
        let mut got = xs.clone();
        let (gp, n) = (got.as_mut_ptr(), got.len());
        let f = emu.kernel::<ReluFn>("wm_relu");
        emu.launch(got.len(), || unsafe {
            // SAFETY: as in `input_layers_match_the_cpu`.
            f(gp, n as i64)
        });
        assert_close("relu", &got, want_relu.as_slice().unwrap());

        let pool = emu.kernel::<PoolFn>("wm_pool1d");
        for (average, want) in [(0, &want_max), (1, &want_avg)] {
            let mut got = vec![f32::NAN; batch * c * lout];
            let gp = got.as_mut_ptr();
            emu.launch(got.len(), || unsafe {
                // SAFETY: as above.
                pool(
                    x.as_ptr(),
                    gp,
                    (batch * c) as i32,
                    len as i32,
                    k as i32,
                    s as i32,
                    lout as i32,
                    average,
                )
            });
            assert_close("pool", &got, want.as_slice().unwrap());
        }

        let global = emu.kernel::<GlobalFn>("wm_global_pool");
        for (average, want) in [(0, &want_gmax), (1, &want_gavg)] {
            let mut got = vec![f32::NAN; batch * c];
            let gp = got.as_mut_ptr();
            emu.launch(got.len(), || unsafe {
                // SAFETY: as above.
                global(x.as_ptr(), gp, (batch * c) as i32, len as i32, average)
            });
            assert_close("global pool", &got, want.as_slice().unwrap());
        }

        let mut got = vec![f32::NAN; batch * fout];
        let gp = got.as_mut_ptr();
        let dense = emu.kernel::<DenseFn>("wm_dense");
        emu.launch(got.len(), || unsafe {
            // SAFETY: as above.
            dense(
                want_gmax.as_ptr(),
                w.as_ptr(),
                b.as_ptr(),
                gp,
                batch as i32,
                fin as i32,
                fout as i32,
            )
        });
        assert_close("dense", &got, want_dense.as_slice().unwrap());

        let mut got = vec![f32::NAN; batch];
        let gp = got.as_mut_ptr();
        let class1 = emu.kernel::<Class1Fn>("wm_class1");
        emu.launch(got.len(), || unsafe {
            // SAFETY: as above.
            class1(logits.as_ptr(), gp, batch as i32, 3)
        });
        assert_close("class 1", &got, &want_p1);
    }
}

#[test]
fn every_kernel_the_back_end_launches_is_in_the_source() {
    let emu = emulated(1, 1);
    for name in walmart_kernels::gpu::KERNELS {
        // SAFETY: only looks the symbol up.
        assert!(
            unsafe { emu.lib.get::<*const ()>(name.as_bytes()) }.is_ok(),
            "{name}"
        );
    }
}

type TiledFn = unsafe extern "C" fn(
    *const u8,
    i32,
    i32,
    *const i32,
    i32,
    *const f32,
    i32,
    *mut f32,
    u32,
    u32,
    usize,
) -> i32;

/// The default network's shape (lookup tables, tiling convolutions, a
/// global pooling, dense layers) through `wm_tiled_net`, one POSIX thread
/// per CUDA thread, against the CPU kernels layer by layer; pages whose
/// length the kernels do not divide, fewer blocks than pages and fewer
/// threads than outputs.
#[test]
fn the_whole_network_in_one_kernel_matches_the_cpu() {
    use walmart_kernels::gpu::{tiled_program, GpuLayer};
    let mut rng = Rng::new(15);
    let mut r = |n: usize| rand_f32(&mut rng, n);
    let (dim, c1, c2, c3, hidden) = (4, 16, 16, 32, 16);
    let table = Array2::from_shape_vec((256, dim), r(256 * dim)).unwrap();
    let w1 = Array3::from_shape_vec((c1, dim, 8), r(c1 * dim * 8)).unwrap();
    let b1 = Array1::from_vec(r(c1));
    let tables = cpu::embed_conv_tables(table.view(), w1.view(), b1.view());
    // Leaked: a few KiB, so that the layers can borrow them in a closure.
    let w2: &'static _ = Box::leak(Box::new(
        Array3::from_shape_vec((c2, c1, 4), r(c2 * c1 * 4)).unwrap(),
    ));
    let b2: &'static _ = Box::leak(Box::new(Array1::from_vec(r(c2))));
    let w3: &'static _ = Box::leak(Box::new(
        Array3::from_shape_vec((c3, c2, 4), r(c3 * c2 * 4)).unwrap(),
    ));
    let b3: &'static _ = Box::leak(Box::new(Array1::from_vec(r(c3))));
    let d1 = Array2::from_shape_vec((hidden, c3), r(hidden * c3)).unwrap();
    let e1 = Array1::from_vec(r(hidden));
    // Small last weights: logits of a few units, so that scores are not
    // all 0 or 1, where any difference would vanish in the softmax.
    let d2 = Array2::from_shape_vec((2, hidden), r(2 * hidden)).unwrap() * 0.02;
    let e2 = Array1::from_vec(r(2));
    for (len, average) in [(4096, false), (1000, true)] {
        let conv = |w: &'static Array3<f32>, b: &'static Array1<f32>| {
            conv_layer(w.as_slice().unwrap(), b.as_slice().unwrap(), 4, 4, 0)
        };
        let layers = [
            GpuLayer::EmbedConv { tables: &tables },
            GpuLayer::Relu,
            conv(w2, b2),
            GpuLayer::Relu,
            conv(w3, b3),
            GpuLayer::Relu,
            if average {
                GpuLayer::GlobalAvg
            } else {
                GpuLayer::GlobalMax
            },
            GpuLayer::Dense {
                w: d1.as_slice().unwrap(),
                b: e1.as_slice().unwrap(),
                out: hidden,
            },
            GpuLayer::Relu,
            GpuLayer::Dense {
                w: d2.as_slice().unwrap(),
                b: e2.as_slice().unwrap(),
                out: 2,
            },
        ];
        let program = tiled_program(&layers, len).expect("the default shape fuses");
        let batch = 5;
        // Pages of every kind: random, a repeated byte, text-like.
        let mut pages = rand_bytes(&mut Rng::new(len as u64), batch * len);
        pages[len..2 * len].fill(b'A');
        for (i, b) in pages[2 * len..3 * len].iter_mut().enumerate() {
            *b = b"etaoin shrdlu "[i % 14];
        }
        let x = ndarray::ArrayView2::from_shape((batch, len), &pages[..]).unwrap();
        let spec = cpu::Conv1dSpec {
            stride: 4,
            padding: 0,
        };
        let h = cpu::relu_forward(cpu::embed_conv_forward(x, &tables).view());
        let h = cpu::relu_forward(cpu::conv1d_forward(h.view(), w2.view(), b2.view(), spec).view());
        let h = cpu::relu_forward(cpu::conv1d_forward(h.view(), w3.view(), b3.view(), spec).view());
        let f = if average {
            cpu::global_avg_pool_forward(h.view())
        } else {
            cpu::global_max_pool_forward(h.view()).0
        };
        let f = cpu::relu_forward(cpu::dense_forward(f.view(), d1.view(), e1.view()).view());
        let logits = cpu::dense_forward(f.view(), d2.view(), e2.view());
        let want = cpu::softmax(logits.view()).column(1).to_vec();
        assert!(
            want.iter().all(|p| (0.02..0.98).contains(p)),
            "scores that tell differences apart: {want:?}"
        );

        let emu = emulated(32, 2);
        let f = emu.kernel::<TiledFn>("wm_emu_tiled_net");
        let mut got = vec![f32::NAN; batch];
        // SAFETY: buffers of the sizes the program describes, shared
        // memory as `tiled_program` sized it.
        let status = unsafe {
            f(
                pages.as_ptr(),
                batch as i32,
                len as i32,
                program.prog.as_ptr(),
                program.ops as i32,
                program.params.as_ptr(),
                program.a_floats as i32,
                got.as_mut_ptr(),
                2,
                32,
                program.shared_floats,
            )
        };
        assert_eq!(status, 0, "threads for the emulated blocks");
        assert_close(&format!("tiled network, {len}-byte pages"), &got, &want);
    }
}

fn conv_layer<'a>(
    w: &'a [f32],
    b: &'a [f32],
    kernel: usize,
    stride: usize,
    padding: usize,
) -> walmart_kernels::gpu::GpuLayer<'a> {
    walmart_kernels::gpu::GpuLayer::Conv {
        w,
        b,
        out: b.len(),
        kernel,
        stride,
        padding,
    }
}

#[test]
fn stacks_without_the_default_shape_take_one_launch_per_layer() {
    use walmart_kernels::gpu::{tiled_program, GpuLayer, SHARED_LIMIT_BYTES};
    let table = vec![0.5f32; 256 * 2];
    let small = cpu::embed_conv_tables(
        ndarray::ArrayView2::from_shape((256, 2), &table[..]).unwrap(),
        Array3::from_elem((4, 2, 8), 0.1f32).view(),
        Array1::from_elem(4, 0.0f32).view(),
    );
    let w = vec![0.1f32; 4 * 4 * 4];
    let b = vec![0.0f32; 4];
    let d = vec![0.1f32; 2 * 4];
    let with = |middle: &[GpuLayer<'_>]| {
        let mut v = vec![GpuLayer::EmbedConv { tables: &small }];
        v.extend_from_slice(middle);
        v.push(GpuLayer::GlobalMax);
        v.push(GpuLayer::Dense {
            w: &d,
            b: &[0.0, 0.0],
            out: 2,
        });
        tiled_program(&v, 4096)
    };
    assert!(with(&[conv_layer(&w, &b, 4, 4, 0), GpuLayer::Relu]).is_some());
    let padded = conv_layer(&w, &b, 4, 4, 1);
    let overlapping = conv_layer(&w, &b, 4, 2, 0);
    let pooled = GpuLayer::MaxPool {
        kernel: 2,
        stride: 2,
    };
    for middle in [padded, overlapping, pooled] {
        assert!(with(&[middle]).is_none(), "{middle:?}");
    }
    // A scaled first layer, and pages whose activations outgrow shared memory.
    let dense = [
        GpuLayer::GlobalMax,
        GpuLayer::Dense {
            w: &d,
            b: &[0.0, 0.0],
            out: 2,
        },
    ];
    let mut scaled = vec![GpuLayer::Scale];
    scaled.extend_from_slice(&dense);
    assert!(tiled_program(&scaled, 4096).is_none());
    let mut first = vec![GpuLayer::EmbedConv { tables: &small }];
    first.extend_from_slice(&dense);
    assert!(tiled_program(&first, 4096).is_some());
    let big = SHARED_LIMIT_BYTES / 4 / 4 * 8 + 8;
    assert!(tiled_program(&first, big).is_none());
}
