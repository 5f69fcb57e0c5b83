//! A compiled function's trap sites and source locations, kept encoded as
//! a precompiled module stores them (LEB128 deltas) and decoded only when
//! a trap or a backtrace asks about one address. A large module has
//! hundreds of thousands of them, few of which are ever looked up, and
//! decoding them all made up most of loading a `.cwasm`.
//!
//! Encoding, both parts in order of offset:
//!
//! ```text
//! traps    (var offset from the previous trap's, u8 Cranelift trap code)*
//! srclocs  (var gap from the previous range's end, var length,
//!           zigzag var Wasm offset from the previous)*
//! ```
//!
//! `var` is an unsigned LEB128 of at most 32 bits. Decoding never panics:
//! bytes that do not decode (a damaged file the checksum missed, or a
//! crafted one) answer "no trap" or "no location" from where they stop.

use std::num::NonZeroU8;

use cranelift_codegen::ir::TrapCode;

use crate::trap::TrapKind;

/// One function's trap sites and source locations, encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sites {
    /// The trap sites, then the source locations.
    bytes: Box<[u8]>,
    /// Where the source locations begin.
    split: u32,
}

impl Sites {
    /// Encodes trap sites (offset in the function, trap) and source
    /// locations (start, end, Wasm offset), each sorted by offset.
    pub fn new(traps: &[(u32, TrapKind)], srclocs: &[(u32, u32, u32)]) -> Sites {
        let mut bytes = Vec::with_capacity(traps.len() * 2 + srclocs.len() * 4);
        let mut last = 0u32;
        for (offset, kind) in traps {
            put_var(&mut bytes, offset.wrapping_sub(last));
            bytes.push(kind.code().as_raw().get());
            last = *offset;
        }
        let split = bytes.len() as u32;
        let (mut last_end, mut last_wasm) = (0u32, 0u32);
        for (start, end, wasm_offset) in srclocs {
            put_var(&mut bytes, start.wrapping_sub(last_end));
            put_var(&mut bytes, end.wrapping_sub(*start));
            let delta = wasm_offset.wrapping_sub(last_wasm) as i32;
            put_var(&mut bytes, ((delta << 1) ^ (delta >> 31)) as u32);
            (last_end, last_wasm) = (*end, *wasm_offset);
        }
        Sites {
            bytes: bytes.into_boxed_slice(),
            split,
        }
    }

    /// The encoded trap sites and source locations.
    pub fn encoded(&self) -> (&[u8], &[u8]) {
        self.bytes.split_at(self.split as usize)
    }

    /// The sites, to look up.
    pub fn view(&self) -> SitesView<'_> {
        let (traps, srclocs) = self.encoded();
        SitesView { traps, srclocs }
    }
}

/// Encoded trap sites and source locations, borrowed (a [`Sites`], or a
/// function's part of a code memory's).
#[derive(Debug, Clone, Copy)]
pub struct SitesView<'a> {
    traps: &'a [u8],
    srclocs: &'a [u8],
}

impl<'a> SitesView<'a> {
    /// A view of the two encoded parts.
    pub fn new(traps: &'a [u8], srclocs: &'a [u8]) -> SitesView<'a> {
        SitesView { traps, srclocs }
    }

    /// The trap sites in order: (offset in the function, trap). A trap
    /// code walmart does not know ends them, as bytes that do not decode do.
    pub fn traps(self) -> impl Iterator<Item = (u32, TrapKind)> + 'a {
        let mut r = Vars(self.traps);
        let mut last = 0u32;
        std::iter::from_fn(move || {
            let offset = last.wrapping_add(r.var()?);
            last = offset;
            let code = NonZeroU8::new(r.byte()?)?;
            Some((offset, TrapKind::from_code(TrapCode::from_raw(code))?))
        })
    }

    /// The source locations in order: (start, end, Wasm offset).
    pub fn srclocs(self) -> impl Iterator<Item = (u32, u32, u32)> + 'a {
        let mut r = Vars(self.srclocs);
        let (mut last_end, mut last_wasm) = (0u32, 0u32);
        std::iter::from_fn(move || {
            let start = last_end.wrapping_add(r.var()?);
            let end = start.wrapping_add(r.var()?);
            let zigzag = r.var()?;
            let delta = ((zigzag >> 1) as i32) ^ -((zigzag & 1) as i32);
            let wasm_offset = last_wasm.wrapping_add(delta as u32);
            (last_end, last_wasm) = (end, wasm_offset);
            Some((start, end, wasm_offset))
        })
    }

    /// The trap whose site is at `offset` in the function, if any.
    pub fn trap_at(self, offset: u32) -> Option<TrapKind> {
        self.traps()
            .take_while(|(o, _)| *o <= offset)
            .find(|(o, _)| *o == offset)
            .map(|(_, kind)| kind)
    }

    /// The Wasm offset of the instruction at `offset` in the function, if
    /// a source location covers it.
    pub fn wasm_offset_at(self, offset: u32) -> Option<u32> {
        self.srclocs()
            .take_while(|(start, _, _)| *start <= offset)
            .find(|(start, end, _)| (*start..*end).contains(&offset))
            .map(|(_, _, wasm)| wasm)
    }
}

