//! `--trace FILE`: the tag monitor's trace of alloc, free, read and
//! write events, one per line (format in `docs/DESIGN.md`, "Tag trace").
//! Reads and writes are many: they are kept only within an address range
//! and one in `sample`.

use std::io::Write;
use std::path::PathBuf;

use walmart_attest::ViolationKind;

/// What the trace keeps.
#[derive(Clone, Debug)]
pub struct TraceOptions {
    /// The file written.
    pub path: PathBuf,
    /// Reads and writes outside `[lo, hi)` are left out.
    pub range: Option<(u32, u32)>,
    /// One read or write in this many is kept (1: all).
    pub sample: u64,
}

/// The open trace of a store.
pub(crate) struct TraceWriter {
    out: std::io::BufWriter<std::fs::File>,
    opts: TraceOptions,
    seen: u64,
    allocs: u64,
    error: Option<String>,
}

impl TraceWriter {
    pub(crate) fn create(opts: TraceOptions) -> std::io::Result<TraceWriter> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&opts.path)?);
        writeln!(out, "# walmart tag trace 1")?;
        Ok(TraceWriter {
            out,
            opts,
            seen: 0,
            allocs: 0,
            error: None,
        })
    }

    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        if let Err(e) = self.out.write_fmt(args) {
            self.error.get_or_insert(e.to_string());
        }
    }

    pub(crate) fn alloc(&mut self, p: u32, size: u32, colour: u8) {
        self.allocs += 1;
        let n = self.allocs;
        self.line(format_args!("alloc {n} {p:#x} {size} {colour}\n"));
    }

    pub(crate) fn free(&mut self, p: u32, colour: u8) {
        self.line(format_args!("free {p:#x} {colour}\n"));
    }

    pub(crate) fn access(&mut self, a: u32, size: u32, write: bool, colour: u8) {
        if self.opts.range.is_some_and(|(lo, hi)| a < lo || a >= hi) {
            return;
        }
        self.seen += 1;
        if !(self.seen - 1).is_multiple_of(self.opts.sample.max(1)) {
            return;
        }
        let op = if write { "write" } else { "read" };
        self.line(format_args!("{op} {a:#x} {size} {colour}\n"));
    }

    pub(crate) fn violation(&mut self, kind: ViolationKind, a: u32) {
        self.line(format_args!("violation {} {a:#x}\n", kind.name()));
    }

    /// Flushes; the first write error, if any.
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        if let Err(e) = self.out.flush() {
            self.error.get_or_insert(e.to_string());
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
