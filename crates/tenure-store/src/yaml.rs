//! The small subset of YAML that MLflow's `meta.yaml` files use: one flat
//! mapping of scalar values.
//!
//! Written by hand rather than through a YAML crate because the format is
//! tiny, and because the reader must also accept what PyYAML writes (single
//! quotes, plain scalars, long values folded onto indented lines), which we
//! control here exactly.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Str(String),
    /// `[]`: MLflow keeps an empty `tags` list in run meta files.
    EmptyList,
}

impl Value {
    pub(crate) fn str(s: impl Into<String>) -> Self {
        Value::Str(s.into())
    }
}

/// Renders `entries` in the given order, one `key: value` line each.
pub(crate) fn write_map(entries: &[(&str, Value)]) -> String {
    let mut out = String::new();
    for (key, value) in entries {
        out.push_str(key);
        out.push(':');
        out.push(' ');
        match value {
            Value::Null => out.push_str("null"),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::EmptyList => out.push_str("[]"),
            Value::Str(s) => write_str(&mut out, s),
        }
        out.push('\n');
    }
    out
}

fn write_str(out: &mut String, s: &str) {
    if is_safe_plain(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // PyYAML refuses to load a stream holding C0/C1 controls or the
            // non-characters raw, so those travel as escapes.
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            '\u{fffe}' | '\u{ffff}' | '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A string YAML 1.1 reads back as the same string without quotes: starts with
/// a letter (so never a number or an indicator), uses no character with
/// meaning in YAML, and is not one of the words YAML 1.1 turns into a boolean
/// or null.
fn is_safe_plain(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_ascii_alphabetic() || s.ends_with(':') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-/:%".contains(c))
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    !matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
    )
}

/// Parses a flat mapping. Nested structures (block lists under a key) are
/// skipped: the keys we read are all scalars.
pub(crate) fn parse_map(text: &str) -> Result<BTreeMap<String, Value>, String> {
    let mut entries: Vec<(String, String, usize)> = Vec::new();
    // Blank lines inside a folded value stand for line breaks; we only know
    // they belonged to the value once an indented line follows.
    let mut pending_newlines = 0usize;
    for (lineno, line) in text.lines().enumerate() {
        let lineno = lineno + 1;
        if line.trim().is_empty() {
            pending_newlines += 1;
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if indented {
            let Some((_, raw, _)) = entries.last_mut() else {
                return Err(format!("line {lineno}: indented line before any key"));
            };
            fold_continuation(raw, line.trim(), pending_newlines);
            pending_newlines = 0;
            continue;
        }
        pending_newlines = 0;
        if line.starts_with('#') || line.starts_with('-') || line == "---" || line == "..." {
            // Comments, block-list items of a key we do not read, and
            // document markers.
            continue;
        }
        let Some((key, rest)) = split_key(line) else {
            return Err(format!(
                "line {lineno}: expected 'key: value', got '{line}'"
            ));
        };
        entries.push((key.to_string(), rest.trim().to_string(), lineno));
    }
    let mut map = BTreeMap::new();
    for (key, raw, lineno) in entries {
        let value = parse_scalar(&raw).map_err(|e| format!("line {lineno} ('{key}'): {e}"))?;
        map.insert(key, value);
    }
    Ok(map)
}

fn split_key(line: &str) -> Option<(&str, &str)> {
    if let Some(i) = line.find(": ") {
        return Some((&line[..i], &line[i + 2..]));
    }
    line.strip_suffix(':').map(|k| (k, ""))
}

fn fold_continuation(raw: &mut String, part: &str, blank_lines: usize) {
    if blank_lines > 0 {
        raw.push_str(&"\n".repeat(blank_lines));
    } else if raw.starts_with('"') && ends_with_odd_backslashes(raw) {
        // An escaped line break in a double-quoted scalar joins without space.
        raw.pop();
    } else {
        raw.push(' ');
    }
    raw.push_str(part);
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

fn parse_scalar(raw: &str) -> Result<Value, String> {
    if let Some(body) = raw.strip_prefix('"') {
        return parse_double_quoted(body).map(Value::Str);
    }
    if let Some(body) = raw.strip_prefix('\'') {
        let Some(body) = body.strip_suffix('\'') else {
            return Err("unterminated single-quoted string".into());
        };
        return Ok(Value::Str(body.replace("''", "'")));
    }
    // A plain scalar ends at a comment.
    let plain = match raw.find(" #") {
        Some(i) => raw[..i].trim_end(),
        None => raw,
    };
    Ok(match plain {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "[]" => Value::EmptyList,
        _ => match plain.parse::<i64>() {
            Ok(i) if looks_like_int(plain) => Value::Int(i),
            _ => Value::Str(plain.to_string()),
        },
    })
}

fn looks_like_int(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn parse_double_quoted(body: &str) -> Result<String, String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    loop {
        let Some(c) = chars.next() else {
            return Err("unterminated double-quoted string".into());
        };
        match c {
            '"' => {
                let rest: String = chars.collect();
                if !rest.trim().is_empty() && !rest.trim_start().starts_with('#') {
                    return Err(format!("unexpected text after closing quote: '{rest}'"));
                }
                return Ok(out);
            }
            '\\' => {
                let Some(e) = chars.next() else {
                    return Err("dangling backslash".into());
                };
                let simple = match e {
                    '0' => Some('\0'),
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    't' | '\t' => Some('\t'),
                    'n' => Some('\n'),
                    'v' => Some('\u{b}'),
                    'f' => Some('\u{c}'),
                    'r' => Some('\r'),
                    'e' => Some('\u{1b}'),
                    ' ' => Some(' '),
                    '"' => Some('"'),
                    '/' => Some('/'),
                    '\\' => Some('\\'),
                    'N' => Some('\u{85}'),
                    '_' => Some('\u{a0}'),
                    'L' => Some('\u{2028}'),
                    'P' => Some('\u{2029}'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let width = match e {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    other => return Err(format!("unknown escape '\\{other}'")),
                };
                let hex: String = chars.by_ref().take(width).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == width)
                    .ok_or_else(|| format!("bad escape '\\{e}{hex}'"))?;
                let ch = char::from_u32(code).ok_or_else(|| format!("bad code point {code:#x}"))?;
                out.push(ch);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> Value {
        let text = write_map(&[("k", Value::str(s))]);
        parse_map(&text).unwrap().remove("k").unwrap()
    }

    #[test]
    fn strings_survive_quoting() {
        for s in [
            "",
            "0",
            "Default",
            "yes",
            "a: b",
            "x #y",
            "'single'",
            "\"double\" \\ back",
            "new\nline\ttab\r",
            "\u{1}\u{7f}\u{85}\u{feff}",
            "unicodé ✓ 🚀",
            "file:///tmp/a%20b/0",
            "-1",
            "~",
            "[]",
        ] {
            assert_eq!(round_trip(s), Value::str(s), "{s:?}");
        }
    }

    #[test]
    fn reads_what_pyyaml_writes() {
        let text = "artifact_location: file:///tmp/mlruns/0\ncreation_time: 1700000000000\n\
                    experiment_id: '0'\nlast_update_time: null\nlifecycle_stage: active\n\
                    name: a long name that PyYAML folded\n  onto a second line\ntags: []\n\
                    quoted: \"first part \\\n  second part\"\nlist:\n- a\n- b\nafter: 'it''s'\n";
        let m = parse_map(text).unwrap();
        assert_eq!(m["artifact_location"], Value::str("file:///tmp/mlruns/0"));
        assert_eq!(m["creation_time"], Value::Int(1_700_000_000_000));
        assert_eq!(m["experiment_id"], Value::str("0"));
        assert_eq!(m["last_update_time"], Value::Null);
        assert_eq!(
            m["name"],
            Value::str("a long name that PyYAML folded onto a second line")
        );
        assert_eq!(m["tags"], Value::EmptyList);
        assert_eq!(m["quoted"], Value::str("first part second part"));
        assert_eq!(m["list"], Value::Null);
        assert_eq!(m["after"], Value::str("it's"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_map("no colon here\n").is_err());
        assert!(parse_map("k: \"unterminated\n").is_err());
        assert!(parse_map("k: \"bad \\q escape\"\n").is_err());
    }
}
