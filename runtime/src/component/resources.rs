//! Resources: their types (defined by a component instance, or by the
//! host), the handles each component instance keeps in its table, and
//! the host's view of a handle ([`ResourceAny`], [`Resource`]).

use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::lift::abi_trap;
use crate::{Caller, Error, Result};

/// A resource type as the types of one component name it (the
/// validator's identity), or a host type's (for Rust's [`Resource`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResourceKey(KeyKind);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum KeyKind {
    /// A component's: distinct among one component's keys (they are
    /// compared within one component, and kept as they are in a
    /// precompiled component).
    Component(u64),
    Host(TypeId, &'static str),
}

impl ResourceKey {
    /// The key of the validator's resource `id` (its identity hashed:
    /// the validator's ids are unique in the process, and so, but for a
    /// 2^-64 chance, are their hashes).
    pub(crate) fn component(id: wasmparser::component_types::ResourceId) -> ResourceKey {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        id.hash(&mut h);
        ResourceKey(KeyKind::Component(h.finish()))
    }

    /// A component's key as a precompiled component keeps it.
    pub(crate) fn component_id(&self) -> Option<u64> {
        match self.0 {
            KeyKind::Component(id) => Some(id),
            KeyKind::Host(..) => None,
        }
    }

    /// The key a precompiled component kept.
    pub(crate) fn from_component_id(id: u64) -> ResourceKey {
        ResourceKey(KeyKind::Component(id))
    }

    pub(crate) fn host<T: 'static>() -> ResourceKey {
        ResourceKey(KeyKind::Host(TypeId::of::<T>(), std::any::type_name::<T>()))
    }

    /// The key [`ResourceAny`]'s Rust type gives: any resource type
    /// matches it (the handle's own type is checked when it is lowered).
    pub(crate) fn any() -> ResourceKey {
        ResourceKey::host::<ResourceAny>()
    }

    /// A name for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self.0 {
            KeyKind::Component(_) => "resource",
            KeyKind::Host(_, name) => name,
        }
    }
}

