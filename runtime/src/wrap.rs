//! Host functions from plain Rust closures (`Func::wrap`,
//! `Linker::func_wrap`, as in wasmtime): the Wasm signature comes from the
//! closure's parameter and result types, and values are converted at the
//! call, so the host writes `|a: i32, b: i32| a + b` rather than matching
//! on `Val`s.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::func::{Caller, HostFn};
use crate::typed_func::{WasmList, WasmTy};
use crate::types::{FuncType, ValType};
use crate::values::Val;

/// What a wrapped closure may return: nothing, a value, a tuple of
/// values, or any of those in a [`Result`] or an `anyhow::Result` (an
/// error traps the caller, as a host function's error does).
pub trait WasmResults {
    /// The Wasm result types.
    fn valtypes() -> Vec<ValType>;
    /// The results as values, or the closure's error.
    fn into_results(self) -> Result<Vec<Val>>;
}

impl<L: WasmList> WasmResults for L {
    fn valtypes() -> Vec<ValType> {
        L::valtypes()
    }
    fn into_results(self) -> Result<Vec<Val>> {
        Ok(self.into_vals())
    }
}

impl<L: WasmList> WasmResults for Result<L> {
    fn valtypes() -> Vec<ValType> {
        L::valtypes()
    }
    fn into_results(self) -> Result<Vec<Val>> {
        self.map(WasmList::into_vals)
    }
}

impl<L: WasmList> WasmResults for std::result::Result<L, anyhow::Error> {
    fn valtypes() -> Vec<ValType> {
        L::valtypes()
    }
    fn into_results(self) -> Result<Vec<Val>> {
        self.map(WasmList::into_vals).map_err(Error::from)
    }
}

/// A Rust closure that can be a host function of store data `T`:
/// `Fn(A1, ..., An) -> R` or `Fn(Caller<'_, T>, A1, ..., An) -> R`, each
/// `Ai` a [`WasmTy`] (`i32`, `u32`, `i64`, `u64`, `f32`, `f64`, nullable
/// references)
/// and `R` a [`WasmResults`]; up to eight parameters. `Params` only tells
/// the two shapes apart.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function's Wasm type, and the closure as a host function over
    /// values.
    #[doc(hidden)]
    fn into_host(self) -> (FuncType, Arc<HostFn<T>>);
}

/// Marks the closures that take the [`Caller`] first.
pub struct WithCaller<P>(std::marker::PhantomData<P>);

/// The values a wrapped closure was given, as its parameter types (the
/// stub checked the signature: a mismatch is walmart's bug, reported as
/// an error rather than a panic across Wasm frames).
fn arguments<P: WasmList>(params: &[Val]) -> Result<P> {
    P::from_vals(params).ok_or_else(|| {
        Error::Usage("a wrapped host function was given values of other types".into())
    })
}

/// Writes a wrapped closure's results into the slots the stub gave.
fn write_results(values: Vec<Val>, results: &mut [Val]) {
    for (slot, v) in results.iter_mut().zip(values) {
        *slot = v;
    }
}

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
                let ty = FuncType::new([$($a::valtype()),*], R::valtypes());
                let host = move |_: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
                    let ($($a,)*) = arguments::<($($a,)*)>(params)?;
                    write_results((self)($($a),*).into_results()?, results);
                    Ok(())
                };
                (ty, Arc::new(host))
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
                let host = move |caller: Caller<'_, T>, params: &[Val], results: &mut [Val]| {
                    let ($($a,)*) = arguments::<($($a,)*)>(params)?;
                    write_results((self)(caller, $($a),*).into_results()?, results);
                    Ok(())
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
