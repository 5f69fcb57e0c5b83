//! Page snapshots: what a hook hands to a verifier.

/// Bytes in an attestation page (the unit of dirty tracking).
pub const PAGE_SIZE: usize = 4096;

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
    /// Memory index within the store's attested memories.
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
    /// A colour-tag check in generated code, or the allocator wrapper.
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