/// A host resource's destructor, for the store's data type `T`.
pub(crate) type HostDtor<T> = dyn Fn(Caller<'_, T>, u32) -> Result<()> + Send + Sync + 'static;

/// A resource type at run time (wasmtime's `component::ResourceType`):
/// one a component instance defined (each instance's its own), or a
/// host type's.
#[derive(Clone)]
pub struct ResourceType(RtKind);

#[derive(Clone)]
enum RtKind {
    Host {
        id: TypeId,
        name: &'static str,
        /// An `Arc<HostDtor<T>>`, where the linker gave one.
        dtor: Option<Arc<dyn Any + Send + Sync>>,
        /// The destructor is walmart's own (WASI 0.2's): see
        /// [`super::LinkerInstance::trusted`].
        trusted: bool,
    },
    Guest(Arc<GuestResource>),
}

/// A type a component instance defined: its destructor, and which
/// instance it belongs to.
pub(crate) struct GuestResource {
    pub dtor: Option<crate::Func>,
    pub owner: std::sync::Weak<InstanceState>,
}

impl PartialEq for ResourceType {
    fn eq(&self, other: &ResourceType) -> bool {
        match (&self.0, &other.0) {
            (RtKind::Host { id: a, .. }, RtKind::Host { id: b, .. }) => a == b,
            (RtKind::Guest(a), RtKind::Guest(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for ResourceType {}

impl std::fmt::Debug for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            RtKind::Host { name, .. } => write!(f, "ResourceType::host::<{name}>()"),
            RtKind::Guest(g) => write!(f, "ResourceType(guest {:p})", Arc::as_ptr(g)),
        }
    }
}

impl ResourceType {
    /// The type of host resources represented by the Rust type `T`.
    pub fn host<T: 'static>() -> ResourceType {
        ResourceType(RtKind::Host {
            id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
            dtor: None,
            trusted: false,
        })
    }

    /// This host type with its destructor (`trusted`: walmart's own).
    pub(crate) fn with_host_dtor<T: 'static>(
        self,
        dtor: Arc<HostDtor<T>>,
        trusted: bool,
    ) -> ResourceType {
        match self.0 {
            RtKind::Host { id, name, .. } => ResourceType(RtKind::Host {
                id,
                name,
                dtor: Some(Arc::new(dtor)),
                trusted,
            }),
            guest => ResourceType(guest),
        }
    }

    pub(crate) fn guest(dtor: Option<crate::Func>, owner: &Arc<InstanceState>) -> ResourceType {
        ResourceType(RtKind::Guest(Arc::new(GuestResource {
            dtor,
            owner: Arc::downgrade(owner),
        })))
    }

    /// Whether `key` (a Rust type's) names this type.
    pub(crate) fn is_key(&self, key: &ResourceKey) -> bool {
        matches!((&self.0, key.0), (RtKind::Host { id, .. }, KeyKind::Host(k, _)) if *id == k)
    }

    /// Whether dropping a resource of this type may run an embedder's
    /// code (a host destructor not walmart's own); a component's
    /// destructor is Wasm, entered as a call.
    pub(crate) fn drop_runs_embedder_code(&self) -> bool {
        matches!(
            self.0,
            RtKind::Host {
                dtor: Some(_),
                trusted: false,
                ..
            }
        )
    }

    /// Whether the component instance `state` defined this type (a borrow
    /// lowered into it is its representation itself).
    pub(crate) fn owned_by(&self, state: &Arc<InstanceState>) -> bool {
        match &self.0 {
            RtKind::Guest(g) => std::ptr::eq(g.owner.as_ptr(), Arc::as_ptr(state)),
            RtKind::Host { .. } => false,
        }
    }

    /// Runs the destructor of an owned resource of this type, for the
    /// component instance `from` (none: the host). The instance that
    /// defined the type is entered as by a call: not while it is on the
    /// stack (unless it drops its own resource), nor after a call into it
    /// failed.
    pub(crate) fn destroy<T: 'static>(
        &self,
        store: &mut crate::store::StoreInner<T>,
        rep: u32,
        from: Option<&Arc<InstanceState>>,
        top: bool,
    ) -> Result<()> {
        match &self.0 {
            RtKind::Guest(g) => match (g.dtor, g.owner.upgrade()) {
                (Some(dtor), Some(owner)) => {
                    let mut run = || {
                        super::func::core_call(store, top, |s| {
                            dtor.call(s, &[crate::Val::I32(rep as i32)], &mut [])
                        })
                    };
                    if from.is_some_and(|f| Arc::ptr_eq(f, &owner)) {
                        return run();
                    }
                    owner.enter(run)
                }
                _ => Ok(()),
            },
            RtKind::Host {
                dtor: Some(dtor), ..
            } => {
                let dtor = dtor.downcast_ref::<Arc<HostDtor<T>>>().ok_or_else(|| {
                    Error::Usage("a resource destructor of another store's data type".into())
                })?;
                dtor(Caller::new(store, None), rep)
            }
            RtKind::Host { dtor: None, .. } => Ok(()),
        }
    }
}

/// A handle in a component instance's table.
#[derive(Clone, Debug)]
struct Slot {
    ty: ResourceType,
    rep: u32,
    own: bool,
    /// The call a borrow was lent for (0 for an own handle).
    scope: u64,
}

/// What the canonical ABI keeps of a component instance: whether its
/// code may be entered (not while it is on the stack, nor after it
/// trapped), its handle table, and its view of resource types.
#[derive(Default)]
pub(crate) struct InstanceState {
    busy: AtomicBool,
    poisoned: AtomicBool,
    handles: Mutex<Vec<Option<Slot>>>,
    types: RwLock<rustc_hash::FxHashMap<ResourceKey, ResourceType>>,
}

impl std::fmt::Debug for InstanceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InstanceState")
    }
}

/// The source of call scopes for borrows: one per call into a component.
static SCOPES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub(crate) fn new_scope() -> u64 {
    SCOPES.fetch_add(1, Ordering::Relaxed)
}

