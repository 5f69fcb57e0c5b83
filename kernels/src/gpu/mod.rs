//! The `gpu` back end: the classifier's layers as CUDA C kernels
//! (`cnn.cu`), compiled at run time by NVRTC and launched through
//! `cudarc`, which loads the CUDA libraries when first asked (no CUDA is
//! needed to build walmart, nor to run it on the other back ends).
//!
//! Nothing here panics on a machine without CUDA: [`probe`] and
//! [`GpuNet::new`] ask whether the driver and NVRTC libraries can be
//! loaded before `cudarc` touches them (its loaders panic when a library
//! is missing), and say what is missing in one line.

mod net;
mod plan;
mod reference;
mod tiled;

pub use net::{GpuLayer, GpuNet};
pub use plan::{Arg, Launch, NetPlan};
pub use reference::reference_scores;
pub use tiled::{TiledProgram, SHARED_LIMIT_BYTES};

use std::sync::{Arc, Mutex};

use cudarc::driver::CudaContext;
use cudarc::nvrtc::{CompileOptions, Ptx};

/// The kernels' CUDA C source, compiled by NVRTC at run time.
pub const SOURCE: &str = include_str!("cnn.cu");

/// The kernels `SOURCE` defines, in the order [`GpuNet`] looks them up.
pub const KERNELS: [&str; 10] = [
    "wm_embed",
    "wm_scale",
    "wm_embed_conv",
    "wm_conv1d",
    "wm_relu",
    "wm_pool1d",
    "wm_global_pool",
    "wm_dense",
    "wm_class1",
    "wm_tiled_net",
];

/// Why the `gpu` back end cannot run.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No CUDA driver, no device, or no NVRTC on this machine.
    #[error("no CUDA device: {0}")]
    NoDevice(String),
    /// NVRTC refused the kernels' source.
    #[error("CUDA kernels did not compile: {0}")]
    Compile(String),
    /// A CUDA call failed.
    #[error("CUDA: {0}")]
    Driver(String),
    /// The layers handed to [`GpuNet::new`] do not fit together.
    #[error("gpu network: {0}")]
    Shape(String),
}

fn driver_error(what: &str) -> impl Fn(cudarc::driver::DriverError) -> GpuError + '_ {
    move |e| GpuError::Driver(format!("{what}: {e}"))
}

/// Whether the CUDA driver library (`libcuda`) can be loaded.
pub fn driver_present() -> bool {
    // SAFETY: only tries to open the library by its candidate names; no
    // symbol is called.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Whether NVRTC (`libnvrtc`) can be loaded.
pub fn nvrtc_present() -> bool {
    // SAFETY: as in `driver_present`.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// The device the `gpu` back end would use.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    /// The device's name, as the driver reports it.
    pub name: String,
    /// Compute capability (major, minor).
    pub compute_capability: (i32, i32),
}

/// CUDA device 0 and its context, or why there is none.
pub fn context() -> Result<Arc<CudaContext>, GpuError> {
    if !driver_present() {
        return Err(GpuError::NoDevice(
            "the CUDA driver library (libcuda.so) is not installed or not on the library path"
                .into(),
        ));
    }
    if !nvrtc_present() {
        return Err(GpuError::NoDevice(
            "NVRTC (libnvrtc.so, from the CUDA toolkit) is not installed or not on the \
             library path; the kernels are compiled at run time"
                .into(),
        ));
    }
    CudaContext::new(0).map_err(|e| GpuError::NoDevice(format!("device 0: {e}")))
}

/// The device the `gpu` back end would run on, or why it cannot.
pub fn probe() -> Result<DeviceInfo, GpuError> {
    guarded("probing the device", || {
        let ctx = context()?;
        Ok(DeviceInfo {
            name: ctx.name().map_err(driver_error("device name"))?,
            compute_capability: ctx
                .compute_capability()
                .map_err(driver_error("compute capability"))?,
        })
    })
}

/// `f`, with a panic inside it (cudarc panics when a CUDA library lacks
/// a function it looks up, as an older driver may) turned into an error.
pub(crate) fn guarded<R>(
    what: &str,
    f: impl FnOnce() -> Result<R, GpuError>,
) -> Result<R, GpuError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        Err(GpuError::Driver(format!(
            "{what}: the CUDA libraries failed: {}",
            one_line(why)
        )))
    })
}

/// The virtual architecture to compile PTX for: the device's own where
/// NVRTC knows it by a name we carry, else NVRTC's default (PTX the
/// driver compiles for any later device).
fn arch_for(cc: (i32, i32)) -> Option<&'static str> {
    Some(match cc {
        (7, 5) => "compute_75",
        (8, 0) => "compute_80",
        (8, 6) => "compute_86",
        (8, 9) => "compute_89",
        (9, 0) => "compute_90",
        (10, 0) => "compute_100",
        (12, 0) => "compute_120",
        _ => return None,
    })
}

