//! Rust types as component values: host functions and calls written
//! with Rust's types rather than [`Val`]s.

use super::types::Type;
use super::val::Val;
use crate::{Error, Result};

/// A Rust type that is a component-model value type.
pub trait ComponentType: Sized {
    /// Its component-model type.
    fn ty() -> Type;
    /// Its value.
    fn into_val(self) -> Val;
    /// The Rust value of a component value of its type.
    fn from_val(val: Val) -> Result<Self>;
}

fn wrong(ty: &Type, val: &Val) -> Error {
    super::val::mismatch(ty, val)
}

macro_rules! primitive {
    ($($rust:ty => $variant:ident, $ty:ident;)*) => {$(
        impl ComponentType for $rust {
            fn ty() -> Type {
                Type::$ty
            }
            fn into_val(self) -> Val {
                Val::$variant(self)
            }
            fn from_val(val: Val) -> Result<Self> {
                match val {
                    Val::$variant(v) => Ok(v),
                    other => Err(wrong(&Type::$ty, &other)),
                }
            }
        }
    )*};
}

primitive! {
    bool => Bool, Bool;
    i8 => S8, S8;
    u8 => U8, U8;
    i16 => S16, S16;
    u16 => U16, U16;
    i32 => S32, S32;
    u32 => U32, U32;
    i64 => S64, S64;
    u64 => U64, U64;
    f32 => Float32, Float32;
    f64 => Float64, Float64;
    char => Char, Char;
    String => String, String;
}

impl<T: ComponentType> ComponentType for Vec<T> {
    fn ty() -> Type {
        Type::List(Box::new(T::ty()))
    }
    fn into_val(self) -> Val {
        Val::List(self.into_iter().map(T::into_val).collect())
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::List(items) => items.into_iter().map(T::from_val).collect(),
            other => Err(wrong(&Self::ty(), &other)),
        }
    }
}

impl<T: ComponentType> ComponentType for Option<T> {
    fn ty() -> Type {
        Type::Option(Box::new(T::ty()))
    }
    fn into_val(self) -> Val {
        Val::Option(self.map(|v| Box::new(v.into_val())))
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Option(v) => v.map(|v| T::from_val(*v)).transpose(),
            other => Err(wrong(&Self::ty(), &other)),
        }
    }
}

/// A `result` case's payload: a value, or none for `()`.
pub trait ResultCase: Sized {
    /// The payload's type, if it has one.
    fn case_ty() -> Option<Type>;
    /// The payload.
    fn into_case(self) -> Option<Box<Val>>;
    /// The Rust value of a payload.
    fn from_case(val: Option<Box<Val>>) -> Result<Self>;
}

impl ResultCase for () {
    fn case_ty() -> Option<Type> {
        None
    }
    fn into_case(self) -> Option<Box<Val>> {
        None
    }
    fn from_case(val: Option<Box<Val>>) -> Result<Self> {
        match val {
            None => Ok(()),
            Some(v) => Err(Error::Usage(format!(
                "a `result` case with a `{}` payload where none is expected",
                v.kind()
            ))),
        }
    }
}

impl<T: ComponentType> ResultCase for T {
    fn case_ty() -> Option<Type> {
        Some(T::ty())
    }
    fn into_case(self) -> Option<Box<Val>> {
        Some(Box::new(self.into_val()))
    }
    fn from_case(val: Option<Box<Val>>) -> Result<Self> {
        match val {
            Some(v) => T::from_val(*v),
            None => Err(Error::Usage(format!(
                "a `result` case without the `{}` payload expected",
                T::ty()
            ))),
        }
    }
}

impl<T: ResultCase, E: ResultCase> ComponentType for std::result::Result<T, E> {
    fn ty() -> Type {
        Type::Result {
            ok: T::case_ty().map(Box::new),
            err: E::case_ty().map(Box::new),
        }
    }
    fn into_val(self) -> Val {
        Val::Result(match self {
            Ok(v) => Ok(v.into_case()),
            Err(e) => Err(e.into_case()),
        })
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Result(Ok(v)) => Ok(Ok(T::from_case(v)?)),
            Val::Result(Err(e)) => Ok(Err(E::from_case(e)?)),
            other => Err(wrong(&Self::ty(), &other)),
        }
    }
}

impl<T: 'static> ComponentType for super::Resource<T> {
    fn ty() -> Type {
        Type::Own(super::ResourceKey::host::<T>())
    }
    fn into_val(self) -> Val {
        Val::Resource(self.into_resource_any())
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Resource(r) => r.try_into_resource(),
            other => Err(wrong(&Self::ty(), &other)),
        }
    }
}

/// A tuple of Rust values that are a function's parameters.
pub trait ComponentNamedList: Sized {
    /// The parameters' types.
    fn types() -> Vec<Type>;
    /// The parameters' values.
    fn into_vals(self) -> Vec<Val>;
    /// The Rust values of a call's parameters.
    fn from_vals(vals: &[Val]) -> Result<Self>;
}

/// What a function returns: `()` for nothing, `(T,)` for a value.
pub trait ComponentResults: Sized {
    /// The result's type, if there is one.
    fn ty() -> Option<Type>;
    /// The result's value.
    fn into_val(self) -> Option<Val>;
    /// The Rust value of a call's result.
    fn from_val(val: Option<Val>) -> Result<Self>;
}