impl InstanceState {
    /// Runs `f` as a call into the instance: refused while the instance is
    /// on the stack or after a call into it failed; an error from `f` leaves it
    /// unusable.
    pub fn enter<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        if self.poisoned.load(Ordering::Relaxed) {
            return Err(abi_trap(
                "cannot enter a component instance after a call into it failed (a trap, a host \
                 error or a cancelled asynchronous call)",
            ));
        }
        if self.busy.swap(true, Ordering::Relaxed) {
            return Err(abi_trap(
                "cannot enter a component instance while it is on the stack",
            ));
        }
        /// Leaves the instance however `f` ends (a host panic included).
        struct Leave<'a>(&'a AtomicBool);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Relaxed);
            }
        }
        let leave = Leave(&self.busy);
        let r = f();
        drop(leave);
        // Whatever failed once the instance was entered (a trap, a host
        // error, a cancelled asynchronous call) may have left it halfway.
        if r.is_err() {
            self.poisoned.store(true, Ordering::Relaxed);
        }
        r
    }

    /// Notes what `key` names in this instance.
    pub fn define(&self, key: ResourceKey, ty: ResourceType) {
        self.types.write().unwrap().insert(key, ty);
    }

    /// The run-time type `key` names here.
    pub fn resolve(&self, key: &ResourceKey) -> Result<ResourceType> {
        if let KeyKind::Host(..) = key.0 {
            return Err(Error::Usage(format!(
                "the host type {} in a component's type",
                key.name()
            )));
        }
        self.types
            .read()
            .unwrap()
            .get(key)
            .cloned()
            .ok_or_else(|| Error::Usage("component: a resource type not yet defined".into()))
    }

    fn insert(&self, slot: Slot) -> u32 {
        let mut handles = self.handles.lock().unwrap();
        if handles.is_empty() {
            // Handle 0 is never given out: it traps.
            handles.push(None);
        }
        match handles.iter().skip(1).position(Option::is_none) {
            Some(i) => {
                handles[i + 1] = Some(slot);
                i as u32 + 1
            }
            None => {
                handles.push(Some(slot));
                handles.len() as u32 - 1
            }
        }
    }

    /// A new owned handle to `rep` of type `ty`.
    pub fn new_own(&self, ty: ResourceType, rep: u32) -> u32 {
        self.insert(Slot {
            ty,
            rep,
            own: true,
            scope: 0,
        })
    }

    /// A handle lent for the call `scope`.
    pub fn new_borrow(&self, ty: ResourceType, rep: u32, scope: u64) -> u32 {
        self.insert(Slot {
            ty,
            rep,
            own: false,
            scope,
        })
    }

    fn checked(&self, handle: u32, ty: &ResourceType) -> Result<Slot> {
        let handles = self.handles.lock().unwrap();
        match handles.get(handle as usize).and_then(Option::as_ref) {
            Some(slot) if slot.ty == *ty => Ok(slot.clone()),
            Some(_) => Err(abi_trap(format_args!(
                "handle {handle} is of another resource type"
            ))),
            None => Err(abi_trap(format_args!("unknown handle {handle}"))),
        }
    }

    /// The representation behind `handle` (own or borrow).
    pub fn rep(&self, handle: u32, ty: &ResourceType) -> Result<u32> {
        Ok(self.checked(handle, ty)?.rep)
    }

    /// Takes the owned `handle` out of the table: its representation.
    pub fn take_own(&self, handle: u32, ty: &ResourceType) -> Result<u32> {
        let slot = self.checked(handle, ty)?;
        if !slot.own {
            return Err(abi_trap(format_args!(
                "handle {handle} is borrowed: it cannot pass as owned"
            )));
        }
        self.handles.lock().unwrap()[handle as usize] = None;
        Ok(slot.rep)
    }

    /// Removes `handle` (`resource.drop`): the representation to destroy
    /// when it was owned.
    pub fn remove(&self, handle: u32, ty: &ResourceType) -> Result<Option<u32>> {
        let slot = self.checked(handle, ty)?;
        self.handles.lock().unwrap()[handle as usize] = None;
        Ok(slot.own.then_some(slot.rep))
    }

    /// Whether any of `handles` is still lent for the call `scope`.
    pub fn lent(&self, handles: &[u32], scope: u64) -> bool {
        let table = self.handles.lock().unwrap();
        handles
            .iter()
            .any(|h| matches!(table.get(*h as usize), Some(Some(s)) if !s.own && s.scope == scope))
    }
}

/// A handle to a resource as the host holds it (wasmtime's
/// `component::ResourceAny`): owned, or borrowed for the length of a call.
/// Clones share the handle: an owned one moves into a component once.
#[derive(Clone)]
pub struct ResourceAny(Arc<AnyData>);

