//! Precompiled modules (`Module::serialize`, `Module::deserialize`): code
//! saved by one engine runs in another with the same settings, whatever
//! types that engine registered first; other settings, damaged bytes and
//! plain binaries are refused with a clear error.

mod common;

use walmart::{Config, Engine, Linker, Module, Store, Val};

/// Types whose engine-wide ids and info records the code names: exact and
/// subtype function checks at `call_indirect`, `ref.test` of functions,
/// of final and non-final structs, struct allocation.
const WAT: &str = r#"(module $typed
    (type $s (sub (struct (field i32))))
    (type $t (sub $s (struct (field i32) (field i64))))
    (type $u (struct (field f32)))
    (type $f (func (param i32) (result i32)))
    (type $g (sub (func (result i32))))
    (type $h (sub $g (func (result i32))))
    (table 4 funcref)
    (elem (i32.const 0) func $double $seven $eight)
    (func $double (type $f) (i32.mul (local.get 0) (i32.const 2)))
    (func $seven (type $g) (i32.const 7))
    (func $eight (type $h) (i32.const 8))
    (func (export "indirect") (param i32 i32) (result i32)
        (call_indirect (type $f) (local.get 0) (local.get 1)))
    (func (export "sub_indirect") (param i32) (result i32)
        (call_indirect (type $g) (local.get 0)))
    (func (export "func_test") (param i32) (result i32)
        (i32.add
            (i32.mul (ref.test (ref $f) (table.get (local.get 0))) (i32.const 10))
            (ref.test (ref $g) (table.get (local.get 0)))))
    (func (export "struct_test") (param i32) (result i32)
        (local $r anyref)
        (local.set $r
            (if (result anyref) (i32.eqz (local.get 0))
                (then (struct.new $s (i32.const 4)))
                (else (if (result anyref) (i32.eq (local.get 0) (i32.const 1))
                    (then (struct.new $t (i32.const 5) (i64.const 6)))
                    (else (struct.new $u (f32.const 1.5)))))))
        (i32.add
            (i32.add
                (i32.mul (ref.test (ref $t) (local.get $r)) (i32.const 100))
                (i32.mul (ref.test (ref $s) (local.get $r)) (i32.const 10)))
            (ref.test (ref $u) (local.get $r))))
    (func (export "cast_field") (param i32) (result i32)
        (struct.get $s 0
            (ref.cast (ref $s)
                (if (result anyref) (local.get 0)
                    (then (struct.new $t (i32.const 41) (i64.const 0)))
                    (else (struct.new $u (f32.const 0)))))))
    (func $inner (param i32) (result i32)
        (if (local.get 0) (then unreachable))
        (i32.const 1))
    (func (export "boom") (param i32) (result i32)
        (call $inner (local.get 0)))
)"#;

/// Every export's answer to a set of arguments, errors as their first
/// line.
fn answers(engine: &Engine, module: &Module) -> Vec<String> {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, module).unwrap();
    let mut out = Vec::new();
    let cases: &[(&str, &[i32])] = &[
        ("indirect", &[21, 0]),
        ("indirect", &[21, 1]),
        ("indirect", &[21, 3]),
        ("indirect", &[21, 9]),
        ("sub_indirect", &[0]),
        ("sub_indirect", &[1]),
        ("sub_indirect", &[2]),
        ("func_test", &[0]),
        ("func_test", &[1]),
        ("func_test", &[2]),
        ("struct_test", &[0]),
        ("struct_test", &[1]),
        ("struct_test", &[2]),
        ("cast_field", &[1]),
        ("cast_field", &[0]),
        ("boom", &[0]),
        ("boom", &[1]),
    ];
    for (name, args) in cases {
        let args: Vec<Val> = args.iter().map(|a| Val::I32(*a)).collect();
        out.push(format!(
            "{name}{args:?} = {:?}",
            common::call(&mut store, &instance, name, &args)
        ));
    }
    out
}

/// An engine in which other modules' types were registered first, so the
/// ids and records of `WAT`'s types differ from a fresh engine's.
fn crowded_engine(config: &Config) -> Engine {
    let engine = Engine::new(config).unwrap();
    for i in 0..20 {
        let wat = format!(
            "(module (type (func (param {}) (result i64))) \
             (type (sub (struct (field i64) (field i32) (field (mut i{})))))\
             (func (export \"f{i}\") (type 0) (i64.const {i})))",
            "i32 ".repeat(i + 1),
            if i % 2 == 0 { 32 } else { 64 }
        );
        Module::new(&engine, wat).unwrap();
    }
    engine
}

