//! Host functions from plain Rust closures (`Func::wrap`,
//! `Linker::func_wrap`, as in wasmtime): the Wasm signature comes from the
//! closure's parameter and result types, and values are converted at the
//! call, so the host writes `|a: i32, b: i32| a + b` rather than matching
//! on `Val`s.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::func::{Caller, HostFn};
use crate::store::StoreOpaque;
use crate::typed_func::{WasmList, WasmTy};
use crate::types::{FuncType, ValType};
#[cfg(doc)]
use crate::values::Val;

/// What a wrapped closure may return: nothing, a value, a tuple of
/// values, or any of those in a [`Result`] or an `anyhow::Result` (an
/// error traps the caller, as a host function's error does).
pub trait WasmResults {
    /// The Wasm result types.
    fn valtypes() -> Vec<ValType>;
    /// Writes the results into a host call's slots, or gives the
    /// closure's error.
    #[doc(hidden)]
    fn into_raws(self, store: &mut StoreOpaque, raws: &mut [u128]) -> Result<()>;
}

impl<L: WasmList> WasmResults for L {
    fn valtypes() -> Vec<ValType> {
        L::valtypes()
    }
    fn into_raws(self, store: &mut StoreOpaque, raws: &mut [u128]) -> Result<()> {
        WasmList::into_raws(self, store, raws)
    }
}

impl<L: WasmList> WasmResults for Result<L> {
    fn valtypes() -> Vec<ValType> {
        L::valtypes()
    }
    fn into_raws(self, store: &mut StoreOpaque, raws: &mut [u128]) -> Result<()> {
        WasmList::into_raws(self?, store, raws)
    }
}

impl<L: WasmList> WasmResults for std::result::Result<L, anyhow::Error> {
    fn valtypes() -> Vec<ValType> {
        L::valtypes()
    }
    fn into_raws(self, store: &mut StoreOpaque, raws: &mut [u128]) -> Result<()> {
        WasmList::into_raws(self.map_err(Error::from)?, store, raws)
    }
}

/// A Rust closure that can be a host function of store data `T`:
/// `Fn(A1, ..., An) -> R` or `Fn(Caller<'_, T>, A1, ..., An) -> R`, each
/// `Ai` a [`WasmTy`] (`i32`, `u32`, `i64`, `u64`, `f32`, `f64`, nullable
/// references) and `R` a [`WasmResults`]; up to sixteen parameters. `Params`
/// only tells the two shapes apart. Called with its values straight from
/// the call stub's slots (no [`Val`]s in between).
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function's Wasm type, and the closure as the stub runs it.
    #[doc(hidden)]
    fn into_host(self) -> (FuncType, Arc<HostFn<T>>);
}

/// Marks the closures that take the [`Caller`] first.
pub struct WithCaller<P>(std::marker::PhantomData<P>);

macro_rules! into_func {
    ($($a:ident)*) => {
        #[allow(non_snake_case)]
        impl<T, F, $($a,)* R> IntoFunc<T, ($($a,)*), R> for F
        where
            F: Fn($($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy + 'static,)*
            R: WasmResults + 'static,
        {
            fn into_host(self) -> (FuncType, Arc<HostFn<T>>) {
                // The same closure, taking the caller it does not use.
                let with_caller = move |_: Caller<'_, T>, $($a: $a),*| (self)($($a),*);
                IntoFunc::<T, WithCaller<($($a,)*)>, R>::into_host(with_caller)
            }
        }

        #[allow(non_snake_case)]
        impl<T, F, $($a,)* R> IntoFunc<T, WithCaller<($($a,)*)>, R> for F
        where
            F: Fn(Caller<'_, T>, $($a),*) -> R + Send + Sync + 'static,
            $($a: WasmTy + 'static,)*
            R: WasmResults + 'static,
        {
            fn into_host(self) -> (FuncType, Arc<HostFn<T>>) {
                let ty = FuncType::new([$($a::valtype()),*], R::valtypes());
                let host = move |mut caller: Caller<'_, T>, slots: &mut [u128]| {
                    let ($($a,)*) = <($($a,)*) as WasmList>::from_raws(caller.opaque(), slots);
                    (self)(caller.reborrow(), $($a),*).into_raws(caller.opaque(), slots)
                };
                (ty, Arc::new(host))
            }
        }
    };
}

into_func!();
into_func!(A);
into_func!(A B);
into_func!(A B C);
into_func!(A B C D);
into_func!(A B C D E);
into_func!(A B C D E G);
into_func!(A B C D E G H);
into_func!(A B C D E G H I);
into_func!(A B C D E G H I J);
into_func!(A B C D E G H I J K);
into_func!(A B C D E G H I J K L);
into_func!(A B C D E G H I J K L M);
into_func!(A B C D E G H I J K L M N);
into_func!(A B C D E G H I J K L M N O);
into_func!(A B C D E G H I J K L M N O Q);
into_func!(A B C D E G H I J K L M N O Q S);
