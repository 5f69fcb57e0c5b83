//! SIMD: every v128 operator, and relaxed SIMD (deterministically).
//!
//! v128 values live on the operand stack, in locals and in block
//! parameters as `i8x16`; each operator bitcasts its operands to the lane
//! type it works on (a register no-op) and its result back.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, Endianness, InstBuilder, MemFlagsData, Type, Value};
use wasmparser::{MemArg, Operator};

use super::FuncTranslator;

use types::{F32X4, F64X2, I16, I16X8, I32, I32X4, I64, I64X2, I8, I8X16};

fn lane_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

impl FuncTranslator<'_, '_> {
    /// Reinterprets a vector as lane type `ty`.
    fn as_vec(&mut self, v: Value, ty: Type) -> Value {
        if self.builder.func.dfg.value_type(v) == ty {
            v
        } else {
            self.builder.ins().bitcast(ty, lane_flags(), v)
        }
    }

    fn pop_vec(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.as_vec(v, ty)
    }

    fn push_vec(&mut self, v: Value) {
        let v = self.as_vec(v, I8X16);
        self.push(v);
    }

    fn vunary(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop_vec(ty);
        let r = f(self, a);
        self.push_vec(r);
    }

    fn vbinary(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let b = self.pop_vec(ty);
        let a = self.pop_vec(ty);
        let r = f(self, a, b);
        self.push_vec(r);
    }

    fn vicmp(&mut self, ty: Type, cc: IntCC) {
        self.vbinary(ty, |t, a, b| t.builder.ins().icmp(cc, a, b));
    }

    fn vfcmp(&mut self, ty: Type, cc: FloatCC) {
        self.vbinary(ty, |t, a, b| t.builder.ins().fcmp(cc, a, b));
    }

    /// Shifts take a scalar i32 amount; Cranelift masks it by the lane width
    /// as Wasm requires.
    fn vshift(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let amount = self.pop();
        let a = self.pop_vec(ty);
        let r = f(self, a, amount);
        self.push_vec(r);
    }

    fn zero_vec(&mut self, ty: Type) -> Value {
        let c = self.builder.func.dfg.constants.insert(vec![0u8; 16].into());
        self.builder.ins().vconst(ty, c)
    }

    /// `pmin`/`pmax`: `b < a ? b : a` and `a < b ? b : a`, lane by lane.
    fn pseudo_min_max(&mut self, ty: Type, max: bool) {
        self.vbinary(ty, |t, a, b| {
            let mask = if max {
                t.builder.ins().fcmp(FloatCC::LessThan, a, b)
            } else {
                t.builder.ins().fcmp(FloatCC::LessThan, b, a)
            };
            let mask = t.as_vec(mask, ty);
            t.builder.ins().bitselect(mask, b, a)
        });
    }

    /// Multiplies the widened low (or high) halves of two vectors.
    fn ext_mul(&mut self, ty: Type, high: bool, signed: bool) {
        self.vbinary(ty, |t, a, b| {
            let widen = |t: &mut Self, v| match (high, signed) {
                (false, true) => t.builder.ins().swiden_low(v),
                (true, true) => t.builder.ins().swiden_high(v),
                (false, false) => t.builder.ins().uwiden_low(v),
                (true, false) => t.builder.ins().uwiden_high(v),
            };
            let a = widen(t, a);
            let b = widen(t, b);
            t.builder.ins().imul(a, b)
        });
    }

    /// Adds adjacent lane pairs after widening them.
    fn ext_add_pairwise(&mut self, ty: Type, signed: bool) {
        self.vunary(ty, |t, a| t.widened_pairwise_sum(a, signed));
    }

    fn widened_pairwise_sum(&mut self, a: Value, signed: bool) -> Value {
        let (lo, hi) = if signed {
            (
                self.builder.ins().swiden_low(a),
                self.builder.ins().swiden_high(a),
            )
        } else {
            (
                self.builder.ins().uwiden_low(a),
                self.builder.ins().uwiden_high(a),
            )
        };
        self.builder.ins().iadd_pairwise(lo, hi)
    }

    /// Signed dot product of adjacent lanes (`i32x4.dot_i16x8_s` and the
    /// relaxed i8 form, whose operands we treat as signed).
    fn dot(&mut self, a: Value, b: Value) -> Value {
        let al = self.builder.ins().swiden_low(a);
        let bl = self.builder.ins().swiden_low(b);
        let ah = self.builder.ins().swiden_high(a);
        let bh = self.builder.ins().swiden_high(b);
        let lo = self.builder.ins().imul(al, bl);
        let hi = self.builder.ins().imul(ah, bh);
        self.builder.ins().iadd_pairwise(lo, hi)
    }

