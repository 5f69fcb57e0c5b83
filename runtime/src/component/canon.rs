//! The canonical built-ins a component's core code calls directly:
//! `resource.new`, `resource.rep` and `resource.drop`.

use std::sync::Arc;

use super::resources::{InstanceState, ResourceType};
use super::translate::Step;
use crate::store::StoreInner;
use crate::{Caller, FuncType, Val, ValType};

/// The core function of the built-in `step` on resources of type `ty`,
/// for the component instance `state`.
pub(crate) fn resource_builtin<T: 'static>(
    store: &mut StoreInner<T>,
    step: &Step,
    ty: ResourceType,
    state: Arc<InstanceState>,
) -> crate::Func {
    let i32s = |params: usize, results: usize| {
        FuncType::new(vec![ValType::I32; params], vec![ValType::I32; results])
    };
    // The built-ins write nothing into guest memory: trusted, as walmart's
    // own WASI is, but for a drop that may run an embedder's destructor.
    let host_dtor = matches!(step, Step::ResourceDrop(_)) && ty.drop_runs_embedder_code();
    let name = match step {
        Step::ResourceNew(_) => "resource.new",
        Step::ResourceRep(_) => "resource.rep",
        _ => "resource.drop",
    };
    let (name, trusted) = (name.to_string(), !host_dtor);
    match step {
        // (rep) -> handle: a new owned handle.
        Step::ResourceNew(_) => {
            crate::Func::new_named(store, i32s(1, 1), name, trusted, move |_, args, rets| {
                rets[0] = Val::I32(state.new_own(ty.clone(), args[0].unwrap_i32() as u32) as i32);
                Ok(())
            })
        }
        // (handle) -> rep.
        Step::ResourceRep(_) => {
            crate::Func::new_named(store, i32s(1, 1), name, trusted, move |_, args, rets| {
                rets[0] = Val::I32(state.rep(args[0].unwrap_i32() as u32, &ty)? as i32);
                Ok(())
            })
        }
        // (handle): the handle removed, an owned resource destroyed.
        _ => crate::Func::new_named(
            store,
            i32s(1, 0),
            name,
            trusted,
            move |mut caller: Caller<'_, T>, args, _| match state
                .remove(args[0].unwrap_i32() as u32, &ty)?
            {
                Some(rep) => ty.destroy(caller.inner(), rep, Some(&state), false),
                None => Ok(()),
            },
        ),
    }
}
