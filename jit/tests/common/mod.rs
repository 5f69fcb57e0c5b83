//! What the generated-code tests share.

use walmart_jit::{Compiler, TranslateConfig};

/// Cranelift's IR of function `index` of the module `wat`, translated
/// under `config`.
pub fn function_ir(config: TranslateConfig, wat: &str, index: u32) -> String {
    let compiler = Compiler::new(config).unwrap();
    let wasm = wat::parse_str(wat).unwrap();
    compiler.function_ir(&wasm, index).unwrap()
}