    fn any_true(&mut self) {
        let v = self.pop_vec(I8X16);
        let t = self.builder.ins().vany_true(v);
        let r = self.builder.ins().uextend(I32, t);
        self.push(r);
    }

    fn all_true(&mut self, ty: Type) {
        let v = self.pop_vec(ty);
        let t = self.builder.ins().vall_true(v);
        let r = self.builder.ins().uextend(I32, t);
        self.push(r);
    }

    fn bitmask(&mut self, ty: Type) {
        let v = self.pop_vec(ty);
        let r = self.builder.ins().vhigh_bits(I32, v);
        self.push(r);
    }

    fn splat(&mut self, ty: Type) {
        let x = self.pop();
        let r = self.builder.ins().splat(ty, x);
        self.push_vec(r);
    }

    fn extract_lane(&mut self, ty: Type, lane: u8, extend: Option<bool>) {
        let v = self.pop_vec(ty);
        let x = self.builder.ins().extractlane(v, lane);
        let r = match extend {
            Some(true) => self.builder.ins().sextend(I32, x),
            Some(false) => self.builder.ins().uextend(I32, x),
            None => x,
        };
        self.push(r);
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let mut x = self.pop();
        let v = self.pop_vec(ty);
        let lane_ty = ty.lane_type();
        if self.builder.func.dfg.value_type(x) != lane_ty {
            // i8x16/i16x8 lanes come from an i32 operand.
            x = self.builder.ins().ireduce(lane_ty, x);
        }
        let r = self.builder.ins().insertlane(v, x, lane);
        self.push_vec(r);
    }

    fn vload(&mut self, memarg: &MemArg, size: u32, load: impl FnOnce(&mut Self, Value) -> Value) {
        let index = self.pop();
        let (addr, _) = self.heap_access(
            super::memory::target_memory(memarg),
            index,
            memarg.offset,
            size,
            false,
        );
        let r = load(self, addr);
        self.push_vec(r);
    }

    fn load_lane(&mut self, memarg: &MemArg, lane: u8, lane_ty: Type, vec_ty: Type) {
        let v = self.pop_vec(vec_ty);
        let index = self.pop();
        let (addr, _) = self.heap_access(
            super::memory::target_memory(memarg),
            index,
            memarg.offset,
            lane_ty.bytes(),
            false,
        );
        let x = self
            .builder
            .ins()
            .load(lane_ty, super::memory::heap_flags(), addr, 0);
        let r = self.builder.ins().insertlane(v, x, lane);
        self.push_vec(r);
    }

    fn store_lane(&mut self, memarg: &MemArg, lane: u8, vec_ty: Type) {
        let v = self.pop_vec(vec_ty);
        let index = self.pop();
        let size = vec_ty.lane_type().bytes();
        let (addr, index) = self.heap_access(
            super::memory::target_memory(memarg),
            index,
            memarg.offset,
            size,
            true,
        );
        let x = self.builder.ins().extractlane(v, lane);
        self.builder
            .ins()
            .store(super::memory::heap_flags(), x, addr, 0);
        self.store_barrier(
            super::memory::target_memory(memarg),
            index,
            memarg.offset,
            size,
            addr,
        );
    }

    /// `trunc_sat_f64x2_*_zero`: convert to 64-bit lanes, then narrow with
    /// saturation into the low half, zeros above (no single instruction).
    fn trunc_sat_f64x2_zero(&mut self, signed: bool) {
        self.vunary(F64X2, |t, a| {
            let zero = t.zero_vec(I64X2);
            if signed {
                let c = t.builder.ins().fcvt_to_sint_sat(I64X2, a);
                t.builder.ins().snarrow(c, zero)
            } else {
                let c = t.builder.ins().fcvt_to_uint_sat(I64X2, a);
                t.builder.ins().uunarrow(c, zero)
            }
        });
    }

