//! GC's reference instructions: `i31`s, `ref.eq`, the conversions between
//! `anyref` and `externref`, and the casts (`ref.test`, `ref.cast`,
//! `br_on_cast`, `br_on_cast_fail`, and the custom-descriptors proposal's
//! `ref.cast_desc_eq`, `br_on_cast_desc_eq`, `br_on_cast_desc_eq_fail`,
//! which also compare the object's descriptor). Raw forms are described in
//! `walmart::any_ref`: an `i31` is odd, a host reference in `anyref` has
//! bit 1 set, a GC object is its 8-aligned address with its type's info
//! record in its header ([`vmctx::GC_TYPE_INFO`]) and its kind after
//! ([`vmctx::GC_KIND`]).

use cranelift_codegen::ir::{condcodes::IntCC, types, InstBuilder, Value};
use wasmparser::Operator;

use super::{block_args, FuncTranslator};
use crate::error::CompileError;
use crate::module_info::{HeapTy, RefTy, TypeKind};
use crate::trap::TrapKind;
use crate::vmctx::{self, Builtin};

impl FuncTranslator<'_, '_> {
    pub(crate) fn translate_gc(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        use Operator as O;
        match op {
            O::RefI31 => {
                let x = self.pop();
                let shifted = self.builder.ins().ishl_imm_u(x, 1);
                let tagged = self.builder.ins().bor_imm_u(shifted, 1);
                let r = self.builder.ins().uextend(types::I64, tagged);
                self.push(r);
            }
            O::I31GetS | O::I31GetU => {
                let r = self.pop();
                self.builder
                    .ins()
                    .trapz(r, TrapKind::NullI31Reference.code());
                let low = self.builder.ins().ireduce(types::I32, r);
                let v = if matches!(op, O::I31GetS) {
                    self.builder.ins().sshr_imm_u(low, 1)
                } else {
                    self.builder.ins().ushr_imm_u(low, 1)
                };
                self.push(v);
            }
            O::RefEq => {
                let b = self.pop();
                let a = self.pop();
                let eq = self.builder.ins().icmp(IntCC::Equal, a, b);
                let v = self.builder.ins().uextend(types::I32, eq);
                self.push(v);
            }
            O::AnyConvertExtern | O::ExternConvertAny => {
                // Null and `i31`s stay as they are; anything else has bit
                // 1 flipped (host references and objects change sides).
                let x = self.pop();
                let odd = self.builder.ins().band_imm_u(x, 1);
                let even = self.builder.ins().bxor_imm_u(odd, 1);
                let non_null = self.builder.ins().icmp_imm_u(IntCC::NotEqual, x, 0);
                let non_null = self.builder.ins().uextend(types::I64, non_null);
                let flip = self.builder.ins().band(even, non_null);
                let flip = self.builder.ins().ishl_imm_u(flip, 1);
                let r = self.builder.ins().bxor(x, flip);
                self.push(r);
            }
            O::RefTestNonNull { hty } | O::RefTestNullable { hty } => {
                let target = self.ref_ty(*hty, matches!(op, O::RefTestNullable { .. }))?;
                let x = self.pop();
                let ok = self.ref_test(x, target);
                let v = self.builder.ins().uextend(types::I32, ok);
                self.push(v);
            }
            O::RefCastNonNull { hty } | O::RefCastNullable { hty } => {
                let target = self.ref_ty(*hty, matches!(op, O::RefCastNullable { .. }))?;
                let x = self.pop();
                let ok = self.ref_test(x, target);
                self.builder.ins().trapz(ok, TrapKind::CastFailure.code());
                self.push(x);
            }
            O::RefCastDescEqNonNull { hty } | O::RefCastDescEqNullable { hty } => {
                let target = self.ref_ty(*hty, matches!(op, O::RefCastDescEqNullable { .. }))?;
                let desc = self.pop();
                let x = self.pop();
                let ok = self.desc_test(x, desc, target)?;
                self.builder
                    .ins()
                    .trapz(ok, TrapKind::DescriptorCastFailure.code());
                self.push(x);
            }
            O::BrOnCast {
                relative_depth,
                to_ref_type,
                ..
            }
            | O::BrOnCastFail {
                relative_depth,
                to_ref_type,
                ..
            }
            | O::BrOnCastDescEq {
                relative_depth,
                to_ref_type,
                ..
            }
            | O::BrOnCastDescEqFail {
                relative_depth,
                to_ref_type,
                ..
            } => {
                let target = RefTy::from_parser(*to_ref_type, &self.env.info.type_kinds)
                    .ok_or_else(|| unsupported_type(*to_ref_type))?;
                let with_desc =
                    matches!(op, O::BrOnCastDescEq { .. } | O::BrOnCastDescEqFail { .. });
                let desc = with_desc.then(|| self.pop());
                let x = self.pop();
                let ok = match desc {
                    Some(desc) => self.desc_test(x, desc, target)?,
                    None => self.ref_test(x, target),
                };
                // The reference goes out with the label's other values on
                // top, and stays on the stack when not taken.
                let (label, arity) = self.branch_to(*relative_depth);
                let mut args = self.stack[self.stack.len() - (arity - 1)..].to_vec();
                args.push(x);
                let on = self.builder.create_block();
                if matches!(op, O::BrOnCast { .. } | O::BrOnCastDescEq { .. }) {
                    self.builder
                        .ins()
                        .brif(ok, label, &block_args(&args), on, &[]);
                } else {
                    self.builder
                        .ins()
                        .brif(ok, on, &[], label, &block_args(&args));
                }
                self.builder.seal_block(on);
                self.builder.switch_to_block(on);
                self.push(x);
            }
            _ => unreachable!("not a GC reference operator: {op:?}"),
        }
        Ok(())
    }

