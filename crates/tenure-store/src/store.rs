use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError, ensure};
use crate::fsutil::{self, FileLock, atomic_write, atomic_write_with};
use crate::model::{Experiment, LifecycleStage, MetricPoint, Run, RunInfo, RunStatus};
use crate::validate;
use crate::yaml::{self, Value};

/// Id of the experiment MLflow creates with every store.
pub const DEFAULT_EXPERIMENT_ID: &str = "0";
pub const DEFAULT_EXPERIMENT_NAME: &str = "Default";
/// The tag MLflow's UI reads a run's name from.
pub const RUN_NAME_TAG: &str = "mlflow.runName";

const META_FILE: &str = "meta.yaml";
const TRASH_DIR: &str = ".trash";
const LOCK_FILE: &str = ".lock";
const METRICS_DIR: &str = "metrics";
const PARAMS_DIR: &str = "params";
const TAGS_DIR: &str = "tags";
const ARTIFACTS_DIR: &str = "artifacts";
/// Sub-folders of the root that are not experiments (`models` is MLflow's
/// model registry, `registry` tenure's).
const NON_EXPERIMENT_DIRS: [&str; 3] = [TRASH_DIR, "models", crate::registry::LOCAL_REGISTRY_DIR];
/// Sub-folders of an experiment that are not runs (MLflow's
/// `RESERVED_EXPERIMENT_FOLDERS`).
const NON_RUN_DIRS: [&str; 3] = ["tags", "datasets", "traces"];
/// MLflow's `SourceType.LOCAL`; the file store writes it for every run.
const SOURCE_TYPE_LOCAL: i64 = 4;

