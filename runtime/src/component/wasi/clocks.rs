//! `wasi:clocks` and `wasi:random`.

use super::host_memory::Scratch;
use super::table::{Entry, Wait};
use super::vals::{arg, datetime, own, u64_of};
use super::{def, def_bytes, iface, res, BytesShape, GetCtx, HostOut};
use crate::component::{Linker, Val};
use crate::wasi::{Errno, WasiCtx};
use crate::{Error, Result};

const WALL: u32 = 0;
const MONOTONIC: u32 = 1;

/// Most random bytes one call gives.
const RANDOM_MAX: u64 = 1 << 20;

fn clock_failed(e: Errno) -> Error {
    Error::msg(format!("WASI clock: errno {}", e.0))
}

fn now(ctx: &mut WasiCtx, id: u32) -> Result<u64> {
    ctx.clock_reading(id, true).map_err(clock_failed)
}

fn resolution(ctx: &mut WasiCtx, id: u32) -> Result<u64> {
    let mut s = Scratch::new(8);
    s.call(|mem| ctx.clock_res_get(mem, id, 0))
        .map_err(clock_failed)?;
    Ok(s.u64(0))
}

/// `len` bytes of the context's random source.
fn random(ctx: &mut WasiCtx, len: u64) -> Result<Vec<u8>> {
    let mut s = Scratch::new(len.min(RANDOM_MAX) as usize);
    let n = s.bytes.len() as u32;
    s.call(|mem| ctx.random_get(mem, 0, n))
        .map_err(|e| Error::msg(format!("WASI random: errno {}", e.0)))?;
    Ok(s.bytes)
}

fn random_u64(ctx: &mut WasiCtx) -> Result<u64> {
    Ok(u64::from_le_bytes(random(ctx, 8)?.try_into().unwrap()))
}

pub(super) fn add<T: 'static>(linker: &mut Linker<T>, get: GetCtx<T>) -> Result<()> {
    let mut wall = iface(linker, "wasi:clocks/wall-clock")?;
    def(&mut wall, "now", get, |ctx, _| {
        Ok(Some(datetime(now(ctx, WALL)?)))
    })?;
    def(&mut wall, "resolution", get, |ctx, _| {
        Ok(Some(datetime(resolution(ctx, WALL)?)))
    })?;

    let mut mono = iface(linker, "wasi:clocks/monotonic-clock")?;
    def(&mut mono, "now", get, |ctx, _| {
        Ok(Some(Val::U64(now(ctx, MONOTONIC)?)))
    })?;
    def(&mut mono, "resolution", get, |ctx, _| {
        Ok(Some(Val::U64(resolution(ctx, MONOTONIC)?)))
    })?;
    def(&mut mono, "subscribe-instant", get, |ctx, p| {
        let rep = ctx
            .p2
            .push(Entry::Pollable(Wait::Until(u64_of(arg(p, 0)?)?)));
        Ok(Some(own::<res::Pollable>(rep)))
    })?;
    def(&mut mono, "subscribe-duration", get, |ctx, p| {
        let at = ctx
            .clock_reading(MONOTONIC, false)
            .map_err(clock_failed)?
            .saturating_add(u64_of(arg(p, 0)?)?);
        let rep = ctx.p2.push(Entry::Pollable(Wait::Until(at)));
        Ok(Some(own::<res::Pollable>(rep)))
    })?;

    // Every source is the context's one (the host's, the embedder's or a
    // deterministic run's seed): the insecure ones are as good.
    for (iface_name, prefix) in [
        ("wasi:random/random", ""),
        ("wasi:random/insecure", "insecure-"),
    ] {
        let mut r = iface(linker, iface_name)?;
        def_bytes(
            &mut r,
            &format!("get-{prefix}random-bytes"),
            get,
            |caller, get, p, _| {
                let len = u64_of(arg(p, 0)?)?;
                let bytes = get(caller.data_mut()).with_state(|ctx| random(ctx, len))?;
                Ok(HostOut::Bytes(bytes, BytesShape::List))
            },
        )?;
        def(&mut r, &format!("get-{prefix}random-u64"), get, |ctx, _| {
            Ok(Some(Val::U64(random_u64(ctx)?)))
        })?;
    }
    let mut seed = iface(linker, "wasi:random/insecure-seed")?;
    def(&mut seed, "insecure-seed", get, |ctx, _| {
        Ok(Some(Val::Tuple(vec![
            Val::U64(random_u64(ctx)?),
            Val::U64(random_u64(ctx)?),
        ])))
    })?;
    Ok(())
}
