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

use super::ctx::lock;
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
pub struct InputStream(pub(crate) Pipe);

impl From<MemoryInputPipe> for InputStream {
    fn from(pipe: MemoryInputPipe) -> InputStream {
        InputStream(Pipe::MemoryIn(pipe))
    }
}

impl<R: Read + Send + 'static> From<R> for InputStream {
    fn from(reader: R) -> InputStream {
        InputStream(Pipe::Reader(Arc::new(Mutex::new(Box::new(reader)))))
    }
}

/// Where a guest's standard output or error goes: a
/// [`MemoryOutputPipe`], or any writer (`impl Write + Send`, converted
/// with `into()`), flushed at the end of each `fd_write`.
pub struct OutputStream(pub(crate) Pipe);

impl From<MemoryOutputPipe> for OutputStream {
    fn from(pipe: MemoryOutputPipe) -> OutputStream {
        OutputStream(Pipe::MemoryOut(pipe))
    }
}

impl<W: Write + Send + 'static> From<W> for OutputStream {
    fn from(writer: W) -> OutputStream {
        OutputStream(Pipe::Writer(Arc::new(Mutex::new(Box::new(writer)))))
    }
}

/// A descriptor's stream in the host's memory, shared by the entry's
/// renumberings and by the threads of a shared context. Bytes in memory
/// are reached through their own lock alone, which is never held while
/// anything waits, so that a poll under a shared context's lock never
/// waits behind a reader blocked in `read`.
#[derive(Clone)]
pub(crate) enum Pipe {
    MemoryIn(MemoryInputPipe),
    Reader(Arc<Mutex<Box<dyn Read + Send>>>),
    MemoryOut(MemoryOutputPipe),
    Writer(Arc<Mutex<Box<dyn Write + Send>>>),
}

impl std::fmt::Debug for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pipe::MemoryIn(_) => "Pipe::MemoryIn",
            Pipe::Reader(_) => "Pipe::Reader",
            Pipe::MemoryOut(_) => "Pipe::MemoryOut",
            Pipe::Writer(_) => "Pipe::Writer",
        })
    }
}

impl Pipe {
    /// Whether the guest reads it (standard input's kind).
    pub(crate) fn is_input(&self) -> bool {
        matches!(self, Pipe::MemoryIn(_) | Pipe::Reader(_))
    }

    /// What `poll_oneoff` reports of a read: the bytes a read takes
    /// without waiting (all that is left of bytes in memory; 0 for a
    /// reader, which cannot be asked) and whether the stream has ended
    /// (the hang-up a host pipe's closed writer shows).
    pub(crate) fn readable(&self) -> (u64, bool) {
        match self {
            Pipe::MemoryIn(pipe) => {
                let left = pipe.remaining() as u64;
                (left, left == 0)
            }
            _ => (0, false),
        }
    }