    /// Translates a SIMD operator; false if `op` is not one.
    pub(crate) fn translate_simd(&mut self, op: &Operator<'_>) -> bool {
        use Operator as O;
        let flags = super::memory::heap_flags();
        match op {
            O::V128Const { value } => {
                let c = self
                    .builder
                    .func
                    .dfg
                    .constants
                    .insert(value.bytes().to_vec().into());
                let v = self.builder.ins().vconst(I8X16, c);
                self.push(v);
            }
            O::V128Load { memarg } => {
                self.vload(memarg, 16, |t, a| t.builder.ins().load(I8X16, flags, a, 0))
            }
            O::V128Load8x8S { memarg } => {
                self.vload(memarg, 8, |t, a| t.builder.ins().sload8x8(flags, a, 0))
            }
            O::V128Load8x8U { memarg } => {
                self.vload(memarg, 8, |t, a| t.builder.ins().uload8x8(flags, a, 0))
            }
            O::V128Load16x4S { memarg } => {
                self.vload(memarg, 8, |t, a| t.builder.ins().sload16x4(flags, a, 0))
            }
            O::V128Load16x4U { memarg } => {
                self.vload(memarg, 8, |t, a| t.builder.ins().uload16x4(flags, a, 0))
            }
            O::V128Load32x2S { memarg } => {
                self.vload(memarg, 8, |t, a| t.builder.ins().sload32x2(flags, a, 0))
            }
            O::V128Load32x2U { memarg } => {
                self.vload(memarg, 8, |t, a| t.builder.ins().uload32x2(flags, a, 0))
            }
            O::V128Load8Splat { memarg } => self.vload(memarg, 1, |t, a| {
                let x = t.builder.ins().load(I8, flags, a, 0);
                t.builder.ins().splat(I8X16, x)
            }),
            O::V128Load16Splat { memarg } => self.vload(memarg, 2, |t, a| {
                let x = t.builder.ins().load(I16, flags, a, 0);
                t.builder.ins().splat(I16X8, x)
            }),
            O::V128Load32Splat { memarg } => self.vload(memarg, 4, |t, a| {
                let x = t.builder.ins().load(I32, flags, a, 0);
                t.builder.ins().splat(I32X4, x)
            }),
            O::V128Load64Splat { memarg } => self.vload(memarg, 8, |t, a| {
                let x = t.builder.ins().load(I64, flags, a, 0);
                t.builder.ins().splat(I64X2, x)
            }),
            O::V128Load32Zero { memarg } => self.vload(memarg, 4, |t, a| {
                let x = t.builder.ins().load(I32, flags, a, 0);
                t.builder.ins().scalar_to_vector(I32X4, x)
            }),
            O::V128Load64Zero { memarg } => self.vload(memarg, 8, |t, a| {
                let x = t.builder.ins().load(I64, flags, a, 0);
                t.builder.ins().scalar_to_vector(I64X2, x)
            }),
            O::V128Store { memarg } => {
                let v = self.pop_vec(I8X16);
                let index = self.pop();
                let (addr, index) = self.heap_access(
                    super::memory::target_memory(memarg),
                    index,
                    memarg.offset,
                    16,
                    true,
                );
                self.builder.ins().store(flags, v, addr, 0);
                self.store_barrier(
                    super::memory::target_memory(memarg),
                    index,
                    memarg.offset,
                    16,
                    addr,
                );
            }
            O::V128Load8Lane { memarg, lane } => self.load_lane(memarg, *lane, I8, I8X16),
            O::V128Load16Lane { memarg, lane } => self.load_lane(memarg, *lane, I16, I16X8),
            O::V128Load32Lane { memarg, lane } => self.load_lane(memarg, *lane, I32, I32X4),
            O::V128Load64Lane { memarg, lane } => self.load_lane(memarg, *lane, I64, I64X2),
            O::V128Store8Lane { memarg, lane } => self.store_lane(memarg, *lane, I8X16),
            O::V128Store16Lane { memarg, lane } => self.store_lane(memarg, *lane, I16X8),
            O::V128Store32Lane { memarg, lane } => self.store_lane(memarg, *lane, I32X4),
            O::V128Store64Lane { memarg, lane } => self.store_lane(memarg, *lane, I64X2),
            O::I8x16Shuffle { lanes } => {
                let b = self.pop_vec(I8X16);
                let a = self.pop_vec(I8X16);
                let imm = self.builder.func.dfg.immediates.push(lanes.to_vec().into());
                let r = self.builder.ins().shuffle(a, b, imm);
                self.push(r);
            }
            // Cranelift's swizzle zeroes out-of-range lanes, as Wasm's does;
            // the relaxed form takes the same (deterministic) choice.
            O::I8x16Swizzle | O::I8x16RelaxedSwizzle => {
                self.vbinary(I8X16, |t, a, b| t.builder.ins().swizzle(a, b))
            }
            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, *lane, Some(true)),
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, *lane, Some(false)),
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, *lane, Some(true)),
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, *lane, Some(false)),
            O::I32x4ExtractLane { lane } => self.extract_lane(I32X4, *lane, None),
            O::I64x2ExtractLane { lane } => self.extract_lane(I64X2, *lane, None),
            O::F32x4ExtractLane { lane } => self.extract_lane(F32X4, *lane, None),
            O::F64x2ExtractLane { lane } => self.extract_lane(F64X2, *lane, None),
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, *lane),
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, *lane),
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, *lane),
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, *lane),
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, *lane),
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, *lane),
            O::I8x16Splat => {
                let x = self.pop();
                let x = self.builder.ins().ireduce(I8, x);
                let r = self.builder.ins().splat(I8X16, x);
                self.push(r);
            }
            O::I16x8Splat => {
                let x = self.pop();
                let x = self.builder.ins().ireduce(I16, x);
                let r = self.builder.ins().splat(I16X8, x);
                self.push_vec(r);
            }
            O::I32x4Splat => self.splat(I32X4),
            O::I64x2Splat => self.splat(I64X2),
            O::F32x4Splat => self.splat(F32X4),
            O::F64x2Splat => self.splat(F64X2),

            O::I8x16Eq => self.vicmp(I8X16, IntCC::Equal),
            O::I8x16Ne => self.vicmp(I8X16, IntCC::NotEqual),
            O::I8x16LtS => self.vicmp(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => self.vicmp(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => self.vicmp(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => self.vicmp(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => self.vicmp(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => self.vicmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => self.vicmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => self.vicmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => self.vicmp(I16X8, IntCC::Equal),
            O::I16x8Ne => self.vicmp(I16X8, IntCC::NotEqual),
            O::I16x8LtS => self.vicmp(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => self.vicmp(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => self.vicmp(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => self.vicmp(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => self.vicmp(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => self.vicmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => self.vicmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => self.vicmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => self.vicmp(I32X4, IntCC::Equal),
            O::I32x4Ne => self.vicmp(I32X4, IntCC::NotEqual),
            O::I32x4LtS => self.vicmp(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => self.vicmp(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => self.vicmp(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => self.vicmp(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => self.vicmp(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => self.vicmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => self.vicmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => self.vicmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => self.vicmp(I64X2, IntCC::Equal),
            O::I64x2Ne => self.vicmp(I64X2, IntCC::NotEqual),
            O::I64x2LtS => self.vicmp(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => self.vicmp(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => self.vicmp(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => self.vicmp(I64X2, IntCC::SignedGreaterThanOrEqual),
            O::F32x4Eq => self.vfcmp(F32X4, FloatCC::Equal),
            O::F32x4Ne => self.vfcmp(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => self.vfcmp(F32X4, FloatCC::LessThan),
            O::F32x4Gt => self.vfcmp(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => self.vfcmp(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => self.vfcmp(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => self.vfcmp(F64X2, FloatCC::Equal),
            O::F64x2Ne => self.vfcmp(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => self.vfcmp(F64X2, FloatCC::LessThan),
            O::F64x2Gt => self.vfcmp(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => self.vfcmp(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => self.vfcmp(F64X2, FloatCC::GreaterThanOrEqual),

            O::V128Not => self.vunary(I8X16, |t, a| t.builder.ins().bnot(a)),
            O::V128And => self.vbinary(I8X16, |t, a, b| t.builder.ins().band(a, b)),
            O::V128AndNot => self.vbinary(I8X16, |t, a, b| t.builder.ins().band_not(a, b)),
            O::V128Or => self.vbinary(I8X16, |t, a, b| t.builder.ins().bor(a, b)),
            O::V128Xor => self.vbinary(I8X16, |t, a, b| t.builder.ins().bxor(a, b)),
            // Relaxed laneselect may use the top bit or every bit of the mask;
            // walmart always selects bitwise, which is deterministic.
            O::V128Bitselect
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => {
                let c = self.pop_vec(I8X16);
                let b = self.pop_vec(I8X16);
                let a = self.pop_vec(I8X16);
                let r = self.builder.ins().bitselect(c, a, b);
                self.push(r);
            }
            O::V128AnyTrue => self.any_true(),
            O::I8x16AllTrue => self.all_true(I8X16),
            O::I16x8AllTrue => self.all_true(I16X8),
            O::I32x4AllTrue => self.all_true(I32X4),
            O::I64x2AllTrue => self.all_true(I64X2),
            O::I8x16Bitmask => self.bitmask(I8X16),
            O::I16x8Bitmask => self.bitmask(I16X8),
            O::I32x4Bitmask => self.bitmask(I32X4),
            O::I64x2Bitmask => self.bitmask(I64X2),

            O::I8x16Abs => self.vunary(I8X16, |t, a| t.builder.ins().iabs(a)),
            O::I16x8Abs => self.vunary(I16X8, |t, a| t.builder.ins().iabs(a)),
            O::I32x4Abs => self.vunary(I32X4, |t, a| t.builder.ins().iabs(a)),
            O::I64x2Abs => self.vunary(I64X2, |t, a| t.builder.ins().iabs(a)),
            O::I8x16Neg => self.vunary(I8X16, |t, a| t.builder.ins().ineg(a)),
            O::I16x8Neg => self.vunary(I16X8, |t, a| t.builder.ins().ineg(a)),
            O::I32x4Neg => self.vunary(I32X4, |t, a| t.builder.ins().ineg(a)),
            O::I64x2Neg => self.vunary(I64X2, |t, a| t.builder.ins().ineg(a)),
            O::I8x16Popcnt => self.vunary(I8X16, |t, a| t.builder.ins().popcnt(a)),

            O::I8x16NarrowI16x8S => self.vbinary(I16X8, |t, a, b| t.builder.ins().snarrow(a, b)),
            O::I8x16NarrowI16x8U => self.vbinary(I16X8, |t, a, b| t.builder.ins().unarrow(a, b)),
            O::I16x8NarrowI32x4S => self.vbinary(I32X4, |t, a, b| t.builder.ins().snarrow(a, b)),
            O::I16x8NarrowI32x4U => self.vbinary(I32X4, |t, a, b| t.builder.ins().unarrow(a, b)),
            O::I16x8ExtendLowI8x16S => self.vunary(I8X16, |t, a| t.builder.ins().swiden_low(a)),
            O::I16x8ExtendHighI8x16S => self.vunary(I8X16, |t, a| t.builder.ins().swiden_high(a)),
            O::I16x8ExtendLowI8x16U => self.vunary(I8X16, |t, a| t.builder.ins().uwiden_low(a)),
            O::I16x8ExtendHighI8x16U => self.vunary(I8X16, |t, a| t.builder.ins().uwiden_high(a)),
            O::I32x4ExtendLowI16x8S => self.vunary(I16X8, |t, a| t.builder.ins().swiden_low(a)),
            O::I32x4ExtendHighI16x8S => self.vunary(I16X8, |t, a| t.builder.ins().swiden_high(a)),
            O::I32x4ExtendLowI16x8U => self.vunary(I16X8, |t, a| t.builder.ins().uwiden_low(a)),
            O::I32x4ExtendHighI16x8U => self.vunary(I16X8, |t, a| t.builder.ins().uwiden_high(a)),
            O::I64x2ExtendLowI32x4S => self.vunary(I32X4, |t, a| t.builder.ins().swiden_low(a)),
            O::I64x2ExtendHighI32x4S => self.vunary(I32X4, |t, a| t.builder.ins().swiden_high(a)),
            O::I64x2ExtendLowI32x4U => self.vunary(I32X4, |t, a| t.builder.ins().uwiden_low(a)),
            O::I64x2ExtendHighI32x4U => self.vunary(I32X4, |t, a| t.builder.ins().uwiden_high(a)),

            O::I8x16Shl => self.vshift(I8X16, |t, a, s| t.builder.ins().ishl(a, s)),
            O::I8x16ShrS => self.vshift(I8X16, |t, a, s| t.builder.ins().sshr(a, s)),
            O::I8x16ShrU => self.vshift(I8X16, |t, a, s| t.builder.ins().ushr(a, s)),
            O::I16x8Shl => self.vshift(I16X8, |t, a, s| t.builder.ins().ishl(a, s)),
            O::I16x8ShrS => self.vshift(I16X8, |t, a, s| t.builder.ins().sshr(a, s)),
            O::I16x8ShrU => self.vshift(I16X8, |t, a, s| t.builder.ins().ushr(a, s)),
            O::I32x4Shl => self.vshift(I32X4, |t, a, s| t.builder.ins().ishl(a, s)),
            O::I32x4ShrS => self.vshift(I32X4, |t, a, s| t.builder.ins().sshr(a, s)),
            O::I32x4ShrU => self.vshift(I32X4, |t, a, s| t.builder.ins().ushr(a, s)),
            O::I64x2Shl => self.vshift(I64X2, |t, a, s| t.builder.ins().ishl(a, s)),
            O::I64x2ShrS => self.vshift(I64X2, |t, a, s| t.builder.ins().sshr(a, s)),
            O::I64x2ShrU => self.vshift(I64X2, |t, a, s| t.builder.ins().ushr(a, s)),

            O::I8x16Add => self.vbinary(I8X16, |t, a, b| t.builder.ins().iadd(a, b)),
            O::I16x8Add => self.vbinary(I16X8, |t, a, b| t.builder.ins().iadd(a, b)),
            O::I32x4Add => self.vbinary(I32X4, |t, a, b| t.builder.ins().iadd(a, b)),
            O::I64x2Add => self.vbinary(I64X2, |t, a, b| t.builder.ins().iadd(a, b)),
            O::I8x16Sub => self.vbinary(I8X16, |t, a, b| t.builder.ins().isub(a, b)),
            O::I16x8Sub => self.vbinary(I16X8, |t, a, b| t.builder.ins().isub(a, b)),
            O::I32x4Sub => self.vbinary(I32X4, |t, a, b| t.builder.ins().isub(a, b)),
            O::I64x2Sub => self.vbinary(I64X2, |t, a, b| t.builder.ins().isub(a, b)),
            O::I16x8Mul => self.vbinary(I16X8, |t, a, b| t.builder.ins().imul(a, b)),
            O::I32x4Mul => self.vbinary(I32X4, |t, a, b| t.builder.ins().imul(a, b)),
            O::I64x2Mul => self.vbinary(I64X2, |t, a, b| t.builder.ins().imul(a, b)),
            O::I8x16AddSatS => self.vbinary(I8X16, |t, a, b| t.builder.ins().sadd_sat(a, b)),
            O::I8x16AddSatU => self.vbinary(I8X16, |t, a, b| t.builder.ins().uadd_sat(a, b)),
            O::I8x16SubSatS => self.vbinary(I8X16, |t, a, b| t.builder.ins().ssub_sat(a, b)),
            O::I8x16SubSatU => self.vbinary(I8X16, |t, a, b| t.builder.ins().usub_sat(a, b)),
            O::I16x8AddSatS => self.vbinary(I16X8, |t, a, b| t.builder.ins().sadd_sat(a, b)),
            O::I16x8AddSatU => self.vbinary(I16X8, |t, a, b| t.builder.ins().uadd_sat(a, b)),
            O::I16x8SubSatS => self.vbinary(I16X8, |t, a, b| t.builder.ins().ssub_sat(a, b)),
            O::I16x8SubSatU => self.vbinary(I16X8, |t, a, b| t.builder.ins().usub_sat(a, b)),
            O::I8x16MinS => self.vbinary(I8X16, |t, a, b| t.builder.ins().smin(a, b)),
            O::I8x16MinU => self.vbinary(I8X16, |t, a, b| t.builder.ins().umin(a, b)),
            O::I8x16MaxS => self.vbinary(I8X16, |t, a, b| t.builder.ins().smax(a, b)),
            O::I8x16MaxU => self.vbinary(I8X16, |t, a, b| t.builder.ins().umax(a, b)),
            O::I16x8MinS => self.vbinary(I16X8, |t, a, b| t.builder.ins().smin(a, b)),
            O::I16x8MinU => self.vbinary(I16X8, |t, a, b| t.builder.ins().umin(a, b)),
            O::I16x8MaxS => self.vbinary(I16X8, |t, a, b| t.builder.ins().smax(a, b)),
            O::I16x8MaxU => self.vbinary(I16X8, |t, a, b| t.builder.ins().umax(a, b)),
            O::I32x4MinS => self.vbinary(I32X4, |t, a, b| t.builder.ins().smin(a, b)),
            O::I32x4MinU => self.vbinary(I32X4, |t, a, b| t.builder.ins().umin(a, b)),
            O::I32x4MaxS => self.vbinary(I32X4, |t, a, b| t.builder.ins().smax(a, b)),
            O::I32x4MaxU => self.vbinary(I32X4, |t, a, b| t.builder.ins().umax(a, b)),
            O::I8x16AvgrU => self.vbinary(I8X16, |t, a, b| t.builder.ins().avg_round(a, b)),
            O::I16x8AvgrU => self.vbinary(I16X8, |t, a, b| t.builder.ins().avg_round(a, b)),
            O::I16x8Q15MulrSatS | O::I16x8RelaxedQ15mulrS => {
                self.vbinary(I16X8, |t, a, b| t.builder.ins().sqmul_round_sat(a, b))
            }
            O::I16x8ExtAddPairwiseI8x16S => self.ext_add_pairwise(I8X16, true),
            O::I16x8ExtAddPairwiseI8x16U => self.ext_add_pairwise(I8X16, false),
            O::I32x4ExtAddPairwiseI16x8S => self.ext_add_pairwise(I16X8, true),
            O::I32x4ExtAddPairwiseI16x8U => self.ext_add_pairwise(I16X8, false),
            O::I16x8ExtMulLowI8x16S => self.ext_mul(I8X16, false, true),
            O::I16x8ExtMulHighI8x16S => self.ext_mul(I8X16, true, true),
            O::I16x8ExtMulLowI8x16U => self.ext_mul(I8X16, false, false),
            O::I16x8ExtMulHighI8x16U => self.ext_mul(I8X16, true, false),
            O::I32x4ExtMulLowI16x8S => self.ext_mul(I16X8, false, true),
            O::I32x4ExtMulHighI16x8S => self.ext_mul(I16X8, true, true),
            O::I32x4ExtMulLowI16x8U => self.ext_mul(I16X8, false, false),
            O::I32x4ExtMulHighI16x8U => self.ext_mul(I16X8, true, false),
            O::I64x2ExtMulLowI32x4S => self.ext_mul(I32X4, false, true),
            O::I64x2ExtMulHighI32x4S => self.ext_mul(I32X4, true, true),
            O::I64x2ExtMulLowI32x4U => self.ext_mul(I32X4, false, false),
            O::I64x2ExtMulHighI32x4U => self.ext_mul(I32X4, true, false),
            O::I32x4DotI16x8S => self.vbinary(I16X8, |t, a, b| t.dot(a, b)),
            // Relaxed: i8 lanes of b are treated as signed (a permitted choice).
            O::I16x8RelaxedDotI8x16I7x16S => self.vbinary(I8X16, |t, a, b| t.dot(a, b)),
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop_vec(I32X4);
                let b = self.pop_vec(I8X16);
                let a = self.pop_vec(I8X16);
                let d16 = self.dot(a, b);
                let d32 = self.widened_pairwise_sum(d16, true);
                let r = self.builder.ins().iadd(d32, c);
                self.push_vec(r);
            }

            O::F32x4Ceil => self.vunary(F32X4, |t, a| t.builder.ins().ceil(a)),
            O::F32x4Floor => self.vunary(F32X4, |t, a| t.builder.ins().floor(a)),
            O::F32x4Trunc => self.vunary(F32X4, |t, a| t.builder.ins().trunc(a)),
            O::F32x4Nearest => self.vunary(F32X4, |t, a| t.builder.ins().nearest(a)),
            O::F32x4Abs => self.vunary(F32X4, |t, a| t.builder.ins().fabs(a)),
            O::F32x4Neg => self.vunary(F32X4, |t, a| t.builder.ins().fneg(a)),
            O::F32x4Sqrt => self.vunary(F32X4, |t, a| t.builder.ins().sqrt(a)),
            O::F64x2Ceil => self.vunary(F64X2, |t, a| t.builder.ins().ceil(a)),
            O::F64x2Floor => self.vunary(F64X2, |t, a| t.builder.ins().floor(a)),
            O::F64x2Trunc => self.vunary(F64X2, |t, a| t.builder.ins().trunc(a)),
            O::F64x2Nearest => self.vunary(F64X2, |t, a| t.builder.ins().nearest(a)),
            O::F64x2Abs => self.vunary(F64X2, |t, a| t.builder.ins().fabs(a)),
            O::F64x2Neg => self.vunary(F64X2, |t, a| t.builder.ins().fneg(a)),
            O::F64x2Sqrt => self.vunary(F64X2, |t, a| t.builder.ins().sqrt(a)),
            O::F32x4Add => self.vbinary(F32X4, |t, a, b| t.builder.ins().fadd(a, b)),
            O::F32x4Sub => self.vbinary(F32X4, |t, a, b| t.builder.ins().fsub(a, b)),
            O::F32x4Mul => self.vbinary(F32X4, |t, a, b| t.builder.ins().fmul(a, b)),
            O::F32x4Div => self.vbinary(F32X4, |t, a, b| t.builder.ins().fdiv(a, b)),
            O::F64x2Add => self.vbinary(F64X2, |t, a, b| t.builder.ins().fadd(a, b)),
            O::F64x2Sub => self.vbinary(F64X2, |t, a, b| t.builder.ins().fsub(a, b)),
            O::F64x2Mul => self.vbinary(F64X2, |t, a, b| t.builder.ins().fmul(a, b)),
            O::F64x2Div => self.vbinary(F64X2, |t, a, b| t.builder.ins().fdiv(a, b)),
            // Relaxed min/max take Wasm's strict semantics (a permitted choice).
            O::F32x4Min | O::F32x4RelaxedMin => {
                self.vbinary(F32X4, |t, a, b| t.builder.ins().fmin(a, b))
            }
            O::F32x4Max | O::F32x4RelaxedMax => {
                self.vbinary(F32X4, |t, a, b| t.builder.ins().fmax(a, b))
            }
            O::F64x2Min | O::F64x2RelaxedMin => {
                self.vbinary(F64X2, |t, a, b| t.builder.ins().fmin(a, b))
            }
            O::F64x2Max | O::F64x2RelaxedMax => {
                self.vbinary(F64X2, |t, a, b| t.builder.ins().fmax(a, b))
            }
            O::F32x4PMin => self.pseudo_min_max(F32X4, false),
            O::F32x4PMax => self.pseudo_min_max(F32X4, true),
            O::F64x2PMin => self.pseudo_min_max(F64X2, false),
            O::F64x2PMax => self.pseudo_min_max(F64X2, true),
            // Relaxed madd/nmadd: unfused multiply then add (deterministic on
            // every CPU, with or without FMA).
            O::F32x4RelaxedMadd
            | O::F32x4RelaxedNmadd
            | O::F64x2RelaxedMadd
            | O::F64x2RelaxedNmadd => {
                let ty = if matches!(op, O::F32x4RelaxedMadd | O::F32x4RelaxedNmadd) {
                    F32X4
                } else {
                    F64X2
                };
                let c = self.pop_vec(ty);
                let b = self.pop_vec(ty);
                let a = self.pop_vec(ty);
                let mut p = self.builder.ins().fmul(a, b);
                if matches!(op, O::F32x4RelaxedNmadd | O::F64x2RelaxedNmadd) {
                    p = self.builder.ins().fneg(p);
                }
                let r = self.builder.ins().fadd(p, c);
                self.push_vec(r);
            }

            O::I32x4TruncSatF32x4S | O::I32x4RelaxedTruncF32x4S => {
                self.vunary(F32X4, |t, a| t.builder.ins().fcvt_to_sint_sat(I32X4, a))
            }
            O::I32x4TruncSatF32x4U | O::I32x4RelaxedTruncF32x4U => {
                self.vunary(F32X4, |t, a| t.builder.ins().fcvt_to_uint_sat(I32X4, a))
            }
            O::I32x4TruncSatF64x2SZero | O::I32x4RelaxedTruncF64x2SZero => {
                self.trunc_sat_f64x2_zero(true)
            }
            O::I32x4TruncSatF64x2UZero | O::I32x4RelaxedTruncF64x2UZero => {
                self.trunc_sat_f64x2_zero(false)
            }
            O::F32x4ConvertI32x4S => {
                self.vunary(I32X4, |t, a| t.builder.ins().fcvt_from_sint(F32X4, a))
            }
            O::F32x4ConvertI32x4U => {
                self.vunary(I32X4, |t, a| t.builder.ins().fcvt_from_uint(F32X4, a))
            }
            O::F64x2ConvertLowI32x4S => self.vunary(I32X4, |t, a| {
                let w = t.builder.ins().swiden_low(a);
                t.builder.ins().fcvt_from_sint(F64X2, w)
            }),
            O::F64x2ConvertLowI32x4U => self.vunary(I32X4, |t, a| {
                let w = t.builder.ins().uwiden_low(a);
                t.builder.ins().fcvt_from_uint(F64X2, w)
            }),
            O::F32x4DemoteF64x2Zero => self.vunary(F64X2, |t, a| t.builder.ins().fvdemote(a)),
            O::F64x2PromoteLowF32x4 => self.vunary(F32X4, |t, a| t.builder.ins().fvpromote_low(a)),
            _ => return false,
        }
        true
    }
}
