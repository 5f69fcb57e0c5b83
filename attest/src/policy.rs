//! The attestation settings a user chooses.

use std::str::FromStr;

/// Where the compiler weaves attestation hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// No hooks: the plain runtime.
    #[default]
    Off,
    /// Hooks at the module boundary (export entry and exit, around every
    /// import call); stores keep the dirty bitmap.
    Coarse,
    /// Coarse, plus a hook at every function entry and return.
    Fine,
    /// The colour-tag memory-safety monitor.
    Tags,
}

impl Policy {
    /// The policy's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Off => "off",
            Policy::Coarse => "coarse",
            Policy::Fine => "fine",
            Policy::Tags => "tags",
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Policy, String> {
        match s {
            "off" => Ok(Policy::Off),
            "coarse" => Ok(Policy::Coarse),
            "fine" => Ok(Policy::Fine),
            "tags" => Ok(Policy::Tags),
            other => Err(format!(
                "unknown attestation policy `{other}` (expected off, coarse, fine or tags)"
            )),
        }
    }
}

/// What a detection does to the guest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnDetect {
    /// Record the event and let the guest run on.
    #[default]
    Log,
    /// Stop the guest with an attestation trap at the next hook (at the
    /// detecting hook itself in synchronous mode).
    Trap,
}

impl FromStr for OnDetect {
    type Err = String;
    fn from_str(s: &str) -> Result<OnDetect, String> {
        match s {
            "log" => Ok(OnDetect::Log),
            "trap" => Ok(OnDetect::Trap),
            other => Err(format!(
                "unknown --on-detect action `{other}` (expected log or trap)"
            )),
        }
    }
}

/// What a hook does when the snapshot ring has no room for its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backpressure {
    /// Leave the pages marked dirty: a later hook snapshots them (their
    /// latest contents) once the verifier has caught up. Nothing is lost
    /// but intermediate versions; each deferral is counted.
    #[default]
    Defer,
    /// Wait for the verifier to make room: every armed hook's pages are
    /// verified, at the cost of stalling the guest.
    Block,
}

impl FromStr for Backpressure {
    type Err = String;
    fn from_str(s: &str) -> Result<Backpressure, String> {
        match s {
            "defer" => Ok(Backpressure::Defer),
            "block" => Ok(Backpressure::Block),
            other => Err(format!(
                "unknown back-pressure choice `{other}` (expected defer or block)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_by_name() {
        assert_eq!("fine".parse::<Policy>(), Ok(Policy::Fine));
        assert!("loud".parse::<Policy>().is_err());
        assert_eq!("trap".parse::<OnDetect>(), Ok(OnDetect::Trap));
        assert!("panic".parse::<OnDetect>().is_err());
        assert_eq!("block".parse::<Backpressure>(), Ok(Backpressure::Block));
    }
}
