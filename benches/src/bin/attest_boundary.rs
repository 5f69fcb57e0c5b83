//! What one host/module crossing costs for host-tamper detection, by
//! memory size: write protection (`mprotect` read-only on exit, read-write
//! on entry, as walmart does) against digesting every page on exit and
//! entry (the alternative the attestation design weighed).
//!
//! ```text
//! cargo run --release -p walmart-benches --bin attest_boundary
//! ```

use std::time::Instant;

fn main() {
    println!(
        "{:>10} {:>18} {:>18} {:>8}",
        "memory", "protect us/cross", "digest us/cross", "ratio"
    );
    for mib in [1usize, 16, 64, 256] {
        let len = mib << 20;
        // SAFETY: a fresh private anonymous mapping, unmapped below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        } as *mut u8;
        assert!(base as *mut libc::c_void != libc::MAP_FAILED);
        // SAFETY: the mapping is len bytes, read-write.
        let mem = unsafe { std::slice::from_raw_parts_mut(base, len) };
        // Touch every page, as a running module's memory would be.
        for (i, b) in mem.iter_mut().step_by(4096).enumerate() {
            *b = i as u8;
        }
        let rounds = (2048 / mib).max(8);
        let t = Instant::now();
        for _ in 0..rounds {
            // SAFETY: our own mapping.
            unsafe {
                libc::mprotect(base as *mut libc::c_void, len, libc::PROT_READ);
                libc::mprotect(
                    base as *mut libc::c_void,
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                );
            }
            // The module writes again after re-entry.
            mem[len / 2] = mem[len / 2].wrapping_add(1);
        }
        let protect = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        let t = Instant::now();
        let mut acc = 0u128;
        for _ in 0..rounds {
            for _ in 0..2 {
                for page in mem.chunks(4096) {
                    acc ^= walmart::attest::page_digest(page);
                }
            }
        }
        std::hint::black_box(acc);
        let digest = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        println!(
            "{:>7} MiB {:>18.1} {:>18.1} {:>8.1}",
            mib,
            protect,
            digest,
            digest / protect
        );
        // SAFETY: unmapping what we mapped.
        unsafe { libc::munmap(base as *mut libc::c_void, len) };
    }
}