/// A tracking store in a local directory, laid out exactly like MLflow's file
/// store so `mlflow ui --backend-store-uri <root>` can browse it.
///
/// The store holds no state besides its root: any number of `LocalStore`
/// values, in any number of threads or processes, may work on one directory
/// at once. Every file is replaced atomically, so readers never see a partial
/// write.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// Opens the store at `root`, creating the directory and MLflow's
    /// `Default` experiment (id `"0"`) if they are missing.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let given = root.as_ref();
        // Absolute because MLflow records artifact locations as file URIs.
        // Not canonicalised: the user's view of a symlinked path is kept.
        let root = std::path::absolute(given).map_err(StoreError::io("resolve", given))?;
        fsutil::create_dir_all(&root)?;
        fsutil::create_dir_all(&root.join(TRASH_DIR))?;
        let store = Self { root };
        let default_meta = store.root.join(DEFAULT_EXPERIMENT_ID).join(META_FILE);
        if !default_meta.is_file() {
            let _lock = store.store_lock()?;
            if !default_meta.is_file() {
                store.write_new_experiment(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME)?;
            }
        }
        Ok(store)
    }

    /// The absolute path of the store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Id of the active experiment called `name`, created if there is none.
    ///
    /// Creation happens under the store-wide lock file, so concurrent callers
    /// (threads or processes) asking for the same new name all get one id.
    pub fn get_or_create_experiment(&self, name: &str) -> Result<String> {
        validate::experiment_name(name)?;
        if let Some(exp) = self.experiment_by_name(name)? {
            return Ok(exp.experiment_id);
        }
        let _lock = self.store_lock()?;
        // Someone may have created it between our look and taking the lock.
        if let Some(exp) = self.experiment_by_name(name)? {
            return Ok(exp.experiment_id);
        }
        if let Some(deleted) = self
            .experiments_in(&self.root.join(TRASH_DIR))?
            .into_iter()
            .find(|e| e.name == name)
        {
            return Err(StoreError::ExperimentDeleted {
                name: name.to_string(),
                experiment_id: deleted.experiment_id,
            });
        }
        let id = self.next_experiment_id()?;
        self.write_new_experiment(&id, name)?;
        Ok(id)
    }

    /// The active experiment called `name`, if any. Should several exist
    /// (MLflow itself does not lock), the oldest wins, so every caller
    /// agrees.
    pub fn experiment_by_name(&self, name: &str) -> Result<Option<Experiment>> {
        Ok(self
            .list_experiments()?
            .into_iter()
            .filter(|e| e.name == name)
            .min_by(|a, b| {
                (a.creation_time_ms, id_order(&a.experiment_id))
                    .cmp(&(b.creation_time_ms, id_order(&b.experiment_id)))
            }))
    }

    /// The experiment with this id, active or deleted.
    pub fn get_experiment(&self, experiment_id: &str) -> Result<Experiment> {
        self.find_experiment(experiment_id).map(|(_, exp)| exp)
    }

    /// Active experiments, by id.
    pub fn list_experiments(&self) -> Result<Vec<Experiment>> {
        let mut exps: Vec<Experiment> = self
            .experiments_in(&self.root)?
            .into_iter()
            .filter(|e| e.lifecycle_stage == LifecycleStage::Active)
            .collect();
        exps.sort_by(|a, b| id_order(&a.experiment_id).cmp(&id_order(&b.experiment_id)));
        Ok(exps)
    }

    /// Starts a run in `experiment_id` and returns its id (32 hex digits).
    ///
    /// An empty `run_name` takes the `mlflow.runName` tag if given, else a
    /// name derived from the id. `mlflow.user` and `mlflow.source.*` tags are
    /// added unless `tags` sets them, so MLflow's UI fills its columns.
    pub fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        tags: &[(&str, &str)],
    ) -> Result<String> {
        let (exp_dir, exp) = self.find_experiment(experiment_id)?;
        ensure!(
            exp.lifecycle_stage == LifecycleStage::Active && exp_dir.parent() == Some(&self.root),
            StoreError::NotActive {
                what: "experiment",
                id: experiment_id.to_string(),
            }
        );
        for (key, _) in tags {
            validate::key("tag", key)?;
        }
        let tagged_name = tags.iter().rev().find(|(k, _)| *k == RUN_NAME_TAG);
        if let Some((_, tagged)) = tagged_name {
            ensure!(
                run_name.is_empty() || run_name == *tagged,
                StoreError::InvalidArgument(format!(
                    "run name '{run_name}' contradicts tag {RUN_NAME_TAG}='{tagged}'"
                ))
            );
        }

        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let run_name = match (run_name, tagged_name) {
            ("", Some((_, tagged))) => (*tagged).to_string(),
            ("", None) => format!("run-{}", &run_id[..8]),
            (name, _) => name.to_string(),
        };
        let run_dir = exp_dir.join(&run_id);
        fs::create_dir(&run_dir).map_err(StoreError::io("create run directory", &run_dir))?;
        for sub in [METRICS_DIR, PARAMS_DIR, TAGS_DIR, ARTIFACTS_DIR] {
            fsutil::create_dir_all(&run_dir.join(sub))?;
        }

        let user = current_user();
        let mut all_tags: BTreeMap<&str, &str> = BTreeMap::new();
        all_tags.insert("mlflow.user", &user);
        all_tags.insert("mlflow.source.type", "LOCAL");
        let program = program_name();
        if let Some(program) = &program {
            all_tags.insert("mlflow.source.name", program);
        }
        all_tags.extend(tags.iter().copied());
        all_tags.insert(RUN_NAME_TAG, &run_name);
        for (key, value) in &all_tags {
            atomic_write(
                &run_dir,
                &run_dir.join(TAGS_DIR).join(key),
                value.as_bytes(),
            )?;
        }

        let info = RunInfo {
            run_id: run_id.clone(),
            experiment_id: experiment_id.to_string(),
            run_name,
            status: RunStatus::Running,
            start_time_ms: now_ms(),
            end_time_ms: None,
            artifact_uri: fsutil::file_uri(&run_dir.join(ARTIFACTS_DIR)),
            user_id: user,
            lifecycle_stage: LifecycleStage::Active,
        };
        // Written last: a run becomes visible to listings only once its
        // directories and tags exist.
        write_run_meta(&run_dir, &info)?;
        Ok(run_id)
    }

    /// Logs a param. Params are immutable: logging the same value again is a
    /// no-op, a different value is an error.
    pub fn log_param(&self, run_id: &str, key: &str, value: &str) -> Result<()> {
        validate::key("param", key)?;
        let run_dir = self.writable_run(run_id)?;
        let path = run_dir.join(PARAMS_DIR).join(key);
        // The lock makes check-then-write one step, so two writers with
        // different values cannot both succeed.
        let _lock = run_lock(&run_dir)?;
        if let Some(old) = fsutil::read_optional(&path)? {
            ensure!(
                old == value,
                StoreError::ParamChanged {
                    run_id: run_id.to_string(),
                    key: key.to_string(),
                    old,
                    new: value.to_string(),
                }
            );
            return Ok(());
        }
        atomic_write(&run_dir, &path, value.as_bytes())
    }

    /// Appends one value of metric `key`, timestamped now.
    pub fn log_metric(&self, run_id: &str, key: &str, value: f64, step: i64) -> Result<()> {
        let point = MetricPoint {
            timestamp_ms: now_ms(),
            value,
            step,
        };
        self.log_metric_history(run_id, key, &[point])
    }

    /// Appends several values of metric `key` at once (a whole training
    /// curve, say) at the cost of a single file rewrite.
    pub fn log_metric_history(
        &self,
        run_id: &str,
        key: &str,
        points: &[MetricPoint],
    ) -> Result<()> {
        validate::key("metric", key)?;
        let run_dir = self.writable_run(run_id)?;
        if points.is_empty() {
            return Ok(());
        }
        if let Some(p) = points.iter().find(|p| p.timestamp_ms < 0) {
            return Err(StoreError::InvalidArgument(format!(
                "metric '{key}': timestamp {} is negative",
                p.timestamp_ms
            )));
        }
        let mut lines = String::new();
        for p in points {
            // Same "timestamp value step" line MLflow's file store writes.
            let _ = writeln!(
                lines,
                "{} {} {}",
                p.timestamp_ms,
                metric_value(p.value),
                p.step
            );
        }
        let path = run_dir.join(METRICS_DIR).join(key);
        // Why rewrite-and-rename instead of an O_APPEND write: appends are
        // atomic among writers, but a concurrent reader (MLflow's UI, or
        // `get_run`) can observe a half-written last line, and MLflow then
        // rejects the whole metric. Rewriting under the run lock and renaming
        // means readers see complete files only. The cost is O(history) per
        // call, small at training-run scales (thousands of points), and
        // `log_metric_history` amortises it for whole curves.
        let _lock = run_lock(&run_dir)?;
        let mut content = fsutil::read_optional(&path)?.unwrap_or_default();
        if !content.is_empty() && !content.ends_with('\n') {
            content.push('\n');
        }
        content.push_str(&lines);
        atomic_write(&run_dir, &path, content.as_bytes())
    }

    /// Sets (or overwrites) a tag. Setting `mlflow.runName` renames the run.
    pub fn set_tag(&self, run_id: &str, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        let run_dir = self.writable_run(run_id)?;
        let path = run_dir.join(TAGS_DIR).join(key);
        if key != RUN_NAME_TAG {
            return atomic_write(&run_dir, &path, value.as_bytes());
        }
        // MLflow keeps the name in both places; the lock keeps them in step
        // with a concurrent `end_run` rewriting the same meta file.
        let _lock = run_lock(&run_dir)?;
        atomic_write(&run_dir, &path, value.as_bytes())?;
        let mut info = self.reread_meta(run_id, &run_dir)?;
        info.run_name = value.to_string();
        write_run_meta(&run_dir, &info)
    }

    /// Writes an artifact file (replacing any previous one) and returns its
    /// path.
    pub fn log_artifact_bytes(
        &self,
        run_id: &str,
        rel_path: &str,
        bytes: &[u8],
    ) -> Result<PathBuf> {
        validate::artifact_path(rel_path)?;
        let run_dir = self.writable_run(run_id)?;
        let dest = run_dir.join(ARTIFACTS_DIR).join(rel_path);
        atomic_write(&run_dir, &dest, bytes)?;
        Ok(dest)
    }

    /// Copies `src` into the run's artifacts as `rel_path` and returns the
    /// new path.
    pub fn log_artifact_file(&self, run_id: &str, src: &Path, rel_path: &str) -> Result<PathBuf> {
        validate::artifact_path(rel_path)?;
        let run_dir = self.writable_run(run_id)?;
        let mut source = File::open(src).map_err(StoreError::io("open artifact source", src))?;
        let is_file = source
            .metadata()
            .map_err(StoreError::io("inspect artifact source", src))?
            .is_file();
        ensure!(
            is_file,
            StoreError::InvalidArgument(format!(
                "artifact source '{}' is not a regular file",
                src.display()
            ))
        );
        let dest = run_dir.join(ARTIFACTS_DIR).join(rel_path);
        atomic_write_with(&run_dir, &dest, |tmp| io::copy(&mut source, tmp).map(drop))?;
        Ok(dest)
    }

    /// Where artifact `rel_path` of the run lives (whether or not it exists
    /// yet).
    pub fn artifact_path(&self, run_id: &str, rel_path: &str) -> Result<PathBuf> {
        validate::artifact_path(rel_path)?;
        let (run_dir, _) = self.locate_run(run_id)?;
        Ok(run_dir.join(ARTIFACTS_DIR).join(rel_path))
    }

    /// The run's artifact directory.
    pub fn artifact_dir(&self, run_id: &str) -> Result<PathBuf> {
        let (run_dir, _) = self.locate_run(run_id)?;
        Ok(run_dir.join(ARTIFACTS_DIR))
    }

    /// Records the run's final status. A terminal status stamps the end time;
    /// a non-terminal one clears it.
    pub fn end_run(&self, run_id: &str, status: RunStatus) -> Result<()> {
        let run_dir = self.writable_run(run_id)?;
        let _lock = run_lock(&run_dir)?;
        let mut info = self.reread_meta(run_id, &run_dir)?;
        info.status = status;
        info.end_time_ms = status.is_terminal().then(now_ms);
        write_run_meta(&run_dir, &info)
    }

    /// Active runs of one experiment, or of all active experiments, newest
    /// first.
    pub fn list_runs(&self, experiment_id: Option<&str>) -> Result<Vec<RunInfo>> {
        let exp_dirs = match experiment_id {
            Some(id) => vec![self.find_experiment(id)?.0],
            None => self
                .list_experiments()?
                .into_iter()
                .map(|e| self.root.join(e.experiment_id))
                .collect(),
        };
        let mut runs = Vec::new();
        for exp_dir in exp_dirs {
            for name in fsutil::subdirs(&exp_dir)? {
                if NON_RUN_DIRS.contains(&name.as_str()) || validate::run_id(&name).is_err() {
                    continue;
                }
                // A directory without meta.yaml is a run still being created.
                if let Some(info) = read_run_meta(&exp_dir.join(&name))?
                    && info.lifecycle_stage == LifecycleStage::Active
                {
                    runs.push(info);
                }
            }
        }
        runs.sort_by(|a, b| {
            (Reverse(a.start_time_ms), &a.run_id).cmp(&(Reverse(b.start_time_ms), &b.run_id))
        });
        Ok(runs)
    }

    /// Everything logged to a run.
    pub fn get_run(&self, run_id: &str) -> Result<Run> {
        let (run_dir, info) = self.locate_run(run_id)?;
        let read_all = |sub: &str| -> Result<BTreeMap<String, String>> {
            fsutil::walk_files(&run_dir.join(sub))?
                .into_iter()
                .map(|(key, path)| Ok((key, fsutil::read_to_string(&path)?)))
                .collect()
        };
        let params = read_all(PARAMS_DIR)?;
        let tags = read_all(TAGS_DIR)?;
        let mut metrics = BTreeMap::new();
        for (key, path) in fsutil::walk_files(&run_dir.join(METRICS_DIR))? {
            let text = fsutil::read_to_string(&path)?;
            metrics.insert(key, parse_metric_lines(&text, &path)?);
        }
        let artifacts = fsutil::walk_files(&run_dir.join(ARTIFACTS_DIR))?
            .into_iter()
            .map(|(rel, _)| rel)
            .collect();
        Ok(Run {
            info,
            params,
            metrics,
            tags,
            artifacts,
        })
    }

    // ---- internals ----

    fn store_lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.root.join(LOCK_FILE))
    }

    fn write_new_experiment(&self, id: &str, name: &str) -> Result<()> {
        let dir = self.root.join(id);
        fsutil::create_dir_all(&dir)?;
        let now = now_ms();
        let text = yaml::write_map(&[
            ("artifact_location", Value::str(fsutil::file_uri(&dir))),
            ("creation_time", Value::Int(now)),
            ("experiment_id", Value::str(id)),
            ("last_update_time", Value::Int(now)),
            (
                "lifecycle_stage",
                Value::str(LifecycleStage::Active.as_str()),
            ),
            ("name", Value::str(name)),
        ]);
        atomic_write(&dir, &dir.join(META_FILE), text.as_bytes())
    }

    /// One more than the largest numeric experiment id in use, counting
    /// deleted experiments so a restore never collides.
    fn next_experiment_id(&self) -> Result<String> {
        let mut names = fsutil::subdirs(&self.root)?;
        names.extend(fsutil::subdirs(&self.root.join(TRASH_DIR))?);
        let max = names.iter().filter_map(|n| n.parse::<u128>().ok()).max();
        Ok(max.map_or(1, |m| m + 1).to_string())
    }

    /// Experiments (any stage) whose folders are directly under `parent`.
    fn experiments_in(&self, parent: &Path) -> Result<Vec<Experiment>> {
        let mut out = Vec::new();
        for name in fsutil::subdirs(parent)? {
            if NON_EXPERIMENT_DIRS.contains(&name.as_str()) || name.starts_with('.') {
                continue;
            }
            // A folder whose meta says another id is ignored, as MLflow does.
            if let Some(exp) = read_experiment_meta(&parent.join(&name))?
                && exp.experiment_id == name
            {
                out.push(exp);
            }
        }
        Ok(out)
    }

    fn find_experiment(&self, experiment_id: &str) -> Result<(PathBuf, Experiment)> {
        validate::experiment_id(experiment_id)?;
        for parent in [self.root.clone(), self.root.join(TRASH_DIR)] {
            let dir = parent.join(experiment_id);
            if let Some(exp) = read_experiment_meta(&dir)? {
                return Ok((dir, exp));
            }
        }
        Err(StoreError::ExperimentNotFound {
            experiment_id: experiment_id.to_string(),
            root: self.root.clone(),
        })
    }

    /// The run's directory and info, searching active then deleted
    /// experiments (a run id is unique across the store).
    fn locate_run(&self, run_id: &str) -> Result<(PathBuf, RunInfo)> {
        validate::run_id(run_id)?;
        for parent in [self.root.clone(), self.root.join(TRASH_DIR)] {
            for exp in fsutil::subdirs(&parent)? {
                if NON_EXPERIMENT_DIRS.contains(&exp.as_str()) {
                    continue;
                }
                let run_dir = parent.join(&exp).join(run_id);
                if let Some(info) = read_run_meta(&run_dir)? {
                    return Ok((run_dir, info));
                }
            }
        }
        Err(self.run_not_found(run_id))
    }

    /// Like `locate_run`, refusing deleted runs and runs of deleted
    /// experiments (MLflow's `check_run_is_active`).
    fn writable_run(&self, run_id: &str) -> Result<PathBuf> {
        let (run_dir, info) = self.locate_run(run_id)?;
        let in_trash = run_dir.parent().and_then(Path::parent) == Some(&self.root.join(TRASH_DIR));
        ensure!(
            info.lifecycle_stage == LifecycleStage::Active && !in_trash,
            StoreError::NotActive {
                what: "run",
                id: run_id.to_string(),
            }
        );
        Ok(run_dir)
    }

    fn reread_meta(&self, run_id: &str, run_dir: &Path) -> Result<RunInfo> {
        read_run_meta(run_dir)?.ok_or_else(|| self.run_not_found(run_id))
    }

    fn run_not_found(&self, run_id: &str) -> StoreError {
        StoreError::RunNotFound {
            run_id: run_id.to_string(),
            root: self.root.clone(),
        }
    }
}

