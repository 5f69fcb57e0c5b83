//! A hash of source files, for build scripts (`jit/build.rs`,
//! `runtime/build.rs`): part of the fingerprint a precompiled module
//! carries, so that code compiled by one build is refused by another whose
//! code, vmctx layout or runtime contract may differ.

use std::path::{Path, PathBuf};

/// FNV-1a over the names and contents of `roots` (files, or directories
/// walked recursively, leaving out directories named in `skip`), sorted by
/// path; each root is also printed as a `rerun-if-changed` line.
pub fn hash(roots: &[&str], skip: &[&str]) -> u64 {
    let mut files = Vec::new();
    for root in roots {
        println!("cargo:rerun-if-changed={root}");
        collect(Path::new(root), skip, &mut files);
    }
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        let name = f.to_string_lossy().into_owned();
        let bytes = std::fs::read(&f).unwrap_or_default();
        for b in name.bytes().chain([0]).chain(bytes) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

fn collect(path: &Path, skip: &[&str], out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let skipped = path
            .file_name()
            .is_some_and(|n| skip.iter().any(|s| n == *s));
        if !skipped {
            collect(&path, skip, out);
        }
    }
}
