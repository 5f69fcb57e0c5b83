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

    /// A `Vec` of this type as its elements' little-endian bytes, where
    /// it is a number (a typed call's list of numbers goes to guest memory
    /// whole, not a `Val` per element).
    #[doc(hidden)]
    fn vec_into_elems(v: Vec<Self>) -> std::result::Result<(Vec<u8>, Elem), Vec<Self>> {
        Err(v)
    }

    /// The `Vec` of this type that little-endian bytes are, where it is a
    /// number.
    #[doc(hidden)]
    fn vec_from_elems(bytes: Vec<u8>) -> Option<Vec<Self>> {
        let _ = bytes;
        None
    }

    /// Whether it is a `Vec` of numbers, which a typed call takes whole.
    #[doc(hidden)]
    fn is_number_list() -> bool {
        false
    }

    /// Whether it is a `Result` whose `Ok` is a `Vec<u8>`, which a typed
    /// call takes whole ([`Arg::OkBytes`]).
    #[doc(hidden)]
    fn is_ok_bytes() -> bool {
        false
    }

    /// Its value as a typed call passes it: bytes for a `list<u8>`.
    #[doc(hidden)]
    fn into_arg(self) -> Arg {
        Arg::Val(self.into_val())
    }

    /// The Rust value of what a typed call gives.
    #[doc(hidden)]
    fn from_arg(arg: Arg) -> Result<Self> {
        Self::from_val(arg.into_val())
    }
}

/// A value as a typed call passes it: a component value, or a list of
/// numbers as their bytes (which a `Val` would hold a value per element
/// of).
#[doc(hidden)]
pub enum Arg {
    Val(Val),
    /// A list of numbers: their little-endian bytes.
    Elems(Vec<u8>, Elem),
    /// The `ok` case of a `result<list<u8>, _>`.
    OkBytes(Vec<u8>),
}

impl Arg {
    /// As a component value.
    pub(crate) fn into_val(self) -> Val {
        match self {
            Arg::Val(v) => v,
            Arg::Elems(b, e) => Val::List(b.chunks_exact(e.size()).map(|c| e.val(c)).collect()),
            Arg::OkBytes(b) => Val::Result(Ok(Some(Box::new(Arg::Elems(b, Elem::U8).into_val())))),
        }
    }
}

/// The numbers a list of which a typed call passes whole
/// ([`Arg::Elems`]): all their bit patterns are values, so the guest's
/// bytes need no check but the list's bounds and alignment.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    U8,
    S8,
    U16,
    S16,
    U32,
    S32,
    U64,
    S64,
    F32,
    F64,
}

impl Elem {
    /// The element type `ty` is, if it is one.
    pub(crate) fn of(ty: &Type) -> Option<Elem> {
        Some(match ty {
            Type::U8 => Elem::U8,
            Type::S8 => Elem::S8,
            Type::U16 => Elem::U16,
            Type::S16 => Elem::S16,
            Type::U32 => Elem::U32,
            Type::S32 => Elem::S32,
            Type::U64 => Elem::U64,
            Type::S64 => Elem::S64,
            Type::Float32 => Elem::F32,
            Type::Float64 => Elem::F64,
            _ => return None,
        })
    }

    /// Its type.
    pub(crate) fn ty(self) -> Type {
        match self {
            Elem::U8 => Type::U8,
            Elem::S8 => Type::S8,
            Elem::U16 => Type::U16,
            Elem::S16 => Type::S16,
            Elem::U32 => Type::U32,
            Elem::S32 => Type::S32,
            Elem::U64 => Type::U64,
            Elem::S64 => Type::S64,
            Elem::F32 => Type::Float32,
            Elem::F64 => Type::Float64,
        }
    }

    /// Its size in bytes, which is its alignment.
    pub(crate) fn size(self) -> usize {
        match self {
            Elem::U8 | Elem::S8 => 1,
            Elem::U16 | Elem::S16 => 2,
            Elem::U32 | Elem::S32 | Elem::F32 => 4,
            Elem::U64 | Elem::S64 | Elem::F64 => 8,
        }
    }