fn run_lock(run_dir: &Path) -> Result<FileLock> {
    // A hidden file in the run folder: MLflow ignores files there.
    FileLock::acquire(&run_dir.join(LOCK_FILE))
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Numeric ids sort as numbers, others after them as strings.
fn id_order(id: &str) -> (u8, u128, &str) {
    match id.parse::<u128>() {
        Ok(n) => (0, n, id),
        Err(_) => (1, 0, id),
    }
}

pub(crate) fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

fn program_name() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.file_name()?.to_string_lossy().into_owned())
}

/// Python's `repr(float)` spelling for the non-finite values, so MLflow's
/// `float()` and ours both read every line back.
fn metric_value(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        // `{:?}` is the shortest representation that round-trips, with
        // exponents for extreme magnitudes, like Python's repr.
        format!("{v:?}")
    }
}

fn parse_metric_lines(text: &str, path: &Path) -> Result<Vec<MetricPoint>> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let malformed = |what: &str| StoreError::Malformed {
            path: path.to_path_buf(),
            reason: format!("line {}: {what}: '{line}'", i + 1),
        };
        let parts: Vec<&str> = line.split_whitespace().collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(malformed("expected 'timestamp value [step]'"));
        }
        let timestamp_ms = parts[0].parse().map_err(|_| malformed("bad timestamp"))?;
        let value = parts[1].parse().map_err(|_| malformed("bad value"))?;
        let step = match parts.get(2) {
            Some(s) => s.parse().map_err(|_| malformed("bad step"))?,
            None => 0,
        };
        points.push(MetricPoint {
            timestamp_ms,
            value,
            step,
        });
    }
    Ok(points)
}