#[test]
fn code_saved_by_one_engine_runs_in_another_under_every_policy() {
    for (name, config) in common::policy_configs(true) {
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        let expected = answers(&engine, &module);
        assert!(
            expected[0].contains("Ok(I32(42))") && expected[1].contains("type mismatch"),
            "{name}: {expected:?}"
        );
        assert!(expected[6].contains("Ok(I32(8))"), "{name}: {expected:?}");
        assert!(
            expected[11].contains("Ok(I32(110))"),
            "{name}: {expected:?}"
        );
        assert!(expected[12].contains("Ok(I32(1))"), "{name}: {expected:?}");
        let saved = module.serialize().unwrap();

        let other = crowded_engine(&config);
        // SAFETY: the bytes were written by `module.serialize` just now.
        let loaded = unsafe { Module::deserialize(&other, &saved) }.unwrap();
        assert_eq!(answers(&other, &loaded), expected, "{name}");
        assert_eq!(loaded.name(), Some("typed"));
        assert_eq!(
            loaded
                .exports()
                .map(|(n, _)| n.to_string())
                .collect::<Vec<_>>(),
            module
                .exports()
                .map(|(n, _)| n.to_string())
                .collect::<Vec<_>>()
        );

        // Saved again from the loaded module (code relocated once
        // already) and loaded into a third engine.
        let again = loaded.serialize().unwrap();
        let third = crowded_engine(&config);
        Module::new(&third, "(module (type (func (param f64))))").unwrap();
        // SAFETY: as above.
        let reloaded = unsafe { Module::deserialize(&third, &again) }.unwrap();
        assert_eq!(answers(&third, &reloaded), expected, "{name}, saved twice");
    }
}

#[test]
fn traps_keep_their_wasm_frames() {
    let engine = Engine::new(&Config::new()).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let saved = module.serialize().unwrap();
    // SAFETY: written by `module.serialize` just now.
    let loaded = unsafe { Module::deserialize(&engine, &saved) }.unwrap();
    let backtrace = |module: &Module| {
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, module)
            .unwrap();
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, "boom")
            .unwrap();
        let e = f.call(&mut store, 1).unwrap_err();
        match e {
            walmart::Error::Trap(t) => {
                assert_eq!(t.kind(), walmart::TrapKind::Unreachable);
                t.backtrace()
            }
            other => panic!("{other}"),
        }
    };
    let original = backtrace(&module);
    assert!(original.contains("inner"), "{original}");
    assert_eq!(backtrace(&loaded), original);
}

