//! The traps walmart's generated code can raise, and their mapping to and
//! from Cranelift trap codes (the codes recorded in the trap tables).

use cranelift_codegen::ir::TrapCode;

/// A reason for a Wasm trap. The `Display` text is the spec's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapKind {
    StackOverflow,
    MemoryOutOfBounds,
    IntegerOverflow,
    IntegerDivisionByZero,
    BadConversionToInteger,
    Unreachable,
    IndirectCallTypeMismatch,
    /// `call_indirect` index past the end of the table.
    UndefinedElement,
    /// `call_indirect` through a null entry.
    UninitializedElement,
    TableOutOfBounds,
    /// A host function returned an error or panicked; the error itself is
    /// kept by the runtime.
    HostError,
    /// `ref.as_non_null` of null.
    NullReference,
    /// `call_ref` or `return_call_ref` of null.
    NullFunctionReference,
    /// An attestation hook found corruption and the policy is to stop.
    AttestationViolation,
    /// An exception would unwind into a frame of a module that uses no
    /// exception handling (compiled without the tests that pass it on).
    UnhandledException,
    /// `ref.cast` of a value not of the type.
    CastFailure,
    /// `i31.get_s`/`i31.get_u` of null.
    NullI31Reference,
    /// A struct access through null.
    NullStructReference,
    /// An array access through null.
    NullArrayReference,
    /// An array access past the array's length.
    ArrayOutOfBounds,
    /// A GC allocation past the store's GC heap limit.
    GcHeapExhausted,
    /// An atomic access whose effective address is not a multiple of its
    /// size.
    UnalignedAtomic,
    /// `memory.atomic.wait32`/`wait64` on a memory that is not shared
    /// (no other thread could ever notify it).
    AtomicWaitNonShared,
    /// `struct.new_desc`, `ref.cast_desc_eq` or `br_on_cast_desc_eq` given
    /// a null descriptor.
    NullDescriptorReference,
    /// `ref.cast_desc_eq` of a value that is not of the type or has
    /// another descriptor.
    DescriptorCastFailure,
    /// The engine's epoch reached the store's deadline
    /// (`epoch_interruption`).
    Interrupt,
    /// The store's fuel ran out (`consume_fuel`).
    OutOfFuel,
}

impl TrapKind {
    /// The spec testsuite's text for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::StackOverflow => "call stack exhausted",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::IntegerDivisionByZero => "integer divide by zero",
            TrapKind::BadConversionToInteger => "invalid conversion to integer",
            TrapKind::Unreachable => "unreachable executed",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::HostError => "host function error",
            TrapKind::NullReference => "null reference",
            TrapKind::NullFunctionReference => "null function reference",
            TrapKind::AttestationViolation => "attestation detected memory corruption",
            TrapKind::UnhandledException => {
                "exception unwound into a module that does not use exception handling"
            }
            TrapKind::CastFailure => "cast failure",
            TrapKind::NullI31Reference => "null i31 reference",
            TrapKind::NullStructReference => "null structure reference",
            TrapKind::NullArrayReference => "null array reference",
            TrapKind::ArrayOutOfBounds => "out of bounds array access",
            TrapKind::GcHeapExhausted => "GC heap exhausted",
            TrapKind::UnalignedAtomic => "unaligned atomic",
            TrapKind::AtomicWaitNonShared => "atomic wait on non-shared memory",
            TrapKind::NullDescriptorReference => "null descriptor reference",
            TrapKind::DescriptorCastFailure => "descriptor cast failure",
            TrapKind::Interrupt => "interrupt",
            TrapKind::OutOfFuel => "all fuel consumed by WebAssembly",
        }
    }

    /// The Cranelift trap code generated code uses for this trap.
    pub fn code(self) -> TrapCode {
        match self {
            TrapKind::StackOverflow => TrapCode::STACK_OVERFLOW,
            TrapKind::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
            TrapKind::IntegerOverflow => TrapCode::INTEGER_OVERFLOW,
            TrapKind::IntegerDivisionByZero => TrapCode::INTEGER_DIVISION_BY_ZERO,
            TrapKind::BadConversionToInteger => TrapCode::BAD_CONVERSION_TO_INTEGER,
            TrapKind::Unreachable => TrapCode::unwrap_user(1),
            TrapKind::IndirectCallTypeMismatch => TrapCode::unwrap_user(2),
            TrapKind::UndefinedElement => TrapCode::unwrap_user(3),
            TrapKind::UninitializedElement => TrapCode::unwrap_user(4),
            TrapKind::TableOutOfBounds => TrapCode::unwrap_user(5),
            TrapKind::HostError => TrapCode::unwrap_user(6),
            TrapKind::NullReference => TrapCode::unwrap_user(7),
            TrapKind::AttestationViolation => TrapCode::unwrap_user(8),
            TrapKind::NullFunctionReference => TrapCode::unwrap_user(9),
            TrapKind::UnhandledException => TrapCode::unwrap_user(10),
            TrapKind::CastFailure => TrapCode::unwrap_user(11),
            TrapKind::NullI31Reference => TrapCode::unwrap_user(12),
            TrapKind::NullStructReference => TrapCode::unwrap_user(13),
            TrapKind::NullArrayReference => TrapCode::unwrap_user(14),
            TrapKind::ArrayOutOfBounds => TrapCode::unwrap_user(15),
            TrapKind::GcHeapExhausted => TrapCode::unwrap_user(16),
            TrapKind::UnalignedAtomic => TrapCode::unwrap_user(17),
            TrapKind::AtomicWaitNonShared => TrapCode::unwrap_user(18),
            TrapKind::NullDescriptorReference => TrapCode::unwrap_user(19),
            TrapKind::DescriptorCastFailure => TrapCode::unwrap_user(20),
            TrapKind::Interrupt => TrapCode::unwrap_user(21),
            TrapKind::OutOfFuel => TrapCode::unwrap_user(22),
        }
    }

    /// The trap for a Cranelift trap code found in a trap table.
    pub fn from_code(code: TrapCode) -> Option<TrapKind> {
        const ALL: [TrapKind; 27] = [
            TrapKind::StackOverflow,
            TrapKind::MemoryOutOfBounds,
            TrapKind::IntegerOverflow,
            TrapKind::IntegerDivisionByZero,
            TrapKind::BadConversionToInteger,
            TrapKind::Unreachable,
            TrapKind::IndirectCallTypeMismatch,
            TrapKind::UndefinedElement,
            TrapKind::UninitializedElement,
            TrapKind::TableOutOfBounds,
            TrapKind::HostError,
            TrapKind::NullReference,
            TrapKind::NullFunctionReference,
            TrapKind::AttestationViolation,
            TrapKind::UnhandledException,
            TrapKind::CastFailure,
            TrapKind::NullI31Reference,
            TrapKind::NullStructReference,
            TrapKind::NullArrayReference,
            TrapKind::ArrayOutOfBounds,
            TrapKind::GcHeapExhausted,
            TrapKind::UnalignedAtomic,
            TrapKind::AtomicWaitNonShared,
            TrapKind::NullDescriptorReference,
            TrapKind::DescriptorCastFailure,
            TrapKind::Interrupt,
            TrapKind::OutOfFuel,
        ];
        ALL.into_iter().find(|k| k.code() == code)
    }
}

impl std::fmt::Display for TrapKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}
