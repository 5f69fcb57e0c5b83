//! The host's resources by handle (wasmtime's `component::ResourceTable`):
//! a host keeps the Rust value behind each [`Resource<T>`] it gives a
//! component here, the handle's representation being the value's index,
//! and finds it again from the handle the component passes back (owned or
//! borrowed: both carry the same representation).

use std::any::Any;

use super::Resource;

/// Why a table refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResourceTableError {
    /// Every one of the 2^32 representations is in use.
    #[error("the resource table is full")]
    Full,
    /// No value has this handle's representation (never pushed, or
    /// deleted since).
    #[error("no resource in the table has this handle")]
    NotPresent,
    /// The value at this representation is of another Rust type.
    #[error("the resource in the table is of another type than the handle's")]
    WrongType,
    /// The value still has children (from [`ResourceTable::push_child`]),
    /// which must be deleted first.
    #[error("the resource in the table still has children")]
    HasChildren,
}

impl From<ResourceTableError> for crate::Error {
    fn from(e: ResourceTableError) -> crate::Error {
        crate::Error::Usage(e.to_string())
    }
}

/// A value and its place among parents and children.
struct Entry {
    value: Box<dyn Any + Send>,
    parent: Option<u32>,
    children: Vec<u32>,
}

/// Values of any `Send` Rust type, each behind a [`Resource`] handle.
#[derive(Default)]
pub struct ResourceTable {
    slots: Vec<Option<Entry>>,
    /// Representations free for reuse, most recently freed last.
    free: Vec<u32>,
}

impl std::fmt::Debug for ResourceTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceTable")
            .field("len", &self.len())
            .finish()
    }
}

impl ResourceTable {
    /// An empty table.
    pub fn new() -> ResourceTable {
        ResourceTable::default()
    }

    /// An empty table with room for `capacity` values before it grows.
    pub fn with_capacity(capacity: usize) -> ResourceTable {
        ResourceTable {
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
        }
    }

    /// How many values the table holds.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Whether the table holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `value`: an owned handle to it.
    pub fn push<T: Send + 'static>(&mut self, value: T) -> Result<Resource<T>, ResourceTableError> {
        let rep = self.insert(Box::new(value), None)?;
        Ok(Resource::new_own(rep))
    }

    /// Adds `value` as a child of `parent`'s value, which cannot be
    /// deleted while it has children (a stream of a file, say).
    pub fn push_child<T: Send + 'static, U: 'static>(
        &mut self,
        value: T,
        parent: &Resource<U>,
    ) -> Result<Resource<T>, ResourceTableError> {
        let p = parent.rep();
        self.entry(p)?;
        let rep = self.insert(Box::new(value), Some(p))?;
        self.slots[p as usize]
            .as_mut()
            .expect("checked above")
            .children
            .push(rep);
        Ok(Resource::new_own(rep))
    }

    /// The value behind `handle`.
    pub fn get<T: 'static>(&self, handle: &Resource<T>) -> Result<&T, ResourceTableError> {
        self.entry(handle.rep())?
            .value
            .downcast_ref()
            .ok_or(ResourceTableError::WrongType)
    }

    /// The value behind `handle`, to change.
    pub fn get_mut<T: 'static>(
        &mut self,
        handle: &Resource<T>,
    ) -> Result<&mut T, ResourceTableError> {
        self.slots
            .get_mut(handle.rep() as usize)
            .and_then(Option::as_mut)
            .ok_or(ResourceTableError::NotPresent)?
            .value
            .downcast_mut()
            .ok_or(ResourceTableError::WrongType)
    }

    /// Takes the value behind `handle` out of the table (a resource's
    /// `drop`); its representation may be given to a later value.
    pub fn delete<T: 'static>(&mut self, handle: Resource<T>) -> Result<T, ResourceTableError> {
        let rep = handle.rep();
        let e = self.entry(rep)?;
        if !e.value.is::<T>() {
            return Err(ResourceTableError::WrongType);
        }
        if !e.children.is_empty() {
            return Err(ResourceTableError::HasChildren);
        }
        let e = self.slots[rep as usize].take().expect("checked above");
        if let Some(p) = e.parent {
            if let Some(parent) = self.slots[p as usize].as_mut() {
                parent.children.retain(|c| *c != rep);
            }
        }
        self.free.push(rep);
        Ok(*e.value.downcast().expect("checked above"))
    }

    /// The values `parent`'s children hold.
    pub fn iter_children<T: 'static>(
        &self,
        parent: &Resource<T>,
    ) -> Result<impl Iterator<Item = &(dyn Any + Send)>, ResourceTableError> {
        let e = self.entry(parent.rep())?;
        Ok(e.children
            .iter()
            .filter_map(|c| self.slots[*c as usize].as_ref())
            .map(|c| &*c.value))
    }

    fn entry(&self, rep: u32) -> Result<&Entry, ResourceTableError> {
        self.slots
            .get(rep as usize)
            .and_then(Option::as_ref)
            .ok_or(ResourceTableError::NotPresent)
    }

    fn insert(
        &mut self,
        value: Box<dyn Any + Send>,
        parent: Option<u32>,
    ) -> Result<u32, ResourceTableError> {
        let entry = Entry {
            value,
            parent,
            children: Vec::new(),
        };
        if let Some(rep) = self.free.pop() {
            self.slots[rep as usize] = Some(entry);
            return Ok(rep);
        }
        let rep = u32::try_from(self.slots.len()).map_err(|_| ResourceTableError::Full)?;
        self.slots.push(Some(entry));
        Ok(rep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_by_handle_with_types_and_children_checked() {
        let mut table = ResourceTable::new();
        let a = table.push(String::from("file")).unwrap();
        let b = table.push(7u32).unwrap();
        assert_eq!(table.len(), 2);
        assert_eq!(table.get(&a).unwrap(), "file");
        *table.get_mut(&b).unwrap() += 1;
        assert_eq!(*table.get(&b).unwrap(), 8);
        // A borrowed handle finds the same value.
        let lent = Resource::<u32>::new_borrow(b.rep());
        assert_eq!(*table.get(&lent).unwrap(), 8);
        // Another type at that representation is refused.
        let wrong = Resource::<String>::new_own(b.rep());
        assert_eq!(table.get(&wrong), Err(ResourceTableError::WrongType));
        assert_eq!(
            table.delete(Resource::<String>::new_own(b.rep())),
            Err(ResourceTableError::WrongType)
        );

        // A parent outlives its children.
        let child = table.push_child(vec![1u8, 2], &a).unwrap();
        assert_eq!(table.iter_children(&a).unwrap().count(), 1);
        assert_eq!(
            table.delete(Resource::<String>::new_own(a.rep())),
            Err(ResourceTableError::HasChildren)
        );
        assert_eq!(table.delete(child).unwrap(), [1, 2]);
        assert_eq!(table.iter_children(&a).unwrap().count(), 0);
        assert_eq!(table.delete(a).unwrap(), "file");
        let gone = Resource::<String>::new_own(0);
        assert_eq!(table.get(&gone), Err(ResourceTableError::NotPresent));

        // Freed representations are reused.
        let c = table.push(1.5f64).unwrap();
        assert!(c.rep() <= 2);
        assert_eq!(table.len(), 2);
        assert_eq!(table.delete(b).unwrap(), 8);
        assert_eq!(table.delete(c).unwrap(), 1.5);
        assert!(table.is_empty());
    }
}
