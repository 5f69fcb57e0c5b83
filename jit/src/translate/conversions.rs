//! Conversions between value types: wrap/extend, trapping and saturating
//! float-to-int, int-to-float, demote/promote, reinterpret, sign extension.

use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use wasmparser::Operator;

use super::FuncTranslator;

impl FuncTranslator<'_, '_> {
    fn convert(&mut self, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop();
        let v = f(self, a);
        self.push(v);
    }

    /// `iN.extendM_s`: keep the low M bits, sign-extend them back to N.
    fn sign_extend_low(&mut self, narrow: Type, wide: Type) {
        self.convert(|t, a| {
            let low = t.builder.ins().ireduce(narrow, a);
            t.builder.ins().sextend(wide, low)
        });
    }

    /// Translates a conversion operator; false if `op` is not one.
    pub(crate) fn translate_conversion(&mut self, op: &Operator<'_>) -> bool {
        use types::{F32, F64, I16, I32, I64, I8};
        use Operator as O;
        match op {
            O::I32WrapI64 => self.convert(|t, a| t.builder.ins().ireduce(I32, a)),
            O::I64ExtendI32S => self.convert(|t, a| t.builder.ins().sextend(I64, a)),
            O::I64ExtendI32U => self.convert(|t, a| t.builder.ins().uextend(I64, a)),
            O::I32Extend8S => self.sign_extend_low(I8, I32),
            O::I32Extend16S => self.sign_extend_low(I16, I32),
            O::I64Extend8S => self.sign_extend_low(I8, I64),
            O::I64Extend16S => self.sign_extend_low(I16, I64),
            O::I64Extend32S => self.sign_extend_low(I32, I64),
            // Cranelift's fcvt_to_* trap with BAD_CONVERSION_TO_INTEGER on
            // NaN and INTEGER_OVERFLOW out of range: Wasm's two traps.
            O::I32TruncF32S | O::I32TruncF64S => {
                self.convert(|t, a| t.builder.ins().fcvt_to_sint(I32, a))
            }
            O::I32TruncF32U | O::I32TruncF64U => {
                self.convert(|t, a| t.builder.ins().fcvt_to_uint(I32, a))
            }
            O::I64TruncF32S | O::I64TruncF64S => {
                self.convert(|t, a| t.builder.ins().fcvt_to_sint(I64, a))
            }
            O::I64TruncF32U | O::I64TruncF64U => {
                self.convert(|t, a| t.builder.ins().fcvt_to_uint(I64, a))
            }
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.convert(|t, a| t.builder.ins().fcvt_to_sint_sat(I32, a))
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.convert(|t, a| t.builder.ins().fcvt_to_uint_sat(I32, a))
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.convert(|t, a| t.builder.ins().fcvt_to_sint_sat(I64, a))
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.convert(|t, a| t.builder.ins().fcvt_to_uint_sat(I64, a))
            }
            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.convert(|t, a| t.builder.ins().fcvt_from_sint(F32, a))
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.convert(|t, a| t.builder.ins().fcvt_from_uint(F32, a))
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.convert(|t, a| t.builder.ins().fcvt_from_sint(F64, a))
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.convert(|t, a| t.builder.ins().fcvt_from_uint(F64, a))
            }
            O::F32DemoteF64 => self.convert(|t, a| t.builder.ins().fdemote(F32, a)),
            O::F64PromoteF32 => self.convert(|t, a| t.builder.ins().fpromote(F64, a)),
            O::I32ReinterpretF32 => {
                self.convert(|t, a| t.builder.ins().bitcast(I32, MemFlagsData::new(), a))
            }
            O::I64ReinterpretF64 => {
                self.convert(|t, a| t.builder.ins().bitcast(I64, MemFlagsData::new(), a))
            }
            O::F32ReinterpretI32 => {
                self.convert(|t, a| t.builder.ins().bitcast(F32, MemFlagsData::new(), a))
            }
            O::F64ReinterpretI64 => {
                self.convert(|t, a| t.builder.ins().bitcast(F64, MemFlagsData::new(), a))
            }
            _ => return false,
        }
        true
    }
}
