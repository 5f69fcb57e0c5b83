//! The colour-tag monitor's settings and what it reports.
//!
//! The monitor (runtime `attest::tags`) checks every load and store of a
//! module's memory against colour tags kept per 16-byte granule, and wraps
//! the module's allocator to colour what it hands out (see
//! `docs/DESIGN.md`, "Colour tags").

use std::str::FromStr;

/// Which violations the monitor checks: the relaxations of the
/// memory-safety property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagMode {
    /// Spatial safety only: overflows, underflows and bad frees; freed
    /// memory is handed back at once and accesses to it are not reported.
    Spatial,
    /// Spatial and temporal safety: freed memory is poisoned and held in
    /// quarantine, so any access to it is a use-after-free.
    #[default]
    Temporal,
    /// Spatial safety, and a dangling access is tolerated until the memory
    /// is reallocated (needs pointer colours to see the reallocation).
    RelaxedTemporal,
    /// Spatial and temporal checks of stores only; loads run unchecked.
    WriteOnly,
}

impl TagMode {
    /// The mode's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TagMode::Spatial => "spatial",
            TagMode::Temporal => "temporal",
            TagMode::RelaxedTemporal => "relaxed-temporal",
            TagMode::WriteOnly => "write-only",
        }
    }
}

impl FromStr for TagMode {
    type Err = String;
    fn from_str(s: &str) -> Result<TagMode, String> {
        Ok(match s {
            "spatial" => TagMode::Spatial,
            "temporal" => TagMode::Temporal,
            "relaxed-temporal" => TagMode::RelaxedTemporal,
            "write-only" => TagMode::WriteOnly,
            other => {
                return Err(format!(
                    "unknown tag mode `{other}` (expected spatial, temporal, relaxed-temporal or write-only)"
                ))
            }
        })
    }
}

/// Where colours live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TagColours {
    /// Only memory is tagged: an access must land on a live granule, not
    /// a redzone or freed memory. Cheapest; an overflow that jumps over a
    /// redzone into a neighbouring live allocation goes unseen.
    #[default]
    Memory,
    /// Pointers carry a colour in their top 4 bits too, and every access
    /// compares it with the granule's (memories are then limited to
    /// 256 MiB): an overflow into a neighbouring live allocation is seen.
    /// Programs that compare pointers with addresses break: wasi-libc's
    /// start-up check of its preopened directories aborts.
    Pointer,
}

impl FromStr for TagColours {
    type Err = String;
    fn from_str(s: &str) -> Result<TagColours, String> {
        match s {
            "memory" => Ok(TagColours::Memory),
            "pointer" => Ok(TagColours::Pointer),
            other => Err(format!(
                "unknown tag colours `{other}` (expected memory or pointer)"
            )),
        }
    }
}

/// The kind of a memory-safety violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationKind {
    /// An access past the end of an allocation.
    Overflow,
    /// An access before the start of an allocation.
    Underflow,
    /// An access to freed memory.
    UseAfterFree,
    /// `free` (or `realloc`) of memory already freed.
    DoubleFree,
    /// `free` (or `realloc`) of a pointer the allocator never returned.
    InvalidFree,
    /// An access to heap memory through a pointer no allocation explains
    /// (an uncoloured pointer into an allocation, say).
    Wild,
    /// An access to the guard above a frame of the C shadow stack: a
    /// buffer in the frame below it overflowed.
    StackBufferOverflow,
    /// An access past the end of the linear memory, which trapped: a
    /// pointer that points into no memory, as a corrupted one does
    /// (ASan's SEGV on an unknown address).
    BeyondMemory,
}

impl ViolationKind {
    /// The kind's name, as in the log.
    pub fn name(self) -> &'static str {
        match self {
            ViolationKind::Overflow => "overflow",
            ViolationKind::Underflow => "underflow",
            ViolationKind::UseAfterFree => "use-after-free",
            ViolationKind::DoubleFree => "double-free",
            ViolationKind::InvalidFree => "invalid-free",
            ViolationKind::Wild => "wild",
            ViolationKind::StackBufferOverflow => "stack-buffer-overflow",
            ViolationKind::BeyondMemory => "beyond-memory",
        }
    }
}

/// The access that broke the rules.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TagAccess {
    /// `true` for a store.
    pub write: bool,
    /// Wasm address of the first byte (colour bits stripped).
    pub address: u32,
    /// Bytes accessed.
    pub size: u32,
    /// The pointer's colour (pointer colours; 0 otherwise).
    pub colour: u8,
}

/// The allocation a violation concerns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TagAllocation {
    /// Wasm address of the first byte the program got.
    pub base: u32,
    /// Bytes requested.
    pub size: u32,
    /// Its colour.
    pub colour: u8,
    /// Where it was allocated (innermost frame first).
    pub allocated: Vec<String>,
    /// Where it was freed, if it was.
    pub freed: Option<Vec<String>>,
}

/// A colour-tag violation, as logged in [`crate::Event::tag`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TagReport {
    /// What went wrong.
    pub violation: ViolationKind,
    /// The access (none for bad frees).
    pub access: Option<TagAccess>,
    /// The allocation concerned, when one is known.
    pub allocation: Option<TagAllocation>,
    /// Where it happened (innermost frame first).
    pub backtrace: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_colours_parse_by_name() {
        for m in [
            TagMode::Spatial,
            TagMode::Temporal,
            TagMode::RelaxedTemporal,
            TagMode::WriteOnly,
        ] {
            assert_eq!(m.name().parse::<TagMode>(), Ok(m));
        }
        assert!("strict".parse::<TagMode>().is_err());
        assert_eq!("memory".parse::<TagColours>(), Ok(TagColours::Memory));
        assert!("both".parse::<TagColours>().is_err());
        assert_eq!(ViolationKind::UseAfterFree.name(), "use-after-free");
    }
}
