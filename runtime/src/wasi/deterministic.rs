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
    /// Virtual nanoseconds since the run began.
    elapsed: u64,
}

/// Mixed into the seed, so that the guest's random bytes are not the
/// draws of anything else seeded alike (`collect`'s injections are).
const SEED_MIX: u64 = 0x7a11_c10c_5eed_0001;

impl Replay {
    pub(crate) fn new(seed: u64) -> Replay {
        Replay {
            rng: Rng::new(seed ^ SEED_MIX),
            elapsed: 0,
        }
    }

    /// Reads WASI clock `id` (already checked to be one of the four):
    /// the virtual time moves [`TICK_NS`] first.
    pub(crate) fn time(&mut self, id: u32) -> u64 {
        self.elapsed = self.elapsed.saturating_add(TICK_NS);
        self.peek(id)
    }

    /// Clock `id`'s virtual time, unmoved: the wall clock from
    /// [`WALL_START_NS`], the others from 0.
    pub(crate) fn peek(&self, id: u32) -> u64 {
        if id == 0 {
            WALL_START_NS.saturating_add(self.elapsed)
        } else {
            self.elapsed
        }
    }

    /// Moves the virtual time `ns` on: a clock subscription of
    /// `poll_oneoff` that fires has waited that long, without sleeping.
    pub(crate) fn advance(&mut self, ns: u64) {
        self.elapsed = self.elapsed.saturating_add(ns);
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
    /// and moves 1 µs at every read. `poll_oneoff`'s clock subscriptions
    /// are measured in that time and, where nothing else is ready, fire
    /// at once, moving it to their deadline (a program that sleeps does
    /// not wait). Descriptors are still polled for real. For collecting
    /// training data and for tests; not for programs that need
    /// unpredictable numbers.
    pub fn deterministic(&mut self, seed: u64) -> &mut Self {
        self.with_state(|c| c.replay = Some(Replay::new(seed)));
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
        // Not the draws of a generator seeded alike elsewhere.
        let mut plain = Rng::new(7);
        let mut bytes = [0u8; 8];
        Replay::new(7).fill(&mut bytes);
        assert_ne!(bytes, plain.next_u64().to_le_bytes());
    }

    #[test]
    fn a_wait_moves_the_time_without_a_read() {
        let mut r = Replay::new(1);
        let before = r.time(1);
        assert_eq!(r.peek(1), before, "peeking moves nothing");
        r.advance(5_000_000);
        assert_eq!(r.time(1), before + 5_000_000 + TICK_NS);
        assert_eq!(r.peek(0), WALL_START_NS + before + 5_000_000 + TICK_NS);
    }
}
