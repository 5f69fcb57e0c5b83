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
        .args(["-std=c11", "-O1", "-shared", "-fPIC", "-Wall", "-Werror"])
        .arg("-include")
        .arg(root.join("tests/gpu_emulate.h"))
        .args(["-x", "c"])
        .arg(root.join("src/gpu/cnn.cu"))
        .arg("-o")
        .arg(&tmp)
        .arg("-lm")
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
