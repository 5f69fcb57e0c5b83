//! `walmart-attest`: attestation policies, snapshots, verifiers and the
//! CNN model. Work on this crate starts with the attestation issue; until
//! then it holds only the policy names the runtime and CLI will share.

/// Where the compiler weaves attestation hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    /// No hooks: the plain runtime.
    #[default]
    Off,
    /// Hooks at the module boundary.
    Coarse,
    /// Hooks at every function entry/return plus store tracking.
    Fine,
    /// The colour-tag memory-safety monitor.
    Tags,
}

impl std::str::FromStr for Policy {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_by_name() {
        assert_eq!("fine".parse::<Policy>(), Ok(Policy::Fine));
        assert!("loud".parse::<Policy>().is_err());
    }
}
