//! Name checks. Keys become file paths inside the run directory, so these are
//! what keeps a metric called `../../etc/passwd` from escaping it; they follow
//! MLflow's own rules so that everything we write is something MLflow accepts.

use crate::error::{Result, StoreError};

/// MLflow's `MAX_ENTITY_KEY_LENGTH`.
const MAX_KEY_CHARS: usize = 250;
/// MLflow's `MAX_EXPERIMENT_NAME_LENGTH`.
const MAX_EXPERIMENT_NAME_CHARS: usize = 500;

/// Metric, param and tag keys: MLflow's `^[/\w.\- ]*$`, plus its rule that
/// the key, read as a path, must be normalised and relative.
pub(crate) fn key(kind: &'static str, key: &str) -> Result<()> {
    let bad = |reason: &str| StoreError::InvalidKey {
        kind,
        key: key.to_string(),
        reason: reason.to_string(),
    };
    if key.is_empty() {
        return Err(bad("must not be empty"));
    }
    if key.chars().count() > MAX_KEY_CHARS {
        return Err(bad("longer than 250 characters"));
    }
    if let Some(c) = key
        .chars()
        .find(|&c| !(c.is_alphanumeric() || "_-. /".contains(c)))
    {
        return Err(bad(&format!(
            "character {c:?} not allowed; keys may only contain alphanumerics, '_', '-', '.', \
             ' ' and '/'"
        )));
    }
    if key.starts_with('/') {
        return Err(bad("must be relative (starts with '/')"));
    }
    if key.starts_with("..") {
        return Err(bad("must not start with '..'"));
    }
    path_components(key).map_err(|r| bad(&r))
}

/// Artifact paths are free-form file names, but must stay inside the
/// artifact directory.
pub(crate) fn artifact_path(rel: &str) -> Result<()> {
    let bad = |reason: &str| StoreError::InvalidKey {
        kind: "artifact path",
        key: rel.to_string(),
        reason: reason.to_string(),
    };
    if rel.is_empty() {
        return Err(bad("must not be empty"));
    }
    if rel.starts_with('/') || rel.as_bytes().get(1) == Some(&b':') {
        return Err(bad("must be relative, not absolute"));
    }
    if rel.contains('\\') || rel.contains('\0') {
        return Err(bad("must use '/' as separator and contain no NUL"));
    }
    path_components(rel).map_err(|r| bad(&r))
}

fn path_components(path: &str) -> std::result::Result<(), String> {
    for part in path.split('/') {
        match part {
            "" => return Err("empty path component ('//' or trailing '/')".into()),
            "." | ".." => return Err(format!("path component '{part}' is not allowed")),
            _ => {}
        }
    }
    Ok(())
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// MLflow's `_RUN_ID_REGEX` (`^[a-zA-Z0-9][\w\-]{0,255}$`).
pub(crate) fn run_id(id: &str) -> Result<()> {
    id_like("run id", id, 256)
}

/// MLflow's `_EXPERIMENT_ID_REGEX` (`^[a-zA-Z0-9][\w\-]{0,63}$`).
pub(crate) fn experiment_id(id: &str) -> Result<()> {
    id_like("experiment id", id, 64)
}

fn id_like(kind: &'static str, id: &str, max_len: usize) -> Result<()> {
    let reason = if id.is_empty() {
        Some("must not be empty")
    } else if id.len() > max_len {
        Some("too long")
    } else if !id.starts_with(|c: char| c.is_ascii_alphanumeric()) || !id.chars().all(is_id_char) {
        Some("must be ASCII alphanumerics, '_' or '-', starting with an alphanumeric")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidId {
            kind,
            value: id.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

pub(crate) fn experiment_name(name: &str) -> Result<()> {
    let reason = if name.trim().is_empty() {
        Some("must not be empty")
    } else if name.chars().count() > MAX_EXPERIMENT_NAME_CHARS {
        Some("longer than 500 characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidId {
            kind: "experiment name",
            value: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["loss", "val/auc", "a b.c-d_e", "ünïcode", "x/y/z"] {
            key("metric", ok).unwrap();
        }
        for bad in [
            "", "/abs", "..", "../x", "a/../b", "a//b", "a/", "./a", "a/.", "..x", "a\\b", "a:b",
            "a\nb",
        ] {
            assert!(key("metric", bad).is_err(), "{bad:?}");
        }
        assert!(key("metric", &"x".repeat(251)).is_err());
    }

    #[test]
    fn artifact_paths() {
        for ok in ["model.json", "plots/roc curve.svg", "a/b/c.txt", "..hidden"] {
            artifact_path(ok).unwrap();
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\b",
            "C:/x",
            "a//b",
            "a/",
        ] {
            assert!(artifact_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids() {
        run_id("0123abcd").unwrap();
        experiment_id("0").unwrap();
        for bad in ["", "../0", "a/b", "-x", ".trash"] {
            assert!(run_id(bad).is_err(), "{bad:?}");
            assert!(experiment_id(bad).is_err(), "{bad:?}");
        }
    }
}
