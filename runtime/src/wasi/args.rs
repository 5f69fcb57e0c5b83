//! `args_*` and `environ_*`: NUL-terminated strings and a pointer table.

use super::ctx::WasiCtx;
use super::types::{GuestMemory, WasiResult};

fn sizes(
    list: &[String],
    mem: &mut GuestMemory<'_>,
    count_out: u32,
    size_out: u32,
) -> WasiResult<()> {
    mem.write_u32(count_out, list.len() as u32)?;
    mem.write_u32(size_out, list.iter().map(|s| s.len() as u32 + 1).sum())
}

fn get(list: &[String], mem: &mut GuestMemory<'_>, ptrs: u32, buf: u32) -> WasiResult<()> {
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        mem.write_u32(ptrs + 4 * i as u32, at)?;
        mem.write(at, s.as_bytes())?;
        // The host's input, as a read's bytes are (its runs of one byte
        // are the CNN's to pass over).
        mem.supplied(at, s.len(), None);
        mem.write_u8(at + s.len() as u32, 0)?;
        at += s.len() as u32 + 1;
    }
    Ok(())
}

impl WasiCtx {
    pub(crate) fn args_sizes_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        count: u32,
        size: u32,
    ) -> WasiResult<()> {
        sizes(&self.args, mem, count, size)
    }

    pub(crate) fn args_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        ptrs: u32,
        buf: u32,
    ) -> WasiResult<()> {
        get(&self.args, mem, ptrs, buf)
    }

    pub(crate) fn environ_sizes_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        count: u32,
        size: u32,
    ) -> WasiResult<()> {
        sizes(&self.env, mem, count, size)
    }

    pub(crate) fn environ_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        ptrs: u32,
        buf: u32,
    ) -> WasiResult<()> {
        get(&self.env, mem, ptrs, buf)
    }
}