    fn ref_ty(&self, heap: wasmparser::HeapType, nullable: bool) -> Result<RefTy, CompileError> {
        let r = wasmparser::RefType::new(nullable, heap)
            .ok_or_else(|| CompileError::Unsupported(format!("heap type {heap:?}")))?;
        RefTy::from_parser(r, &self.env.info.type_kinds).ok_or_else(|| unsupported_type(r))
    }

    /// Whether reference `x` is a value of `target` (module form): an `i8`
    /// that is 1 or 0.
    pub(crate) fn ref_test(&mut self, x: Value, target: RefTy) -> Value {
        let done = self.builder.create_block();
        let result = self.builder.append_block_param(done, types::I8);
        let non_null = self.builder.create_block();
        let null_ok = self
            .builder
            .ins()
            .iconst(types::I8, i64::from(target.nullable));
        self.builder
            .ins()
            .brif(x, non_null, &[], done, &block_args(&[null_ok]));
        self.builder.seal_block(non_null);
        self.builder.switch_to_block(non_null);
        let ok = match target.heap {
            HeapTy::Any | HeapTy::Func | HeapTy::Extern | HeapTy::Exn => {
                self.builder.ins().iconst(types::I8, 1)
            }
            HeapTy::None | HeapTy::NoFunc | HeapTy::NoExtern | HeapTy::NoExn => {
                self.builder.ins().iconst(types::I8, 0)
            }
            HeapTy::Eq => {
                let low = self.builder.ins().band_imm_u(x, 3);
                self.builder.ins().icmp_imm_u(IntCC::NotEqual, low, 2)
            }
            HeapTy::I31 => {
                let low = self.builder.ins().band_imm_u(x, 1);
                self.builder.ins().icmp_imm_u(IntCC::NotEqual, low, 0)
            }
            HeapTy::Type(index, TypeKind::Func) => {
                let type_id = self.builder.ins().load(
                    types::I64,
                    super::vm_flags().with_readonly(),
                    x,
                    vmctx::FUNCREF_TYPE,
                );
                if target.exact {
                    let expected = self.type_constant(TypeConstant::Id, index);
                    self.builder.ins().icmp(IntCC::Equal, type_id, expected)
                } else {
                    self.is_type(type_id, index)
                }
            }
            HeapTy::Struct | HeapTy::Array | HeapTy::Type(..) => {
                // An object (low bits clear), then its header.
                let low = self.builder.ins().band_imm_u(x, 3);
                let object = self.builder.create_block();
                let no = self.builder.ins().iconst(types::I8, 0);
                self.builder
                    .ins()
                    .brif(low, done, &block_args(&[no]), object, &[]);
                self.builder.seal_block(object);
                self.builder.switch_to_block(object);
                match target.heap {
                    HeapTy::Type(index, _) => {
                        let info = self.builder.ins().load(
                            types::I64,
                            super::vm_flags().with_readonly(),
                            x,
                            vmctx::GC_TYPE_INFO,
                        );
                        if target.exact {
                            let expected = self.type_constant(TypeConstant::Info, index);
                            self.builder.ins().icmp(IntCC::Equal, info, expected)
                        } else {
                            self.is_object_type(info, index)
                        }
                    }
                    heap => {
                        let kind = self.builder.ins().load(
                            types::I32,
                            super::vm_flags().with_readonly(),
                            x,
                            vmctx::GC_KIND,
                        );
                        let want = i64::from(heap == HeapTy::Array);
                        self.builder.ins().icmp_imm_u(IntCC::Equal, kind, want)
                    }
                }
            }
            HeapTy::Engine(..) | HeapTy::Rec(..) => {
                unreachable!("a module's types are in module form")
            }
        };
        self.builder.ins().jump(done, &block_args(&[ok]));
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        result
    }

