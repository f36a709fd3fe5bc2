//! `tenure registry …`: registered models on the local registry or an
//! MLflow server, whichever the tracking URI names.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use tenure_runner::output::text_table;
use tenure_runner::store::registry::{Candidate, ModelRef, ModelVersion, Selector};
use tenure_runner::tracking::{self, Tracking};

/// Where the store is: `--tracking-uri`, else `--store`, else
/// `MLFLOW_TRACKING_URI`, else `tenure-runs`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Local tracking store directory.
    #[arg(long)]
    store: Option<PathBuf>,
    /// A directory or an MLflow server URL (http[s]://...); wins over --store.
    #[arg(long)]
    tracking_uri: Option<String>,
}

impl StoreArgs {
    pub fn uri(&self) -> String {
        let dir = self.store.as_ref().map(|d| d.display().to_string());
        tracking::resolve_uri(self.tracking_uri.as_deref().or(dir.as_deref()), None)
    }

    /// An existing store (a missing local directory is an error, not a new
    /// empty store).
    pub fn open(&self) -> Result<Tracking> {
        Ok(tracking::open_existing(&self.uri())?)
    }
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// List registered models with their latest version and aliases.
    List {
        #[command(flatten)]
        at: StoreArgs,
        #[arg(long)]
        json: bool,
    },
    /// Show a model (NAME: its versions and promotions) or one version
    /// (NAME/VERSION or NAME@ALIAS: files, hashes, lineage).
    Show {
        model: String,
        #[command(flatten)]
        at: StoreArgs,
        #[arg(long)]
        json: bool,
    },
    /// Register a model of a finished run as the next version of NAME.
    Register {
        /// The run whose artifacts models/<model>/model.onnx and
        /// model_card.json become the version.
        #[arg(long)]
        run: String,
        /// Registered model name.
        #[arg(long)]
        model: String,
        /// Which of the run's models (default: its only one).
        #[arg(long)]
        run_model: Option<String>,
        /// Point this alias at the new version.
        #[arg(long)]
        alias: Option<String>,
        /// Why, for the promotion log (with --alias).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        at: StoreArgs,
        #[arg(long)]
        json: bool,
    },
    /// Point an alias at NAME/VERSION; the move is logged with who, when
    /// and why.
    Promote {
        /// NAME/VERSION
        target: String,
        #[arg(long)]
        alias: String,
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        at: StoreArgs,
        #[arg(long)]
        json: bool,
    },
    /// Set tags: on the registered model (NAME) or on one version
    /// (NAME/VERSION or NAME@ALIAS). Keys under `tenure.` are tenure's own.
    Tag {
        model: String,
        /// KEY=VALUE pairs (an existing key is overwritten).
        #[arg(required = true, value_name = "KEY=VALUE")]
        tags: Vec<String>,
        #[command(flatten)]
        at: StoreArgs,
        #[arg(long)]
        json: bool,
    },
    /// Write model.onnx and model_card.json of NAME@ALIAS (or NAME/VERSION)
    /// into DIR after verifying their sha256; fails if any is missing or
    /// corrupt, writing nothing.
    Pull {
        model: String,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        at: StoreArgs,
        #[arg(long)]
        json: bool,
    },
}

fn who() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

fn parse_ref(s: &str) -> Result<ModelRef> {
    Ok(s.parse::<ModelRef>()?)
}