impl ComponentResults for () {
    fn ty() -> Option<Type> {
        None
    }
    fn into_val(self) -> Option<Val> {
        None
    }
    fn from_val(_: Option<Val>) -> Result<Self> {
        Ok(())
    }
}

impl<A: ComponentType> ComponentResults for (A,) {
    fn ty() -> Option<Type> {
        Some(A::ty())
    }
    fn into_val(self) -> Option<Val> {
        Some(self.0.into_val())
    }
    fn from_val(val: Option<Val>) -> Result<Self> {
        match val {
            Some(v) => Ok((A::from_val(v)?,)),
            None => Err(Error::Usage(format!(
                "a call without the `{}` result expected",
                A::ty()
            ))),
        }
    }
}

macro_rules! tuples {
    ($($n:literal: ($($t:ident),*);)*) => {$(
        #[allow(non_snake_case)]
        impl<$($t: ComponentType),*> ComponentNamedList for ($($t,)*) {
            fn types() -> Vec<Type> {
                vec![$($t::ty()),*]
            }
            fn into_vals(self) -> Vec<Val> {
                let ($($t,)*) = self;
                vec![$($t.into_val()),*]
            }
            fn from_vals(vals: &[Val]) -> Result<Self> {
                if vals.len() != $n {
                    return Err(Error::Usage(format!(
                        "{} parameters where {} are expected", vals.len(), $n
                    )));
                }
                let mut it = vals.iter().cloned();
                Ok(($($t::from_val(it.next().expect("counted"))?,)*))
            }
        }

        #[allow(non_snake_case)]
        impl<$($t: ComponentType),*> ComponentType for ($($t,)*) {
            fn ty() -> Type {
                Type::Tuple(vec![$($t::ty()),*])
            }
            fn into_val(self) -> Val {
                let ($($t,)*) = self;
                Val::Tuple(vec![$($t.into_val()),*])
            }
            fn from_val(val: Val) -> Result<Self> {
                match val {
                    Val::Tuple(items) => <Self as ComponentNamedList>::from_vals(&items),
                    other => Err(wrong(&<Self as ComponentType>::ty(), &other)),
                }
            }
        }
    )*};
}

impl ComponentNamedList for () {
    fn types() -> Vec<Type> {
        Vec::new()
    }
    fn into_vals(self) -> Vec<Val> {
        Vec::new()
    }
    fn from_vals(vals: &[Val]) -> Result<Self> {
        match vals.len() {
            0 => Ok(()),
            n => Err(Error::Usage(format!(
                "{n} parameters where none are expected"
            ))),
        }
    }
}

tuples! {
    1: (A);
    2: (A, B);
    3: (A, B, C);
    4: (A, B, C, D);
    5: (A, B, C, D, E);
    6: (A, B, C, D, E, F);
    7: (A, B, C, D, E, F, G);
    8: (A, B, C, D, E, F, G, H);
}

/// A component function with its Rust types checked once (wasmtime's
/// `component::TypedFunc`).
pub struct TypedFunc<P, R> {
    func: super::Func,
    _types: std::marker::PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        TypedFunc {
            func: self.func.clone(),
            _types: std::marker::PhantomData,
        }
    }
}

impl<P: ComponentNamedList, R: ComponentResults> TypedFunc<P, R> {
    /// `func` as a function of `P` to `R`, if those are its types.
    pub fn new(func: super::Func) -> Result<TypedFunc<P, R>> {
        let ty = func.ty();
        let want = P::types();
        let state = func.state();
        let same = ty.params().len() == want.len()
            && ty
                .params()
                .iter()
                .zip(&want)
                .all(|((_, a), b)| super::types::matches(a, b, state))
            && match (ty.result(), R::ty()) {
                (Some(a), Some(b)) => super::types::matches(a, &b, state),
                (None, None) => true,
                _ => false,
            };
        if !same {
            let typed = super::FuncType::new(
                want.into_iter().map(|t| (String::from("_"), t)).collect(),
                R::ty(),
            );
            return Err(Error::Usage(format!(
                "a component function of type `{ty}` used as one of type `{typed}`"
            )));
        }
        Ok(TypedFunc {
            func,
            _types: std::marker::PhantomData,
        })
    }

    /// Calls the function.
    pub fn call<S: crate::AsContextMut>(&self, store: S, params: P) -> Result<R>
    where
        S::Data: 'static,
    {
        let mut results = vec![Val::placeholder(); R::ty().is_some() as usize];
        self.func.call(store, &params.into_vals(), &mut results)?;
        R::from_val(results.pop())
    }

    /// [`TypedFunc::call`] as an asynchronous call (see
    /// [`super::Func::call_async`]).
    pub async fn call_async<S>(&self, store: S, params: P) -> Result<R>
    where
        S: crate::AsContextMut,
        S::Data: Send + 'static,
        P: Send,
    {
        let mut results = vec![Val::placeholder(); R::ty().is_some() as usize];
        self.func
            .call_async(store, &params.into_vals(), &mut results)
            .await?;
        R::from_val(results.pop())
    }

    /// The function, untyped.
    pub fn func(&self) -> &super::Func {
        &self.func
    }
}
