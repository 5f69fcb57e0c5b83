//! `TypedFunc`: a function whose Rust signature was checked once, so calls
//! pass plain Rust values.

use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::func::Func;
use crate::store::{AsContext, AsContextMut};
use crate::types::ValType;
use crate::values::Val;

/// A Rust type that maps to one Wasm value type.
pub trait WasmTy: Sized {
    /// The Wasm type.
    fn valtype() -> ValType;
    /// Into a `Val`.
    fn into_val(self) -> Val;
    /// From a `Val` of type `valtype()`.
    fn from_val(v: Val) -> Option<Self>;

    /// From its raw form in a host call's slot (`raw` is of type
    /// `valtype()`: the call stub's signature says so).
    #[doc(hidden)]
    fn from_raw(store: &mut crate::store::StoreOpaque, raw: u128) -> Self {
        Self::from_val(Val::from_raw(store, raw, Self::valtype()))
            .expect("a raw value of the type's own kind converts back")
    }

    /// Into its raw form for a host call's slot.
    #[doc(hidden)]
    fn into_raw(self, store: &mut crate::store::StoreOpaque) -> Result<u128> {
        self.into_val().to_raw(store)
    }
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, $get:ident, $bits:ty, |$r:ident| $from:expr, |$v:ident| $into:expr) => {
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn into_val(self) -> Val {
                Val::from(self)
            }
            fn from_val(v: Val) -> Option<Self> {
                v.$get()
            }
            // The raw form is the value's bits, low in the slot.
            fn from_raw(_: &mut crate::store::StoreOpaque, raw: u128) -> Self {
                let $r = raw as $bits;
                $from
            }
            fn into_raw(self, _: &mut crate::store::StoreOpaque) -> Result<u128> {
                let $v = self;
                Ok(u128::from($into))
            }
        }
    };
}
wasm_ty!(i32, I32, i32, u32, |r| r as i32, |v| v as u32);
wasm_ty!(i64, I64, i64, u64, |r| r as i64, |v| v as u64);
wasm_ty!(f32, F32, f32, u32, |r| f32::from_bits(r), |v| v.to_bits());
wasm_ty!(f64, F64, f64, u64, |r| f64::from_bits(r), |v| v.to_bits());

macro_rules! wasm_unsigned_ty {
    ($t:ty, $signed:ty, $vt:ident, $get:ident) => {
        /// The same bits as the signed type (as wasmtime's).
        impl WasmTy for $t {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn into_val(self) -> Val {
                Val::$vt(self as $signed)
            }
            fn from_val(v: Val) -> Option<Self> {
                v.$get().map(|x| x as $t)
            }
            fn from_raw(_: &mut crate::store::StoreOpaque, raw: u128) -> Self {
                raw as $t
            }
            fn into_raw(self, _: &mut crate::store::StoreOpaque) -> Result<u128> {
                Ok(u128::from(self))
            }
        }
    };
}
wasm_unsigned_ty!(u32, i32, I32, i32);
wasm_unsigned_ty!(u64, i64, I64, i64);

macro_rules! wasm_ref_ty {
    ($t:ty, $vt:ident) => {
        /// A nullable reference (`None` is null).
        impl WasmTy for Option<$t> {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn into_val(self) -> Val {
                Val::$vt(self)
            }
            fn from_val(v: Val) -> Option<Self> {
                match v {
                    Val::$vt(r) => Some(r),
                    _ => None,
                }
            }
        }
    };
}
wasm_ref_ty!(crate::AnyRef, AnyRef);
wasm_ref_ty!(crate::ExternRef, ExternRef);
wasm_ref_ty!(crate::Func, FuncRef);

/// A tuple (or single value, or `()`) of Wasm values.
pub trait WasmList: Sized {
    /// The Wasm types, in order.
    fn valtypes() -> Vec<ValType>;
    /// Into `Val`s.
    fn into_vals(self) -> Vec<Val>;
    /// From `Val`s of the right types.
    fn from_vals(vals: &[Val]) -> Option<Self>;
    /// From raw values of the right types, a host call's slots.
    #[doc(hidden)]
    fn from_raws(store: &mut crate::store::StoreOpaque, raws: &[u128]) -> Self;
    /// Into a host call's slots.
    #[doc(hidden)]
    fn into_raws(self, store: &mut crate::store::StoreOpaque, raws: &mut [u128]) -> Result<()>;
}