/// `KEY=VALUE` pairs, all checked before any is written.
fn parse_tags(pairs: &[String]) -> Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| {
            let Some((key, value)) = pair.split_once('=') else {
                anyhow::bail!("tag `{pair}` is not KEY=VALUE");
            };
            let key = key.trim();
            anyhow::ensure!(!key.is_empty(), "tag `{pair}` has an empty key");
            // tenure keeps lineage, file digests and the promotion log in
            // these; a user tag there would corrupt the registry's records.
            anyhow::ensure!(
                !key.starts_with("tenure."),
                "tag key `{key}` is reserved: keys under `tenure.` are written by tenure itself"
            );
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

pub fn dispatch(cmd: RegistryCommand) -> Result<()> {
    match cmd {
        RegistryCommand::List { at, json } => list(&at.open()?, json),
        RegistryCommand::Show { model, at, json } => show(&at.open()?, &parse_ref(&model)?, json),
        RegistryCommand::Register {
            run,
            model,
            run_model,
            alias,
            reason,
            at,
            json,
        } => {
            // Checked before anything is written.
            tenure_runner::store::registry::validate_model_name(&model)?;
            if let Some(a) = &alias {
                tenure_runner::store::registry::validate_alias(a)?;
            }
            let t = at.open()?;
            let candidate = Candidate::from_run(t.store.as_ref(), &run, run_model.as_deref())?;
            let v = t.registry.register(&model, &candidate)?;
            let promotion = match &alias {
                Some(a) => Some(
                    t.registry.set_alias(
                        &model,
                        a,
                        v.version,
                        &who(),
                        reason
                            .as_deref()
                            .unwrap_or(&format!("registered from run {run}")),
                    )?,
                ),
                None => None,
            };
            if json {
                println!("{}", json!({"version": v, "promotion": promotion}));
            } else {
                println!(
                    "registered {} version {} from run {} (model {})",
                    v.name, v.version, run, v.lineage.model
                );
                if let Some(p) = promotion {
                    println!("{}@{} → version {}", p.model, p.alias, p.version);
                }
            }
            Ok(())
        }
        RegistryCommand::Promote {
            target,
            alias,
            reason,
            at,
            json,
        } => {
            let r = parse_ref(&target)?;
            let Selector::Version(version) = r.selector else {
                anyhow::bail!("promote takes NAME/VERSION (e.g. churn/3), got `{target}`");
            };
            tenure_runner::store::registry::validate_alias(&alias)?;
            let t = at.open()?;
            let p = t.registry.set_alias(
                &r.name,
                &alias,
                version,
                &who(),
                reason.as_deref().unwrap_or(""),
            )?;
            if json {
                println!("{}", serde_json::to_string(&p)?);
            } else {
                let from = p
                    .previous
                    .map_or("nothing".to_string(), |v| format!("version {v}"));
                println!("{}@{}: {} → version {}", p.model, p.alias, from, p.version);
            }
            Ok(())
        }
        RegistryCommand::Tag {
            model,
            tags,
            at,
            json,
        } => {
            let r = parse_ref(&model)?;
            let tags = parse_tags(&tags)?;
            let t = at.open()?;
            let version = match r.selector {
                Selector::Latest => None,
                _ => Some(t.registry.resolve(&r)?.version),
            };
            for (key, value) in &tags {
                match version {
                    None => t.registry.set_model_tag(&r.name, key, value)?,
                    Some(v) => t.registry.set_version_tag(&r.name, v, key, value)?,
                }
            }
            let target = version.map_or(r.name.clone(), |v| format!("{}/{v}", r.name));
            if json {
                let tags: serde_json::Map<String, serde_json::Value> = tags
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect();
                println!("{}", json!({"target": target, "tags": tags}));
            } else {
                for (key, value) in tags {
                    println!("{target}: tag {key} = {value}");
                }
            }
            Ok(())
        }
        RegistryCommand::Pull {
            model,
            out,
            at,
            json,
        } => {
            let r = parse_ref(&model)?;
            let t = at.open()?;
            let (v, files) = t
                .registry
                .pull(&r, &out)
                .with_context(|| format!("pulling {r} from {}", t.registry.location()))?;
            if json {
                let files: Vec<_> = files
                    .iter()
                    .map(|f| json!({"name": f.name, "path": f.path, "sha256": f.sha256}))
                    .collect();
                println!(
                    "{}",
                    json!({"name": v.name, "version": v.version, "files": files})
                );
            } else {
                println!("pulled {} version {} ({r})", v.name, v.version);
                for f in files {
                    println!("  {}  sha256 {}", f.path.display(), f.sha256);
                }
            }
            Ok(())
        }
    }
}

fn list(t: &Tracking, json: bool) -> Result<()> {
    let models = t.registry.list_models()?;
    if json {
        println!("{}", serde_json::to_string(&models)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.latest_version.map_or("-".into(), |v| v.to_string()),
                aliases_text(m.aliases.iter().map(|(a, v)| (a.as_str(), *v))),
            ]
        })
        .collect();
    print!("{}", text_table(&["model", "latest", "aliases"], &rows));
    Ok(())
}