#[test]
fn other_settings_are_refused_naming_the_setting() {
    let engine = Engine::new(&Config::new()).unwrap();
    let saved = Module::new(&engine, WAT).unwrap().serialize().unwrap();
    let mut fuel = Config::new();
    fuel.consume_fuel(true);
    let mut fine = Config::new();
    fine.attest(walmart::attest::Policy::Fine);
    let mut checked = Config::new();
    checked.guarded_memory(false);
    let mut epochs = Config::new();
    epochs.epoch_interruption(true);
    let mut no_gc = Config::new();
    no_gc.wasm_2_0_only();
    for (config, setting) in [
        (fuel, "consume_fuel"),
        (fine, "attest"),
        (checked, "guard_size"),
        (epochs, "epoch_interruption"),
        (no_gc, "proposals"),
    ] {
        let other = Engine::new(&config).unwrap();
        // SAFETY: written by this build; refused before any code is placed.
        let e = unsafe { Module::deserialize(&other, &saved) }
            .unwrap_err()
            .to_string();
        let says = if setting == "attest" {
            "compiled for another attestation policy"
        } else {
            "compiled with other settings"
        };
        assert!(
            e.contains(says) && e.contains(&format!("`{setting}:")),
            "{setting}: {e}"
        );
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}

#[test]
fn damaged_bytes_and_plain_binaries_get_clear_errors() {
    let engine = Engine::new(&Config::new()).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let saved = module.serialize().unwrap();
    let load = |bytes: &[u8]| {
        // SAFETY: every case is refused before code is placed (checked).
        unsafe { Module::deserialize(&engine, bytes) }
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    for cut in [0, 7, 20, saved.len() / 2, saved.len() - 1] {
        let e = load(&saved[..cut]);
        assert!(e.starts_with("precompiled module:"), "cut at {cut}: {e}");
    }
    for at in [12, 40, saved.len() / 3, saved.len() - 3] {
        let mut damaged = saved.clone();
        damaged[at] ^= 0x40;
        let e = load(&damaged);
        assert!(e.contains("checksum"), "byte {at}: {e}");
    }
    let mut newer = saved.clone();
    newer[8] = newer[8].wrapping_add(1);
    assert!(load(&newer).contains("format version"));
    let wasm = wat::parse_str(WAT).unwrap();
    assert!(load(&wasm).contains("not a precompiled walmart module"));

    let e = Module::new(&engine, &saved).unwrap_err().to_string();
    assert!(e.contains("Module::deserialize"), "{e}");
    assert_eq!(
        engine.detect_precompiled(&saved),
        Some(walmart::Precompiled::Module)
    );
    assert_eq!(engine.detect_precompiled(&wasm), None);
    // SAFETY: the file does not exist.
    let e = unsafe { Module::deserialize_file(&engine, "/nonexistent/x.cwasm") }
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/x.cwasm"), "{e}");
}

#[test]
fn precompile_module_is_serialize_of_new() {
    let engine = Engine::new(&Config::new()).unwrap();
    let saved = engine.precompile_module(WAT.as_bytes()).unwrap();
    // SAFETY: written by this engine just now.
    let loaded = unsafe { Module::deserialize(&engine, &saved) }.unwrap();
    let fresh = Module::new(&engine, WAT).unwrap();
    assert_eq!(answers(&engine, &loaded), answers(&engine, &fresh));
    let e = engine
        .precompile_module(b"(module (func (result i32)))")
        .unwrap_err()
        .to_string();
    assert!(!e.is_empty());
}

/// Whether this process maps `path` (`/proc/self/maps`).
fn maps(path: &std::path::Path) -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .contains(path.to_str().unwrap())
}

/// Whether this process runs code mapped from `path` (an executable
/// mapping of it).
fn runs_code_of(path: &std::path::Path) -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .any(|l| l.contains(path.to_str().unwrap()) && l.contains(" r-xp "))
}

