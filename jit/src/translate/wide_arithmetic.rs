//! The wide-arithmetic proposal: `i64.add128` and `i64.sub128` of 128-bit
//! integers held as (low, high) pairs of `i64`s, and `i64.mul_wide_s`/
//! `i64.mul_wide_u`, the full 128-bit product of two `i64`s. Cranelift
//! does the arithmetic on `i128` values, split back into halves.

use cranelift_codegen::ir::{types, InstBuilder};
use wasmparser::Operator;

use super::FuncTranslator;

impl FuncTranslator<'_, '_> {
    /// Translates `op` if it is one of the proposal's; false for any
    /// other operator.
    pub(crate) fn translate_wide_arithmetic(&mut self, op: &Operator<'_>) -> bool {
        let wide = match op {
            Operator::I64Add128 | Operator::I64Sub128 => {
                let (b_lo, b_hi) = self.pop2();
                let (a_lo, a_hi) = self.pop2();
                let ins = self.builder.ins();
                let a = ins.iconcat(a_lo, a_hi);
                let b = self.builder.ins().iconcat(b_lo, b_hi);
                if let Operator::I64Add128 = op {
                    self.builder.ins().iadd(a, b)
                } else {
                    self.builder.ins().isub(a, b)
                }
            }
            Operator::I64MulWideS | Operator::I64MulWideU => {
                let (a, b) = self.pop2();
                let signed = matches!(op, Operator::I64MulWideS);
                let mut extend = |v| {
                    if signed {
                        self.builder.ins().sextend(types::I128, v)
                    } else {
                        self.builder.ins().uextend(types::I128, v)
                    }
                };
                let (a, b) = (extend(a), extend(b));
                self.builder.ins().imul(a, b)
            }
            _ => return false,
        };
        let (lo, hi) = self.builder.ins().isplit(wide);
        self.push(lo);
        self.push(hi);
        true
    }
}
