//! Studies persisted in SQLite: resumable after a kill, shared by several
//! worker processes.
//!
//! Every change that must not race (claiming a trial, creating a study or
//! one of its attributes) runs in a `BEGIN IMMEDIATE` transaction, which
//! takes SQLite's write lock up front: two workers can never read the same
//! trial count and claim the same number, and `UNIQUE(study_id, number)`
//! guards it again. Waiting for the lock is bounded by a busy timeout.
//!
//! A worker registers its host, process id and the process's start time.
//! A running trial whose worker is gone (its process no longer exists on
//! this host, or, for another host, it sent no heartbeat for a minute) is
//! abandoned: the next `ask` hands it out again under the same number with
//! the same parameters, so a killed search loses nothing and repeats
//! nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::sampler::{SampleContext, Sampler};
use crate::space::{Params, SearchSpace};
use crate::trial::{Direction, Trial, TrialState};
use crate::{Result, TuneError};

/// How long to wait for another worker's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// A worker on another host that has been silent this long is gone.
const LEASE_MS: i64 = 60_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL,
    space TEXT NOT NULL,
    seed INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS study_attrs (
    study_id INTEGER NOT NULL REFERENCES studies(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (study_id, key)
);
CREATE TABLE IF NOT EXISTS workers (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    proc_start TEXT,
    started_ms INTEGER NOT NULL,
    heartbeat_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    value REAL,
    worker_id INTEGER REFERENCES workers(id),
    attempts INTEGER NOT NULL DEFAULT 1,
    sampler TEXT NOT NULL,
    sampler_ms REAL NOT NULL,
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    message TEXT,
    UNIQUE (study_id, number)
);
CREATE TABLE IF NOT EXISTS trial_attrs (
    trial_id INTEGER NOT NULL REFERENCES trials(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (trial_id, key)
);
CREATE TABLE IF NOT EXISTS intermediate (
    trial_id INTEGER NOT NULL REFERENCES trials(id),
    step INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (trial_id, step)
);
";

/// How a trial ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Complete(f64),
    /// Stopped by a pruner; its value is its last intermediate value.
    Pruned,
    Fail(String),
}

/// A trial claimed by this worker.
#[derive(Debug, Clone)]
pub struct TrialHandle {
    pub number: u64,
    pub params: Params,
    /// An abandoned trial handed out again (same number, same params).
    pub reclaimed: bool,
    /// Attributes the trial's earlier attempt recorded (a reclaimed trial's
    /// tracking run, say), empty for a fresh trial.
    pub attrs: BTreeMap<String, String>,
    /// Time the sampler took to propose it (0 for a reclaimed trial).
    pub sampler_ms: f64,
    id: i64,
}

/// Per-trial bookkeeping beyond [`Trial`]: who ran it and how long the
/// sampler took.
#[derive(Debug, Clone)]
pub struct TrialRecord {
    pub trial: Trial,
    pub sampler: String,
    pub sampler_ms: f64,
    pub attempts: u32,
    pub message: Option<String>,
    pub worker_pid: Option<i64>,
}

/// A running trial and what is known of its worker.
struct RunningRow {
    id: i64,
    number: i64,
    params: String,
    owner: Option<i64>,
    host: Option<String>,
    pid: Option<i64>,
    proc_start: Option<String>,
    heartbeat_ms: Option<i64>,
}

/// Bookkeeping columns of a trial, read for [`TrialRecord`].
struct RecordRow {
    sampler: String,
    sampler_ms: f64,
    attempts: i64,
    message: Option<String>,
    pid: Option<i64>,
}

/// A study in a SQLite file, opened by one worker.
#[derive(Debug)]
pub struct Study {
    conn: Connection,
    path: PathBuf,
    id: i64,
    name: String,
    direction: Direction,
    space: SearchSpace,
    seed: u64,
    worker_id: i64,
    // Held for its Drop, which stops the thread.
    _heartbeat: Option<Heartbeat>,
}

#[derive(Debug)]
struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// A process's state letter and start time (in clock ticks since boot)
/// from `/proc/<pid>/stat`, where that exists (Linux).
fn proc_stat(pid: i64) -> Option<(char, String)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name in parentheses may hold spaces: split after it.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.first()?.chars().next()?, fields.get(19)?.to_string()))
}

