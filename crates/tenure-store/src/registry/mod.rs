//! Model registry: named models with numbered versions, aliases, tags and a
//! promotion log, behind one trait with a local and an MLflow
//! implementation.
//!
//! A version holds the files a deployment needs ([`DEPLOY_FILES`]: the ONNX
//! model and its model card) plus the run's evaluation report and metrics,
//! each with its sha256, and the version's [`Lineage`]. Pulling a version
//! verifies every hash before writing anything.

mod local;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError, ensure};
use crate::model::RunStatus;
use crate::tracking::TrackingStore;

pub use local::{LOCAL_REGISTRY_DIR, LocalRegistry};

/// The files `pull` writes: what a deployment scores with.
pub const DEPLOY_FILES: [&str; 2] = ["model.onnx", "model_card.json"];

/// Tag holding the git commit a run's code came from (MLflow's name).
pub const GIT_COMMIT_TAG: &str = "mlflow.source.git.commit";
/// Tag holding the fingerprint (sha256) of a run's input data.
pub const DATA_FINGERPRINT_TAG: &str = "tenure.data.fingerprint";
/// The run artifact holding the experiment config as run.
pub const CONFIG_ARTIFACT: &str = "config.toml";

/// Run artifacts of one model, relative to `models/<model>/`.
const MODEL_FILES: [(&str, bool); 3] = [
    ("model.onnx", true),
    ("model_card.json", true),
    ("spec.json", false),
];
/// Run artifacts at the run's root that every version of that run carries:
/// the evaluation report and its figures, and the fitted calibrators.
const RUN_FILES: [&str; 3] = ["report.html", "metrics.json", "calibration.json"];

/// sha256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub sha256: String,
    pub size: u64,
}

/// Where a version came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    pub run_id: String,
    pub experiment_id: String,
    /// The model's name within the run (`[[models]] name`).
    pub model: String,
    /// sha256 of the run's resolved experiment config.
    pub config_sha256: Option<String>,
    pub data_fingerprint: Option<String>,
    pub git_commit: Option<String>,
    /// The model's metrics on the held-out test cutoff (finite values only).
    pub test_metrics: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub name: String,
    pub version: u64,
    pub created_ms: i64,
    /// Where the files were registered from (run artifact folder or URI).
    pub source: String,
    /// File name → digest; always holds the [`DEPLOY_FILES`].
    pub files: BTreeMap<String, FileDigest>,
    pub lineage: Lineage,
    /// Aliases pointing at this version, sorted.
    pub aliases: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub created_ms: i64,
    pub latest_version: Option<u64>,
    /// Alias → version.
    pub aliases: BTreeMap<String, u64>,
    pub tags: BTreeMap<String, String>,
}

/// One alias move, as the append-only promotion log records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub model: String,
    pub alias: String,
    pub version: u64,
    /// The version the alias pointed at before, if any.
    pub previous: Option<u64>,
    pub who: String,
    pub at_ms: i64,
    pub reason: String,
}

/// A model version to be, read from a finished run's artifacts.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The run's artifact folder of the model (`models/<model>`), as a URI
    /// or path of the store it came from.
    pub source: String,
    pub files: Vec<CandidateFile>,
    pub lineage: Lineage,
}

#[derive(Debug, Clone)]
pub struct CandidateFile {
    /// Name within the version (`model.onnx`, `report.html`, …).
    pub name: String,
    /// Path relative to the run's artifact root.
    pub run_path: String,
    pub bytes: Vec<u8>,
}

impl CandidateFile {
    pub fn digest(&self) -> FileDigest {
        FileDigest {
            sha256: sha256_hex(&self.bytes),
            size: self.bytes.len() as u64,
        }
    }
}