struct AnyData {
    ty: ResourceType,
    rep: u32,
    own: bool,
    /// Set once an owned handle has moved into a component (or was
    /// dropped): no clone can pass it again.
    moved: AtomicBool,
}

impl PartialEq for ResourceAny {
    fn eq(&self, other: &ResourceAny) -> bool {
        self.0.ty == other.0.ty && self.0.rep == other.0.rep && self.0.own == other.0.own
    }
}

impl std::fmt::Debug for ResourceAny {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ResourceAny({:?}, {} {})",
            self.0.ty,
            if self.0.own { "own" } else { "borrow" },
            self.0.rep
        )
    }
}

impl ResourceAny {
    pub(crate) fn new(ty: ResourceType, rep: u32, own: bool) -> ResourceAny {
        ResourceAny(Arc::new(AnyData {
            ty,
            rep,
            own,
            moved: AtomicBool::new(false),
        }))
    }

    /// The resource's type.
    pub fn ty(&self) -> ResourceType {
        self.0.ty.clone()
    }

    /// Whether the handle owns the resource.
    pub fn owned(&self) -> bool {
        self.0.own
    }

    pub(crate) fn rep(&self) -> u32 {
        self.0.rep
    }

    /// Whether an owned handle has moved into a component or was dropped.
    pub(crate) fn moved(&self) -> bool {
        self.0.moved.load(Ordering::Relaxed)
    }

    /// Marks an owned handle moved into a component; an error if it was
    /// already.
    pub(crate) fn move_out(&self) -> Result<()> {
        if self.0.moved.swap(true, Ordering::Relaxed) {
            return Err(Error::Usage(
                "an owned resource passed twice: it already moved into a component".into(),
            ));
        }
        Ok(())
    }

    /// Drops an owned resource the host holds: the destructor of the
    /// instance that defined it runs (which must not be on the stack).
    /// Borrowed handles need no drop.
    pub fn resource_drop<S: crate::AsContextMut>(self, mut store: S) -> Result<()>
    where
        S::Data: 'static,
    {
        if !self.0.own {
            return Ok(());
        }
        let store = store.as_context_mut();
        // Only a destructor of a component's enters Wasm (and so must be
        // the asynchronous call's own entry).
        let top = match &self.0.ty.0 {
            RtKind::Guest(g) if g.dtor.is_some() => {
                super::func::entered_from_host(&mut store.opaque)?
            }
            _ => false,
        };
        self.move_out()?;
        self.0.ty.destroy(store, self.0.rep, None, top)
    }

    /// The typed handle of a host resource of type `T`.
    pub fn try_into_resource<T: 'static>(self) -> Result<Resource<T>> {
        if self.0.ty != ResourceType::host::<T>() {
            return Err(Error::Usage(format!(
                "a resource of type {:?} used as one of {}",
                self.0.ty,
                std::any::type_name::<T>()
            )));
        }
        Ok(Resource {
            rep: self.0.rep,
            own: self.0.own,
            _type: PhantomData,
        })
    }
}

/// A host resource of type `T` (wasmtime's `component::Resource<T>`):
/// `rep` is the host's own number for it (an index into its table), and
/// the handle owns it or borrows it.
pub struct Resource<T> {
    rep: u32,
    own: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Resource<T> {
    fn clone(&self) -> Self {
        Resource {
            rep: self.rep,
            own: self.own,
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Resource({} {})",
            if self.own { "own" } else { "borrow" },
            self.rep
        )
    }
}

impl<T> PartialEq for Resource<T> {
    fn eq(&self, other: &Self) -> bool {
        self.rep == other.rep && self.own == other.own
    }
}

impl<T: 'static> Resource<T> {
    /// An owned handle to the host's resource `rep`.
    pub fn new_own(rep: u32) -> Resource<T> {
        Resource {
            rep,
            own: true,
            _type: PhantomData,
        }
    }

    /// A borrowed handle to the host's resource `rep`.
    pub fn new_borrow(rep: u32) -> Resource<T> {
        Resource {
            rep,
            own: false,
            _type: PhantomData,
        }
    }

    /// The host's number for the resource.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether the handle owns the resource.
    pub fn owned(&self) -> bool {
        self.own
    }

    /// The untyped handle.
    pub fn into_resource_any(self) -> ResourceAny {
        ResourceAny::new(ResourceType::host::<T>(), self.rep, self.own)
    }
}
