//! The model walmart ships: trained by `scripts/train-default-model.sh`
//! on the project's own programs (see that script and the README's
//! "The CNN verifier" section for the data and the figures).

use super::{Model, ModelError};

/// The shipped model file, compiled in.
const DEFAULT_MODEL: &[u8] = include_bytes!("../../models/default.wcnn");

/// The shipped model. Fails only if the compiled-in file is damaged,
/// which a test rules out for every build.
pub fn default_model() -> Result<Model, ModelError> {
    Model::from_bytes(DEFAULT_MODEL)
}

/// The model a user names: `default` for the built-in one, else a model
/// file's path.
pub fn named(name: &str) -> Result<Model, ModelError> {
    if name == "default" {
        default_model()
    } else {
        Model::load(std::path::Path::new(name))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_model_loads_and_takes_pages() {
        let m = super::default_model().expect("the compiled-in model is intact");
        assert_eq!(m.arch.input_len, crate::PAGE_SIZE);
        // Log-odds: above even odds, and finite.
        assert!(
            m.threshold.is_finite() && m.threshold > 0.0,
            "{}",
            m.threshold
        );
        assert!(!m.meta.dataset.is_empty(), "training metadata is recorded");
    }
}
