//! Generated modules with a few bytes changed: every variant must
//! compile a mutant the validator accepts, refuse one it does not, and
//! never panic.

use walmart::Module;

use super::{generate, seed_bytes, CheckError, Variant};

/// What compiling a mutant under one variant came to.
#[derive(Debug, PartialEq)]
enum Outcome {
    Compiled,
    Refused,
    /// Valid by the validator, and yet not compiled: the message.
    Failed(String),
    Panicked,
}

fn compile(variant: &Variant, wasm: &[u8]) -> Outcome {
    // A panic fails the check, so an engine a panic left half way is not
    // relied on.
    let engine = std::panic::AssertUnwindSafe(&variant.engine);
    let outcome = std::panic::catch_unwind(|| match Module::new(*engine, wasm) {
        Ok(_) => Outcome::Compiled,
        Err(e) if Module::validate(*engine, wasm).is_ok() => Outcome::Failed(e.to_string()),
        Err(_) => Outcome::Refused,
    });
    outcome.unwrap_or(Outcome::Panicked)
}

/// Compiles `mutants` mutants of seed `seed`'s module (1 to 4 bytes
/// changed, from the seed) under every variant. Mutants are only
/// compiled: a changed byte may take a loop's fuel away. Returns how many
/// compiled; a panic, a valid mutant not compiled, or variants that
/// disagree is [`CheckError::Failed`].
pub fn compile_mutants(seed: u64, variants: &[Variant], mutants: u32) -> Result<u32, CheckError> {
    let wasm = generate(seed, false)?;
    let mut compiled = 0;
    for m in 0..mutants {
        let noise = seed_bytes(seed ^ (u64::from(m) << 32) ^ 0x3117, 40);
        let mut mutant = wasm.clone();
        for pair in noise.chunks(8).take(1 + usize::from(noise[0] % 4)) {
            let mut at = [0u8; 8];
            at.copy_from_slice(pair);
            let at = u64::from_le_bytes(at) as usize % mutant.len();
            mutant[at] ^= pair[0] | 1;
        }
        let outcomes: Vec<(&str, Outcome)> = variants
            .iter()
            .map(|v| (v.name, compile(v, &mutant)))
            .collect();
        let failed = |what: String| {
            Err(CheckError::Failed(format!(
                "seed {seed} mutant {m}: {what}"
            )))
        };
        for (name, o) in &outcomes {
            match o {
                Outcome::Panicked => return failed(format!("`{name}` panicked compiling it")),
                Outcome::Failed(e) => {
                    return failed(format!("`{name}` did not compile a valid module: {e}"))
                }
                _ => {}
            }
        }
        if let Some((name, o)) = outcomes.iter().find(|(_, o)| *o != outcomes[0].1) {
            return failed(format!(
                "`{name}` {o:?} where `{}` {:?}",
                outcomes[0].0, outcomes[0].1
            ));
        }
        if outcomes
            .first()
            .is_some_and(|(_, o)| *o == Outcome::Compiled)
        {
            compiled += 1;
        }
    }
    Ok(compiled)
}
