//! Generated code for `perf`'s JIT support: once an engine asks
//! (`Config::profiler(ProfilingStrategy::JitDump)`, `walmart run
//! --profile jitdump`), every placed function is written with its machine
//! code to `./jit-PID.dump` in the jitdump format (Linux's
//! `tools/perf/Documentation/jitdump-specification.txt`). `perf record -k
//! mono` sees the file mapped; `perf inject --jit` then makes an ELF image
//! of each function, so that `perf report` names them and `perf annotate`
//! shows their instructions.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// Asked for by an engine.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// `'JiTD'`, read as a little-endian word.
const MAGIC: u32 = 0x4A69_5444;
const VERSION: u32 = 1;
/// The header's size: seven 32-bit words and two 64-bit ones.
const HEADER_SIZE: u32 = 40;
/// `JIT_CODE_LOAD`.
const CODE_LOAD: u32 = 0;
/// A code-load record's fixed part: its header (id, size, timestamp)
/// then pid, tid, vma, code address, code size and index.
const CODE_LOAD_FIXED: usize = 16 + 4 + 4 + 8 + 8 + 8 + 8;

/// Writes the dump from now on, for code placed from now on.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether the dump is written.
pub(crate) fn wanted() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock `perf record -k mono`
/// stamps its samples with, which the records' times must match.
fn timestamp() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn thread_id() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u32 }
}

/// The open dump, its header written, when asked for.
fn dump_file() -> Option<&'static Mutex<std::fs::File>> {
    static FILE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    if !wanted() {
        return None;
    }
    FILE.get_or_init(|| {
        let path = format!("./jit-{}.dump", std::process::id());
        match open(&path) {
            Ok(f) => Some(Mutex::new(f)),
            Err(e) => {
                // Profiling is a diagnostic aid: say why it is off, run on.
                eprintln!("walmart: jitdump: cannot write {path}: {e}");
                None
            }
        }
    })
    .as_ref()
}

/// Creates the dump at `path`, writes its header and maps its first page
/// executable, as the format asks: the mapping is what `perf record`
/// notes, and how `perf inject --jit` finds the file.
fn open(path: &str) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    let mut header = Vec::with_capacity(HEADER_SIZE as usize);
    for word in [
        MAGIC,
        VERSION,
        HEADER_SIZE,
        u32::from(crate::gdb_jit::elf_machine()),
        0,
        std::process::id(),
    ] {
        header.extend_from_slice(&word.to_le_bytes());
    }
    header.extend_from_slice(&timestamp().to_le_bytes());
    header.extend_from_slice(&0u64.to_le_bytes());
    f.write_all(&header)?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    // SAFETY: a new private mapping of the open file, never written
    // through; it is left in place for the process's life (perf reads the
    // mapping's event, not its bytes).
    let mapped = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            page,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_PRIVATE,
            f.as_raw_fd(),
            0,
        )
    };
    if mapped == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(f)
}

/// Records functions placed at `(address, length, name)`, with the
/// machine code found there.
pub(crate) fn record(functions: &[(usize, usize, String)]) {
    let Some(file) = dump_file() else { return };
    static NEXT_INDEX: AtomicU64 = AtomicU64::new(0);
    let (pid, tid) = (std::process::id(), thread_id());
    // Stamped under the lock: records of code placed by several threads
    // go into the file in the order of their times.
    let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    for (addr, len, name) in functions {
        let size = CODE_LOAD_FIXED + name.len() + 1 + len;
        out.extend_from_slice(&CODE_LOAD.to_le_bytes());
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&timestamp().to_le_bytes());
        out.extend_from_slice(&pid.to_le_bytes());
        out.extend_from_slice(&tid.to_le_bytes());
        out.extend_from_slice(&(*addr as u64).to_le_bytes());
        out.extend_from_slice(&(*addr as u64).to_le_bytes());
        out.extend_from_slice(&(*len as u64).to_le_bytes());
        let index = NEXT_INDEX.fetch_add(1, Ordering::Relaxed);
        out.extend_from_slice(&index.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        // SAFETY: the function's code was just placed at `addr`, `len`
        // bytes, readable, and stays while the module lives.
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(*addr as *const u8, *len) });
    }
    // A failed write loses symbols, not correctness.
    let _ = f.write_all(&out);
}