impl Candidate {
    /// Reads model `model` of a finished run (the run's only model when
    /// `None`) from the store: `models/<model>/model.onnx`,
    /// `model_card.json` and `spec.json`, the run's `report.html` and
    /// `metrics.json`, and the lineage from its tags and metrics.
    pub fn from_run(store: &dyn TrackingStore, run_id: &str, model: Option<&str>) -> Result<Self> {
        let run = store.get_run(run_id)?;
        let not_registrable = |reason: String| StoreError::NotRegistrable {
            run_id: run_id.to_string(),
            reason,
        };
        ensure!(
            run.info.status == RunStatus::Finished,
            not_registrable(format!(
                "its status is {}, only FINISHED runs can be registered",
                run.info.status
            ))
        );
        let models: Vec<&str> = run
            .artifacts
            .iter()
            .filter_map(|a| a.strip_prefix("models/")?.strip_suffix("/model.onnx"))
            .filter(|m| !m.contains('/'))
            .collect();
        let model = match model {
            Some(m) => {
                ensure!(
                    models.contains(&m),
                    not_registrable(format!(
                        "it has no artifact models/{m}/model.onnx (models with an ONNX file: {})",
                        list_or_none(&models)
                    ))
                );
                m.to_string()
            }
            None => match models.as_slice() {
                [only] => (*only).to_string(),
                [] => {
                    return Err(not_registrable(
                        "it has no models/<model>/model.onnx artifact".into(),
                    ));
                }
                many => {
                    return Err(not_registrable(format!(
                        "it has several models ({}); say which one",
                        many.join(", ")
                    )));
                }
            },
        };
        let mut files = Vec::new();
        for (name, required) in MODEL_FILES {
            let run_path = format!("models/{model}/{name}");
            if !run.artifacts.contains(&run_path) {
                ensure!(
                    !required,
                    not_registrable(format!("artifact {run_path} is missing"))
                );
                continue;
            }
            let bytes = store.read_artifact(run_id, &run_path)?;
            files.push(CandidateFile {
                name: name.to_string(),
                run_path,
                bytes,
            });
        }
        for name in RUN_FILES {
            if run.artifacts.iter().any(|a| a == name) {
                files.push(CandidateFile {
                    name: name.to_string(),
                    run_path: name.to_string(),
                    bytes: store.read_artifact(run_id, name)?,
                });
            }
        }
        let config_sha256 = if run.artifacts.iter().any(|a| a == CONFIG_ARTIFACT) {
            Some(sha256_hex(&store.read_artifact(run_id, CONFIG_ARTIFACT)?))
        } else {
            None
        };
        let prefix = format!("{model}.test.");
        let test_metrics = run
            .metrics
            .keys()
            .filter_map(|k| {
                let metric = k.strip_prefix(&prefix)?;
                let value = run.latest_metric(k)?;
                value.is_finite().then(|| (metric.to_string(), value))
            })
            .collect();
        let source = store.artifact_location(run_id, &format!("models/{model}"))?;
        Ok(Self {
            source,
            files,
            lineage: Lineage {
                run_id: run_id.to_string(),
                experiment_id: run.info.experiment_id.clone(),
                model,
                config_sha256,
                data_fingerprint: run.tags.get(DATA_FINGERPRINT_TAG).cloned(),
                git_commit: run.tags.get(GIT_COMMIT_TAG).cloned(),
                test_metrics,
            },
        })
    }

    pub fn file(&self, name: &str) -> Option<&CandidateFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// Which version of a model: `NAME`, `NAME/VERSION` or `NAME@ALIAS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    pub name: String,
    pub selector: Selector,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Latest,
    Version(u64),
    Alias(String),
}

impl FromStr for ModelRef {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| {
            StoreError::InvalidArgument(format!(
                "model reference '{s}': {reason}; expected NAME, NAME/VERSION or NAME@ALIAS"
            ))
        };
        let (name, selector) = if let Some((name, alias)) = s.split_once('@') {
            validate_alias(alias)?;
            (name, Selector::Alias(alias.to_string()))
        } else if let Some((name, version)) = s.split_once('/') {
            let v: u64 = version
                .parse()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| bad("the version must be a positive integer"))?;
            (name, Selector::Version(v))
        } else {
            (s, Selector::Latest)
        };
        validate_model_name(name)?;
        Ok(Self {
            name: name.to_string(),
            selector,
        })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.selector {
            Selector::Latest => write!(f, "{}", self.name),
            Selector::Version(v) => write!(f, "{}/{v}", self.name),
            Selector::Alias(a) => write!(f, "{}@{a}", self.name),
        }
    }
}

/// Model names become folder names locally and path segments remotely.
pub fn validate_model_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    ensure!(
        ok,
        StoreError::InvalidId {
            kind: "model name",
            value: name.to_string(),
            reason: "must be 1-128 ASCII alphanumerics, '_', '.' or '-', starting with an \
                     alphanumeric",
        }
    );
    Ok(())
}

/// MLflow's alias rules: word characters and '-', and neither `latest`
/// nor `v<N>`, which MLflow reserves for version references.
pub fn validate_alias(alias: &str) -> Result<()> {
    let bad = |reason: &'static str| StoreError::InvalidId {
        kind: "alias",
        value: alias.to_string(),
        reason,
    };
    ensure!(
        !alias.is_empty()
            && alias.len() <= 255
            && alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)),
        bad("must be 1-255 ASCII alphanumerics, '_' or '-'")
    );
    let lower = alias.to_ascii_lowercase();
    let reserved = lower == "latest"
        || lower
            .strip_prefix('v')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    ensure!(
        !reserved,
        bad("'latest' and 'v<number>' are reserved for version references")
    );
    Ok(())
}

/// A file `pull` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledFile {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
}

/// A model registry. Object safe; `tenure registry` holds a
/// `Box<dyn ModelRegistry>` chosen from the tracking URI.
pub trait ModelRegistry: fmt::Debug + Send + Sync {
    /// Where the registry is (directory or server URL, no credentials).
    fn location(&self) -> String;

