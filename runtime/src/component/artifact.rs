//! Precompiled components (`Component::serialize`, `walmart compile`):
//! the definitions walmart keeps of a component, written with each core
//! module's own precompiled form, and read back without compiling.
//!
//! Layout: the magic, a format version, then the core modules (each a
//! precompiled module's bytes, which carry their own checks of the
//! engine), then the components, nested ones before those that hold
//! them, the last the outermost; each component its steps, imports and
//! exports, in the encoding of the `put_*`/`take_*` pairs below.

use walmart_jit::artifact::CODE_ALIGN;

use crate::mapped_file::MappedFile;
use std::collections::HashMap;
use std::sync::Arc;

use super::abi::StringEncoding;
use super::func::LowerShape;
use super::resources::ResourceKey;
use super::translate::{CanonOptions, ComponentDef, CoreSort, ImportDesc, Sort, Step};
use super::types::{FuncType, Type};
use crate::{Engine, Error, Module, Result};

/// What a precompiled component begins with.
pub(crate) const MAGIC: &[u8; 8] = b"\0walmcmp";
/// The format's version: another is refused.
const VERSION: u32 = 3;

/// Whether `bytes` begin as a precompiled component does.
pub(crate) fn is_precompiled_component(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    modules: Vec<Module>,
    components: Vec<*const ComponentDef>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.out.extend_from_slice(b);
    }
    fn opt_u32(&mut self, v: Option<u32>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.u32(v);
            }
            None => self.u8(0),
        }
    }
    fn key(&mut self, k: &ResourceKey) -> Result<()> {
        let id = k
            .component_id()
            .ok_or_else(|| Error::Usage("a component's type names a host resource type".into()))?;
        self.u64(id);
        Ok(())
    }
    fn opt_key(&mut self, k: &Option<ResourceKey>) -> Result<()> {
        match k {
            Some(k) => {
                self.u8(1);
                self.key(k)
            }
            None => {
                self.u8(0);
                Ok(())
            }
        }
    }
    fn module(&mut self, m: &Module) -> u32 {
        match self
            .modules
            .iter()
            .position(|x| Arc::ptr_eq(&x.inner, &m.inner))
        {
            Some(i) => i as u32,
            None => {
                self.modules.push(m.clone());
                self.modules.len() as u32 - 1
            }
        }
    }

    fn ty(&mut self, t: &Type) -> Result<()> {
        let simple = |t: &Type| -> Option<u8> {
            Some(match t {
                Type::Bool => 0,
                Type::S8 => 1,
                Type::U8 => 2,
                Type::S16 => 3,
                Type::U16 => 4,
                Type::S32 => 5,
                Type::U32 => 6,
                Type::S64 => 7,
                Type::U64 => 8,
                Type::Float32 => 9,
                Type::Float64 => 10,
                Type::Char => 11,
                Type::String => 12,
                _ => return None,
            })
        };
        if let Some(tag) = simple(t) {
            self.u8(tag);
            return Ok(());
        }
        match t {
            Type::List(e) => {
                self.u8(13);
                self.ty(e)?;
            }
            Type::Record(fields) => {
                self.u8(14);
                self.u32(fields.len() as u32);
                for (n, t) in fields {
                    self.str(n);
                    self.ty(t)?;
                }
            }
            Type::Tuple(types) => {
                self.u8(15);
                self.u32(types.len() as u32);
                for t in types {
                    self.ty(t)?;
                }
            }
            Type::Variant(cases) => {
                self.u8(16);
                self.u32(cases.len() as u32);
                for (n, t) in cases {
                    self.str(n);
                    self.opt_ty(t.as_ref())?;
                }
            }
            Type::Enum(names) | Type::Flags(names) => {
                self.u8(if matches!(t, Type::Enum(_)) { 17 } else { 18 });
                self.u32(names.len() as u32);
                for n in names {
                    self.str(n);
                }
            }
            Type::Option(t) => {
                self.u8(19);
                self.ty(t)?;
            }
            Type::Result { ok, err } => {
                self.u8(20);
                self.opt_ty(ok.as_deref())?;
                self.opt_ty(err.as_deref())?;
            }
            Type::Own(k) | Type::Borrow(k) => {
                self.u8(if matches!(t, Type::Own(_)) { 21 } else { 22 });
                self.key(k)?;
            }
            _ => unreachable!("the simple types were written above"),
        }
        Ok(())
    }

    fn opt_ty(&mut self, t: Option<&Type>) -> Result<()> {
        match t {
            Some(t) => {
                self.u8(1);
                self.ty(t)
            }
            None => {
                self.u8(0);
                Ok(())
            }
        }
    }

    /// A function type, its bytes prefixed with their length: a reader
    /// takes the same bytes again for the same type, not a copy of it (a
    /// WASI command's ~35 imports name each type twice, and many alike).
    fn func_type(&mut self, f: &FuncType) -> Result<()> {
        let mut body = Writer::default();
        body.u32(f.params.len() as u32);
        for (n, t) in &f.params {
            body.str(n);
            body.ty(t)?;
        }
        body.opt_ty(f.result.as_ref())?;
        self.bytes(&body.out);
        Ok(())
    }

    fn options(&mut self, o: &CanonOptions) {
        self.opt_u32(o.memory);
        self.opt_u32(o.realloc);
        self.opt_u32(o.post_return);
        self.u8(match o.encoding {
            StringEncoding::Utf8 => 0,
            StringEncoding::Utf16 => 1,
            StringEncoding::CompactUtf16 => 2,
        });
    }

    fn desc(&mut self, d: &ImportDesc) -> Result<()> {
        match d {
            ImportDesc::Func(f) => {
                self.u8(0);
                self.func_type(f)?;
            }
            ImportDesc::Instance(items) => {
                self.u8(1);
                self.u32(items.len() as u32);
                for (n, d) in items {
                    self.str(n);
                    self.desc(d)?;
                }
            }
            ImportDesc::Type(k) => {
                self.u8(2);
                self.opt_key(k)?;
            }
            ImportDesc::Module => self.u8(3),
            ImportDesc::Component => self.u8(4),
        }
        Ok(())
    }

    fn named(&mut self, items: &[(String, u32)]) {
        self.u32(items.len() as u32);
        for (n, i) in items {
            self.str(n);
            self.u32(*i);
        }
    }

    fn sorted<S: Copy>(&mut self, items: &[(String, S, u32)], code: impl Fn(S) -> u8) {
        self.u32(items.len() as u32);
        for (n, s, i) in items {
            self.str(n);
            self.u8(code(*s));
            self.u32(*i);
        }
    }

    /// Writes `def` (its nested components first): its index.
    fn component(&mut self, def: &Arc<ComponentDef>, body: &mut Vec<Vec<u8>>) -> Result<u32> {
        if let Some(i) = self.components.iter().position(|p| *p == Arc::as_ptr(def)) {
            return Ok(i as u32);
        }
        // Nested ones first, so each is read before what names it.
        let mut nested = HashMap::new();
        for step in &def.steps {
            if let Step::Component(c) = step {
                let i = self.component(c, body)?;
                nested.insert(Arc::as_ptr(c), i);
            }
        }
        let saved = std::mem::take(&mut self.out);
        self.u32(def.steps.len() as u32);
        for step in &def.steps {
            self.step(step, &nested)?;
        }
        self.u32(def.imports.len() as u32);
        for (n, d) in &def.imports {
            self.str(n);
            self.desc(d)?;
        }
        self.u32(def.exports.len() as u32);
        for n in &def.exports {
            self.str(n);
        }
        body.push(std::mem::replace(&mut self.out, saved));
        self.components.push(Arc::as_ptr(def));
        Ok(self.components.len() as u32 - 1)
    }

    fn step(&mut self, step: &Step, nested: &HashMap<*const ComponentDef, u32>) -> Result<()> {
        match step {
            Step::CoreModule(m) => {
                self.u8(0);
                let i = self.module(m);
                self.u32(i);
            }
            Step::CoreInstantiate {
                module,
                args,
                imports,
            } => {
                self.u8(1);
                self.u32(*module);
                self.named(args);
                match imports {
                    Some(imports) => {
                        self.u8(1);
                        self.u32(imports.len() as u32);
                        for (i, n) in imports {
                            self.u32(*i);
                            self.str(n);
                        }
                    }
                    None => self.u8(0),
                }
            }
            Step::CoreInstanceExports(items) => {
                self.u8(2);
                self.sorted(items, core_sort_code);
            }
            Step::CoreAlias {
                instance,
                name,
                sort,
            } => {
                self.u8(3);
                self.u32(*instance);
                self.str(name);
                self.u8(core_sort_code(*sort));
            }
            Step::Lift { func, ty, options } => {
                self.u8(4);
                self.u32(*func);
                self.func_type(ty)?;
                self.options(options);
            }
            Step::Lower {
                func, options, ty, ..
            } => {
                self.u8(5);
                self.u32(*func);
                self.options(options);
                self.func_type(ty)?;
            }
            Step::Resource { key, dtor } => {
                self.u8(6);
                self.key(key)?;
                self.opt_u32(*dtor);
            }
            Step::ResourceNew(k) | Step::ResourceRep(k) | Step::ResourceDrop(k) => {
                self.u8(match step {
                    Step::ResourceNew(_) => 7,
                    Step::ResourceRep(_) => 8,
                    _ => 9,
                });
                self.key(k)?;
            }
            Step::Import { name, desc } => {
                self.u8(10);
                self.str(name);
                self.desc(desc)?;
            }
            Step::Component(c) => {
                self.u8(11);
                self.u32(nested[&Arc::as_ptr(c)]);
            }
            Step::Instantiate { component, args } => {
                self.u8(12);
                self.u32(*component);
                self.sorted(args, sort_code);
            }
            Step::InstanceExports(items) => {
                self.u8(13);
                self.sorted(items, sort_code);
            }
            Step::Alias {
                instance,
                name,
                sort,
                resource,
            } => {
                self.u8(14);
                self.u32(*instance);
                self.str(name);
                self.u8(sort_code(*sort));
                self.opt_key(resource)?;
            }
            Step::Types(n) => {
                self.u8(15);
                self.u32(*n);
            }
            Step::TypeAgain(i) => {
                self.u8(16);
                self.u32(*i);
            }
            Step::Export {
                name,
                sort,
                index,
                resource,
            } => {
                self.u8(17);
                self.str(name);
                self.u8(sort_code(*sort));
                self.u32(*index);
                self.opt_key(resource)?;
            }
        }
        Ok(())
    }
}