fn read_experiment_meta(dir: &Path) -> Result<Option<Experiment>> {
    let path = dir.join(META_FILE);
    let Some(text) = fsutil::read_optional(&path)? else {
        return Ok(None);
    };
    let meta = Meta::parse(&text, &path)?;
    Ok(Some(Experiment {
        experiment_id: meta.string("experiment_id")?,
        name: meta.string("name")?,
        artifact_location: meta.string_or("artifact_location", "")?,
        lifecycle_stage: meta.lifecycle_stage()?,
        creation_time_ms: meta.int_opt("creation_time")?,
        last_update_time_ms: meta.int_opt("last_update_time")?,
    }))
}

fn read_run_meta(run_dir: &Path) -> Result<Option<RunInfo>> {
    let path = run_dir.join(META_FILE);
    let Some(text) = fsutil::read_optional(&path)? else {
        return Ok(None);
    };
    let meta = Meta::parse(&text, &path)?;
    let run_id = match meta.string("run_id") {
        Ok(id) => id,
        // Runs written by MLflow before 1.0 only have `run_uuid`.
        Err(_) => meta.string("run_uuid")?,
    };
    let status = match meta.map.get("status") {
        None | Some(Value::Null) => RunStatus::Running,
        Some(Value::Int(code)) => RunStatus::from_code(*code)
            .ok_or_else(|| meta.malformed(format!("unknown status code {code}")))?,
        Some(Value::Str(name)) => RunStatus::from_name(name)
            .ok_or_else(|| meta.malformed(format!("unknown status '{name}'")))?,
        Some(Value::EmptyList) => return Err(meta.malformed("status is a list".into())),
    };
    Ok(Some(RunInfo {
        run_id,
        experiment_id: meta.string("experiment_id")?,
        run_name: meta.string_or("run_name", "")?,
        status,
        start_time_ms: meta.int_opt("start_time")?.unwrap_or(0),
        end_time_ms: meta.int_opt("end_time")?,
        artifact_uri: meta.string_or("artifact_uri", "")?,
        user_id: meta.string_or("user_id", "")?,
        lifecycle_stage: meta.lifecycle_stage()?,
    }))
}

