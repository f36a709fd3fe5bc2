//! The embedded registry: plain files next to the local tracking store.
//!
//! ```text
//! <root>/blobs/sha256/<hex>                 file contents, stored once, immutable
//! <root>/models/<name>/model.json           creation time and tags
//! <root>/models/<name>/versions/<n>.json    one version: file digests, lineage, tags
//! <root>/models/<name>/promotions.jsonl     append-only alias moves (who, when, why)
//! <root>/tmp/                               temporary files, renamed into place
//! <root>/.lock                              serialises writers
//! ```
//!
//! Crash safety comes from the order of writes: a version's blobs are
//! complete (temp + fsync + rename) before its record is renamed into
//! place, and a record or log is only ever replaced whole. A writer killed
//! at any point leaves at worst an unreferenced blob or temp file, never a
//! record that points at a missing or half-written file.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    Candidate, DEPLOY_FILES, FileDigest, Lineage, ModelRegistry, ModelVersion, Promotion,
    RegisteredModel, sha256_hex, validate_alias, validate_model_name,
};
use crate::error::{Result, StoreError, ensure};
use crate::fsutil::{self, FileLock, atomic_write};
use crate::store::now_ms;
use crate::validate;

/// The registry's folder inside a local tracking store.
pub const LOCAL_REGISTRY_DIR: &str = "registry";

const MODEL_FILE: &str = "model.json";
const VERSIONS_DIR: &str = "versions";
const PROMOTIONS_FILE: &str = "promotions.jsonl";

/// A model registry in a local directory; any number of processes may use
/// one directory at once.
#[derive(Debug, Clone)]
pub struct LocalRegistry {
    root: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct ModelRecord {
    name: String,
    created_ms: i64,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct VersionRecord {
    version: u64,
    created_ms: i64,
    source: String,
    files: BTreeMap<String, FileDigest>,
    lineage: Lineage,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

impl LocalRegistry {
    /// Opens (creating if needed) the registry at `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let given = root.as_ref();
        let root = std::path::absolute(given).map_err(StoreError::io("resolve", given))?;
        for sub in ["blobs/sha256", "models", "tmp"] {
            fsutil::create_dir_all(&root.join(sub))?;
        }
        Ok(Self { root })
    }

    /// The registry of the local tracking store at `store_root`.
    pub fn in_store(store_root: impl AsRef<Path>) -> Result<Self> {
        Self::open(store_root.as_ref().join(LOCAL_REGISTRY_DIR))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the bytes with this sha256 are kept.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root.join("blobs/sha256").join(sha256)
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.root.join(".lock"))
    }

    fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn model_dir(&self, name: &str) -> PathBuf {
        self.root.join("models").join(name)
    }

    fn version_path(&self, name: &str, version: u64) -> PathBuf {
        self.model_dir(name)
            .join(VERSIONS_DIR)
            .join(format!("{version}.json"))
    }

    /// Stores `bytes` under their hash unless an intact copy is there.
    fn put_blob(&self, bytes: &[u8]) -> Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.blob_path(&sha);
        let intact = match fs::read(&path) {
            Ok(existing) => sha256_hex(&existing) == sha,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(StoreError::io("read", &path)(e)),
        };
        if !intact {
            atomic_write(&self.tmp(), &path, bytes)?;
        }
        Ok(sha)
    }

    fn read_model(&self, name: &str) -> Result<ModelRecord> {
        validate_model_name(name)?;
        read_json(&self.model_dir(name).join(MODEL_FILE))?.ok_or_else(|| {
            StoreError::ModelNotFound {
                name: name.to_string(),
                location: self.location(),
            }
        })
    }

