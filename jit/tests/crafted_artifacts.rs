//! A precompiled module whose bytes were changed and whose checksum was
//! made to match again (a crafted file, or damage the checksum missed)
//! decodes and places as an error or as placed code, never as a panic,
//! in this crate: every byte after the header, changed three ways. (The
//! runtime trusts the binary of a file that passes its checks, which
//! this build validated when it compiled it: a crafted binary may make it
//! panic, as crafted code may do anything; loading is `unsafe`.)

use walmart_jit::{artifact, module_info, Compiler, TranslateConfig};

const WAT: &str = r#"(module
  (memory 1)
  (table 2 funcref)
  (global $g (mut i32) (i32.const 3))
  (elem (i32.const 0) $a $b)
  (data (i32.const 16) "walmart")
  (func $a (param i32) (result i32) (i32.div_u (global.get $g) (local.get 0)))
  (func $b (param i32) (result i32) (call $a (i32.load (local.get 0))))
  (func (export "c") (param i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 0) (local.get 0))))"#;

/// Bytes before the checksummed part: magic, version, checksum.
const HEADER: usize = 8 + 4 + 8;

/// Makes the checksum match the bytes after it again.
fn reseal(bytes: &mut [u8]) {
    let sum = twox_hash::XxHash3_64::oneshot(&bytes[HEADER..]);
    bytes[HEADER - 8..HEADER].copy_from_slice(&sum.to_le_bytes());
}

/// Loads `bytes` as the runtime does, up to placing the code (which is
/// not run); whether it loaded.
fn load(compiler: &Compiler, bytes: &[u8]) -> bool {
    let Ok(a) = artifact::decode(bytes) else {
        return false;
    };
    let proposals = compiler.config().proposals;
    let Ok(info) = module_info::parse_precompiled(a.wasm, proposals) else {
        return false;
    };
    match compiler.place_compiled(a.wasm, &info, a.image(), a.facts.clone(), None) {
        Ok(module) => {
            module.code.unregister();
            true
        }
        Err(_) => false,
    }
}

#[test]
fn changed_bytes_with_a_matching_checksum_never_panic() {
    let compiler = Compiler::new(TranslateConfig::default()).unwrap();
    let wasm = wat::parse_str(WAT).unwrap();
    let info = module_info::parse(&wasm, compiler.config().proposals).unwrap();
    let module = compiler.compile_module(&wasm, &info).unwrap();
    let bytes = artifact::encode("fp", &wasm, module.facts(), module.code.image(), None);
    module.code.unregister();
    assert!(load(&compiler, &bytes));
    let (mut loaded, mut refused) = (0, 0);
    for i in HEADER..bytes.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut changed = bytes.clone();
            changed[i] ^= flip;
            reseal(&mut changed);
            if load(&compiler, &changed) {
                loaded += 1;
            } else {
                refused += 1;
            }
        }
    }
    // Changed code bytes still place; changed lengths, counts, indices
    // and the table are refused.
    eprintln!("{} bytes: {loaded} loaded, {refused} refused", bytes.len());
    assert!(
        loaded > 0 && refused > 0,
        "{loaded} loaded, {refused} refused"
    );
}