fn aliases_text<'a>(aliases: impl Iterator<Item = (&'a str, u64)>) -> String {
    let parts: Vec<String> = aliases.map(|(a, v)| format!("@{a}→{v}")).collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

fn show(t: &Tracking, r: &ModelRef, json: bool) -> Result<()> {
    if r.selector != Selector::Latest {
        let v = t.registry.resolve(r)?;
        if json {
            println!("{}", serde_json::to_string(&v)?);
        } else {
            print_version(&v);
        }
        return Ok(());
    }
    let model = t.registry.get_model(&r.name)?;
    let versions = t.registry.list_versions(&r.name)?;
    let promotions = t.registry.promotions(&r.name)?;
    if json {
        println!(
            "{}",
            json!({"model": model, "versions": versions, "promotions": promotions})
        );
        return Ok(());
    }
    println!(
        "{} · {} version(s) · aliases {}",
        model.name,
        versions.len(),
        aliases_text(model.aliases.iter().map(|(a, v)| (a.as_str(), *v)))
    );
    for (k, val) in &model.tags {
        println!("  tag {k} = {val}");
    }
    let metrics: std::collections::BTreeSet<&String> = versions
        .iter()
        .flat_map(|v| v.lineage.test_metrics.keys())
        .collect();
    let mut header = vec!["version", "run", "model", "aliases"];
    let metric_headers: Vec<String> = metrics.iter().map(|m| format!("test {m}")).collect();
    header.extend(metric_headers.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            let mut row = vec![
                v.version.to_string(),
                v.lineage.run_id.clone(),
                v.lineage.model.clone(),
                if v.aliases.is_empty() {
                    "-".into()
                } else {
                    v.aliases.join(" ")
                },
            ];
            row.extend(metrics.iter().map(|m| {
                v.lineage
                    .test_metrics
                    .get(*m)
                    .map_or("-".into(), |x| format!("{x:.4}"))
            }));
            row
        })
        .collect();
    println!("\n{}", text_table(&header, &rows));
    if !promotions.is_empty() {
        println!("promotions:");
        for p in &promotions {
            let from = p.previous.map_or("-".to_string(), |v| v.to_string());
            println!(
                "  {}  @{} {} → {}  by {}{}",
                tenure_runner::data::format_date(p.at_ms / 1000),
                p.alias,
                from,
                p.version,
                p.who,
                if p.reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", p.reason)
                }
            );
        }
    }
    Ok(())
}

fn print_version(v: &ModelVersion) {
    let aliases: Vec<String> = v.aliases.iter().map(|a| format!("@{a}")).collect();
    println!("{} version {} {}", v.name, v.version, aliases.join(" "));
    println!("  source:      {}", v.source);
    let l = &v.lineage;
    println!(
        "  run:         {} (experiment {}, model {})",
        l.run_id, l.experiment_id, l.model
    );
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    println!("  config:      sha256 {}", opt(&l.config_sha256));
    println!("  data:        {}", opt(&l.data_fingerprint));
    println!("  git commit:  {}", opt(&l.git_commit));
    for (m, x) in &l.test_metrics {
        println!("  test {m}: {x:.6}");
    }
    let rows: Vec<Vec<String>> = v
        .files
        .iter()
        .map(|(name, d)| vec![name.clone(), d.size.to_string(), d.sha256.clone()])
        .collect();
    println!("\n{}", text_table(&["file", "bytes", "sha256"], &rows));
    for (k, val) in &v.tags {
        println!("  tag {k} = {val}");
    }
}