/// [`SOURCE`] compiled for the device of compute capability `cc`:
/// machine code (CUBIN) for it where NVRTC can make it, which an older
/// driver of the same CUDA major version loads (PTX from a newer NVRTC
/// than the driver it would refuse); else PTX (`None`: NVRTC's default
/// architecture). Needs NVRTC, not a device.
///
/// Compiled once per architecture and process (half a second of NVRTC):
/// `attest evaluate` prepares a model per application.
pub fn compile(cc: Option<(i32, i32)>) -> Result<Ptx, GpuError> {
    /// A compute capability (`None`: NVRTC's default).
    type Arch = Option<(i32, i32)>;
    static COMPILED: Mutex<Vec<(Arch, Ptx)>> = Mutex::new(Vec::new());
    if !nvrtc_present() {
        return Err(GpuError::NoDevice(
            "NVRTC (libnvrtc.so) is not installed or not on the library path".into(),
        ));
    }
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, ptx)) = compiled.iter().find(|(c, _)| *c == cc) {
        return Ok(ptx.clone());
    }
    let ptx = match cc
        .map(|(major, minor)| compile_cubin(&format!("--gpu-architecture=sm_{major}{minor}")))
    {
        Some(Ok(cubin)) => Ptx::from_binary(cubin),
        _ => compile_ptx(cc)?,
    };
    compiled.push((cc, ptx.clone()));
    Ok(ptx)
}

/// [`SOURCE`] as PTX for `cc`'s virtual architecture (NVRTC's default
/// where `None` or unknown).
pub fn compile_ptx(cc: Option<(i32, i32)>) -> Result<Ptx, GpuError> {
    let opts = CompileOptions {
        arch: cc.and_then(arch_for),
        name: Some("walmart-cnn.cu".into()),
        ..Default::default()
    };
    guarded("compiling the kernels", || {
        cudarc::nvrtc::compile_ptx_with_opts(SOURCE, opts)
            .map_err(|e| GpuError::Compile(one_line(&e.to_string())))
    })
}

/// A compiler's log on one line, as errors are.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`SOURCE`] compiled to machine code with NVRTC option `arch`
/// (`--gpu-architecture=sm_90`), or why not.
pub fn compile_cubin(arch: &str) -> Result<Vec<u8>, GpuError> {
    guarded("compiling the kernels", || cubin_unguarded(arch))
}

fn cubin_unguarded(arch: &str) -> Result<Vec<u8>, GpuError> {
    use cudarc::nvrtc::{result, sys};
    let fail = |what: &str, e: result::NvrtcError| GpuError::Compile(format!("{what}: {e:?}"));
    let src = std::ffi::CString::new(SOURCE).expect("the source holds no NUL");
    let name = std::ffi::CString::new("walmart-cnn.cu").expect("no NUL");
    let prog = result::create_program(&src, Some(&name)).map_err(|e| fail("program", e))?;
    // SAFETY: `prog` is a live program until destroyed below; the size
    // NVRTC reports is the buffer it fills.
    let built = unsafe {
        match result::compile_program(prog, &[arch.to_string()]) {
            Err(e) => {
                let log = result::get_program_log(prog).unwrap_or_default();
                let log: Vec<u8> = log
                    .iter()
                    .map(|&c| c as u8)
                    .take_while(|&c| c != 0)
                    .collect();
                Err(GpuError::Compile(format!(
                    "{arch}: {e:?}: {}",
                    one_line(&String::from_utf8_lossy(&log))
                )))
            }
            Ok(()) => {
                let mut size = 0usize;
                match sys::nvrtcGetCUBINSize(prog, &mut size).result() {
                    Err(e) => Err(fail("CUBIN size", e)),
                    Ok(()) if size == 0 => Err(GpuError::Compile(format!("{arch}: no CUBIN"))),
                    Ok(()) => {
                        let mut cubin = vec![0u8; size];
                        sys::nvrtcGetCUBIN(prog, cubin.as_mut_ptr().cast())
                            .result()
                            .map(|()| cubin)
                            .map_err(|e| fail("CUBIN", e))
                    }
                }
            }
        }
    };
    // SAFETY: destroyed once, after its last use.
    let _ = unsafe { result::destroy_program(prog) };
    built
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_in_the_cuda_libraries_is_an_error_of_one_line() {
        let e = super::guarded::<()>("probing the device", || {
            panic!("Unable to dynamically load\nthe \"cuda\" shared library")
        })
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "CUDA: probing the device: the CUDA libraries failed: Unable to dynamically \
             load the \"cuda\" shared library"
        );
        assert_eq!(super::guarded("x", || Ok(7)).unwrap(), 7);
    }
}
