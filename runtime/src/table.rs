//! Tables of references.

use walmart_jit::vmctx::VMTable;

use crate::error::{Error, Result};
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::TableType;
use crate::values::Val;

/// Largest table walmart creates, in elements.
const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table's storage; `def` first, as generated code sees it.
#[repr(C)]
pub(crate) struct TableData {
    pub(crate) def: VMTable,
    elements: Vec<u64>,
    pub(crate) ty: TableType,
}

impl TableData {
    /// The elements' raw words (what the collector reads).
    pub(crate) fn raw_elements(&self) -> &[u64] {
        &self.elements
    }

    pub(crate) fn new(ty: TableType, init: u64) -> Result<Box<TableData>> {
        if ty.min > MAX_TABLE_ELEMENTS {
            return Err(Error::Resource(format!(
                "table minimum of {} elements exceeds walmart's limit",
                ty.min
            )));
        }
        let mut t = Box::new(TableData {
            def: VMTable {
                base: std::ptr::null_mut(),
                length: 0,
            },
            elements: vec![init; ty.min as usize],
            ty,
        });
        t.sync();
        Ok(t)
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.length = self.elements.len() as u64;
    }

    pub(crate) fn elements(&self) -> &[u64] {
        &self.elements
    }

    pub(crate) fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// The most elements it may have.
    pub(crate) fn max_elements(&self) -> u64 {
        self.ty
            .max
            .unwrap_or(u32::MAX as u64)
            .min(MAX_TABLE_ELEMENTS)
    }

    /// Grows by `delta` elements set to `init`; the old size, or `None`.
    pub(crate) fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.elements.len() as u64;
        let new = old
            .checked_add(delta)
            .filter(|n| *n <= self.max_elements())?;
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }
}

/// A table handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Table {
    /// [`Table::new`] as an asynchronous call (wasmtime's), for a store
    /// whose limiter is asynchronous ([`crate::Store::limiter_async`]).
    pub async fn new_async<S>(mut store: S, ty: TableType, init: Val) -> Result<Table>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| Table::new(s, ty, init)).await
    }

    /// Creates a table with every element set to `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let store = &mut store.as_context_mut().opaque;
        // A type taken from a module's table may be typed.
        let raw = element_raw(store, &ty, init)?;
        store.table_may_be_made(&ty)?;
        Ok(Table::push(store, TableData::new(ty, raw)?))
    }

    pub(crate) fn push(store: &mut StoreOpaque, data: Box<TableData>) -> Table {
        store.tables.push(data);
        Table {
            store: store.id,
            index: store.tables.len() as u32 - 1,
        }
    }

    pub(crate) fn data_in(self, store: &StoreOpaque) -> &TableData {
        store.check(self.store);
        &store.tables[self.index as usize]
    }

    pub(crate) fn data_in_mut(self, store: &mut StoreOpaque) -> &mut TableData {
        store.check(self.store);
        &mut store.tables[self.index as usize]
    }

    /// The table's type (with its current size as minimum).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let data = self.data_in(&store.as_context().opaque);
        TableType {
            min: data.elements.len() as u64,
            ..data.ty
        }
    }

    /// Number of elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.data_in(&store.as_context().opaque).elements.len() as u64
    }

    /// Element `index`, if in bounds.
    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Val> {
        let store = &mut store.as_context_mut().opaque;
        let data = self.data_in(store);
        let raw = *data.elements.get(usize::try_from(index).ok()?)?;
        let ty = data.ty.element.into();
        Some(Val::from_raw(store, raw as u128, ty))
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().opaque;
        let ty = self.data_in(store).ty;
        let raw = element_raw(store, &ty, val)?;
        let data = self.data_in_mut(store);
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| data.elements.get_mut(i))
            .ok_or_else(|| Error::Usage(format!("table index {index} out of bounds")))?;
        *slot = raw;
        Ok(())
    }

    /// Sets `len` elements from `dst` to `val` (wasmtime's `Table::fill`);
    /// out of bounds, an error and nothing set.
    pub fn fill(&self, mut store: impl AsContextMut, dst: u64, val: Val, len: u64) -> Result<()> {
        let store = &mut store.as_context_mut().opaque;
        let ty = self.data_in(store).ty;
        let raw = element_raw(store, &ty, val)?;
        let data = self.data_in_mut(store);
        let range = in_bounds(dst, len, data.elements.len())?;
        data.elements[range].fill(raw);
        Ok(())
    }

    /// Copies `len` elements of `src_table` from `src_index` to
    /// `dst_table` from `dst_index` (wasmtime's `Table::copy`; the two may
    /// be one table, the ranges overlapping). Out of bounds, or an element
    /// the destination's type does not take, an error and nothing copied.
    pub fn copy(
        mut store: impl AsContextMut,
        dst_table: &Table,
        dst_index: u64,
        src_table: &Table,
        src_index: u64,
        len: u64,
    ) -> Result<()> {
        let store = &mut store.as_context_mut().opaque;
        let src = src_table.data_in(store);
        let from = in_bounds(src_index, len, src.elements.len())?;
        let to = in_bounds(dst_index, len, dst_table.data_in(store).elements.len())?;
        let (raws, src_elem) = (src.elements[from].to_vec(), src.ty.element);
        let dst_ty = dst_table.data_in(store).ty;
        if dst_ty.exact.is_none() && dst_ty.element == src_elem {
            // One representation, no type to check: the words as they are
            // (as Wasm's `table.copy`).
            dst_table.data_in_mut(store).elements[to].copy_from_slice(&raws);
            return Ok(());
        }
        // Each element as a value, then in the destination's terms: a
        // typed destination checks each. The values' GC roots go with
        // this call (tables hold what they reference).
        let mark = store.gc_roots.mark();
        let converted = raws
            .into_iter()
            .map(|raw| {
                let val = Val::from_raw(store, raw as u128, src_elem.into());
                element_raw(store, &dst_ty, val)
            })
            .collect::<Result<Vec<u64>>>();
        store.gc_roots.release_to(mark);
        dst_table.data_in_mut(store).elements[to].copy_from_slice(&converted?);
        Ok(())
    }

    /// [`Table::grow`] as an asynchronous call (wasmtime's), for a store
    /// whose limiter is asynchronous ([`crate::Store::limiter_async`]).
    pub async fn grow_async<S>(&self, mut store: S, delta: u64, init: Val) -> Result<u64>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| self.grow(s, delta, init)).await
    }

    /// Grows by `delta` elements set to `init`, returning the old size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let store = &mut store.as_context_mut().opaque;
        let ty = self.data_in(store).ty;
        let raw = element_raw(store, &ty, init)?;
        store
            .grow_table(*self, delta, raw)
            .api(|| format!("table cannot grow by {delta}"))
    }
}

/// `[start, start + len)` if it lies within `size` elements.
fn in_bounds(start: u64, len: u64, size: usize) -> Result<std::ops::Range<usize>> {
    start
        .checked_add(len)
        .filter(|end| *end <= size as u64)
        .map(|end| start as usize..end as usize)
        .ok_or_else(|| {
            Error::Usage(format!(
                "table range {start}..{start}+{len} out of bounds of {size} elements"
            ))
        })
}

/// `val`'s raw form as an element of a table of type `ty`: of its element
/// representation, and of its exact type where that is typed.
fn element_raw(store: &mut StoreOpaque, ty: &TableType, val: Val) -> Result<u64> {
    val.check_exact(store, ty.exact)?;
    val.to_raw_ref(store, ty.element.into())
}
