//! Which tracking store and model registry a run talks to, from the
//! tracking URI, and the run-end registration with its promotion gate.

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use tenure_store::registry::{Candidate, validate_alias};
use tenure_store::{LocalRegistry, LocalStore, ModelRegistry, StoreError, TrackingStore};

use crate::config::{DEFAULT_TRACKING_URI, RegistryConfig};
use crate::pipeline::RunOutcome;
use crate::{Result, RunnerError};

/// The environment variable MLflow's own clients read.
pub const TRACKING_URI_ENV: &str = "MLFLOW_TRACKING_URI";

/// A tracking store and the registry that goes with it.
#[derive(Debug)]
pub struct Tracking {
    pub uri: String,
    pub store: Box<dyn TrackingStore>,
    pub registry: Box<dyn ModelRegistry>,
}

/// The URI to use: the command line's, else the experiment's, else
/// `MLFLOW_TRACKING_URI`, else `tenure-runs`.
pub fn resolve_uri(command_line: Option<&str>, config: Option<&str>) -> String {
    command_line
        .or(config)
        .map(str::to_string)
        .or_else(|| {
            std::env::var(TRACKING_URI_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_TRACKING_URI.to_string())
}

/// Whether `uri` names an MLflow server rather than a local directory.
pub fn is_remote(uri: &str) -> bool {
    tenure_mlflow::is_remote_uri(uri)
}

/// Opens (creating a local store if needed) the store and registry at
/// `uri`.
pub fn open(uri: &str) -> Result<Tracking> {
    if is_remote(uri) {
        let store = tenure_mlflow::MlflowStore::connect(uri)?;
        let registry = tenure_mlflow::MlflowRegistry::connect(uri)?;
        return Ok(Tracking {
            uri: uri.to_string(),
            store: Box::new(store),
            registry: Box::new(registry),
        });
    }
    let dir = uri.trim_start_matches("file://");
    let store = LocalStore::open(dir)?;
    let registry = LocalRegistry::in_store(store.root())?;
    Ok(Tracking {
        uri: uri.to_string(),
        store: Box::new(store),
        registry: Box::new(registry),
    })
}

/// Like [`open`], but a local store must already exist: reading commands
/// should not create empty stores on a typo.
pub fn open_existing(uri: &str) -> Result<Tracking> {
    if !is_remote(uri) {
        let dir = Path::new(uri.trim_start_matches("file://"));
        if !dir.is_dir() {
            return Err(RunnerError::Io {
                context: format!(
                    "no tracking store at {} (run an experiment first, or pass --store DIR / \
                     --tracking-uri URI)",
                    dir.display()
                ),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
    }
    open(uri)
}

/// sha256 over the input files' own hashes: changes when any byte of the
/// data changes.
pub fn data_fingerprint(paths: &[&Path]) -> Result<String> {
    use sha2::Digest;
    let mut all = sha2::Sha256::new();
    for path in paths {
        let mut file = std::fs::File::open(path).map_err(|source| RunnerError::Io {
            context: format!("cannot read {} to fingerprint it", path.display()),
            source,
        })?;
        let mut one = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(|source| RunnerError::Io {
                context: format!("cannot read {} to fingerprint it", path.display()),
                source,
            })?;
            if n == 0 {
                break;
            }
            one.update(&buf[..n]);
        }
        all.update(one.finalize());
    }
    Ok(all.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The commit of the git checkout holding `dir`, if git and a checkout are
/// there.
pub fn git_commit(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && commit.len() >= 40).then_some(commit)
}

/// What the run-end registration did.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub name: String,
    pub version: u64,
    /// The run's model that was registered.
    pub model: String,
    pub alias: Option<String>,
    pub promoted: bool,
    /// Why the alias moved or stayed.
    pub decision: String,
}

/// Registers the run's best model and applies the promotion gate.
pub fn register_best(
    cfg: &RegistryConfig,
    tracking: &Tracking,
    out: &RunOutcome,
) -> Result<Registration> {
    let metric = cfg.metric.as_str();
    let higher = tenure_metrics::higher_is_better(metric);
    let test_value = |name: &str| {
        out.models
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.metrics.get(metric))
            .map(|s| s.test)
            .filter(|v| v.is_finite())
    };
    let model = match &cfg.model {
        Some(m) => m.clone(),
        None => out
            .models
            .iter()
            .filter_map(|m| Some((m.name.clone(), test_value(&m.name)?)))
            .max_by(|a, b| {
                let ord = a.1.total_cmp(&b.1);
                if higher { ord } else { ord.reverse() }
            })
            .map(|(name, _)| name)
            .ok_or_else(|| RunnerError::Registration {
                name: cfg.name.clone(),
                reason: format!("no model has a finite test `{metric}` to rank by"),
            })?,
    };
    let new_score = test_value(&model).ok_or_else(|| RunnerError::Registration {
        name: cfg.name.clone(),
        reason: format!("model `{model}` has no finite test `{metric}`"),
    })?;
    let candidate = Candidate::from_run(tracking.store.as_ref(), &out.run_id, Some(&model))?;
    let version = tracking.registry.register(&cfg.name, &candidate)?;
    let mut reg = Registration {
        name: cfg.name.clone(),
        version: version.version,
        model: model.clone(),
        alias: cfg.alias.clone(),
        promoted: false,
        decision: "registered; no alias configured".into(),
    };
    let Some(alias) = &cfg.alias else {
        return Ok(reg);
    };
    validate_alias(alias)?;
    let holder = match tracking.registry.alias_version(&cfg.name, alias) {
        Ok(v) => Some(v),
        Err(StoreError::AliasNotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let holder = holder.map(|h| (h.version, h.lineage.test_metrics.get(metric).copied()));
    let (promote, decision) = gate(alias, metric, higher, cfg.margin, new_score, holder);
    reg.decision = decision;
    if promote {
        let who = std::env::var("USER").unwrap_or_else(|_| "tenure".into());
        tracking.registry.set_alias(
            &cfg.name,
            alias,
            version.version,
            &who,
            &format!("tenure run {}: {}", out.run_id, reg.decision),
        )?;
        reg.promoted = true;
    }
    Ok(reg)
}

/// The promotion gate: promote when no version holds the alias, or when the
/// new test score beats the holder's by strictly more than `margin` in the
/// metric's better direction. Returns the verdict and its reason.
pub fn gate(
    alias: &str,
    metric: &str,
    higher_is_better: bool,
    margin: f64,
    new_score: f64,
    holder: Option<(u64, Option<f64>)>,
) -> (bool, String) {
    match holder {
        None => (
            true,
            format!("no version held @{alias}; test {metric} {new_score:.6}"),
        ),
        Some((version, None)) => (
            false,
            format!(
                "version {version} holds @{alias} but recorded no test {metric}: not comparable, \
                 alias kept"
            ),
        ),
        Some((version, Some(old))) => {
            let gain = if higher_is_better {
                new_score - old
            } else {
                old - new_score
            };
            let promote = gain > margin;
            let verdict = if promote { "beats" } else { "does not beat" };
            (
                promote,
                format!(
                    "test {metric} {new_score:.6} vs {old:.6} of version {version}: {verdict} it \
                     by more than the margin {margin}"
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gate;

    #[test]
    fn the_gate_needs_a_strict_gain_beyond_the_margin() {
        assert!(gate("champion", "auc", true, 0.01, 0.8, None).0);
        assert!(gate("champion", "auc", true, 0.01, 0.82, Some((1, Some(0.8)))).0);
        assert!(!gate("champion", "auc", true, 0.01, 0.805, Some((1, Some(0.8)))).0);
        assert!(!gate("champion", "auc", true, 0.0, 0.8, Some((1, Some(0.8)))).0);
        assert!(!gate("champion", "auc", true, 0.0, 0.7, Some((1, Some(0.8)))).0);
        // Lower is better for losses.
        assert!(
            gate(
                "champion",
                "log_loss",
                false,
                0.01,
                0.40,
                Some((2, Some(0.45)))
            )
            .0
        );
        assert!(
            !gate(
                "champion",
                "log_loss",
                false,
                0.01,
                0.445,
                Some((2, Some(0.45)))
            )
            .0
        );
        let (promote, why) = gate("champion", "auc", true, 0.0, 0.9, Some((3, None)));
        assert!(!promote && why.contains("not comparable"), "{why}");
    }
}
