//! Standard streams an embedder gives a guest in place of the host's
//! descriptors ([`WasiCtx::stdin`](super::WasiCtx::stdin),
//! [`stdout`](super::WasiCtx::stdout), [`stderr`](super::WasiCtx::stderr)):
//! bytes in memory to read ([`MemoryInputPipe`]), a buffer in memory that
//! collects what is written ([`MemoryOutputPipe`]), or any Rust reader or
//! writer.
//!
//! Why not a host pipe: an embedder that runs a guest on a request's
//! bytes and wants its output back would need a thread to feed or drain
//! each pipe, and what the guest wrote would reach the embedder only when
//! that thread caught up. Here a guest's write is in the buffer when
//! `fd_write` returns.
//!
//! To the guest such a stream is a pipe: it cannot seek (`ESPIPE`), its
//! file type is `unknown` (not a terminal: wasi-libc buffers it fully),
//! and `poll_oneoff` finds it ready at once.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use super::types::{Errno, GuestMemory, WasiResult};

/// Bytes in memory that a guest reads as its standard input (wasmtime's
/// `MemoryInputPipe`). Clones share the bytes and the position: what the
/// guest read, no clone reads again.
#[derive(Clone, Debug)]
pub struct MemoryInputPipe {
    inner: Arc<Mutex<InputBytes>>,
}

#[derive(Debug)]
struct InputBytes {
    bytes: Vec<u8>,
    at: usize,
}

impl MemoryInputPipe {
    /// A pipe that holds `bytes`, then ends (a read returns 0).
    pub fn new(bytes: impl Into<Vec<u8>>) -> MemoryInputPipe {
        MemoryInputPipe {
            inner: Arc::new(Mutex::new(InputBytes {
                bytes: bytes.into(),
                at: 0,
            })),
        }
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> usize {
        let held = lock(&self.inner);
        held.bytes.len() - held.at
    }
}

/// A buffer in memory that collects what a guest writes to its standard
/// output or error (wasmtime's `MemoryOutputPipe`), up to a capacity:
/// past it, a write takes what fits, and one that fits nothing fails
/// with `ENOSPC`. Clones share the buffer: keep one to read what the
/// guest wrote ([`MemoryOutputPipe::contents`]).
#[derive(Clone, Debug)]
pub struct MemoryOutputPipe {
    capacity: usize,
    inner: Arc<Mutex<Vec<u8>>>,
}

impl MemoryOutputPipe {
    /// An empty buffer that takes up to `capacity` bytes.
    pub fn new(capacity: usize) -> MemoryOutputPipe {
        MemoryOutputPipe {
            capacity,
            inner: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The most bytes it takes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// A copy of what was written so far.
    pub fn contents(&self) -> Vec<u8> {
        lock(&self.inner).clone()
    }

    /// What was written, without a copy, when this is the last handle on
    /// the buffer (the guest's context, and every other clone, dropped);
    /// else the pipe back.
    pub fn try_into_inner(self) -> Result<Vec<u8>, MemoryOutputPipe> {
        let capacity = self.capacity;
        Arc::try_unwrap(self.inner)
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .map_err(|inner| MemoryOutputPipe { capacity, inner })
    }
}

/// What a guest's standard input reads: a [`MemoryInputPipe`], or any
/// reader (`impl Read + Send`, converted with `into()`), which is called
/// on the thread of the guest's `fd_read` and may block it.
pub struct InputStream(Input);

enum Input {
    Memory(MemoryInputPipe),
    Reader(Box<dyn Read + Send>),
}

impl From<MemoryInputPipe> for InputStream {
    fn from(pipe: MemoryInputPipe) -> InputStream {
        InputStream(Input::Memory(pipe))
    }
}

impl<R: Read + Send + 'static> From<R> for InputStream {
    fn from(reader: R) -> InputStream {
        InputStream(Input::Reader(Box::new(reader)))
    }
}

/// Where a guest's standard output or error goes: a
/// [`MemoryOutputPipe`], or any writer (`impl Write + Send`, converted
/// with `into()`), flushed at the end of each `fd_write`.
pub struct OutputStream(Output);

enum Output {
    Memory(MemoryOutputPipe),
    Writer(Box<dyn Write + Send>),
}

impl From<MemoryOutputPipe> for OutputStream {
    fn from(pipe: MemoryOutputPipe) -> OutputStream {
        OutputStream(Output::Memory(pipe))
    }
}

impl<W: Write + Send + 'static> From<W> for OutputStream {
    fn from(writer: W) -> OutputStream {
        OutputStream(Output::Writer(Box::new(writer)))
    }
}

/// A descriptor's stream in the host's memory, shared by the entry's
/// renumberings and by the threads of a shared context.
#[derive(Clone)]
pub(crate) enum Pipe {
    In(Arc<Mutex<InputStream>>),
    Out(Arc<Mutex<OutputStream>>),
}

impl std::fmt::Debug for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pipe::In(_) => "Pipe::In",
            Pipe::Out(_) => "Pipe::Out",
        })
    }
}

impl Pipe {
    pub(crate) fn input(stream: InputStream) -> Pipe {
        Pipe::In(Arc::new(Mutex::new(stream)))
    }

    pub(crate) fn output(stream: OutputStream) -> Pipe {
        Pipe::Out(Arc::new(Mutex::new(stream)))
    }