    /// `fd_sync`: the writer flushed; an input has nothing to sync
    /// (`EINVAL`, as a host pipe's).
    pub(crate) fn sync(&self) -> WasiResult<()> {
        match self {
            Pipe::MemoryIn(_) | Pipe::Reader(_) => Err(Errno::INVAL),
            Pipe::MemoryOut(_) => Ok(()),
            Pipe::Writer(w) => lock(w).flush().map_err(|e| Errno::from_io(&e)),
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
        /// What the reads take from, held for the call.
        enum Source<'a> {
            Memory(&'a MemoryInputPipe),
            Reader(MutexGuard<'a, Box<dyn Read + Send>>),
        }
        let mut source = match self {
            Pipe::MemoryIn(pipe) => Source::Memory(pipe),
            Pipe::Reader(r) => Source::Reader(lock(r)),
            // Standard output's other end is not the guest's to read.
            Pipe::MemoryOut(_) | Pipe::Writer(_) => return Err(Errno::BADF),
        };
        let mut total = 0usize;
        let mut scratch = Vec::new();
        for (ptr, len) in mem.iovecs(iovs, count)? {
            if len == 0 {
                // Nothing to ask of a reader, which could wait for it
                // (wasi-libc's reads start with an empty buffer).
                continue;
            }
            let dst = mem.raw_mut(ptr, len)?;
            let n = match &mut source {
                Source::Memory(pipe) => {
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
                Source::Reader(reader) => {
                    // Through host memory: the guest's bytes are never a
                    // Rust slice (another thread may write a shared
                    // memory meanwhile).
                    scratch.resize((len as usize).min(SCRATCH_MAX), 0);
                    let n = loop {
                        match reader.read(&mut scratch) {
                            Ok(n) => break n.min(scratch.len()),
                            // A signal, not the end of the input.
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(_) if total > 0 => break 0,
                            Err(e) => return Err(Errno::from_io(&e)),
                        }
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
    /// or a memory buffer fills (then what was taken is the count, as a
    /// short write).
    pub(crate) fn write(
        &self,
        mem: &mut GuestMemory<'_>,
        (iovs, count): (u32, u32),
        out: u32,
    ) -> WasiResult<()> {
        /// Where the writes go, held for the call.
        enum Sink<'a> {
            Memory(&'a MemoryOutputPipe),
            Writer(MutexGuard<'a, Box<dyn Write + Send>>),
        }
        let mut sink = match self {
            Pipe::MemoryOut(pipe) => Sink::Memory(pipe),
            Pipe::Writer(w) => Sink::Writer(lock(w)),
            Pipe::MemoryIn(_) | Pipe::Reader(_) => return Err(Errno::BADF),
        };
        let mut total = 0usize;
        let mut failed = None;
        let mut scratch = Vec::new();
        'buffers: for (ptr, len) in mem.iovecs(iovs, count)? {
            let src = mem.raw(ptr, len)?;
            let len = len as usize;
            match &mut sink {
                Sink::Memory(pipe) => {
                    let mut buf = lock(&pipe.inner);
                    let n = pipe.capacity.saturating_sub(buf.len()).min(len);
                    buf.reserve(n);
                    let at = buf.len();
                    // SAFETY: `len` readable guest bytes at src (checked),
                    // copied as bytes (never a Rust slice of guest memory)
                    // into the n reserved bytes past the buffer's length,
                    // which are then its contents.
                    unsafe {
                        std::ptr::copy_nonoverlapping(src, buf.as_mut_ptr().add(at), n);
                        buf.set_len(at + n);
                    }
                    total += n;
                    if n < len {
                        if n == 0 {
                            failed = Some(Errno::NOSPC);
                        }
                        break;
                    }
                }
                Sink::Writer(w) => {
                    // In pieces through host memory, each counted as the
                    // writer takes it: a failure part-way reports what
                    // went out, so a retry repeats nothing.
                    let mut done = 0;
                    while done < len {
                        let piece = (len - done).min(SCRATCH_MAX);
                        scratch.resize(piece, 0);
                        // SAFETY: `piece` readable guest bytes at src + done.
                        unsafe {
                            std::ptr::copy_nonoverlapping(
                                src.add(done),
                                scratch.as_mut_ptr(),
                                piece,
                            )
                        };
                        let mut taken = 0;
                        while taken < piece {
                            match w.write(&scratch[taken..]) {
                                Ok(0) => {
                                    failed = Some(Errno::IO);
                                    total += done + taken;
                                    break 'buffers;
                                }
                                Ok(n) => taken += n,
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                                Err(e) => {
                                    failed = Some(Errno::from_io(&e));
                                    total += done + taken;
                                    break 'buffers;
                                }
                            }
                        }
                        done += piece;
                    }
                    total += len;
                }
            }
        }
        if let Sink::Writer(w) = &mut sink {
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

/// The most bytes a reader is asked for, or a writer given, at once: a
/// guest's buffer may be gigabytes, the host's copy of it need not.
const SCRATCH_MAX: usize = 1 << 20;