    /// Whether reference `x` is a value of `target` (module form, a struct
    /// type with a descriptor) whose descriptor is `desc`: an `i8`, 1 or
    /// 0; a null `x` passes where `target` is nullable. A null `desc`
    /// traps first, whatever `x` is.
    fn desc_test(&mut self, x: Value, desc: Value, target: RefTy) -> Result<Value, CompileError> {
        let HeapTy::Type(index, _) = target.heap else {
            return Err(CompileError::Unsupported(format!(
                "a descriptor cast to {:?}",
                target.heap
            )));
        };
        let at = self.descriptor_offset(index)?;
        self.builder
            .ins()
            .trapz(desc, TrapKind::NullDescriptorReference.code());
        let typed = self.ref_test(x, target);
        let done = self.builder.create_block();
        let result = self.builder.append_block_param(done, types::I8);
        let compare = self.builder.create_block();
        // Null (when it passes) has no descriptor to compare.
        let is_null = self.builder.ins().icmp_imm_u(IntCC::Equal, x, 0);
        let failed = self.builder.ins().bxor_imm_u(typed, 1);
        let skip = self.builder.ins().bor(is_null, failed);
        self.builder
            .ins()
            .brif(skip, done, &block_args(&[typed]), compare, &[]);
        self.builder.seal_block(compare);
        self.builder.switch_to_block(compare);
        // An object of the target type or a subtype has a descriptor slot.
        let have = self
            .builder
            .ins()
            .load(types::I64, super::vm_flags().with_readonly(), x, at);
        let same = self.builder.ins().icmp(IntCC::Equal, have, desc);
        self.builder.ins().jump(done, &block_args(&[same]));
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        Ok(result)
    }