    /// The value of the little-endian bytes `b` (of its size).
    fn val(self, b: &[u8]) -> Val {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        let x = u64::from_le_bytes(w);
        match self {
            Elem::U8 => Val::U8(x as u8),
            Elem::S8 => Val::S8(x as i8),
            Elem::U16 => Val::U16(x as u16),
            Elem::S16 => Val::S16(x as i16),
            Elem::U32 => Val::U32(x as u32),
            Elem::S32 => Val::S32(x as i32),
            Elem::U64 => Val::U64(x),
            Elem::S64 => Val::S64(x as i64),
            Elem::F32 => Val::Float32(f32::from_bits(x as u32)),
            Elem::F64 => Val::Float64(f64::from_bits(x)),
        }
    }
}

fn wrong(ty: &Type, val: &Val) -> Error {
    super::val::mismatch(ty, val)
}

/// A scalar's `ComponentType`: its type and value, and `$extra` items.
macro_rules! scalar {
    ($rust:ty => $variant:ident, $ty:ident; $($extra:item)*) => {
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
            $($extra)*
        }
    };
}

macro_rules! primitive {
    ($($rust:ty => $variant:ident, $ty:ident;)*) => {$(
        scalar!($rust => $variant, $ty;);
    )*};
}

/// Numbers a list of which crosses whole ([`Arg::Elems`]).
macro_rules! number {
    ($($rust:ty => $variant:ident, $ty:ident, $elem:ident;)*) => {$(
        scalar! {
            $rust => $variant, $ty;
            fn vec_into_elems(v: Vec<Self>) -> std::result::Result<(Vec<u8>, Elem), Vec<Self>> {
                const N: usize = std::mem::size_of::<$rust>();
                let mut bytes = vec![0u8; v.len() * N];
                for (c, x) in bytes.chunks_exact_mut(N).zip(&v) {
                    c.copy_from_slice(&x.to_le_bytes());
                }
                Ok((bytes, Elem::$elem))
            }
            fn vec_from_elems(bytes: Vec<u8>) -> Option<Vec<Self>> {
                const N: usize = std::mem::size_of::<$rust>();
                if !bytes.len().is_multiple_of(N) {
                    return None;
                }
                Some(
                    bytes
                        .chunks_exact(N)
                        .map(|c| <$rust>::from_le_bytes(c.try_into().expect("N bytes")))
                        .collect(),
                )
            }
        }
    )*};
}

number! {
    i8 => S8, S8, S8;
    i16 => S16, S16, S16;
    u16 => U16, U16, U16;
    i32 => S32, S32, S32;
    u32 => U32, U32, U32;
    i64 => S64, S64, S64;
    u64 => U64, U64, U64;
    f32 => Float32, Float32, F32;
    f64 => Float64, Float64, F64;
}

// `u8`: its own bytes, not a copy.
scalar! {
    u8 => U8, U8;
    fn vec_into_elems(v: Vec<u8>) -> std::result::Result<(Vec<u8>, Elem), Vec<u8>> {
        Ok((v, Elem::U8))
    }
    fn vec_from_elems(bytes: Vec<u8>) -> Option<Vec<u8>> {
        Some(bytes)
    }
}

