//! The canonical built-ins a component's core code calls directly:
//! `resource.new`, `resource.rep` and `resource.drop`.

use std::sync::Arc;

use super::resources::{InstanceState, ResourceType};
use super::translate::{ComponentDef, Step};
use crate::store::StoreInner;
use crate::{Caller, FuncType, Result, Val, ValType};

/// The core function of the built-in `step` on resources of type `ty`,
/// for the component instance `state`.
pub(crate) fn resource_builtin<T: 'static>(
    store: &mut StoreInner<T>,
    def: &ComponentDef,
    step: &Step,
    ty: ResourceType,
    state: Arc<InstanceState>,
) -> Result<crate::Func> {
    let engine = store.opaque.engine.clone();
    let i32s = |results: usize| {
        let sig = FuncType::new([ValType::I32], vec![ValType::I32; results]);
        super::func::prepared_once(&def.builtin_sigs[1 - results], &engine, &sig)
    };
    // The built-ins write nothing into guest memory: trusted, as walmart's
    // own WASI is, but for a drop that may run an embedder's destructor.
    let host_dtor = matches!(step, Step::ResourceDrop(_)) && ty.drop_runs_embedder_code();
    let name = match step {
        Step::ResourceNew(_) => "resource.new",
        Step::ResourceRep(_) => "resource.rep",
        _ => "resource.drop",
    };
    let (name, trusted) = (Arc::from(name), !host_dtor);
    Ok(match step {
        // (rep) -> handle: a new owned handle.
        Step::ResourceNew(_) => {
            crate::Func::new_named(store, &*i32s(1)?, name, trusted, move |_, args, rets| {
                rets[0] = Val::I32(state.new_own(ty.clone(), args[0].unwrap_i32() as u32) as i32);
                Ok(())
            })
        }
        // (handle) -> rep.
        Step::ResourceRep(_) => {
            crate::Func::new_named(store, &*i32s(1)?, name, trusted, move |_, args, rets| {
                rets[0] = Val::I32(state.rep(args[0].unwrap_i32() as u32, &ty)? as i32);
                Ok(())
            })
        }
        // (handle): the handle removed, an owned resource destroyed.
        _ => crate::Func::new_named(
            store,
            &*i32s(0)?,
            name,
            trusted,
            move |mut caller: Caller<'_, T>, args, _| match state
                .remove(args[0].unwrap_i32() as u32, &ty)?
            {
                Some(rep) => ty.destroy(caller.inner(), rep, Some(&state), false),
                None => Ok(()),
            },
        ),
    })
}