impl<A: WasmTy> WasmList for A {
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn into_vals(self) -> Vec<Val> {
        vec![self.into_val()]
    }
    fn from_vals(vals: &[Val]) -> Option<Self> {
        A::from_val(*vals.first()?)
    }
    fn from_raws(store: &mut crate::store::StoreOpaque, raws: &[u128]) -> Self {
        A::from_raw(store, raws[0])
    }
    fn into_raws(self, store: &mut crate::store::StoreOpaque, raws: &mut [u128]) -> Result<()> {
        raws[0] = self.into_raw(store)?;
        Ok(())
    }
}

macro_rules! wasm_list {
    ($($n:ident $i:tt),*) => {
        impl<$($n: WasmTy),*> WasmList for ($($n,)*) {
            fn valtypes() -> Vec<ValType> {
                vec![$($n::valtype()),*]
            }
            #[allow(clippy::vec_init_then_push)]
            fn into_vals(self) -> Vec<Val> {
                vec![$(self.$i.into_val()),*]
            }
            #[allow(unused_variables)]
            fn from_vals(vals: &[Val]) -> Option<Self> {
                Some(($($n::from_val(*vals.get($i)?)?,)*))
            }
            #[allow(unused_variables, clippy::unused_unit)]
            fn from_raws(store: &mut crate::store::StoreOpaque, raws: &[u128]) -> Self {
                ($($n::from_raw(store, raws[$i]),)*)
            }
            #[allow(unused_variables)]
            fn into_raws(
                self,
                store: &mut crate::store::StoreOpaque,
                raws: &mut [u128],
            ) -> Result<()> {
                $(raws[$i] = self.$i.into_raw(store)?;)*
                Ok(())
            }
        }
    };
}
wasm_list!();
wasm_list!(A 0);
wasm_list!(A 0, B 1);
wasm_list!(A 0, B 1, C 2);
wasm_list!(A 0, B 1, C 2, D 3);
wasm_list!(A 0, B 1, C 2, D 3, E 4);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
wasm_list!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P2 15);

/// A function with a statically known signature.
pub struct TypedFunc<P, R> {
    func: Func,
    /// Raw slots a call needs (the larger of the counts, at least one).
    slots: usize,
    /// Whether a parameter is a reference.
    takes_refs: bool,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmList, R: WasmList> TypedFunc<P, R> {
    /// The untyped handle.
    pub fn func(&self) -> Func {
        self.func
    }

    /// Calls the function.
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        /// Slots kept on the stack: functions with more parameters or
        /// results, or with reference parameters (whose exact types are
        /// checked against the function's), take [`Func::call`]'s path.
        const INLINE: usize = 8;
        if !self.takes_refs && self.slots <= INLINE {
            let store = store.as_context_mut().opaque_whole();
            let mut values = [0u128; INLINE];
            params.into_raws(store, &mut values)?;
            let mut out = None;
            self.func
                .call_raw(store, &mut values[..self.slots], |store, values| {
                    out = Some(R::from_raws(store, values));
                })?;
            return out.ok_or_else(|| Error::Usage("the call gave no results".into()));
        }
        let params = params.into_vals();
        let mut results: Vec<Val> = R::valtypes().into_iter().map(Val::default_for).collect();
        self.func.call(&mut store, &params, &mut results)?;
        R::from_vals(&results).ok_or_else(|| Error::Usage("result types changed".into()))
    }

    /// Calls the function as an asynchronous call ([`Func::call_async`]).
    pub async fn call_async<S>(&self, mut store: S, params: P) -> Result<R>
    where
        S: AsContextMut,
        S::Data: Send,
        P: Send,
        R: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| self.call(s, params)).await
    }
}

impl Func {
    /// Checks the signature against `P -> R` once, for cheap typed calls.
    pub fn typed<P: WasmList, R: WasmList>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<P, R>> {
        let ty = self.ty(store);
        if ty.params() != P::valtypes().as_slice() || ty.results() != R::valtypes().as_slice() {
            return Err(Error::Usage(format!(
                "function of type {ty} used with Rust parameters {:?} and results {:?}",
                P::valtypes(),
                R::valtypes()
            )));
        }
        Ok(TypedFunc {
            func: *self,
            slots: ty.params().len().max(ty.results().len()).max(1),
            takes_refs: ty.params().iter().any(|t| t.to_wasm().is_ref()),
            _marker: PhantomData,
        })
    }
}