/// Appends `v` as an unsigned LEB128.
fn put_var(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A reader of bytes and unsigned LEB128s that stops (`None`) at the end
/// or at a number wider than 32 bits.
struct Vars<'a>(&'a [u8]);

impl Vars<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn var(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            if shift == 28 && b > 0x0f {
                return None;
            }
            v |= u32::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sites {
        Sites::new(
            &[
                (3, TrapKind::MemoryOutOfBounds),
                (200, TrapKind::IntegerDivisionByZero),
                (70_000, TrapKind::Unreachable),
            ],
            &[(0, 5, 40), (5, 9, 38), (300, 100_000, u32::MAX - 2)],
        )
    }

    #[test]
    fn decodes_what_it_encodes() {
        let s = sample();
        let traps: Vec<_> = s.view().traps().collect();
        assert_eq!(
            traps,
            [
                (3, TrapKind::MemoryOutOfBounds),
                (200, TrapKind::IntegerDivisionByZero),
                (70_000, TrapKind::Unreachable)
            ]
        );
        let srclocs: Vec<_> = s.view().srclocs().collect();
        assert_eq!(
            srclocs,
            [(0, 5, 40), (5, 9, 38), (300, 100_000, u32::MAX - 2)]
        );
    }

    #[test]
    fn looks_up_one_address() {
        let s = sample();
        assert_eq!(s.view().trap_at(200), Some(TrapKind::IntegerDivisionByZero));
        assert_eq!(s.view().trap_at(70_000), Some(TrapKind::Unreachable));
        assert_eq!(s.view().trap_at(4), None);
        assert_eq!(s.view().trap_at(80_000), None);
        assert_eq!(s.view().wasm_offset_at(0), Some(40));
        assert_eq!(s.view().wasm_offset_at(8), Some(38));
        assert_eq!(s.view().wasm_offset_at(9), None);
        assert_eq!(s.view().wasm_offset_at(99_999), Some(u32::MAX - 2));
        assert_eq!(s.view().wasm_offset_at(100_000), None);
        assert_eq!(Sites::default().view().trap_at(0), None);
        assert_eq!(Sites::default().view().wasm_offset_at(0), None);
    }

    #[test]
    fn bytes_that_do_not_decode_answer_nothing() {
        let s = sample();
        let (t, l) = s.encoded();
        for cut in 0..t.len() {
            let cut = SitesView::new(&t[..cut], l);
            assert!(cut.traps().count() <= 3);
            assert_eq!(cut.wasm_offset_at(8), Some(38));
        }
        for cut in 0..l.len() {
            let cut = SitesView::new(t, &l[..cut]);
            assert!(cut.srclocs().count() < 3);
            assert_eq!(cut.trap_at(200), Some(TrapKind::IntegerDivisionByZero));
        }
        // Over 32 bits, and an unknown trap code.
        let wide = SitesView::new(&[0xff, 0xff, 0xff, 0xff, 0x1f, 1], &[]);
        assert_eq!(wide.traps().count(), 0);
        let unknown = SitesView::new(&[0, 0, 1, 0xfe], &[]);
        assert_eq!(unknown.traps().count(), 0);
        for byte in 0..=255u8 {
            let bytes = [byte; 7];
            let s = SitesView::new(&bytes, &bytes);
            let _ = s.traps().count() + s.srclocs().count();
        }
    }
}
