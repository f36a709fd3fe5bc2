//! [`ModelRegistry`] on MLflow's model registry.
//!
//! A version is an MLflow model version whose `source` is the run's model
//! folder (`mlflow-artifacts:/…/models/<model>`), so MLflow's UI links it
//! to the run. What MLflow has no field for travels in tags: `tenure.files`
//! (file → sha256, size and path in the run's artifacts) and
//! `tenure.lineage` on the version, and one `tenure.promotion.*` tag per
//! alias move on the registered model — MLflow keeps no history of aliases,
//! and tags are only ever added, so the log is append-only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tenure_store::registry::{
    Candidate, DEPLOY_FILES, FileDigest, Lineage, ModelRegistry, ModelVersion, Promotion,
    RegisteredModel, validate_alias, validate_model_name,
};
use tenure_store::{RemoteError, RemoteErrorKind, Result, StoreError, TrackingStore};

use crate::client::{CREATE_TOKEN_TAG, MlflowClient, PageTokens, RemoteResult, create_token};
use crate::tracking::{MlflowStore, now_ms};

const FILES_TAG: &str = "tenure.files";
const LINEAGE_TAG: &str = "tenure.lineage";
const PROMOTION_TAG_PREFIX: &str = "tenure.promotion.";

/// MLflow's model registry, reading and writing files through the server's
/// artifact proxy.
#[derive(Debug)]
pub struct MlflowRegistry {
    store: MlflowStore,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredFile {
    sha256: String,
    size: u64,
    /// Relative to the run's artifact root.
    path: String,
}

#[derive(Debug, Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Debug, Deserialize)]
struct AliasEntry {
    alias: String,
    version: String,
}

#[derive(Debug, Deserialize)]
struct WireModel {
    name: String,
    #[serde(default)]
    creation_timestamp: i64,
    #[serde(default)]
    aliases: Vec<AliasEntry>,
    #[serde(default)]
    tags: Vec<KeyValue>,
    #[serde(default)]
    latest_versions: Vec<WireVersion>,
}

#[derive(Debug, Deserialize)]
struct WireVersion {
    version: String,
    #[serde(default)]
    creation_timestamp: i64,
    #[serde(default)]
    source: String,
    #[serde(default)]
    run_id: String,
    #[serde(default)]
    tags: Vec<KeyValue>,
    #[serde(default)]
    aliases: Vec<String>,
}

impl MlflowRegistry {
    pub fn new(store: MlflowStore) -> Self {
        Self { store }
    }

    pub fn connect(uri: &str) -> Result<Self> {
        Ok(Self::new(MlflowStore::connect(uri)?))
    }

    fn model_not_found(&self, name: &str) -> impl FnOnce(RemoteError) -> StoreError {
        let name = name.to_string();
        let location = self.location();
        move |e| match e.kind {
            RemoteErrorKind::NotFound => StoreError::ModelNotFound { name, location },
            _ => e.into(),
        }
    }

    fn wire_model(&self, name: &str) -> Result<WireModel> {
        validate_model_name(name)?;
        #[derive(Deserialize)]
        struct Resp {
            registered_model: WireModel,
        }
        let resp: Resp = self
            .store
            .client()
            .get("registered-models/get", &[("name", name)])
            .map_err(self.model_not_found(name))?;
        Ok(resp.registered_model)
    }

    fn to_model(&self, w: WireModel) -> Result<RegisteredModel> {
        let latest = self.version_numbers(&w.name)?.last().copied();
        Ok(RegisteredModel {
            latest_version: latest.or_else(|| {
                w.latest_versions
                    .iter()
                    .filter_map(|v| v.version.parse().ok())
                    .max()
            }),
            aliases: aliases(&w.aliases),
            tags: w
                .tags
                .into_iter()
                .filter(|t| !t.key.starts_with(PROMOTION_TAG_PREFIX))
                .map(|t| (t.key, t.value))
                .collect(),
            name: w.name,
            created_ms: w.creation_timestamp,
        })
    }

