//! Files read by mapping them: a precompiled module's bytes are looked at
//! where the page cache holds them, not copied into the heap, and the
//! module keeps the part it needs later (its binary) as a view of the
//! same mapping ([`WasmBytes`]).

use std::fs::File;
use std::ops::{Deref, Range};
use std::os::fd::AsFd;
use std::sync::Arc;

/// A whole file mapped read-only and private. (The mapping holds the file,
/// not a descriptor: a module loaded from it keeps a descriptor open only
/// for its memory image, `memory_image::MemoryImage`.)
///
/// Its bytes are the file's as long as nobody changes the file: a
/// truncation would make reading past the new end fault, and a write
/// would show through. Only files nobody else writes are mapped (the
/// module cache's entries, replaced by renaming, never rewritten; a
/// precompiled file whose loading is `unsafe` for that reason among
/// others).
pub(crate) struct MappedFile {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the mapping is read-only for its whole life and owned by this
// value; its bytes may be read from any thread.
unsafe impl Send for MappedFile {}
// SAFETY: as above; no interior mutability.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    /// Maps `file` whole. An empty file maps to no bytes.
    pub(crate) fn new(file: &File) -> std::io::Result<MappedFile> {
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("file larger than the address space"))?;
        if len == 0 {
            return Ok(MappedFile {
                ptr: std::ptr::NonNull::dangling().as_ptr(),
                len,
            });
        }
        let ptr = walmart_jit::code_memory::map_file_pages(file.as_fd(), 0, len, false)?;
        Ok(MappedFile {
            ptr: ptr as *const u8,
            len,
        })
    }

    /// Where `code` and `sites` (slices of these bytes) lie in `file`,
    /// the file mapped, for a code memory to map them from there.
    pub(crate) fn code_file<'a>(
        &self,
        file: &'a File,
        code: &[u8],
        sites: &[u8],
    ) -> walmart_jit::code_memory::CodeFile<'a> {
        walmart_jit::code_memory::CodeFile {
            fd: file.as_fd(),
            offset: self.offset_of(code).start as u64,
            sites_offset: self.offset_of(sites).start as u64,
            len: self.len as u64,
        }
    }

    /// The range `part`, a slice of these bytes, covers.
    pub(crate) fn offset_of(&self, part: &[u8]) -> Range<usize> {
        let start = (part.as_ptr() as usize).wrapping_sub(self.ptr as usize);
        assert!(
            start <= self.len && part.len() <= self.len - start,
            "a slice of another buffer"
        );
        start..start + part.len()
    }
}

impl Deref for MappedFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` readable bytes at `ptr` for as long as `self`
        // lives (or a dangling pointer with no bytes).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: the mapping is ours and no slice of it outlives
            // `self` (they borrow it).
            unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
        }
    }
}

/// A module's binary: its own copy, or a view of the precompiled file it
/// was loaded from.
pub(crate) enum WasmBytes {
    Owned(Vec<u8>),
    Mapped(Arc<MappedFile>, Range<usize>),
}

impl WasmBytes {
    /// The part `wasm` of `file`'s bytes, kept without copying.
    pub(crate) fn view(file: &Arc<MappedFile>, wasm: &[u8]) -> WasmBytes {
        WasmBytes::Mapped(file.clone(), file.offset_of(wasm))
    }
}

impl Deref for WasmBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            WasmBytes::Owned(v) => v,
            WasmBytes::Mapped(file, range) => &file[range.clone()],
        }
    }
}

/// A precompiled file's bytes: the file mapped (a regular file on a file
/// system that maps), or else read whole: a regular file from its start,
/// anything else (a pipe) from where it stands.
pub(crate) enum FileBytes {
    Mapped(MappedFile),
    Read(Vec<u8>),
}

impl FileBytes {
    pub(crate) fn of(file: &File) -> std::io::Result<FileBytes> {
        let regular = file.metadata()?.is_file();
        if let Some(mapped) = regular.then(|| MappedFile::new(file).ok()).flatten() {
            return Ok(FileBytes::Mapped(mapped));
        }
        let mut bytes = Vec::new();
        match regular {
            true => std::io::Read::read_to_end(
                &mut crate::module_cache::ReadFrom { file, at: 0 },
                &mut bytes,
            )?,
            false => std::io::Read::read_to_end(&mut &*file, &mut bytes)?,
        };
        Ok(FileBytes::Read(bytes))
    }
}