/// `Module::deserialize_file` maps the file (its code runs from the
/// file's pages, under every policy) and keeps it mapped while the module
/// lives; a file replaced by renaming another over it (as `walmart
/// compile` and the cache do) leaves the loaded module as it was; a saved
/// module saves again the same as the one compiled.
#[test]
fn a_file_loaded_is_mapped_and_outlives_its_replacement() {
    // Under the target directory: /tmp may be mounted `noexec`, where the
    // code is copied instead (and this test would not see it mapped).
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("walmart-mapped-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("typed.cwasm");
    for (name, config) in common::policy_configs(true) {
        let engine = Engine::new(&config).unwrap();
        let compiled = Module::new(&engine, WAT).unwrap();
        let expected = answers(&engine, &compiled);
        std::fs::write(&path, compiled.serialize().unwrap()).unwrap();
        let other = crowded_engine(&config);
        // SAFETY: written by an engine of these settings just now, and
        // replaced below only by renaming.
        let loaded = unsafe { Module::deserialize_file(&other, &path) }.unwrap();
        assert!(maps(&path) && runs_code_of(&path), "{name}");
        assert_eq!(answers(&other, &loaded), expected, "{name}");
        // The same from a file the embedder opened.
        let open = std::fs::File::open(&path).unwrap();
        // SAFETY: as above.
        let from_open = unsafe { Module::deserialize_open_file(&other, &open) }.unwrap();
        drop(open);
        assert_eq!(answers(&other, &from_open), expected, "{name}");
        drop(from_open);
        assert_eq!(
            loaded.serialize().unwrap(),
            compiled.serialize().unwrap(),
            "{name}"
        );

        // Another module renamed over the file: the loaded one is intact.
        let replacement = dir.join("replacement");
        let other_module = Module::new(
            &engine,
            "(module (func (export \"f\") (result i32) i32.const 5))",
        )
        .unwrap();
        std::fs::write(&replacement, other_module.serialize().unwrap()).unwrap();
        std::fs::rename(&replacement, &path).unwrap();
        assert_eq!(answers(&other, &loaded), expected, "{name}, replaced");
        // SAFETY: as above.
        let now = unsafe { Module::deserialize_file(&other, &path) }.unwrap();
        let mut store = Store::new(&other, ());
        let instance = Linker::new(&other).instantiate(&mut store, &now).unwrap();
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), 5, "{name}");
        drop((loaded, now, store));
        assert!(!maps(&path), "{name}: the mapping outlived its modules");
    }
    // Not a regular file: read as a stream, refused as what it holds.
    // SAFETY: /dev/null holds no code.
    let e = unsafe { Module::deserialize_file(&Engine::default(), "/dev/null") }
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/dev/null") && e.contains("not a precompiled"),
        "{e}"
    );
    // An empty regular file likewise.
    std::fs::write(&path, b"").unwrap();
    // SAFETY: the file holds no code.
    let e = unsafe { Module::deserialize_file(&Engine::default(), &path) }
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a precompiled"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `ModuleCache::module_from_file` finds the entry `module` of the same
/// bytes saved (binary or text), maps it, checks a binary's bytes against
/// the file's, and compiles again when they differ.
#[test]
fn the_module_cache_reads_files_as_it_reads_bytes() {
    use walmart::{CacheOutcome, ModuleCache};
    let dir = std::env::temp_dir().join(format!("walmart-cache-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = ModuleCache::new(dir.join("cache")).unwrap();
    let engine = Engine::new(&Config::new()).unwrap();
    let expected = answers(&engine, &Module::new(&engine, WAT).unwrap());
    let binary = wat::parse_str(WAT).unwrap();
    let (text_file, binary_file) = (dir.join("typed.wat"), dir.join("typed.wasm"));
    std::fs::write(&text_file, WAT).unwrap();
    std::fs::write(&binary_file, &binary).unwrap();
    for (file, bytes) in [(&text_file, WAT.as_bytes()), (&binary_file, &binary[..])] {
        let (module, outcome) = cache.module(&engine, bytes).unwrap();
        assert!(
            matches!(outcome, CacheOutcome::Compiled { .. }),
            "{outcome:?}"
        );
        assert_eq!(answers(&engine, &module), expected);
        let (module, outcome) = cache.module_from_file(&engine, file).unwrap();
        assert_eq!(outcome, CacheOutcome::Hit, "{file:?}");
        assert_eq!(answers(&engine, &module), expected);
        assert_eq!(cache.module(&engine, bytes).unwrap().1, CacheOutcome::Hit);
        // An open file, read from its start wherever it stands.
        let mut open = std::fs::File::open(file).unwrap();
        std::io::Read::read_exact(&mut open, &mut [0u8; 5]).unwrap();
        let (module, outcome) = cache.module_from_open_file(&engine, &open).unwrap();
        assert_eq!(outcome, CacheOutcome::Hit, "{file:?}");
        assert_eq!(answers(&engine, &module), expected);
    }
    let entries = || {
        let mut v: Vec<_> = std::fs::read_dir(dir.join("cache"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        v.sort();
        v
    };
    let before = entries();
    assert_eq!(before.len(), 2);
    // The binary's entry holding another module's binary: compiled
    // again and replaced, as `module` does.
    let other = wat::parse_str("(module (func (export \"f\")))").unwrap();
    let other_file = dir.join("other.wasm");
    std::fs::write(&other_file, &other).unwrap();
    cache.module_from_file(&engine, &other_file).unwrap();
    let other_entry = entries().into_iter().find(|p| !before.contains(p)).unwrap();
    // A binary's entry is `b` and 32 hex digits; a text's, 64 hex digits,
    // which may start with a `b` too.
    let binary_entry = before
        .iter()
        .find(|p| {
            let stem = p.file_stem().unwrap().to_str().unwrap();
            stem.len() == 33 && stem.starts_with('b')
        })
        .unwrap();
    std::fs::rename(&other_entry, binary_entry).unwrap();
    let (module, outcome) = cache.module_from_file(&engine, &binary_file).unwrap();
    assert!(
        matches!(outcome, CacheOutcome::Compiled { replaced: true, .. }),
        "{outcome:?}"
    );
    assert_eq!(answers(&engine, &module), expected);
    // A changed file has an entry of its own (`other`'s, whose entry was
    // moved away above, so compiled once more); a missing one is an error
    // naming it; an invalid one an error, nothing saved.
    std::fs::write(&binary_file, &other).unwrap();
    let (_, outcome) = cache.module_from_file(&engine, &binary_file).unwrap();
    assert!(
        matches!(
            outcome,
            CacheOutcome::Compiled {
                replaced: false,
                ..
            }
        ),
        "{outcome:?}"
    );
    let (_, outcome) = cache.module_from_file(&engine, &other_file).unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    let e = cache
        .module_from_file(&engine, dir.join("missing.wasm"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.wasm"), "{e}");
    let count = entries().len();
    std::fs::write(&binary_file, b"\0asm\x01\0\0\0\x01").unwrap();
    assert!(cache.module_from_file(&engine, &binary_file).is_err());
    assert_eq!(entries().len(), count);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_opt_level_computes_the_same_and_loads_only_under_itself() {
    let default = Engine::new(&Config::new()).unwrap();
    let expected = answers(&default, &Module::new(&default, WAT).unwrap());
    for level in [walmart::OptLevel::None, walmart::OptLevel::SpeedAndSize] {
        let mut config = Config::new();
        config.cranelift_opt_level(level);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, WAT).unwrap();
        assert_eq!(answers(&engine, &module), expected, "{level:?}");
        let saved = module.serialize().unwrap();
        // SAFETY: written by this build; refused before any code is placed.
        let e = unsafe { Module::deserialize(&default, &saved) }
            .unwrap_err()
            .to_string();
        assert!(e.contains("opt_level"), "{level:?}: {e}");
        // SAFETY: written by an engine of these settings just now.
        let loaded = unsafe { Module::deserialize(&crowded_engine(&config), &saved) }.unwrap();
        assert_eq!(answers(loaded.engine(), &loaded), expected, "{level:?}");
    }
}

#[test]
fn the_module_cache_compiles_once_per_build_settings_and_bytes() {
    use std::os::unix::fs::PermissionsExt;
    use walmart::{CacheOutcome, ModuleCache};
    let dir = std::env::temp_dir().join(format!("walmart-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = ModuleCache::new(&dir).unwrap();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let engine = Engine::new(&Config::new()).unwrap();
    let expected = answers(&engine, &Module::new(&engine, WAT).unwrap());
    let compiled = CacheOutcome::Compiled {
        replaced: false,
        saved: Ok(()),
    };
    let (module, outcome) = cache.module(&engine, WAT.as_bytes()).unwrap();
    assert_eq!(outcome, compiled);
    assert_eq!(answers(&engine, &module), expected);
    // Another engine of the same settings loads it.
    let other = crowded_engine(&Config::new());
    let (module, outcome) = cache.module(&other, WAT.as_bytes()).unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    assert_eq!(answers(&other, &module), expected);
    // Its entry is written into below (damaged on purpose), which a
    // module mapping it must not outlive.
    drop(module);
    // Other settings, other bytes: entries of their own.
    let mut fuel = Config::new();
    fuel.consume_fuel(true);
    let fuelled = Engine::new(&fuel).unwrap();
    assert_eq!(cache.module(&fuelled, WAT.as_bytes()).unwrap().1, compiled);
    let other_bytes = format!("{WAT}\n;; a comment");
    assert_eq!(
        cache.module(&engine, other_bytes.as_bytes()).unwrap().1,
        compiled
    );
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(entries.len(), 3, "{entries:?}");
    for e in &entries {
        assert_eq!(e.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
    // A damaged entry is compiled again and replaced.
    for e in &entries {
        let bytes = std::fs::read(e.path()).unwrap();
        std::fs::write(e.path(), &bytes[..bytes.len() / 2]).unwrap();
    }
    let (module, outcome) = cache.module(&engine, WAT.as_bytes()).unwrap();
    assert_eq!(
        outcome,
        CacheOutcome::Compiled {
            replaced: true,
            saved: Ok(())
        }
    );
    assert_eq!(answers(&engine, &module), expected);
    assert_eq!(
        cache.module(&engine, WAT.as_bytes()).unwrap().1,
        CacheOutcome::Hit
    );
    // An entry that is a link, or that others may write, is not used:
    // compiled again, and replaced by a file of the cache's own.
    let entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let planted = dir.join("planted");
    std::fs::copy(&entries[0], &planted).unwrap();
    for (i, entry) in entries.iter().enumerate() {
        std::fs::remove_file(entry).unwrap();
        if i == 0 {
            std::os::unix::fs::symlink(&planted, entry).unwrap();
        } else {
            std::fs::copy(&planted, entry).unwrap();
            std::fs::set_permissions(entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        }
    }
    let mut replaced = 0;
    for (engine, bytes) in [
        (&engine, WAT.to_string()),
        (&fuelled, WAT.to_string()),
        (&engine, other_bytes.clone()),
    ] {
        match cache.module(engine, bytes.as_bytes()).unwrap().1 {
            CacheOutcome::Compiled {
                replaced: true,
                saved: Ok(()),
            } => replaced += 1,
            CacheOutcome::Compiled {
                replaced: false,
                saved: Ok(()),
            } => {}
            other => panic!("{other:?}"),
        }
    }
    // The link and the files others could write were passed over.
    assert_eq!(replaced, 3);
    std::fs::remove_file(&planted).unwrap();
    for entry in &entries {
        let meta = std::fs::symlink_metadata(entry).unwrap();
        assert!(meta.file_type().is_file(), "{entry:?}");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    // An entry of other bytes under a binary's key is not used.
    let binary = wat::parse_str(WAT).unwrap();
    let other_binary = wat::parse_str("(module (func (export \"f\")))").unwrap();
    let before: std::collections::HashSet<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cache.module(&engine, &binary).unwrap();
    let key = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| !before.contains(p))
        .unwrap();
    let (_, outcome) = cache.module(&engine, &other_binary).unwrap();
    assert!(matches!(outcome, CacheOutcome::Compiled { .. }));
    let other_key = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| !before.contains(p) && *p != key)
        .unwrap();
    std::fs::copy(&other_key, &key).unwrap();
    let (module, outcome) = cache.module(&engine, &binary).unwrap();
    assert!(
        matches!(outcome, CacheOutcome::Compiled { replaced: true, .. }),
        "{outcome:?}"
    );
    assert_eq!(answers(&engine, &module), expected);
    for p in [key, other_key] {
        std::fs::remove_file(p).unwrap();
    }
    // An invalid module is an error, and nothing is saved.
    assert!(cache
        .module(&engine, b"(module (func (result i32)))")
        .is_err());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
    // A link to the directory is refused: the directory is named itself.
    let link = dir.with_extension("link");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    let e = ModuleCache::new(&link).unwrap_err().to_string();
    assert!(e.contains("symbolic link"), "{e}");
    std::fs::remove_file(&link).unwrap();
    // A directory others may write is refused.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = ModuleCache::new(&dir).unwrap_err().to_string();
    assert!(e.contains("writable by others"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_compatibility_hash_tells_engines_apart_as_loading_does() {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let hash = |config: &Config| {
        let mut h = DefaultHasher::new();
        Engine::new(config)
            .unwrap()
            .precompile_compatibility_hash()
            .hash(&mut h);
        h.finish()
    };
    let mut fuel = Config::new();
    fuel.consume_fuel(true);
    let mut max_stack = Config::new();
    max_stack.max_wasm_stack(4 << 20);
    assert_eq!(hash(&Config::new()), hash(&Config::new()));
    assert_ne!(hash(&Config::new()), hash(&fuel));
    // A run-time limit changes no code: its modules load in each other.
    assert_eq!(hash(&Config::new()), hash(&max_stack));
    let saved = Engine::new(&Config::new())
        .unwrap()
        .precompile_module(WAT.as_bytes())
        .unwrap();
    // SAFETY: written by this build just now.
    unsafe { Module::deserialize(&Engine::new(&max_stack).unwrap(), &saved) }.unwrap();
}

/// Past its size limit, saving an entry evicts the least recently used
/// ones (loading one marks it used) down to three quarters of the limit,
/// keeping the one just saved; temporary files older than an hour (a
/// crashed writer's) go too, younger ones stay.
#[test]
fn the_module_cache_evicts_the_least_recently_used_past_its_limit() {
    use std::time::{Duration, SystemTime};
    use walmart::{CacheOutcome, ModuleCache};
    let dir = std::env::temp_dir().join(format!("walmart-cache-evict-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cache = ModuleCache::new(&dir).unwrap();
    cache.set_size_limit(None);
    let engine = Engine::new(&Config::new()).unwrap();
    let text = |i: i32| format!("(module (func (export \"f\") (result i32) i32.const {i}))");
    let listing = || -> std::collections::BTreeSet<std::path::PathBuf> {
        std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect()
    };
    // Four entries, made older the earlier they were saved.
    let mut entries = Vec::new();
    for i in 0..4 {
        let before = listing();
        cache.module(&engine, text(i).as_bytes()).unwrap();
        let new: Vec<_> = listing().difference(&before).cloned().collect();
        assert_eq!(new.len(), 1);
        entries.push(new[0].clone());
    }
    let now = SystemTime::now();
    for (i, e) in entries.iter().enumerate() {
        let age = Duration::from_secs(400 - 100 * i as u64);
        std::fs::File::options()
            .write(true)
            .open(e)
            .unwrap()
            .set_modified(now - age)
            .unwrap();
    }
    let size = entries
        .iter()
        .map(|e| std::fs::metadata(e).unwrap().len())
        .max()
        .unwrap();
    let (stale, fresh) = (
        dir.join(format!("{}.cwasm.1-2-3.tmp", "a".repeat(64))),
        dir.join(format!("b{}.cwasm.4-5-6.tmp", "c".repeat(32))),
    );
    // Files of other names are not the cache's: never removed, not
    // counted, however old or large.
    let (mine, notes) = (dir.join("mine.cwasm"), dir.join("notes.tmp"));
    std::fs::write(&mine, vec![0u8; size as usize * 8]).unwrap();
    for t in [&stale, &fresh, &notes] {
        std::fs::write(t, b"partial").unwrap();
    }
    for old in [&stale, &mine, &notes] {
        std::fs::File::options()
            .write(true)
            .open(old)
            .unwrap()
            .set_modified(now - Duration::from_secs(7200))
            .unwrap();
    }
    // Room for four and a half: a fifth entry evicts down to about three.
    cache.set_size_limit(Some(size * 9 / 2));
    // The oldest is loaded, so it is the most recently used but one.
    let (module, outcome) = cache.module(&engine, text(0).as_bytes()).unwrap();
    assert_eq!(outcome, CacheOutcome::Hit);
    drop(module);
    let before = listing();
    cache.module(&engine, text(4).as_bytes()).unwrap();
    let after = listing();
    let newest = after.difference(&before).next().unwrap().clone();
    let kept: Vec<_> = entries.iter().map(|e| after.contains(e)).collect();
    // 5 entries > 4.5: the least recently used go (1, then 2) until at
    // most 3.375 remain: 0 (just loaded), 3 and the newest.
    assert_eq!(kept, [true, false, false, true], "{after:?}");
    assert!(after.contains(&newest));
    assert!(
        !after.contains(&stale) && after.contains(&fresh),
        "{after:?}"
    );
    assert!(after.contains(&mine) && after.contains(&notes), "{after:?}");
    // Unbounded, nothing goes.
    cache.set_size_limit(None);
    let count = listing().len();
    cache.module(&engine, text(5).as_bytes()).unwrap();
    assert_eq!(listing().len(), count + 1);
    // An entry larger than the limit alone is still saved and used.
    cache.set_size_limit(Some(1));
    let (_, outcome) = cache.module(&engine, text(6).as_bytes()).unwrap();
    assert!(matches!(
        outcome,
        CacheOutcome::Compiled { saved: Ok(()), .. }
    ));
    assert_eq!(
        cache.module(&engine, text(6).as_bytes()).unwrap().1,
        CacheOutcome::Hit
    );
    let entries: Vec<_> = listing()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm") && *p != mine)
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(mine.exists() && notes.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Whether this process maps `path` writable, copied on write (a memory
/// image's mapping; code and the file's own view are read-only).
fn maps_writable(path: &std::path::Path) -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .any(|l| l.contains(path.to_str().unwrap()) && l.contains(" rw-p "))
}

/// A module whose data lies far from the memory's start, as a Rust
/// program's does (after its stack): 17 pages, a segment at 1 MiB, one
/// across a page boundary past it, and a passive one that instantiation
/// leaves out of memory.
const DATA_WAT: &str = r#"(module
    (memory (export "m") 17)
    (data (i32.const 1048576) "walmart!")
    (data (i32.const 1056764) "\01\02\03\04\05\06\07\08")
    (data $passive "never placed")
    (func (export "load") (param i32) (result i64) (i64.load (local.get 0)))
    (func (export "store") (param i32 i64) (i64.store (local.get 0) (local.get 1))))"#;

/// `load` at each of a few addresses (below the data, in it, across the
/// page boundary, past it) after `store` wrote `write` at 1 MiB + 16.
fn data_answers(engine: &Engine, module: &Module, write: i64) -> Vec<i64> {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, module).unwrap();
    let load = instance
        .get_typed_func::<i32, i64>(&mut store, "load")
        .unwrap();
    let put = instance
        .get_typed_func::<(i32, i64), ()>(&mut store, "store")
        .unwrap();
    let before: Vec<i64> = [0, 1048568, 1048576, 1048592, 1056764, 1056768, 1114104]
        .iter()
        .map(|&a| load.call(&mut store, a).unwrap())
        .collect();
    put.call(&mut store, (1048592, write)).unwrap();
    assert_eq!(load.call(&mut store, 1048592).unwrap(), write);
    before
}

/// A module loaded from a file maps its memory image from the file (no
/// copy of the data segments at load), copied on write: every instance
/// starts from the file's contents, whatever an earlier one wrote, below
/// the image's first page memory reads as zeros, and the file is never
/// written; the same with pooled memories, and from bytes in memory.
#[test]
fn a_files_memory_image_is_mapped_from_it_and_copied_on_write() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("walmart-image-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.cwasm");
    let expected = vec![
        0,
        0,
        i64::from_le_bytes(*b"walmart!"),
        0,
        0x0807_0605_0403_0201,
        0x0807_0605,
        0,
    ];
    let mut pool = walmart::PoolingAllocationConfig::new();
    pool.total_memories(2);
    let mut pooled = Config::new();
    pooled.allocation_strategy(walmart::InstanceAllocationStrategy::Pooling(pool));
    for (name, config) in [("on demand", Config::new()), ("pooled", pooled)] {
        let engine = Engine::new(&config).unwrap();
        let compiled = Module::new(&engine, DATA_WAT).unwrap();
        let saved = compiled.serialize().unwrap();
        std::fs::write(&path, &saved).unwrap();
        // SAFETY: written by an engine of these settings just now.
        let loaded = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
        let mut store = Store::new(&engine, ());
        Linker::new(&engine)
            .instantiate(&mut store, &loaded)
            .unwrap();
        assert!(maps_writable(&path), "{name}: the image is not the file's");
        drop(store);
        for round in 0..3 {
            assert_eq!(
                data_answers(&engine, &loaded, 77 + round),
                expected,
                "{name}, round {round}"
            );
        }
        // SAFETY: as above.
        let from_bytes = unsafe { Module::deserialize(&engine, &saved) }.unwrap();
        assert_eq!(data_answers(&engine, &from_bytes, 5), expected, "{name}");
        assert_eq!(data_answers(&engine, &compiled, 6), expected, "{name}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            saved,
            "{name}: the file changed"
        );
        drop((loaded, from_bytes, compiled, engine));
        assert!(!maps(&path), "{name}: the mapping outlived its modules");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Segments far apart (at the start and 64 MiB on) make no image: the
/// precompiled file stays small (no 64 MiB of zeros in it) and the
/// segments are copied as instances start, the same bytes.
#[test]
fn segments_far_apart_make_no_image_of_zeros() {
    let wat = r#"(module
        (memory 1025)
        (data (i32.const 16) "first")
        (data (i32.const 67108864) "last!")
        (func (export "load") (param i32) (result i64) (i64.load (local.get 0))))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, wat).unwrap();
    let saved = module.serialize().unwrap();
    assert!(saved.len() < 4 << 20, "{} bytes", saved.len());
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("walmart-sparse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sparse.cwasm");
    std::fs::write(&path, &saved).unwrap();
    // SAFETY: written by an engine of these settings just now.
    let loaded = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
    for m in [&module, &loaded] {
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, m).unwrap();
        let load = instance
            .get_typed_func::<i32, i64>(&mut store, "load")
            .unwrap();
        let at = |store: &mut Store<()>, a| load.call(store, a).unwrap().to_le_bytes();
        assert_eq!(&at(&mut store, 16)[..5], b"first");
        assert_eq!(&at(&mut store, 67108864)[..5], b"last!");
        assert_eq!(at(&mut store, 4096), [0; 8]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `Config::parallel_compilation(false)` compiles one function at a time
/// and makes the same code: a module compiled either way saves the same
/// bytes and loads in the other engine.
#[test]
fn compiling_on_one_core_makes_the_same_code() {
    let wasm = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../benches/workloads/lua.wasm"
    ))
    .unwrap();
    let parallel = Engine::default();
    let mut config = Config::new();
    config.parallel_compilation(false);
    let serial = Engine::new(&config).unwrap();
    let a = Module::new(&parallel, &wasm).unwrap().serialize().unwrap();
    let b = Module::new(&serial, &wasm).unwrap().serialize().unwrap();
    assert_eq!(a.len(), b.len());
    assert!(a == b, "the two compiles differ");
    // SAFETY: bytes this build just wrote.
    unsafe { Module::deserialize(&parallel, &b) }.unwrap();
}