    fn search_versions(&self, name: &str) -> Result<Vec<WireVersion>> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            model_versions: Vec<WireVersion>,
            next_page_token: Option<String>,
        }
        let filter = format!("name='{}'", name.replace('\'', "\\'"));
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = PageTokens::default();
        loop {
            let mut query = vec![("filter", filter.clone()), ("max_results", "10000".into())];
            if let Some(t) = &token {
                query.push(("page_token", t.clone()));
            }
            let resp: Resp = self.store.client().get("model-versions/search", &query)?;
            out.extend(resp.model_versions);
            match pages.next(
                self.store.client(),
                "model-versions/search",
                resp.next_page_token,
            )? {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(out)
    }

    fn version_numbers(&self, name: &str) -> Result<Vec<u64>> {
        let mut v: Vec<u64> = self
            .search_versions(name)?
            .iter()
            .filter_map(|v| v.version.parse().ok())
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    fn to_version(
        &self,
        name: &str,
        w: WireVersion,
        aliases: &BTreeMap<String, u64>,
    ) -> Result<ModelVersion> {
        let version: u64 = w.version.parse().map_err(|_| {
            StoreError::Remote(RemoteError {
                kind: RemoteErrorKind::NotMlflow,
                url: self.location(),
                status: None,
                message: format!("model version '{}' of {name} is not a number", w.version),
            })
        })?;
        let tag = |key: &str| {
            w.tags
                .iter()
                .find(|t| t.key == key)
                .map(|t| t.value.as_str())
        };
        let malformed = |key: &str, e: serde_json::Error| {
            StoreError::Remote(RemoteError {
                kind: RemoteErrorKind::Rejected,
                url: self.location(),
                status: None,
                message: format!("tag {key} of {name} version {version} is not valid: {e}"),
            })
        };
        let files: BTreeMap<String, StoredFile> = match tag(FILES_TAG) {
            Some(t) => serde_json::from_str(t).map_err(|e| malformed(FILES_TAG, e))?,
            // Registered by something other than tenure: no recorded hashes.
            None => BTreeMap::new(),
        };
        let lineage: Lineage = match tag(LINEAGE_TAG) {
            Some(t) => serde_json::from_str(t).map_err(|e| malformed(LINEAGE_TAG, e))?,
            None => Lineage {
                run_id: w.run_id.clone(),
                ..Lineage::default()
            },
        };
        let mut version_aliases: Vec<String> = aliases
            .iter()
            .filter(|(_, v)| **v == version)
            .map(|(a, _)| a.clone())
            .collect();
        version_aliases.extend(w.aliases.iter().cloned());
        version_aliases.sort();
        version_aliases.dedup();
        Ok(ModelVersion {
            name: name.to_string(),
            version,
            created_ms: w.creation_timestamp,
            source: w.source,
            files: files
                .into_iter()
                .map(|(k, f)| {
                    (
                        k,
                        FileDigest {
                            sha256: f.sha256,
                            size: f.size,
                        },
                    )
                })
                .collect(),
            lineage,
            aliases: version_aliases,
            tags: w
                .tags
                .into_iter()
                .filter(|t| ![FILES_TAG, LINEAGE_TAG, CREATE_TOKEN_TAG].contains(&t.key.as_str()))
                .map(|t| (t.key, t.value))
                .collect(),
        })
    }

    fn wire_version(&self, name: &str, version: u64) -> Result<WireVersion> {
        #[derive(Deserialize)]
        struct Resp {
            model_version: WireVersion,
        }
        let v = version.to_string();
        let location = self.location();
        let resp: Resp = self
            .store
            .client()
            .get("model-versions/get", &[("name", name), ("version", &v)])
            .map_err(|e| match e.kind {
                RemoteErrorKind::NotFound => StoreError::VersionNotFound {
                    name: name.to_string(),
                    version,
                    location,
                },
                _ => e.into(),
            })?;
        Ok(resp.model_version)
    }

    /// Where a file of a version lives in its run's artifacts.
    fn file_path(&self, version: &ModelVersion, file: &str) -> Result<String> {
        let w = self.wire_version(&version.name, version.version)?;
        let files: BTreeMap<String, StoredFile> = w
            .tags
            .iter()
            .find(|t| t.key == FILES_TAG)
            .and_then(|t| serde_json::from_str(&t.value).ok())
            .unwrap_or_default();
        files
            .get(file)
            .map(|f| f.path.clone())
            .ok_or_else(|| StoreError::MissingFile {
                what: file.to_string(),
                model: version.name.clone(),
                version: version.version,
                detail: format!(
                    "the version records no such file (tag {FILES_TAG}: was it registered by \
                     tenure?)"
                ),
            })
    }
}

fn aliases(entries: &[AliasEntry]) -> BTreeMap<String, u64> {
    entries
        .iter()
        .filter_map(|a| Some((a.alias.clone(), a.version.parse().ok()?)))
        .collect()
}

impl ModelRegistry for MlflowRegistry {
    fn location(&self) -> String {
        self.store.client().base_url()
    }

    fn register(&self, name: &str, candidate: &Candidate) -> Result<ModelVersion> {
        validate_model_name(name)?;
        for required in DEPLOY_FILES {
            if candidate.file(required).is_none() {
                return Err(StoreError::NotRegistrable {
                    run_id: candidate.lineage.run_id.clone(),
                    reason: format!("no {required} among the files to register"),
                });
            }
        }
        match self
            .store
            .client()
            .post::<Value, _>("registered-models/create", &json!({ "name": name }))
        {
            Ok(_) => {}
            Err(e) if e.message.starts_with("RESOURCE_ALREADY_EXISTS") => {}
            Err(e) => return Err(e.into()),
        }
        let files: BTreeMap<&str, StoredFile> = candidate
            .files
            .iter()
            .map(|f| {
                let d = f.digest();
                (
                    f.name.as_str(),
                    StoredFile {
                        sha256: d.sha256,
                        size: d.size,
                        path: f.run_path.clone(),
                    },
                )
            })
            .collect();
        let files_json = serde_json::to_string(&files).expect("file table serialises");
        let lineage_json = serde_json::to_string(&candidate.lineage).expect("lineage serialises");
        #[derive(Deserialize)]
        struct Resp {
            model_version: WireVersion,
        }
        let token = create_token();
        // Search answers may leave tags out, so the versions this run
        // registered under the name are read one by one.
        let find = |client: &MlflowClient| -> RemoteResult<Option<Resp>> {
            #[derive(Deserialize)]
            struct Found {
                #[serde(default)]
                model_versions: Vec<WireVersion>,
            }
            let quote = |s: &str| s.replace('\'', "\\'");
            let filter = format!(
                "name='{}' AND run_id='{}'",
                quote(name),
                quote(&candidate.lineage.run_id)
            );
            let found: Found = client.get(
                "model-versions/search",
                &[("filter", filter.as_str()), ("max_results", "1000")],
            )?;
            for v in found.model_versions {
                let full: Resp = client.get(
                    "model-versions/get",
                    &[("name", name), ("version", v.version.as_str())],
                )?;
                let tags = &full.model_version.tags;
                if tags
                    .iter()
                    .any(|t| t.key == CREATE_TOKEN_TAG && t.value == token)
                {
                    return Ok(Some(full));
                }
            }
            Ok(None)
        };
        let resp: Resp = self.store.client().post_create(
            "model-versions/create",
            &json!({
                "name": name,
                "source": candidate.source,
                "run_id": candidate.lineage.run_id,
                "description": format!(
                    "{} from run {}", candidate.lineage.model, candidate.lineage.run_id
                ),
                "tags": [
                    {"key": FILES_TAG, "value": files_json},
                    {"key": LINEAGE_TAG, "value": lineage_json},
                    {"key": CREATE_TOKEN_TAG, "value": token},
                ],
            }),
            find,
        )?;
        let aliases = aliases(&self.wire_model(name)?.aliases);
        self.to_version(name, resp.model_version, &aliases)
    }

    fn list_models(&self) -> Result<Vec<RegisteredModel>> {
        #[derive(Deserialize)]
        struct Resp {
            #[serde(default)]
            registered_models: Vec<WireModel>,
            next_page_token: Option<String>,
        }
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = PageTokens::default();
        loop {
            let mut query = vec![("max_results", "1000".to_string())];
            if let Some(t) = &token {
                query.push(("page_token", t.clone()));
            }
            let resp: Resp = self
                .store
                .client()
                .get("registered-models/search", &query)?;
            for w in resp.registered_models {
                // Search results may omit aliases; get has them all.
                let full = self.wire_model(&w.name)?;
                out.push(self.to_model(full)?);
            }
            match pages.next(
                self.store.client(),
                "registered-models/search",
                resp.next_page_token,
            )? {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn get_model(&self, name: &str) -> Result<RegisteredModel> {
        let w = self.wire_model(name)?;
        self.to_model(w)
    }

    fn list_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        let aliases = aliases(&self.wire_model(name)?.aliases);
        let mut out = self
            .search_versions(name)?
            .into_iter()
            .map(|w| self.to_version(name, w, &aliases))
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|v| v.version);
        Ok(out)
    }

    fn get_version(&self, name: &str, version: u64) -> Result<ModelVersion> {
        let aliases = aliases(&self.wire_model(name)?.aliases);
        let w = self.wire_version(name, version)?;
        self.to_version(name, w, &aliases)
    }

    fn alias_version(&self, name: &str, alias: &str) -> Result<ModelVersion> {
        validate_alias(alias)?;
        let aliases = aliases(&self.wire_model(name)?.aliases);
        let version = *aliases
            .get(alias)
            .ok_or_else(|| StoreError::AliasNotFound {
                name: name.to_string(),
                alias: alias.to_string(),
                location: self.location(),
            })?;
        let w = self.wire_version(name, version)?;
        self.to_version(name, w, &aliases)
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
        let previous = aliases(&self.wire_model(name)?.aliases).get(alias).copied();
        self.wire_version(name, version)?;
        self.store.client().post::<Value, _>(
            "registered-models/alias",
            &json!({"name": name, "alias": alias, "version": version.to_string()}),
        )?;
        let promotion = Promotion {
            model: name.to_string(),
            alias: alias.to_string(),
            version,
            previous,
            who: who.to_string(),
            at_ms: now_ms(),
            reason: reason.to_string(),
        };
        // Millisecond time, then a random suffix so that two promotions in
        // one millisecond never overwrite each other's entry.
        let key = format!(
            "{PROMOTION_TAG_PREFIX}{:015}.{:08x}",
            promotion.at_ms,
            random_u32()
        );
        self.store.client().post::<Value, _>(
            "registered-models/set-tag",
            &json!({
                "name": name,
                "key": key,
                "value": serde_json::to_string(&promotion).expect("promotion serialises"),
            }),
        )?;
        Ok(promotion)
    }

    fn promotions(&self, name: &str) -> Result<Vec<Promotion>> {
        let w = self.wire_model(name)?;
        let mut entries: Vec<(String, Promotion)> = Vec::new();
        for t in w.tags {
            if t.key.starts_with(PROMOTION_TAG_PREFIX) {
                let p: Promotion = serde_json::from_str(&t.value).map_err(|e| {
                    StoreError::Remote(RemoteError {
                        kind: RemoteErrorKind::Rejected,
                        url: self.location(),
                        status: None,
                        message: format!("promotion tag {} of {name} is not valid: {e}", t.key),
                    })
                })?;
                entries.push((t.key, p));
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries.into_iter().map(|(_, p)| p).collect())
    }

    fn set_model_tag(&self, name: &str, key: &str, value: &str) -> Result<()> {
        self.wire_model(name)?;
        self.store.client().post::<Value, _>(
            "registered-models/set-tag",
            &json!({"name": name, "key": key, "value": value}),
        )?;
        Ok(())
    }

    fn set_version_tag(&self, name: &str, version: u64, key: &str, value: &str) -> Result<()> {
        self.wire_version(name, version)?;
        self.store.client().post::<Value, _>(
            "model-versions/set-tag",
            &json!({"name": name, "version": version.to_string(), "key": key, "value": value}),
        )?;
        Ok(())
    }

    fn read_file(&self, version: &ModelVersion, file: &str) -> Result<Vec<u8>> {
        let path = self.file_path(version, file)?;
        self.store.read_artifact(&version.lineage.run_id, &path)
    }
}

/// Entropy for tag keys without a random-number crate: the standard
/// library's randomly seeded hasher.
fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_ms());
    h.finish() as u32
}