fn core_sort_code(s: CoreSort) -> u8 {
    match s {
        CoreSort::Func => 0,
        CoreSort::Table => 1,
        CoreSort::Memory => 2,
        CoreSort::Global => 3,
        CoreSort::Tag => 4,
    }
}

fn sort_code(s: Sort) -> u8 {
    match s {
        Sort::Func => 0,
        Sort::Type => 1,
        Sort::Instance => 2,
        Sort::Component => 3,
        Sort::Module => 4,
    }
}

/// The precompiled form of `def`.
pub(crate) fn serialize(def: &Arc<ComponentDef>) -> Result<Vec<u8>> {
    let mut w = Writer::default();
    let mut bodies = Vec::new();
    w.component(def, &mut bodies)?;
    let mut out = Writer::default();
    out.out.extend_from_slice(MAGIC);
    out.u32(VERSION);
    out.u32(w.modules.len() as u32);
    for m in &w.modules {
        // Each module's bytes start at a page of the file (the file is
        // this buffer from its start), so that its code, page-aligned
        // within them, can be mapped from the file when loaded.
        let pad = (CODE_ALIGN - (out.out.len() + 8) % CODE_ALIGN) % CODE_ALIGN;
        out.u32(pad as u32);
        out.out.resize(out.out.len() + pad, 0);
        out.bytes(&m.serialize()?);
    }
    out.u32(bodies.len() as u32);
    for b in &bodies {
        out.bytes(b);
    }
    Ok(out.out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    modules: Vec<Module>,
    components: Vec<Arc<ComponentDef>>,
    /// The function types read so far, by their bytes, each with what
    /// lowering makes of it once one was lowered.
    func_types: FuncTypes<'a>,
    /// Types and imports being read inside one another: bounded, so a
    /// damaged file cannot exhaust the stack.
    depth: u32,
}

/// Function types by their bytes (see [`Writer::func_type`]).
type FuncTypes<'a> = HashMap<&'a [u8], (Arc<FuncType>, Option<Arc<LowerShape>>)>;

/// Deepest nesting of types or imports read: far past any real
/// component's (a component nested deeper is compiled, not loaded).
const MAX_DEPTH: u32 = 100;

fn damaged(what: &str) -> Error {
    Error::Usage(format!("precompiled component damaged: {what}"))
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| damaged("it ends early"))?;
        let b = &self.bytes[self.at..end];
        self.at = end;
        Ok(b)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn count(&mut self) -> Result<usize> {
        let n = self.u32()? as usize;
        // No count is larger than the bytes left to give its items.
        if n > self.bytes.len() - self.at {
            return Err(damaged("a count past its end"));
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn str(&mut self) -> Result<String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| damaged("a name that is not UTF-8"))
    }
    fn opt_u32(&mut self) -> Result<Option<u32>> {
        Ok(match self.u8()? {
            0 => None,
            1 => Some(self.u32()?),
            _ => return Err(damaged("an option's tag")),
        })
    }
    fn key(&mut self) -> Result<ResourceKey> {
        Ok(ResourceKey::from_component_id(self.u64()?))
    }
    fn opt_key(&mut self) -> Result<Option<ResourceKey>> {
        Ok(match self.u8()? {
            0 => None,
            1 => Some(self.key()?),
            _ => return Err(damaged("an option's tag")),
        })
    }
    /// Runs `f` one level deeper in the nesting of types or imports.
    fn nested<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        if self.depth >= MAX_DEPTH {
            return Err(damaged("types nested too deep"));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn ty(&mut self) -> Result<Type> {
        self.nested(Self::ty_here)
    }

    fn ty_here(&mut self) -> Result<Type> {
        let names = |r: &mut Self| -> Result<Vec<String>> {
            let n = r.count()?;
            (0..n).map(|_| r.str()).collect()
        };
        Ok(match self.u8()? {
            0 => Type::Bool,
            1 => Type::S8,
            2 => Type::U8,
            3 => Type::S16,
            4 => Type::U16,
            5 => Type::S32,
            6 => Type::U32,
            7 => Type::S64,
            8 => Type::U64,
            9 => Type::Float32,
            10 => Type::Float64,
            11 => Type::Char,
            12 => Type::String,
            13 => Type::List(Box::new(self.ty()?)),
            14 => {
                let n = self.count()?;
                Type::Record(
                    (0..n)
                        .map(|_| Ok((self.str()?, self.ty()?)))
                        .collect::<Result<_>>()?,
                )
            }
            15 => {
                let n = self.count()?;
                Type::Tuple((0..n).map(|_| self.ty()).collect::<Result<_>>()?)
            }
            16 => {
                let n = self.count()?;
                Type::Variant(
                    (0..n)
                        .map(|_| Ok((self.str()?, self.opt_ty()?)))
                        .collect::<Result<_>>()?,
                )
            }
            17 => Type::Enum(names(self)?),
            18 => Type::Flags(names(self)?),
            19 => Type::Option(Box::new(self.ty()?)),
            20 => Type::Result {
                ok: self.opt_ty()?.map(Box::new),
                err: self.opt_ty()?.map(Box::new),
            },
            21 => Type::Own(self.key()?),
            22 => Type::Borrow(self.key()?),
            _ => return Err(damaged("a type's tag")),
        })
    }
    fn opt_ty(&mut self) -> Result<Option<Type>> {
        Ok(match self.u8()? {
            0 => None,
            1 => Some(self.ty()?),
            _ => return Err(damaged("an option's tag")),
        })
    }
    /// A function type: the one read before from the same bytes, or a
    /// new one.
    fn func_type(&mut self) -> Result<Arc<FuncType>> {
        Ok(self.func_type_entry()?.0)
    }

    /// A function type and what lowering makes of it.
    fn lowered_func_type(&mut self) -> Result<(Arc<FuncType>, Arc<LowerShape>)> {
        let (ty, key) = self.func_type_entry()?;
        let entry = self
            .func_types
            .get_mut(key)
            .ok_or_else(|| damaged("a function type not kept"))?;
        let shape = entry
            .1
            .get_or_insert_with(|| Arc::new(LowerShape::of(&ty)))
            .clone();
        Ok((ty, shape))
    }

    fn func_type_entry(&mut self) -> Result<(Arc<FuncType>, &'a [u8])> {
        let body = self.bytes()?;
        if let Some((ty, _)) = self.func_types.get(body) {
            return Ok((ty.clone(), body));
        }
        let mut r = Reader {
            bytes: body,
            at: 0,
            modules: Vec::new(),
            components: Vec::new(),
            func_types: HashMap::new(),
            depth: self.depth,
        };
        let n = r.count()?;
        let params = (0..n)
            .map(|_| Ok((r.str()?, r.ty()?)))
            .collect::<Result<_>>()?;
        let ty = Arc::new(FuncType {
            params,
            result: r.opt_ty()?,
        });
        if r.at != body.len() {
            return Err(damaged("a function type's length"));
        }
        self.func_types.insert(body, (ty.clone(), None));
        Ok((ty, body))
    }
    fn options(&mut self) -> Result<CanonOptions> {
        Ok(CanonOptions {
            memory: self.opt_u32()?,
            realloc: self.opt_u32()?,
            post_return: self.opt_u32()?,
            encoding: match self.u8()? {
                0 => StringEncoding::Utf8,
                1 => StringEncoding::Utf16,
                2 => StringEncoding::CompactUtf16,
                _ => return Err(damaged("a string encoding")),
            },
        })
    }
    fn desc(&mut self) -> Result<ImportDesc> {
        self.nested(Self::desc_here)
    }

    fn desc_here(&mut self) -> Result<ImportDesc> {
        Ok(match self.u8()? {
            0 => ImportDesc::Func(self.func_type()?),
            1 => {
                let n = self.count()?;
                ImportDesc::Instance(
                    (0..n)
                        .map(|_| Ok((self.str()?, self.desc()?)))
                        .collect::<Result<_>>()?,
                )
            }
            2 => ImportDesc::Type(self.opt_key()?),
            3 => ImportDesc::Module,
            4 => ImportDesc::Component,
            _ => return Err(damaged("an import's tag")),
        })
    }
    fn core_sort(&mut self) -> Result<CoreSort> {
        Ok(match self.u8()? {
            0 => CoreSort::Func,
            1 => CoreSort::Table,
            2 => CoreSort::Memory,
            3 => CoreSort::Global,
            4 => CoreSort::Tag,
            _ => return Err(damaged("a core sort")),
        })
    }
    fn sort(&mut self) -> Result<Sort> {
        Ok(match self.u8()? {
            0 => Sort::Func,
            1 => Sort::Type,
            2 => Sort::Instance,
            3 => Sort::Component,
            4 => Sort::Module,
            _ => return Err(damaged("a sort")),
        })
    }
    fn named(&mut self) -> Result<Vec<(String, u32)>> {
        let n = self.count()?;
        (0..n).map(|_| Ok((self.str()?, self.u32()?))).collect()
    }
    fn sorted<S>(
        &mut self,
        sort: impl Fn(&mut Self) -> Result<S>,
    ) -> Result<Vec<(String, S, u32)>> {
        let n = self.count()?;
        (0..n)
            .map(|_| {
                let name = self.str()?;
                let s = sort(self)?;
                Ok((name, s, self.u32()?))
            })
            .collect()
    }
    fn step(&mut self) -> Result<Step> {
        Ok(match self.u8()? {
            0 => {
                let i = self.u32()? as usize;
                Step::CoreModule(
                    self.modules
                        .get(i)
                        .cloned()
                        .ok_or_else(|| damaged("a module index"))?,
                )
            }
            1 => Step::CoreInstantiate {
                module: self.u32()?,
                args: self.named()?,
                imports: match self.u8()? {
                    0 => None,
                    1 => {
                        let n = self.count()?;
                        Some(
                            (0..n)
                                .map(|_| Ok((self.u32()?, self.str()?)))
                                .collect::<Result<_>>()?,
                        )
                    }
                    _ => return Err(damaged("an option's tag")),
                },
            },
            2 => Step::CoreInstanceExports(self.sorted(Self::core_sort)?),
            3 => Step::CoreAlias {
                instance: self.u32()?,
                name: self.str()?,
                sort: self.core_sort()?,
            },
            4 => Step::Lift {
                func: self.u32()?,
                ty: self.func_type()?,
                options: self.options()?,
            },
            5 => {
                let (func, options) = (self.u32()?, self.options()?);
                let (ty, shape) = self.lowered_func_type()?;
                Step::Lower {
                    func,
                    options,
                    ty,
                    shape,
                }
            }
            6 => Step::Resource {
                key: self.key()?,
                dtor: self.opt_u32()?,
            },
            7 => Step::ResourceNew(self.key()?),
            8 => Step::ResourceRep(self.key()?),
            9 => Step::ResourceDrop(self.key()?),
            10 => Step::Import {
                name: self.str()?,
                desc: self.desc()?,
            },
            11 => {
                let i = self.u32()? as usize;
                Step::Component(
                    self.components
                        .get(i)
                        .cloned()
                        .ok_or_else(|| damaged("a component index"))?,
                )
            }
            12 => Step::Instantiate {
                component: self.u32()?,
                args: self.sorted(Self::sort)?,
            },
            13 => Step::InstanceExports(self.sorted(Self::sort)?),
            14 => Step::Alias {
                instance: self.u32()?,
                name: self.str()?,
                sort: self.sort()?,
                resource: self.opt_key()?,
            },
            // Translation writes a type definition at a time.
            15 => match self.u32()? {
                1 => Step::Types(1),
                _ => return Err(damaged("a count of types")),
            },
            16 => Step::TypeAgain(self.u32()?),
            17 => Step::Export {
                name: self.str()?,
                sort: self.sort()?,
                index: self.u32()?,
                resource: self.opt_key()?,
            },
            _ => return Err(damaged("a step's tag")),
        })
    }
    fn component(&mut self) -> Result<ComponentDef> {
        let n = self.count()?;
        let steps = (0..n).map(|_| self.step()).collect::<Result<_>>()?;
        let n = self.count()?;
        let imports = (0..n)
            .map(|_| Ok((self.str()?, self.desc()?)))
            .collect::<Result<_>>()?;
        let n = self.count()?;
        let exports = (0..n).map(|_| self.str()).collect::<Result<_>>()?;
        Ok(ComponentDef {
            steps,
            imports,
            exports,
            builtin_sigs: Default::default(),
        })
    }
}

/// A component read back from its precompiled form; with `file` (the
/// mapping `bytes` are, and the file mapped), its core modules keep views
/// of the mapping and run their code from the file's pages, as a module
/// loaded from its file does.
///
/// # Safety
/// The core modules' machine code is run as it is: `bytes` must come from
/// [`serialize`] (walmart's `Component::serialize` or `walmart compile`)
/// of this walmart, unaltered; and a mapped file must not change while
/// the component lives.
pub(crate) unsafe fn deserialize(
    engine: &Engine,
    bytes: &[u8],
    file: Option<(&Arc<MappedFile>, &std::fs::File)>,
) -> Result<Arc<ComponentDef>> {
    // The modules' views are of the mapping: the bytes must be its own.
    let bytes = match file {
        Some((mapped, _)) => &mapped[..],
        None => bytes,
    };
    if !is_precompiled_component(bytes) {
        return Err(damaged("no precompiled component's magic"));
    }
    let mut r = Reader {
        bytes,
        at: MAGIC.len(),
        modules: Vec::new(),
        components: Vec::new(),
        func_types: HashMap::new(),
        depth: 0,
    };
    let version = r.u32()?;
    if version != VERSION {
        return Err(Error::Usage(format!(
            "precompiled component of format version {version}; this walmart reads version \
             {VERSION}: compile it again"
        )));
    }
    let n = r.count()?;
    for _ in 0..n {
        let pad = r.u32()? as usize;
        if pad >= CODE_ALIGN || r.take(pad)?.iter().any(|&b| b != 0) {
            return Err(damaged("a module's padding"));
        }
        let m = r.bytes()?;
        // SAFETY: the caller vouches for the bytes, and so for each
        // module's (each still checks its engine and its own integrity),
        // and for the file; `m` is a slice of the mapping where there is
        // one (above).
        r.modules
            .push(unsafe { Module::load_precompiled(engine, m, file)? });
    }
    let n = r.count()?;
    let mut last = None;
    for _ in 0..n {
        let body = r.bytes()?;
        let mut inner = Reader {
            bytes: body,
            at: 0,
            modules: std::mem::take(&mut r.modules),
            components: std::mem::take(&mut r.components),
            func_types: std::mem::take(&mut r.func_types),
            depth: 0,
        };
        let def = inner.component();
        r.modules = inner.modules;
        r.components = inner.components;
        r.func_types = inner.func_types;
        let def = Arc::new(def?);
        r.components.push(def.clone());
        last = Some(def);
    }
    if r.at != bytes.len() {
        return Err(damaged("bytes past its end"));
    }
    last.ok_or_else(|| damaged("no component"))
}
