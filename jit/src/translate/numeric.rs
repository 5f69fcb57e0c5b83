//! Integer and float arithmetic, bitwise operators and comparisons
//! (`i32.add`, `i64.div_s`, `f32.min`, `f64.nearest`, `i32.eqz`, ...).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value};
use wasmparser::Operator;

use super::FuncTranslator;
use crate::trap::TrapKind;

impl FuncTranslator<'_, '_> {
    fn binary(&mut self, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(self, a, b);
        self.push(v);
    }

    fn unary(&mut self, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop();
        let v = f(self, a);
        self.push(v);
    }

    fn icmp(&mut self, cc: IntCC) {
        self.binary(|t, a, b| {
            let c = t.builder.ins().icmp(cc, a, b);
            t.builder.ins().uextend(types::I32, c)
        });
    }

    fn fcmp(&mut self, cc: FloatCC) {
        self.binary(|t, a, b| {
            let c = t.builder.ins().fcmp(cc, a, b);
            t.builder.ins().uextend(types::I32, c)
        });
    }

    /// Signed division: Wasm traps on a zero divisor and on `MIN / -1`.
    fn sdiv(&mut self, a: Value, b: Value) -> Value {
        let ty = self.builder.func.dfg.value_type(a);
        let zero = self.builder.ins().icmp_imm_s(IntCC::Equal, b, 0);
        self.trap_if(zero, TrapKind::IntegerDivisionByZero);
        let min = if ty == types::I32 {
            i32::MIN as i64
        } else {
            i64::MIN
        };
        let is_min = self.builder.ins().icmp_imm_s(IntCC::Equal, a, min);
        let is_neg1 = self.builder.ins().icmp_imm_s(IntCC::Equal, b, -1);
        let overflow = self.builder.ins().band(is_min, is_neg1);
        self.trap_if(overflow, TrapKind::IntegerOverflow);
        self.builder.ins().sdiv(a, b)
    }

    /// Signed remainder: traps on zero; `MIN % -1` is 0 in Wasm, so a -1
    /// divisor is replaced by 1 (same result, no hardware overflow).
    fn srem(&mut self, a: Value, b: Value) -> Value {
        let ty = self.builder.func.dfg.value_type(a);
        let zero = self.builder.ins().icmp_imm_s(IntCC::Equal, b, 0);
        self.trap_if(zero, TrapKind::IntegerDivisionByZero);
        let is_neg1 = self.builder.ins().icmp_imm_s(IntCC::Equal, b, -1);
        let one = self.builder.ins().iconst(ty, 1);
        let divisor = self.builder.ins().select(is_neg1, one, b);
        self.builder.ins().srem(a, divisor)
    }

    fn udiv_or_rem(&mut self, a: Value, b: Value, rem: bool) -> Value {
        let zero = self.builder.ins().icmp_imm_s(IntCC::Equal, b, 0);
        self.trap_if(zero, TrapKind::IntegerDivisionByZero);
        if rem {
            self.builder.ins().urem(a, b)
        } else {
            self.builder.ins().udiv(a, b)
        }
    }

    /// Translates a numeric operator; false if `op` is not one.
    pub(crate) fn translate_numeric(&mut self, op: &Operator<'_>) -> bool {
        use Operator as O;
        match op {
            O::I32Const { value } => {
                let v = self.builder.ins().iconst(types::I32, i64::from(*value));
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.builder.ins().iconst(types::I64, *value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.builder.ins().f32const(f32::from_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.builder.ins().f64const(f64::from_bits(value.bits()));
                self.push(v);
            }
            O::I32Eqz | O::I64Eqz => self.unary(|t, a| {
                let c = t.builder.ins().icmp_imm_s(IntCC::Equal, a, 0);
                t.builder.ins().uextend(types::I32, c)
            }),
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),
            O::I32Clz | O::I64Clz => self.unary(|t, a| t.builder.ins().clz(a)),
            O::I32Ctz | O::I64Ctz => self.unary(|t, a| t.builder.ins().ctz(a)),
            O::I32Popcnt | O::I64Popcnt => self.unary(|t, a| t.builder.ins().popcnt(a)),
            O::I32Add | O::I64Add => self.binary(|t, a, b| t.builder.ins().iadd(a, b)),
            O::I32Sub | O::I64Sub => self.binary(|t, a, b| t.builder.ins().isub(a, b)),
            O::I32Mul | O::I64Mul => self.binary(|t, a, b| t.builder.ins().imul(a, b)),
            O::I32DivS | O::I64DivS => self.binary(|t, a, b| t.sdiv(a, b)),
            O::I32DivU | O::I64DivU => self.binary(|t, a, b| t.udiv_or_rem(a, b, false)),
            O::I32RemS | O::I64RemS => self.binary(|t, a, b| t.srem(a, b)),
            O::I32RemU | O::I64RemU => self.binary(|t, a, b| t.udiv_or_rem(a, b, true)),
            O::I32And | O::I64And => self.binary(|t, a, b| t.builder.ins().band(a, b)),
            O::I32Or | O::I64Or => self.binary(|t, a, b| t.builder.ins().bor(a, b)),
            O::I32Xor | O::I64Xor => self.binary(|t, a, b| t.builder.ins().bxor(a, b)),
            // Cranelift masks shift and rotate amounts by the type width,
            // exactly as Wasm specifies.
            O::I32Shl | O::I64Shl => self.binary(|t, a, b| t.builder.ins().ishl(a, b)),
            O::I32ShrS | O::I64ShrS => self.binary(|t, a, b| t.builder.ins().sshr(a, b)),
            O::I32ShrU | O::I64ShrU => self.binary(|t, a, b| t.builder.ins().ushr(a, b)),
            O::I32Rotl | O::I64Rotl => self.binary(|t, a, b| t.builder.ins().rotl(a, b)),
            O::I32Rotr | O::I64Rotr => self.binary(|t, a, b| t.builder.ins().rotr(a, b)),
            O::F32Abs | O::F64Abs => self.unary(|t, a| t.builder.ins().fabs(a)),
            O::F32Neg | O::F64Neg => self.unary(|t, a| t.builder.ins().fneg(a)),
            O::F32Ceil | O::F64Ceil => self.unary(|t, a| t.builder.ins().ceil(a)),
            O::F32Floor | O::F64Floor => self.unary(|t, a| t.builder.ins().floor(a)),
            O::F32Trunc | O::F64Trunc => self.unary(|t, a| t.builder.ins().trunc(a)),
            O::F32Nearest | O::F64Nearest => self.unary(|t, a| t.builder.ins().nearest(a)),
            O::F32Sqrt | O::F64Sqrt => self.unary(|t, a| t.builder.ins().sqrt(a)),
            O::F32Add | O::F64Add => self.binary(|t, a, b| t.builder.ins().fadd(a, b)),
            O::F32Sub | O::F64Sub => self.binary(|t, a, b| t.builder.ins().fsub(a, b)),
            O::F32Mul | O::F64Mul => self.binary(|t, a, b| t.builder.ins().fmul(a, b)),
            O::F32Div | O::F64Div => self.binary(|t, a, b| t.builder.ins().fdiv(a, b)),
            // Cranelift's fmin/fmax have Wasm's NaN and signed-zero rules.
            O::F32Min | O::F64Min => self.binary(|t, a, b| t.builder.ins().fmin(a, b)),
            O::F32Max | O::F64Max => self.binary(|t, a, b| t.builder.ins().fmax(a, b)),
            O::F32Copysign | O::F64Copysign => {
                self.binary(|t, a, b| t.builder.ins().fcopysign(a, b))
            }
            _ => return false,
        }
        true
    }
}