    fn version_numbers(&self, name: &str) -> Result<Vec<u64>> {
        let dir = self.model_dir(name).join(VERSIONS_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io("list directory", &dir)(e)),
        };
        let mut numbers = Vec::new();
        for entry in entries {
            let entry = entry.map_err(StoreError::io("list directory", &dir))?;
            if let Some(n) = entry
                .file_name()
                .to_str()
                .and_then(|f| f.strip_suffix(".json"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    fn read_version_record(&self, name: &str, version: u64) -> Result<VersionRecord> {
        read_json(&self.version_path(name, version))?.ok_or_else(|| StoreError::VersionNotFound {
            name: name.to_string(),
            version,
            location: self.location(),
        })
    }

    fn read_promotions(&self, name: &str) -> Result<Vec<Promotion>> {
        let path = self.model_dir(name).join(PROMOTIONS_FILE);
        let Some(text) = fsutil::read_optional(&path)? else {
            return Ok(Vec::new());
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line).map_err(|e| StoreError::Malformed {
                    path: path.clone(),
                    reason: format!("line {}: {e}", i + 1),
                })
            })
            .collect()
    }

    fn aliases(&self, name: &str) -> Result<BTreeMap<String, u64>> {
        Ok(self
            .read_promotions(name)?
            .into_iter()
            .map(|p| (p.alias, p.version))
            .collect())
    }

    fn to_version(
        &self,
        name: &str,
        rec: VersionRecord,
        aliases: &BTreeMap<String, u64>,
    ) -> ModelVersion {
        ModelVersion {
            name: name.to_string(),
            version: rec.version,
            created_ms: rec.created_ms,
            source: rec.source,
            files: rec.files,
            lineage: rec.lineage,
            aliases: aliases
                .iter()
                .filter(|(_, v)| **v == rec.version)
                .map(|(a, _)| a.clone())
                .collect(),
            tags: rec.tags,
        }
    }
}

impl ModelRegistry for LocalRegistry {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn register(&self, name: &str, candidate: &Candidate) -> Result<ModelVersion> {
        validate_model_name(name)?;
        for required in DEPLOY_FILES {
            ensure!(
                candidate.file(required).is_some(),
                StoreError::NotRegistrable {
                    run_id: candidate.lineage.run_id.clone(),
                    reason: format!("no {required} among the files to register"),
                }
            );
        }
        // Blobs first and outside the lock: they are immutable and named by
        // content, so concurrent writers of one blob write the same bytes.
        let mut files = BTreeMap::new();
        for f in &candidate.files {
            let sha = self.put_blob(&f.bytes)?;
            files.insert(
                f.name.clone(),
                FileDigest {
                    sha256: sha,
                    size: f.bytes.len() as u64,
                },
            );
        }
        let _lock = self.lock()?;
        let model_path = self.model_dir(name).join(MODEL_FILE);
        if !model_path.is_file() {
            write_json(
                &self.tmp(),
                &model_path,
                &ModelRecord {
                    name: name.to_string(),
                    created_ms: now_ms(),
                    tags: BTreeMap::new(),
                },
            )?;
        }
        let version = self.version_numbers(name)?.last().map_or(1, |v| v + 1);
        let record = VersionRecord {
            version,
            created_ms: now_ms(),
            source: candidate.source.clone(),
            files,
            lineage: candidate.lineage.clone(),
            tags: BTreeMap::new(),
        };
        // The rename of this record is the moment the version exists.
        write_json(&self.tmp(), &self.version_path(name, version), &record)?;
        let aliases = self.aliases(name)?;
        Ok(self.to_version(name, record, &aliases))
    }