fn has_proc() -> bool {
    Path::new("/proc/self/stat").exists()
}

impl Study {
    /// Opens (creating if needed) the study `name` in the SQLite file at
    /// `path` and registers this process as a worker. An existing study must
    /// have the same direction and space; its stored seed wins.
    pub fn open(
        path: &Path,
        name: &str,
        direction: Direction,
        space: &SearchSpace,
        seed: u64,
    ) -> Result<Self> {
        let display = path.display().to_string();
        let db = |source: rusqlite::Error| TuneError::Storage {
            path: display.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| TuneError::Storage {
                path: display.clone(),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        }
        let mut conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        // WAL lets readers proceed while a worker writes. Switching a fresh
        // file to WAL reads, then takes the exclusive lock; two workers doing
        // so at once would deadlock, so SQLite answers one of them BUSY
        // without consulting the busy handler. Retry it ourselves.
        retry_while_busy(|| {
            conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
        })
        .map_err(db)?;
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(db)?;
        let space_json = serde_json::to_string(space).expect("a space serialises");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.execute_batch(SCHEMA).map_err(db)?;
        let existing: Option<(i64, String, String, i64)> = tx
            .query_row(
                "SELECT id, direction, space, seed FROM studies WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(db)?;
        let (id, seed) = match existing {
            Some((id, dir, stored_space, stored_seed)) => {
                if dir != direction.as_str() {
                    return Err(TuneError::StudyMismatch {
                        study: name.into(),
                        path: display,
                        what: "direction",
                        detail: format!("stored {dir}, asked {direction}"),
                    });
                }
                let stored: SearchSpace =
                    serde_json::from_str(&stored_space).map_err(|e| TuneError::Corrupt {
                        path: display.clone(),
                        what: "search space",
                        reason: e.to_string(),
                    })?;
                if &stored != space {
                    return Err(TuneError::StudyMismatch {
                        study: name.into(),
                        path: display,
                        what: "search space",
                        detail: format!("stored {stored_space}, asked {space_json}"),
                    });
                }
                (id, stored_seed as u64)
            }
            None => {
                tx.execute(
                    "INSERT INTO studies (name, direction, space, seed, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![name, direction.as_str(), space_json, seed as i64, now_ms()],
                )
                .map_err(db)?;
                (tx.last_insert_rowid(), seed)
            }
        };
        let pid = i64::from(std::process::id());
        let proc_start = proc_stat(pid).map(|(_, start)| start);
        tx.execute(
            "INSERT INTO workers (host, pid, proc_start, started_ms, heartbeat_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![hostname(), pid, proc_start, now_ms()],
        )
        .map_err(db)?;
        let worker_id = tx.last_insert_rowid();
        tx.commit().map_err(db)?;
        let heartbeat = start_heartbeat(path, worker_id);
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            id,
            name: name.to_string(),
            direction,
            space: space.clone(),
            seed,
            worker_id,
            _heartbeat: heartbeat,
        })
    }

    fn db(&self) -> impl Fn(rusqlite::Error) -> TuneError + '_ {
        move |source| TuneError::Storage {
            path: self.path.display().to_string(),
            source,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }

    pub fn space(&self) -> &SearchSpace {
        &self.space
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Claims the next trial: an abandoned one if any, else a new one
    /// proposed by `sampler`, unless the study already holds `max_trials`
    /// trials (of any state). `None` when the budget is spent.
    pub fn ask(
        &mut self,
        sampler: &mut dyn Sampler,
        max_trials: Option<u64>,
    ) -> Result<Option<TrialHandle>> {
        let path = self.path.display().to_string();
        let db = |source: rusqlite::Error| TuneError::Storage {
            path: path.clone(),
            source,
        };
        let (study_id, worker_id, seed, direction) =
            (self.id, self.worker_id, self.seed, self.direction);
        let host = hostname();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let running: Vec<RunningRow> = {
            let mut stmt = tx
                .prepare(
                    "SELECT t.id, t.number, t.params, t.worker_id, w.host, w.pid, w.proc_start, w.heartbeat_ms
                     FROM trials t LEFT JOIN workers w ON t.worker_id = w.id
                     WHERE t.study_id = ?1 AND t.state = 'running' ORDER BY t.number",
                )
                .map_err(db)?;
            stmt.query_map([study_id], |r| {
                Ok(RunningRow {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    params: r.get(2)?,
                    owner: r.get(3)?,
                    host: r.get(4)?,
                    pid: r.get(5)?,
                    proc_start: r.get(6)?,
                    heartbeat_ms: r.get(7)?,
                })
            })
            .map_err(db)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db)?
        };
        let now = now_ms();
        for row in running {
            let RunningRow {
                id,
                number,
                params: params_json,
                ..
            } = row;
            if row.owner == Some(worker_id) {
                continue;
            }
            let alive = match (&row.host, row.pid) {
                (Some(h), Some(pid)) if *h == host && has_proc() => match proc_stat(pid) {
                    Some((state, start)) => {
                        !matches!(state, 'Z' | 'X')
                            && row.proc_start.as_deref() == Some(start.as_str())
                    }
                    None => false,
                },
                (Some(_), Some(_)) => row.heartbeat_ms.is_some_and(|b| now - b < LEASE_MS),
                _ => false,
            };
            if alive {
                continue;
            }
            tx.execute(
                "UPDATE trials SET worker_id = ?1, attempts = attempts + 1, started_ms = ?2 WHERE id = ?3",
                params![worker_id, now, id],
            )
            .map_err(db)?;
            tx.execute("DELETE FROM intermediate WHERE trial_id = ?1", [id])
                .map_err(db)?;
            let attrs = read_attrs(&tx, "trial_attrs", "trial_id", id).map_err(db)?;
            tx.commit().map_err(db)?;
            let params: Params =
                serde_json::from_str(&params_json).map_err(|e| TuneError::Corrupt {
                    path: path.clone(),
                    what: "trial parameters",
                    reason: e.to_string(),
                })?;
            return Ok(Some(TrialHandle {
                number: number as u64,
                params,
                reclaimed: true,
                attrs,
                sampler_ms: 0.0,
                id,
            }));
        }
        let count: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM trials WHERE study_id = ?1",
                [study_id],
                |r| r.get(0),
            )
            .map_err(db)?;
        if max_trials.is_some_and(|m| count as u64 >= m) {
            tx.commit().map_err(db)?;
            return Ok(None);
        }
        let next: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?1",
                [study_id],
                |r| r.get(0),
            )
            .map_err(db)?;
        let history = load_trials(&tx, study_id, &path)?;
        let t0 = Instant::now();
        let ctx = SampleContext::new(seed, next as u64);
        let params = sampler.sample(&self.space, direction, &history, &ctx);
        let sampler_ms = t0.elapsed().as_secs_f64() * 1e3;
        let params_json = serde_json::to_string(&params).expect("params serialise");
        tx.execute(
            "INSERT INTO trials (study_id, number, state, params, worker_id, sampler, sampler_ms, started_ms)
             VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7)",
            params![study_id, next, params_json, worker_id, sampler.name(), sampler_ms, now_ms()],
        )
        .map_err(db)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(db)?;
        Ok(Some(TrialHandle {
            number: next as u64,
            params,
            reclaimed: false,
            attrs: BTreeMap::new(),
            sampler_ms,
            id,
        }))
    }

    /// Records an intermediate value of a running trial.
    pub fn report(&self, trial: &TrialHandle, step: u64, value: f64) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO intermediate (trial_id, step, value) VALUES (?1, ?2, ?3)",
                params![trial.id, step as i64, value],
            )
            .map_err(self.db())?;
        Ok(())
    }

    /// Records several intermediate values of a running trial in one
    /// transaction (a boosting run's rounds: one commit, not one per round).
    pub fn report_all(
        &self,
        trial: &TrialHandle,
        values: impl IntoIterator<Item = (u64, f64)>,
    ) -> Result<()> {
        // IMMEDIATE: a deferred transaction that upgrades to a write can be
        // refused BUSY without waiting when another worker commits first.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(self.db())?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT OR REPLACE INTO intermediate (trial_id, step, value) VALUES (?1, ?2, ?3)",
                )
                .map_err(self.db())?;
            for (step, value) in values {
                stmt.execute(params![trial.id, step as i64, value])
                    .map_err(self.db())?;
            }
        }
        tx.commit().map_err(self.db())?;
        Ok(())
    }

    /// Whether `pruner` stops the trial at `step`, judged against every
    /// trial of the study (other workers' included).
    pub fn should_prune(
        &self,
        trial: &TrialHandle,
        step: u64,
        pruner: &crate::Pruner,
    ) -> Result<bool> {
        let trials = self.trials()?;
        let Some(me) = trials.iter().find(|t| t.number == trial.number) else {
            return Err(TuneError::NotRunning {
                number: trial.number,
            });
        };
        Ok(pruner.should_prune(me, step, &trials, self.direction))
    }

    /// Finishes a trial this worker holds.
    pub fn tell(&self, trial: &TrialHandle, outcome: Outcome) -> Result<()> {
        let (state, value, message) = match outcome {
            Outcome::Complete(v) if v.is_finite() => (TrialState::Complete, Some(v), None),
            Outcome::Complete(v) => (
                TrialState::Fail,
                None,
                Some(format!("objective returned {v}")),
            ),
            Outcome::Pruned => {
                let last: Option<f64> = self
                    .conn
                    .query_row(
                        "SELECT value FROM intermediate WHERE trial_id = ?1 ORDER BY step DESC LIMIT 1",
                        [trial.id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(self.db())?;
                (TrialState::Pruned, last, None)
            }
            Outcome::Fail(m) => (TrialState::Fail, None, Some(m)),
        };
        let changed = self
            .conn
            .execute(
                "UPDATE trials SET state = ?1, value = ?2, message = ?3, finished_ms = ?4
                 WHERE id = ?5 AND worker_id = ?6 AND state = 'running'",
                params![
                    state.as_str(),
                    value,
                    message,
                    now_ms(),
                    trial.id,
                    self.worker_id
                ],
            )
            .map_err(self.db())?;
        if changed == 0 {
            return Err(TuneError::NotRunning {
                number: trial.number,
            });
        }
        Ok(())
    }

    /// Every trial of the study, by number.
    pub fn trials(&self) -> Result<Vec<Trial>> {
        load_trials(&self.conn, self.id, &self.path.display().to_string())
    }

    /// Every trial with its bookkeeping.
    pub fn records(&self) -> Result<Vec<TrialRecord>> {
        let trials = self.trials()?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.number, t.sampler, t.sampler_ms, t.attempts, t.message, w.pid
                 FROM trials t LEFT JOIN workers w ON t.worker_id = w.id
                 WHERE t.study_id = ?1 ORDER BY t.number",
            )
            .map_err(self.db())?;
        let rows: Vec<RecordRow> = stmt
            .query_map([self.id], |r| {
                Ok(RecordRow {
                    sampler: r.get(1)?,
                    sampler_ms: r.get(2)?,
                    attempts: r.get(3)?,
                    message: r.get(4)?,
                    pid: r.get(5)?,
                })
            })
            .map_err(self.db())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.db())?;
        Ok(trials
            .into_iter()
            .zip(rows)
            .map(|(trial, row)| TrialRecord {
                trial,
                sampler: row.sampler,
                sampler_ms: row.sampler_ms,
                attempts: row.attempts as u32,
                message: row.message,
                worker_pid: row.pid,
            })
            .collect())
    }

    /// A study attribute.
    pub fn attr(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT value FROM study_attrs WHERE study_id = ?1 AND key = ?2",
                params![self.id, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.db())
    }

    /// The attribute `key`, set by `make` if no worker set it yet; at most
    /// one worker ever runs `make` for a key.
    pub fn attr_or_insert_with<E>(
        &mut self,
        key: &str,
        make: impl FnOnce() -> std::result::Result<String, E>,
    ) -> Result<std::result::Result<String, E>> {
        let path = self.path.display().to_string();
        let db = |source: rusqlite::Error| TuneError::Storage {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT value FROM study_attrs WHERE study_id = ?1 AND key = ?2",
                params![self.id, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        if let Some(v) = existing {
            tx.commit().map_err(db)?;
            return Ok(Ok(v));
        }
        let value = match make() {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        tx.execute(
            "INSERT INTO study_attrs (study_id, key, value) VALUES (?1, ?2, ?3)",
            params![self.id, key, value],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Ok(value))
    }

    /// Records an attribute of a trial this worker holds (its tracking run,
    /// say), kept across a reclaim.
    pub fn set_trial_attr(&self, trial: &TrialHandle, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO trial_attrs (trial_id, key, value) VALUES (?1, ?2, ?3)",
                params![trial.id, key, value],
            )
            .map_err(self.db())?;
        Ok(())
    }

    /// The attributes of trial `number`.
    pub fn trial_attrs(&self, number: u64) -> Result<BTreeMap<String, String>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM trials WHERE study_id = ?1 AND number = ?2",
                params![self.id, number as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.db())?;
        match id {
            Some(id) => read_attrs(&self.conn, "trial_attrs", "trial_id", id).map_err(self.db()),
            None => Ok(BTreeMap::new()),
        }
    }
}