fn write_run_meta(run_dir: &Path, info: &RunInfo) -> Result<()> {
    let opt_int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    // Keys sorted and the legacy fields included, as MLflow's own
    // `_make_persisted_run_info_dict` + PyYAML produce them.
    let text = yaml::write_map(&[
        ("artifact_uri", Value::str(&info.artifact_uri)),
        ("deleted_time", Value::Null),
        ("end_time", opt_int(info.end_time_ms)),
        ("entry_point_name", Value::str("")),
        ("experiment_id", Value::str(&info.experiment_id)),
        ("lifecycle_stage", Value::str(info.lifecycle_stage.as_str())),
        ("run_id", Value::str(&info.run_id)),
        ("run_name", Value::str(&info.run_name)),
        ("run_uuid", Value::str(&info.run_id)),
        ("source_name", Value::str("")),
        ("source_type", Value::Int(SOURCE_TYPE_LOCAL)),
        ("source_version", Value::str("")),
        ("start_time", Value::Int(info.start_time_ms)),
        ("status", Value::Int(info.status.code())),
        ("tags", Value::EmptyList),
        ("user_id", Value::str(&info.user_id)),
    ]);
    atomic_write(run_dir, &run_dir.join(META_FILE), text.as_bytes())
}

/// A parsed `meta.yaml` with typed, path-naming accessors.
struct Meta<'a> {
    map: BTreeMap<String, Value>,
    path: &'a Path,
}