    fn list_models(&self) -> Result<Vec<RegisteredModel>> {
        let mut out = Vec::new();
        for name in fsutil::subdirs(&self.root.join("models"))? {
            if validate_model_name(&name).is_err() {
                continue;
            }
            // A folder without model.json is a model still being created.
            match self.get_model(&name) {
                Ok(m) => out.push(m),
                Err(StoreError::ModelNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    fn get_model(&self, name: &str) -> Result<RegisteredModel> {
        let rec = self.read_model(name)?;
        Ok(RegisteredModel {
            name: rec.name,
            created_ms: rec.created_ms,
            latest_version: self.version_numbers(name)?.last().copied(),
            aliases: self.aliases(name)?,
            tags: rec.tags,
        })
    }

    fn list_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        self.read_model(name)?;
        let aliases = self.aliases(name)?;
        self.version_numbers(name)?
            .into_iter()
            .map(|v| {
                let rec = self.read_version_record(name, v)?;
                Ok(self.to_version(name, rec, &aliases))
            })
            .collect()
    }

    fn get_version(&self, name: &str, version: u64) -> Result<ModelVersion> {
        self.read_model(name)?;
        let rec = self.read_version_record(name, version)?;
        Ok(self.to_version(name, rec, &self.aliases(name)?))
    }

    fn alias_version(&self, name: &str, alias: &str) -> Result<ModelVersion> {
        validate_alias(alias)?;
        self.read_model(name)?;
        let version = *self
            .aliases(name)?
            .get(alias)
            .ok_or_else(|| StoreError::AliasNotFound {
                name: name.to_string(),
                alias: alias.to_string(),
                location: self.location(),
            })?;
        self.get_version(name, version)
    }

    fn set_alias(
        &self,
        name: &str,
        alias: &str,
        version: u64,
        who: &str,
        reason: &str,
    ) -> Result<Promotion> {
        validate_alias(alias)?;
        self.read_model(name)?;
        let _lock = self.lock()?;
        self.read_version_record(name, version)?;
        let mut log = self.read_promotions(name)?;
        let previous = log
            .iter()
            .rev()
            .find(|p| p.alias == alias)
            .map(|p| p.version);
        let promotion = Promotion {
            model: name.to_string(),
            alias: alias.to_string(),
            version,
            previous,
            who: who.to_string(),
            at_ms: now_ms(),
            reason: reason.to_string(),
        };
        log.push(promotion.clone());
        // Rewritten whole and renamed, so the log only ever grows by whole
        // lines, even if we are killed mid-write.
        let mut text = String::new();
        for p in &log {
            text.push_str(&serde_json::to_string(p).expect("a promotion serialises"));
            text.push('\n');
        }
        atomic_write(
            &self.tmp(),
            &self.model_dir(name).join(PROMOTIONS_FILE),
            text.as_bytes(),
        )?;
        Ok(promotion)
    }

    fn promotions(&self, name: &str) -> Result<Vec<Promotion>> {
        self.read_model(name)?;
        self.read_promotions(name)
    }

    fn set_model_tag(&self, name: &str, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        self.read_model(name)?;
        let _lock = self.lock()?;
        let mut rec = self.read_model(name)?;
        rec.tags.insert(key.to_string(), value.to_string());
        write_json(&self.tmp(), &self.model_dir(name).join(MODEL_FILE), &rec)
    }

    fn set_version_tag(&self, name: &str, version: u64, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        self.read_model(name)?;
        let _lock = self.lock()?;
        let mut rec = self.read_version_record(name, version)?;
        rec.tags.insert(key.to_string(), value.to_string());
        write_json(&self.tmp(), &self.version_path(name, version), &rec)
    }

    fn read_file(&self, version: &ModelVersion, file: &str) -> Result<Vec<u8>> {
        let digest = version
            .files
            .get(file)
            .ok_or_else(|| StoreError::MissingFile {
                what: file.to_string(),
                model: version.name.clone(),
                version: version.version,
                detail: "the version records no such file".into(),
            })?;
        let path = self.blob_path(&digest.sha256);
        fs::read(&path).map_err(StoreError::io("read", &path))
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let Some(text) = fsutil::read_optional(path)? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StoreError::Malformed {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

fn write_json<T: Serialize>(tmp_dir: &Path, path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("registry records serialise");
    atomic_write(tmp_dir, path, text.as_bytes())
}
