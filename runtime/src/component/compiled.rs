//! A compiled component: its core modules compiled, its definitions
//! kept for instantiation.

use std::sync::Arc;

use super::translate::{translate, ComponentDef, ImportDesc};
use super::types::FuncType;
use crate::{Engine, Error, Result};

/// A compiled WebAssembly component (wasmtime's `component::Component`).
#[derive(Clone, Debug)]
pub struct Component {
    engine: Engine,
    def: Arc<ComponentDef>,
}

/// What a component imports or exports under a name, as far as the host
/// is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentItem {
    Func(FuncType),
    /// An instance (an interface) of these items.
    Instance(Vec<(String, ComponentItem)>),
    /// A resource type the host defines (see
    /// [`super::LinkerInstance::resource`]).
    Resource,
    /// Another type (nothing to link).
    Type,
    Module,
    Component,
}

fn item(desc: &ImportDesc) -> ComponentItem {
    match desc {
        ImportDesc::Func(ty) => ComponentItem::Func((**ty).clone()),
        ImportDesc::Instance(items) => {
            ComponentItem::Instance(items.iter().map(|(n, d)| (n.clone(), item(d))).collect())
        }
        ImportDesc::Type(Some(_)) => ComponentItem::Resource,
        ImportDesc::Type(None) => ComponentItem::Type,
        ImportDesc::Module => ComponentItem::Module,
        ImportDesc::Component => ComponentItem::Component,
    }
}

impl Component {
    /// Compiles a component from its binary or text format.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        let bytes = bytes.as_ref();
        let binary = match wat::Detect::from_bytes(bytes) {
            wat::Detect::WasmBinary => std::borrow::Cow::Borrowed(bytes),
            wat::Detect::WasmText => std::borrow::Cow::Owned(
                wat::parse_bytes(bytes)
                    .map_err(|e| Error::Wat(e.to_string()))?
                    .into_owned(),
            ),
            wat::Detect::Unknown => {
                return Err(Error::Wat(
                    "not a WebAssembly component: neither the binary format (which begins \
                     with `\\0asm`) nor the text format (which begins with `(`)"
                        .into(),
                ))
            }
        };
        Component::from_binary(engine, &binary)
    }

    /// Reads and compiles a component's `.wasm` or `.wat` file.
    pub fn from_file(engine: &Engine, path: impl AsRef<std::path::Path>) -> Result<Component> {
        Component::new(engine, crate::module::read_file(path.as_ref())?)
    }

    /// Compiles a component from its binary format.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Component> {
        Ok(Component {
            engine: engine.clone(),
            def: Arc::new(translate(engine, bytes)?),
        })
    }

    /// The component's precompiled form (wasmtime's
    /// `Component::serialize`): each core module's machine code with what
    /// instantiation needs, for [`Component::deserialize`] to load without
    /// compiling (`walmart compile` writes it to a `.cwasm`).
    pub fn serialize(&self) -> Result<Vec<u8>> {
        super::artifact::serialize(&self.def)
    }

    /// A component from its precompiled form, for this engine (each core
    /// module's settings are checked against the engine's).
    ///
    /// # Safety
    /// The machine code inside is run as it is: `bytes` must be what
    /// [`Component::serialize`] of this walmart wrote, unaltered (as for
    /// wasmtime's `Component::deserialize`).
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        Ok(Component {
            engine: engine.clone(),
            // SAFETY: the caller vouches for the bytes.
            def: unsafe { super::artifact::deserialize(engine, bytes.as_ref(), None)? },
        })
    }

    /// [`Component::deserialize`] of a file's contents. A regular file is
    /// mapped, not read, as [`crate::Module::deserialize_file`] maps a
    /// module's: each core module's code runs from the file's pages and
    /// its binary is a view of the mapping (an 18 MB Python component's
    /// 47 MB precompiled form loads without copying its code).
    ///
    /// # Safety
    /// As [`Component::deserialize`]: the file must hold what
    /// [`Component::serialize`] wrote; and it must not change while the
    /// component lives (replace it by renaming another over it).
    pub unsafe fn deserialize_file(
        engine: &Engine,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Component> {
        let path = path.as_ref();
        let file = std::fs::File::open(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        // SAFETY: the caller's promises, passed on.
        unsafe { Component::deserialize_open_file(engine, &file) }.map_err(|e| match e {
            Error::Usage(e) => Error::Usage(format!("{}: {e}", path.display())),
            other => other,
        })
    }

    /// [`Component::deserialize_file`] of a file already open (as
    /// [`crate::Module::deserialize_open_file`]): a regular file is
    /// mapped, anything else (a pipe) read from where it stands.
    ///
    /// # Safety
    /// As [`Component::deserialize_file`].
    pub unsafe fn deserialize_open_file(
        engine: &Engine,
        file: &std::fs::File,
    ) -> Result<Component> {
        let bytes = crate::mapped_file::FileBytes::of(file)
            .map_err(|e| Error::Usage(format!("cannot read it: {e}")))?;
        match bytes {
            // SAFETY: the caller vouches for the file and that it stays.
            crate::mapped_file::FileBytes::Mapped(mapped) => unsafe {
                Component::deserialize_mapped(engine, Arc::new(mapped), file)
            },
            // SAFETY: the caller vouches for the bytes.
            crate::mapped_file::FileBytes::Read(bytes) => unsafe {
                Component::deserialize(engine, bytes)
            },
        }
    }

    /// [`Component::deserialize`] of a mapped file's bytes, keeping views
    /// of the mapping.
    ///
    /// # Safety
    /// As [`Component::deserialize_file`].
    pub(crate) unsafe fn deserialize_mapped(
        engine: &Engine,
        mapped: Arc<crate::mapped_file::MappedFile>,
        file: &std::fs::File,
    ) -> Result<Component> {
        Ok(Component {
            engine: engine.clone(),
            // SAFETY: the caller vouches for the file.
            def: unsafe { super::artifact::deserialize(engine, &mapped, Some((&mapped, file)))? },
        })
    }

    /// Whether `bytes` begin as a component's binary does (the magic,
    /// then version 0xd and layer 1).
    pub fn is_component(bytes: &[u8]) -> bool {
        bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [0x0d, 0, 0x01, 0]
    }

    /// The engine it was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn def(&self) -> &super::translate::ComponentDef {
        &self.def
    }

    /// Whether `other` is this component (a clone of the same handle).
    pub(crate) fn same(&self, other: &Component) -> bool {
        Arc::ptr_eq(&self.def, &other.def)
    }

    /// Its imports' names and types, in order.
    pub fn imports(&self) -> Vec<(String, ComponentItem)> {
        self.def
            .imports
            .iter()
            .map(|(n, d)| (n.clone(), item(d)))
            .collect()
    }

    /// Its exports' names, in order.
    pub fn exports(&self) -> &[String] {
        &self.def.exports
    }
}