impl<'a> Meta<'a> {
    fn parse(text: &str, path: &'a Path) -> Result<Self> {
        let map = yaml::parse_map(text).map_err(|reason| StoreError::Malformed {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(Self { map, path })
    }

    fn malformed(&self, reason: String) -> StoreError {
        StoreError::Malformed {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    fn string(&self, key: &str) -> Result<String> {
        match self.map.get(key) {
            Some(Value::Str(s)) => Ok(s.clone()),
            // Ids were integers in early MLflow versions.
            Some(Value::Int(i)) => Ok(i.to_string()),
            _ => Err(self.malformed(format!("missing string field '{key}'"))),
        }
    }

    fn string_or(&self, key: &str, default: &str) -> Result<String> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default.to_string()),
            _ => self.string(key),
        }
    }

    fn int_opt(&self, key: &str) -> Result<Option<i64>> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(other) => {
                Err(self.malformed(format!("field '{key}' is not an integer: {other:?}")))
            }
        }
    }

    fn lifecycle_stage(&self) -> Result<LifecycleStage> {
        match self.map.get("lifecycle_stage") {
            None | Some(Value::Null) => Ok(LifecycleStage::Active),
            Some(Value::Str(s)) => LifecycleStage::parse(s)
                .ok_or_else(|| self.malformed(format!("unknown lifecycle_stage '{s}'"))),
            Some(other) => Err(self.malformed(format!("bad lifecycle_stage {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_values_round_trip_through_text() {
        for v in [
            0.0,
            -0.0,
            0.1,
            1.0,
            1e-7,
            1e300,
            -2.5e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            let s = metric_value(v);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{s}");
        }
        assert!(metric_value(f64::NAN).parse::<f64>().unwrap().is_nan());
        assert_eq!(
            metric_value(f64::INFINITY).parse::<f64>().unwrap(),
            f64::INFINITY
        );
        assert_eq!(metric_value(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn metric_lines_accept_mlflow_variants() {
        let path = Path::new("m");
        let pts = parse_metric_lines("1 0.5 3\n2 nan\n\n3 -inf 4\n", path).unwrap();
        assert_eq!(pts.len(), 3);
        assert_eq!(pts[1].step, 0);
        assert!(pts[1].value.is_nan());
        assert!(parse_metric_lines("1 2 3 4\n", path).is_err());
        assert!(parse_metric_lines("x 2 3\n", path).is_err());
    }
}
