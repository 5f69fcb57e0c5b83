//! Preview 1's calls made over a buffer of the host's: WASI 0.2 is built
//! on them (the sandbox, the embedder's streams, clocks and randomness
//! are theirs), with the results read back from the buffer.

use crate::wasi::types::{GuestMemory, WasiResult};

/// A buffer that stands in for guest memory.
pub(crate) struct Scratch {
    pub bytes: Vec<u8>,
}

impl Scratch {
    /// `len` zero bytes.
    pub fn new(len: usize) -> Scratch {
        Scratch {
            bytes: vec![0; len],
        }
    }

    /// Runs a preview 1 call on the buffer.
    pub fn call<R>(
        &mut self,
        f: impl FnOnce(&mut GuestMemory<'_>) -> WasiResult<R>,
    ) -> WasiResult<R> {
        // SAFETY: the vector's bytes, borrowed exclusively for the call;
        // no attestation watches them.
        let mut mem =
            unsafe { GuestMemory::new(self.bytes.as_mut_ptr(), self.bytes.len(), None, u32::MAX) };
        f(&mut mem)
    }

    pub fn put_u32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    pub fn put_u64(&mut self, at: usize, v: u64) {
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    pub fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes(self.bytes[at..at + 2].try_into().unwrap())
    }

    pub fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().unwrap())
    }

    pub fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.bytes[at..at + 8].try_into().unwrap())
    }
}

/// Where a one-buffer iovec puts its data, after the iovec and the count.
pub(crate) const DATA: usize = 16;

/// A scratch for a read or write of `len` bytes: the iovec at 0 names
/// the data at [`DATA`]; the count lands at 8.
pub(crate) fn iovec(len: usize) -> Scratch {
    let mut s = Scratch::new(DATA + len);
    s.put_u32(0, DATA as u32);
    s.put_u32(4, len as u32);
    s
}