primitive! {
    bool => Bool, Bool;
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
    fn is_number_list() -> bool {
        T::vec_from_elems(Vec::new()).is_some()
    }
    fn into_arg(self) -> Arg {
        match T::vec_into_elems(self) {
            Ok((bytes, elem)) => Arg::Elems(bytes, elem),
            Err(v) => Arg::Val(Val::List(v.into_iter().map(T::into_val).collect())),
        }
    }
    fn from_arg(arg: Arg) -> Result<Self> {
        match arg {
            Arg::Elems(b, _) => T::vec_from_elems(b)
                .ok_or_else(|| Error::Usage(format!("numbers given for a `{}`", Self::ty()))),
            other => Self::from_val(other.into_val()),
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

    /// The payload as a host function gives it (see [`Arg`]).
    #[doc(hidden)]
    fn into_case_arg(self) -> Option<Arg> {
        self.into_case().map(|v| Arg::Val(*v))
    }

    /// Whether the payload is a `Vec<u8>`.
    #[doc(hidden)]
    fn case_is_u8_list() -> bool {
        false
    }

    /// The Rust value of a payload a typed call gives (see [`Arg`]).
    #[doc(hidden)]
    fn from_case_arg(arg: Arg) -> Result<Self> {
        Self::from_case(Some(Box::new(arg.into_val())))
    }
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
    fn into_case_arg(self) -> Option<Arg> {
        Some(self.into_arg())
    }
    fn case_is_u8_list() -> bool {
        T::is_number_list() && matches!(T::ty(), Type::List(e) if *e == Type::U8)
    }
    fn from_case_arg(arg: Arg) -> Result<Self> {
        T::from_arg(arg)
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
    fn into_arg(self) -> Arg {
        match self {
            Ok(v) => match v.into_case_arg() {
                Some(Arg::Elems(b, Elem::U8)) => Arg::OkBytes(b),
                other => Arg::Val(Val::Result(Ok(other.map(|a| Box::new(a.into_val()))))),
            },
            Err(e) => Arg::Val(Val::Result(Err(e.into_case()))),
        }
    }
    fn is_ok_bytes() -> bool {
        T::case_is_u8_list()
    }
    fn from_arg(arg: Arg) -> Result<Self> {
        match arg {
            Arg::OkBytes(b) => Ok(Ok(T::from_case_arg(Arg::Elems(b, Elem::U8))?)),
            other => Self::from_val(other.into_val()),
        }
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

/// A handle to a resource of any type (one a component defines, most
/// often): its type is checked when the handle is lowered, against the
/// type the callee expects.
impl ComponentType for super::ResourceAny {
    fn ty() -> Type {
        Type::Own(super::ResourceKey::any())
    }
    fn into_val(self) -> Val {
        Val::Resource(self)
    }
    fn from_val(val: Val) -> Result<Self> {
        match val {
            Val::Resource(r) => Ok(r),
            other => Err(wrong(&<Self as ComponentType>::ty(), &other)),
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

    /// The parameters as a typed call passes them (see [`Arg`]).
    #[doc(hidden)]
    fn into_args(self) -> Vec<Arg> {
        self.into_vals().into_iter().map(Arg::Val).collect()
    }

    /// The Rust values of a call's parameters as a lowered call gives
    /// them (see [`Arg`]).
    #[doc(hidden)]
    fn from_args(args: Vec<Arg>) -> Result<Self> {
        let vals: Vec<Val> = args.into_iter().map(Arg::into_val).collect();
        Self::from_vals(&vals)
    }
}

/// What a function returns: `()` for nothing, `(T,)` for a value.
pub trait ComponentResults: Sized {
    /// The result's type, if there is one.
    fn ty() -> Option<Type>;
    /// The result's value.
    fn into_val(self) -> Option<Val>;
    /// The Rust value of a call's result.
    fn from_val(val: Option<Val>) -> Result<Self>;

    /// The result as a host function gives it (see [`Arg`]).
    #[doc(hidden)]
    fn into_arg(self) -> Option<Arg> {
        self.into_val().map(Arg::Val)
    }

    /// Whether the result is wanted as bytes (a `list<u8>` in a
    /// `Vec<u8>`): see [`Arg`].
    #[doc(hidden)]
    fn wants_bytes() -> bool {
        false
    }

    /// The Rust value of what a typed call gives.
    #[doc(hidden)]
    fn from_arg(arg: Option<Arg>) -> Result<Self> {
        Self::from_val(arg.map(Arg::into_val))
    }
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
    fn wants_bytes() -> bool {
        A::is_number_list() || A::is_ok_bytes()
    }
    fn into_arg(self) -> Option<Arg> {
        Some(self.0.into_arg())
    }
    fn from_arg(arg: Option<Arg>) -> Result<Self> {
        match arg {
            Some(a) => Ok((A::from_arg(a)?,)),
            None => <Self as ComponentResults>::from_val(None),
        }
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
            fn into_args(self) -> Vec<Arg> {
                let ($($t,)*) = self;
                vec![$($t.into_arg()),*]
            }
            fn from_args(args: Vec<Arg>) -> Result<Self> {
                if args.len() != $n {
                    return Err(Error::Usage(format!(
                        "{} parameters where {} are expected", args.len(), $n
                    )));
                }
                let mut it = args.into_iter();
                Ok(($($t::from_arg(it.next().expect("counted"))?,)*))
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
    9: (A, B, C, D, E, F, G, H, I);
    10: (A, B, C, D, E, F, G, H, I, J);
    11: (A, B, C, D, E, F, G, H, I, J, K);
    12: (A, B, C, D, E, F, G, H, I, J, K, L);
    13: (A, B, C, D, E, F, G, H, I, J, K, L, M);
    14: (A, B, C, D, E, F, G, H, I, J, K, L, M, N);
    15: (A, B, C, D, E, F, G, H, I, J, K, L, M, N, O);
    16: (A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);
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
        let out = self
            .func
            .call_args(store, params.into_args(), R::wants_bytes())?;
        R::from_arg(out)
    }

    /// [`TypedFunc::call`] as an asynchronous call (see
    /// [`super::Func::call_async`]).
    pub async fn call_async<S>(&self, store: S, params: P) -> Result<R>
    where
        S: crate::AsContextMut,
        S::Data: Send + 'static,
        P: Send,
    {
        let mut store = store;
        let args = params.into_args();
        let wants = R::wants_bytes();
        let func = &self.func;
        let out = crate::fiber::on_fiber(store.as_context_mut(), move |s| {
            func.call_args(s, args, wants)
        })
        .await?;
        R::from_arg(out)
    }

    /// The function, untyped.
    pub fn func(&self) -> &super::Func {
        &self.func
    }
}

#[cfg(test)]
mod whole_lists {
    use super::*;

    /// Which results a typed call takes whole (not a `Val` per element).
    #[test]
    fn byte_and_number_lists_and_ok_bytes_are_taken_whole() {
        assert!(<(Vec<u8>,) as ComponentResults>::wants_bytes());
        assert!(<(Vec<f32>,) as ComponentResults>::wants_bytes());
        assert!(<(Result<Vec<u8>, String>,) as ComponentResults>::wants_bytes());
        assert!(!<(Result<Vec<u32>, String>,) as ComponentResults>::wants_bytes());
        assert!(!<(Vec<String>,) as ComponentResults>::wants_bytes());
        assert!(!<(Vec<bool>,) as ComponentResults>::wants_bytes());
        assert!(!<(String,) as ComponentResults>::wants_bytes());
        assert!(!<() as ComponentResults>::wants_bytes());
        // And the values they cross as.
        assert!(matches!(vec![1u8, 2].into_arg(), Arg::Elems(b, Elem::U8) if b == [1, 2]));
        assert!(matches!(vec![1u16, 2].into_arg(), Arg::Elems(b, Elem::U16) if b == [1, 0, 2, 0]));
        let ok: std::result::Result<Vec<u8>, String> = Ok(vec![3]);
        assert!(matches!(ok.into_arg(), Arg::OkBytes(b) if b == [3]));
        assert!(matches!(vec![true].into_arg(), Arg::Val(_)));
        let back = Vec::<i16>::from_arg(Arg::Elems(vec![0xff, 0xff, 2, 0], Elem::S16)).unwrap();
        assert_eq!(back, [-1, 2]);
    }
}
