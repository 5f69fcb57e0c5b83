//! Page snapshots: what a hook hands to a verifier.

use std::borrow::Cow;

/// Bytes in an attestation page (the unit of dirty tracking).
pub const PAGE_SIZE: usize = 4096;

/// Bytes in a block of [`PageSnapshot::shipped`]: a page has 32, one bit
/// each.
pub const SHIPPED_BLOCK: usize = 128;

/// Why a page is in a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageKind {
    /// The module (or walmart's own API on its behalf) wrote the page since
    /// the last snapshot: these bytes are its new legitimate contents.
    Dirty,
    /// Since the last snapshot, walmart's own API filled the whole page
    /// with input the host supplied (WASI `fd_read`, `fd_pread`,
    /// `random_get`, the embedder's `Memory::write`), and the page still
    /// holds exactly those bytes: its
    /// new legitimate contents, as for `Dirty`, but none of them the
    /// module's doing. Classifiers of what the module wrote (the CNN)
    /// pass over it; a module's write after the input makes the page
    /// `Dirty` again. So are the pages instantiation's data segments wrote
    /// into a memory it created, still as they left them: the module
    /// file's contents, before any of its code ran.
    Input,
    /// A page nobody wrote through a tracked path since it was last seen:
    /// its contents must not have changed.
    Audit,
}

/// One page of linear memory as captured at a hook.
#[derive(Clone, Copy, Debug)]
pub struct PageSnapshot<'a> {
    /// The memory's index among its store's memories (in the order the
    /// store made them; for a store of one instance that imports none, the
    /// module's own memory index).
    pub memory: u32,
    /// Page number (byte offset / [`PAGE_SIZE`]).
    pub page: u32,
    /// Snapshot epoch: increases by one at every hook that snapshots.
    pub epoch: u64,
    /// Why the page was captured.
    pub kind: PageKind,
    /// The page's bytes ([`PAGE_SIZE`] of them).
    pub bytes: &'a [u8],
    /// The bytes' [`crate::page_digest`]: computed once, for every
    /// verifier that needs one (the exact checks' reference, the CNN's
    /// memory of scores), often by the hook, which digests the pages it
    /// leaves written.
    pub digest: u128,
    /// Blocks of [`SHIPPED_BLOCK`] bytes (bit `i`: bytes `128 i` to
    /// `128 i + 127`) of a `Dirty` page that hold exactly what the
    /// module's data segments put there at instantiation: the module
    /// file's bytes, not anything its code wrote, though other blocks of
    /// the page were written (static tables beside mutable globals). 0
    /// where nothing is known. A classifier of what the module wrote
    /// passes over them ([`Self::unshipped`]).
    pub shipped: u32,
    /// How far the run of the page's first byte goes on before it in
    /// memory, and of its last byte after it, as the hook saw them, where
    /// those are bytes the host's input held runs of
    /// ([`crate::InputRuns::runs_beyond`]): a run split across pages is
    /// judged whole. `[0, 0]` where nothing is known.
    pub runs_beyond: [u32; 2],
}

impl<'a> PageSnapshot<'a> {
    /// A snapshot of `bytes`, its digest computed.
    pub fn new(memory: u32, page: u32, epoch: u64, kind: PageKind, bytes: &'a [u8]) -> Self {
        PageSnapshot {
            memory,
            page,
            epoch,
            kind,
            bytes,
            digest: crate::page_digest(bytes),
            shipped: 0,
            runs_beyond: [0, 0],
        }
    }

    /// The page's bytes with its [`Self::shipped`] blocks zeroed: what a
    /// classifier of the module's writes judges. Borrowed where no block
    /// is shipped.
    pub fn unshipped(&self) -> Cow<'a, [u8]> {
        if self.shipped == 0 {
            return Cow::Borrowed(self.bytes);
        }
        let mut bytes = self.bytes.to_vec();
        zero_blocks(&mut bytes, self.shipped);
        Cow::Owned(bytes)
    }
}

/// The [`crate::block_digest`] of each block of a page's `bytes`, as
/// instantiation's data segments left it: what [`shipped_mask`] compares
/// a later snapshot of the page with.
pub fn shipped_digests(bytes: &[u8]) -> Box<[u64]> {
    bytes
        .chunks(SHIPPED_BLOCK)
        .map(crate::block_digest)
        .collect()
}

/// The blocks of a page's `bytes` whose [`crate::block_digest`] is the one
/// `image` holds for them (the digests of the blocks instantiation's data
/// segments left): [`PageSnapshot::shipped`]'s mask.
pub fn shipped_mask(image: &[u64], bytes: &[u8]) -> u32 {
    bytes
        .chunks(SHIPPED_BLOCK)
        .zip(image)
        .enumerate()
        .take(32)
        .filter(|(_, (block, &digest))| crate::block_digest(block) == digest)
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

/// Zeroes the blocks of `bytes` that `mask` names ([`PageSnapshot::shipped`]'s
/// bits), as a classifier of the module's writes judges the page.
pub fn zero_blocks(bytes: &mut [u8], mask: u32) {
    for (i, block) in bytes.chunks_mut(SHIPPED_BLOCK).enumerate().take(32) {
        if mask & (1 << i) != 0 {
            block.fill(0);
        }
    }
}

/// The kind of hook that took a snapshot or found a tampering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookKind {
    /// The embedder calls an export.
    ExportEntry,
    /// An export call returns to the embedder.
    ExportExit,
    /// The module is about to call an imported function.
    ImportCall,
    /// An imported function returned to the module.
    ImportReturn,
    /// A function of the module starts (`fine`).
    FunctionEntry,
    /// A function of the module returns (`fine`).
    FunctionReturn,
    /// The end of the run: everything still dirty is flushed.
    Finish,
    /// A colour-tag check in generated code, the allocator wrapper, or
    /// an access that trapped past the memory's end.
    TagCheck,
}

/// Where a hook fired: the function and its code offset, when known.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HookSite {
    /// The hook's kind.
    pub kind: HookKind,
    /// Function index in the module (for imports, the imported function).
    pub func: Option<u32>,
    /// The function's name, from the name section or the import/export.
    pub name: Option<String>,
    /// Byte offset in the module of the hook (the function body's start
    /// for entry hooks, the returning instruction for return hooks).
    pub offset: Option<u32>,
}

impl HookSite {
    /// The site for a sentence: "the ExportExit hook of `_start`".
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("the {:?} hook of `{name}`", self.kind),
            None => format!("the {:?} hook", self.kind),
        }
    }

    /// A site with only its kind known.
    pub fn new(kind: HookKind) -> HookSite {
        HookSite {
            kind,
            func: None,
            name: None,
            offset: None,
        }
    }
}
