//! Globals.

use walmart_jit::vmctx::VMGlobal;

use crate::error::{Error, Result};
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::{GlobalType, Mutability};
use crate::values::Val;

/// A global's storage; `cell` first, as generated code sees it.
#[repr(C)]
pub(crate) struct GlobalData {
    pub(crate) cell: VMGlobal,
    pub(crate) ty: GlobalType,
}

/// A global handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Global {
    /// Creates a global holding `val`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let store = &mut store.as_context_mut().opaque;
        if val.ty() != ty.content() {
            return Err(Error::Usage(format!(
                "global of type {} initialised with a {}",
                ty.content(),
                val.ty()
            )));
        }
        // A type taken from a module's global may be typed.
        val.check_exact(store, ty.exact)?;
        let raw = val.to_raw(store)?;
        Ok(Global::push(store, ty, raw))
    }

    pub(crate) fn push(store: &mut StoreOpaque, ty: GlobalType, raw: u128) -> Global {
        store.globals.push(Box::new(GlobalData {
            cell: VMGlobal {
                bytes: raw.to_le_bytes(),
            },
            ty,
        }));
        Global {
            store: store.id,
            index: store.globals.len() as u32 - 1,
        }
    }

    pub(crate) fn data_in(self, store: &StoreOpaque) -> &GlobalData {
        store.check(self.store);
        &store.globals[self.index as usize]
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        self.data_in(&store.as_context().opaque).ty
    }

    /// The current value.
    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let store = &mut store.as_context_mut().opaque;
        let data = self.data_in(store);
        let raw = u128::from_le_bytes(data.cell.bytes);
        let ty = data.ty.content();
        Val::from_raw(store, raw, ty)
    }

    /// Sets the value of a mutable global.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().opaque;
        let ty = self.data_in(store).ty;
        if ty.mutability() != Mutability::Var {
            return Err(Error::Usage("cannot set an immutable global".into()));
        }
        if val.ty() != ty.content() {
            return Err(Error::Usage(format!(
                "global of type {} set to a {}",
                ty.content(),
                val.ty()
            )));
        }
        val.check_exact(store, ty.exact)?;
        let raw = val.to_raw(store)?;
        store.check(self.store);
        store.globals[self.index as usize].cell.bytes = raw.to_le_bytes();
        Ok(())
    }
}