    /// Creates the model if needed and adds the candidate as its next
    /// version.
    fn register(&self, name: &str, candidate: &Candidate) -> Result<ModelVersion>;

    /// Every registered model, by name.
    fn list_models(&self) -> Result<Vec<RegisteredModel>>;

    fn get_model(&self, name: &str) -> Result<RegisteredModel>;

    /// The model's versions, oldest first.
    fn list_versions(&self, name: &str) -> Result<Vec<ModelVersion>>;

    fn get_version(&self, name: &str, version: u64) -> Result<ModelVersion>;

    /// The version an alias points at.
    fn alias_version(&self, name: &str, alias: &str) -> Result<ModelVersion>;

    /// Points `alias` at `version` and appends the move to the promotion
    /// log.
    fn set_alias(
        &self,
        name: &str,
        alias: &str,
        version: u64,
        who: &str,
        reason: &str,
    ) -> Result<Promotion>;

    /// The promotion log, oldest first.
    fn promotions(&self, name: &str) -> Result<Vec<Promotion>>;

    fn set_model_tag(&self, name: &str, key: &str, value: &str) -> Result<()>;

    fn set_version_tag(&self, name: &str, version: u64, key: &str, value: &str) -> Result<()>;

    /// The stored bytes of one file of a version, unverified.
    fn read_file(&self, version: &ModelVersion, file: &str) -> Result<Vec<u8>>;

    /// The version a reference selects.
    fn resolve(&self, model: &ModelRef) -> Result<ModelVersion> {
        match &model.selector {
            Selector::Version(v) => self.get_version(&model.name, *v),
            Selector::Alias(a) => self.alias_version(&model.name, a),
            Selector::Latest => {
                let m = self.get_model(&model.name)?;
                let v = m
                    .latest_version
                    .ok_or_else(|| StoreError::VersionNotFound {
                        name: model.name.clone(),
                        version: 1,
                        location: self.location(),
                    })?;
                self.get_version(&model.name, v)
            }
        }
    }

    /// A version's file, verified against its recorded sha256.
    fn read_verified(&self, version: &ModelVersion, file: &str) -> Result<Vec<u8>> {
        let missing = |detail: String| StoreError::MissingFile {
            what: file.to_string(),
            model: version.name.clone(),
            version: version.version,
            detail,
        };
        let digest = version
            .files
            .get(file)
            .ok_or_else(|| missing("the version records no such file".into()))?;
        let bytes = self.read_file(version, file).map_err(|e| match e {
            e @ StoreError::Remote(_) => missing(e.to_string()),
            StoreError::Io { source, path, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                missing(format!("{} does not exist", path.display()))
            }
            other => other,
        })?;
        let actual = sha256_hex(&bytes);
        ensure!(
            actual == digest.sha256,
            StoreError::ChecksumMismatch {
                file: file.to_string(),
                model: version.name.clone(),
                version: version.version,
                expected: digest.sha256.clone(),
                actual,
            }
        );
        Ok(bytes)
    }

    /// Writes the [`DEPLOY_FILES`] of the selected version into `out_dir`,
    /// after verifying every one of them: a corrupt or missing file leaves
    /// `out_dir` untouched.
    fn pull(&self, model: &ModelRef, out_dir: &Path) -> Result<(ModelVersion, Vec<PulledFile>)> {
        let version = self.resolve(model)?;
        let mut verified = Vec::new();
        for file in DEPLOY_FILES {
            verified.push((file, self.read_verified(&version, file)?));
        }
        crate::fsutil::create_dir_all(out_dir)?;
        let mut pulled = Vec::new();
        for (file, bytes) in verified {
            let dest = out_dir.join(file);
            crate::fsutil::atomic_write(out_dir, &dest, &bytes)?;
            pulled.push(PulledFile {
                name: file.to_string(),
                path: dest,
                sha256: version.files[file].sha256.clone(),
            });
        }
        Ok((version, pulled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_refs_parse() {
        let r: ModelRef = "churn@champion".parse().unwrap();
        assert_eq!(r.selector, Selector::Alias("champion".into()));
        assert_eq!(r.to_string(), "churn@champion");
        let r: ModelRef = "churn.v2/12".parse().unwrap();
        assert_eq!(
            (r.name.as_str(), r.selector),
            ("churn.v2", Selector::Version(12))
        );
        assert_eq!(
            "churn".parse::<ModelRef>().unwrap().selector,
            Selector::Latest
        );
        for bad in [
            "",
            "churn/0",
            "churn/x",
            "churn@",
            "churn@latest",
            "churn@v3",
            "../x",
            "a b",
            "@x",
        ] {
            assert!(bad.parse::<ModelRef>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
