//! Reproducible runs ([`WasiCtx::deterministic`]): `random_get` from a
//! seeded generator, and clocks that read a virtual time.
//!
//! Why: `walmart attest collect` records the pages a program writes, and
//! programs write what they read from the clock or the random source (an
//! XML parser's hash salt taken from the time of day sits in its parser
//! state), so two collections of the same inputs, and every model
//! trained on them, differed. With both fixed, the same collection writes
//! the same pages byte for byte.

use walmart_attest::rng::Rng;

use super::ctx::WasiCtx;

/// The instant the virtual wall clock starts at: 2024-01-01T00:00:00Z,
/// in nanoseconds since the epoch.
const WALL_START_NS: u64 = 1_704_067_200 * 1_000_000_000;

/// How far each read moves the virtual clocks: a program that measures
/// an interval sees time pass, and one that waits for a change sees it.
const TICK_NS: u64 = 1_000;

/// The seeded random source and the virtual time of a reproducible run.
#[derive(Debug)]
pub(crate) struct Replay {
    rng: Rng,
    reads: u64,
}

impl Replay {
    pub(crate) fn new(seed: u64) -> Replay {
        Replay {
            rng: Rng::new(seed),
            reads: 0,
        }
    }

    /// The virtual time of WASI clock `id` (already checked to be one of
    /// the four): the wall clock from [`WALL_START_NS`], the others from
    /// 0, all moving [`TICK_NS`] at each read of any of them.
    pub(crate) fn time(&mut self, id: u32) -> u64 {
        self.reads += 1;
        let elapsed = self.reads * TICK_NS;
        if id == 0 {
            WALL_START_NS + elapsed
        } else {
            elapsed
        }
    }

    /// Fills `buf` from the seeded generator.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

impl WasiCtx {
    /// Makes the guest's runs reproducible: `random_get` draws from a
    /// generator seeded with `seed` (not a secure source), and
    /// `clock_time_get` reads a virtual time that starts at
    /// 2024-01-01T00:00:00Z for the wall clock and at 0 for the others
    /// and moves 1 µs at every read. Timeouts (`poll_oneoff`) still wait
    /// on the host's clock. For collecting training data and for tests;
    /// not for programs that need unpredictable numbers.
    pub fn deterministic(&mut self, seed: u64) -> &mut Self {
        self.replay = Some(Replay::new(seed));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_times() {
        let draw = |seed| {
            let mut r = Replay::new(seed);
            let mut bytes = [0u8; 13];
            r.fill(&mut bytes);
            (bytes, [r.time(0), r.time(1), r.time(1)])
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7).0, draw(8).0);
        let (_, times) = draw(7);
        assert_eq!(times[0], WALL_START_NS + TICK_NS);
        assert!(times[1] < times[2], "the clocks move at each read");
    }
}
