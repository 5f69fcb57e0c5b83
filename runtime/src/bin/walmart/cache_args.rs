//! The module cache's switches, shared by `walmart run` and `walmart
//! serve`.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use walmart::ModuleCache;

#[derive(clap::Args)]
pub struct CacheArgs {
    /// Keep the compiled module in a cache and load it from there next
    /// time (in --cache-dir, `$WALMART_CACHE_DIR`, `$XDG_CACHE_HOME/walmart`
    /// or `~/.cache/walmart`; a directory only you may write).
    #[arg(long)]
    cache: bool,
    /// The cache's directory (implies --cache).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Bound the cache's entries' total size (K, M, G suffixes; default
    /// 1G; `none`: unbounded): saving an entry past it removes the least
    /// recently used. Implies --cache
    #[arg(long, value_name = "BYTES|none")]
    cache_size_limit: Option<String>,
}

impl CacheArgs {
    /// The cache the switches ask for (`-C cache=y|n`: `choice`), if any.
    pub fn open(&self, choice: Option<bool>) -> anyhow::Result<Option<ModuleCache>> {
        let limit = match self.cache_size_limit.as_deref() {
            None => Some(walmart::DEFAULT_CACHE_SIZE_LIMIT),
            Some("none") => None,
            Some(text) => Some(crate::features::parse_bytes(text).ok_or_else(|| {
                anyhow!("--cache-size-limit {text}: expected BYTES (K, M, G suffixes) or none")
            })? as u64),
        };
        let asked = self.cache || self.cache_size_limit.is_some() || self.cache_dir.is_some();
        if choice == Some(false) && asked {
            bail!("-C cache=n contradicts --cache, --cache-dir and --cache-size-limit");
        }
        let cached = asked || choice == Some(true);
        let mut cache = match (&self.cache_dir, cached) {
            (Some(dir), _) => Some(ModuleCache::new(dir)?),
            (None, true) => Some(ModuleCache::new(ModuleCache::default_dir().ok_or_else(
                || anyhow!("--cache: no cache directory (set WALMART_CACHE_DIR or HOME, or pass --cache-dir)"),
            )?)?),
            (None, false) => None,
        };
        if let Some(cache) = &mut cache {
            cache.set_size_limit(limit);
        }
        Ok(cache)
    }
}