fn read_attrs(
    conn: &Connection,
    table: &str,
    column: &str,
    id: i64,
) -> rusqlite::Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT key, value FROM {table} WHERE {column} = ?1"
    ))?;
    stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

fn load_trials(conn: &Connection, study_id: i64, path: &str) -> Result<Vec<Trial>> {
    let db = |source: rusqlite::Error| TuneError::Storage {
        path: path.to_string(),
        source,
    };
    let mut stmt = conn
        .prepare(
            "SELECT id, number, state, params, value FROM trials WHERE study_id = ?1 ORDER BY number",
        )
        .map_err(db)?;
    let rows: Vec<(i64, i64, String, String, Option<f64>)> = stmt
        .query_map([study_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(db)?
        .collect::<rusqlite::Result<_>>()
        .map_err(db)?;
    let mut stmt = conn
        .prepare(
            "SELECT i.trial_id, i.step, i.value FROM intermediate i
             JOIN trials t ON t.id = i.trial_id WHERE t.study_id = ?1",
        )
        .map_err(db)?;
    let mut intermediate: BTreeMap<i64, BTreeMap<u64, f64>> = BTreeMap::new();
    for row in stmt
        .query_map([study_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, f64>(2)?,
            ))
        })
        .map_err(db)?
    {
        let (id, step, value) = row.map_err(db)?;
        intermediate
            .entry(id)
            .or_default()
            .insert(step as u64, value);
    }
    rows.into_iter()
        .map(|(id, number, state, params, value)| {
            let corrupt = |what: &'static str, reason: String| TuneError::Corrupt {
                path: path.to_string(),
                what,
                reason,
            };
            Ok(Trial {
                number: number as u64,
                state: TrialState::from_str_opt(&state)
                    .ok_or_else(|| corrupt("trial state", state.clone()))?,
                params: serde_json::from_str(&params)
                    .map_err(|e| corrupt("trial parameters", e.to_string()))?,
                value,
                intermediate: intermediate.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// Runs `op` again while SQLite answers BUSY without having waited (its
/// deadlock avoidance), for at most [`BUSY_TIMEOUT`].
fn retry_while_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        match op() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Renews the worker's heartbeat from a thread with its own connection, so
/// a long trial does not look abandoned to workers on other hosts.
fn start_heartbeat(path: &Path, worker_id: i64) -> Option<Heartbeat> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let path = path.to_path_buf();
    let thread = std::thread::Builder::new()
        .name("tenure-tune-heartbeat".into())
        .spawn(move || {
            let Ok(conn) = Connection::open(&path) else {
                return;
            };
            let _ = conn.busy_timeout(BUSY_TIMEOUT);
            let mut last = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if last.elapsed() >= HEARTBEAT_EVERY {
                    let _ = conn.execute(
                        "UPDATE workers SET heartbeat_ms = ?1 WHERE id = ?2",
                        params![now_ms(), worker_id],
                    );
                    last = Instant::now();
                }
            }
        })
        .ok()?;
    Some(Heartbeat {
        stop,
        thread: Some(thread),
    })
}