    /// Whether the type of the object whose info record is at `info` is
    /// the module's type `index` or a subtype of it: an `i8`, 1 or 0, all
    /// inline (the record's supertype chain, see
    /// [`vmctx::GC_TYPE_INFO`]).
    fn is_object_type(&mut self, info: Value, index: u32) -> Value {
        let expected = self.type_constant(TypeConstant::Info, index);
        let equal = self.builder.ins().icmp(IntCC::Equal, info, expected);
        if self.env.info.type_defs[index as usize].is_final {
            return equal;
        }
        let depth = i64::from(self.env.info.type_depth(index));
        let done = self.builder.create_block();
        let result = self.builder.append_block_param(done, types::I8);
        let deep = self.builder.create_block();
        let chain = self.builder.create_block();
        self.builder
            .ins()
            .brif(equal, done, &block_args(&[equal]), deep, &[]);
        self.builder.seal_block(deep);
        self.builder.switch_to_block(deep);
        let have = self.builder.ins().load(
            types::I64,
            super::vm_flags().with_readonly(),
            info,
            vmctx::TYPE_INFO_DEPTH,
        );
        let enough = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, have, depth);
        let no = self.builder.ins().iconst(types::I8, 0);
        self.builder
            .ins()
            .brif(enough, chain, &[], done, &block_args(&[no]));
        self.builder.seal_block(chain);
        self.builder.switch_to_block(chain);
        let at = vmctx::TYPE_INFO_CHAIN + 8 * depth as i32;
        let ancestor =
            self.builder
                .ins()
                .load(types::I64, super::vm_flags().with_readonly(), info, at);
        let id = self.type_constant(TypeConstant::Id, index);
        let ok = self.builder.ins().icmp(IntCC::Equal, ancestor, id);
        self.builder.ins().jump(done, &block_args(&[ok]));
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        result
    }

    /// Whether engine type id `type_id` is the module's type `index` or a
    /// subtype of it: an `i8`, 1 or 0. A final type has no subtypes, so
    /// equality is all; otherwise the runtime walks the declared chain
    /// when the ids differ.
    pub(crate) fn is_type(&mut self, type_id: Value, index: u32) -> Value {
        let expected = self.type_constant(TypeConstant::Id, index);
        let equal = self.builder.ins().icmp(IntCC::Equal, type_id, expected);
        if self.env.info.type_defs[index as usize].is_final {
            return equal;
        }
        let done = self.builder.create_block();
        let result = self.builder.append_block_param(done, types::I8);
        let slow = self.builder.create_block();
        self.builder
            .ins()
            .brif(equal, done, &block_args(&[equal]), slow, &[]);
        self.builder.seal_block(slow);
        self.builder.switch_to_block(slow);
        let answer = self.call_builtin(
            Builtin::IsSubtype,
            &[types::I64, types::I64],
            &[types::I32],
            &[type_id, expected],
        )[0];
        let yes = self.builder.ins().icmp_imm_u(IntCC::NotEqual, answer, 0);
        self.builder.ins().jump(done, &block_args(&[yes]));
        self.builder.seal_block(done);
        self.builder.switch_to_block(done);
        result
    }

    /// The engine's id of the module's type `index`, or the address of
    /// its info record: a load from the vmctx, where instantiation wrote
    /// them ([`VMOffsets::type_id`](crate::vmctx::VMOffsets::type_id)), so
    /// compiled code does not depend on the engine that compiled it and can
    /// be saved and loaded into another (`Module::serialize`). (As
    /// constants the code memory wrote in, Cranelift hoisted them out of
    /// loops into registers: sqlite ran 3% slower.)
    pub(crate) fn type_constant(&mut self, what: TypeConstant, index: u32) -> Value {
        let offset = match what {
            TypeConstant::Id => self.env.offsets.type_id(index),
            TypeConstant::Info => self.env.offsets.type_info(index),
        };
        self.builder.ins().load(
            types::I64,
            super::vm_flags().with_readonly(),
            self.vmctx,
            offset,
        )
    }
}

/// Which engine constant of a module type [`FuncTranslator::type_constant`]
/// stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeConstant {
    /// The engine-wide type id ([`crate::vmctx::VMFuncRef::type_id`]).
    Id,
    /// The address of the type's info record ([`crate::vmctx::GC_TYPE_INFO`]).
    Info,
}

fn unsupported_type(r: wasmparser::RefType) -> CompileError {
    CompileError::Unsupported(format!("reference type {r}"))
}