    /// What `poll_oneoff` reports a read may take without waiting: all
    /// that is left of bytes in memory; for a reader, which cannot be
    /// asked, 0.
    pub(crate) fn readable_bytes(&self) -> u64 {
        match self {
            Pipe::In(input) => match &lock(input).0 {
                Input::Memory(pipe) => pipe.remaining() as u64,
                Input::Reader(_) => 0,
            },
            Pipe::Out(_) => 0,
        }
    }

    /// `fd_sync`: the writer flushed; an input has nothing to sync
    /// (`EINVAL`, as a host pipe's).
    pub(crate) fn sync(&self) -> WasiResult<()> {
        match self {
            Pipe::In(_) => Err(Errno::INVAL),
            Pipe::Out(output) => match &mut lock(output).0 {
                Output::Memory(_) => Ok(()),
                Output::Writer(w) => w.flush().map_err(|e| Errno::from_io(&e)),
            },
        }
    }

    /// `fd_read` into the guest's buffers: stops at the first buffer not
    /// filled whole, as a host read does. What it reads is input to
    /// attestation, counted as one stream.
    pub(crate) fn read(
        &self,
        mem: &mut GuestMemory<'_>,
        stream: u64,
        (iovs, count): (u32, u32),
        out: u32,
    ) -> WasiResult<()> {
        let Pipe::In(input) = self else {
            // Standard output's other end is not the guest's to read.
            return Err(Errno::BADF);
        };
        let mut input = lock(input);
        let mut total = 0usize;
        let mut scratch = Vec::new();
        for (ptr, len) in mem.iovecs(iovs, count)? {
            let dst = mem.raw_mut(ptr, len)?;
            let n = match &mut input.0 {
                Input::Memory(pipe) => {
                    let mut held = lock(&pipe.inner);
                    let n = (held.bytes.len() - held.at).min(len as usize);
                    // SAFETY: `len` writable guest bytes at dst (checked),
                    // n of them; the pipe's bytes are host memory.
                    unsafe {
                        std::ptr::copy_nonoverlapping(held.bytes.as_ptr().add(held.at), dst, n)
                    };
                    held.at += n;
                    n
                }
                Input::Reader(reader) => {
                    // Through host memory: the guest's bytes are never a
                    // Rust slice (another thread may write a shared
                    // memory meanwhile).
                    scratch.resize((len as usize).min(SCRATCH_MAX), 0);
                    let n = match reader.read(&mut scratch) {
                        Ok(n) => n.min(scratch.len()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                        Err(_) if total > 0 => break,
                        Err(e) => return Err(Errno::from_io(&e)),
                    };
                    // SAFETY: n <= len writable guest bytes at dst.
                    unsafe { std::ptr::copy_nonoverlapping(scratch.as_ptr(), dst, n) };
                    n
                }
            };
            mem.supplied(ptr, n, Some(stream));
            total += n;
            if n < len as usize {
                break;
            }
        }
        mem.write_u32(out, total as u32)
    }

    /// `fd_write` of the guest's buffers, whole unless the stream fails
    /// or a memory buffer fills (then what was taken is the count).
    pub(crate) fn write(
        &self,
        mem: &mut GuestMemory<'_>,
        (iovs, count): (u32, u32),
        out: u32,
    ) -> WasiResult<()> {
        let Pipe::Out(output) = self else {
            return Err(Errno::BADF);
        };
        let mut output = lock(output);
        let mut total = 0usize;
        let mut failed = None;
        for (ptr, len) in mem.iovecs(iovs, count)? {
            let src = mem.raw(ptr, len)?;
            let taken = match &mut output.0 {
                Output::Memory(pipe) => {
                    let mut buf = lock(&pipe.inner);
                    let n = pipe.capacity.saturating_sub(buf.len()).min(len as usize);
                    // SAFETY: `len` readable guest bytes at src (checked).
                    buf.extend_from_slice(unsafe { std::slice::from_raw_parts(src, n) });
                    if n == 0 && len > 0 {
                        failed = Some(Errno::NOSPC);
                    }
                    n
                }
                Output::Writer(w) => {
                    let mut copy = vec![0u8; len as usize];
                    // SAFETY: `len` readable guest bytes at src (checked);
                    // copied to host memory first, as a read is.
                    unsafe { std::ptr::copy_nonoverlapping(src, copy.as_mut_ptr(), copy.len()) };
                    match w.write_all(&copy) {
                        Ok(()) => copy.len(),
                        Err(e) => {
                            failed = Some(Errno::from_io(&e));
                            0
                        }
                    }
                }
            };
            total += taken;
            if taken < len as usize {
                break;
            }
        }
        if let Output::Writer(w) = &mut output.0 {
            if let Err(e) = w.flush() {
                failed.get_or_insert(Errno::from_io(&e));
            }
        }
        match failed {
            // Nothing taken: the error; else the count, as a short write.
            Some(e) if total == 0 => Err(e),
            _ => mem.write_u32(out, total as u32),
        }
    }
}

/// The largest read a reader is asked for at once: a guest's buffer may
/// be gigabytes, the host's copy of it need not.
const SCRATCH_MAX: usize = 1 << 20;

/// A pipe's state, whatever a panicking reader or writer left: the
/// bytes and position are consistent between calls.
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
