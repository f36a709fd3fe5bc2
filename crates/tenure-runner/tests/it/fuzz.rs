//! Experiment files from outside never panic the loader, and a bad value is
//! named by its key: the fuzz target's corpus and crashes replayed,
//! arbitrary bytes and text, and a valid experiment with one value replaced
//! by a value of any type.

use proptest::prelude::*;

#[path = "../../../../fuzz/replay.rs"]
mod replay;

#[test]
fn the_fuzz_corpus_and_crashes_replay() {
    let n = replay::replay("experiment_toml", tenure_runner::fuzz::experiment_toml);
    assert!(n > 0, "fuzz/corpus/experiment_toml is missing");
}

const BASE: &str = r#"
name = "props"
seed = 7

[data.transactions]
path = "tx.csv"
timestamp = "date"
category = "category"

[data.customers]
path = "customers.csv"
signup = "signup"
numeric = ["age"]

[features]
windows_days = [30, 90]
trends = [[30, 90]]
category_top_k = 4

[labels]
task = "churn"
horizon_days = 30
max_inactive_days = 365

[cv]
cutoffs = ["2023-02-01", "2023-03-01", "2023-04-01"]
folds = 2
test_cutoff = "2023-05-01"

[[models]]
name = "logreg"
kind = "logistic"
params = { l2 = 1.0, max_iter = 50 }

[[models]]
name = "boost"
kind = "gbdt"
params = { num_iterations = 10, learning_rate = 0.1, num_leaves = 7 }

[tracking]
uri = "store"

[registry]
name = "churn"
alias = "champion"
metric = "auc"
margin = 0.01
"#;

/// Every leaf of a TOML document: its path of keys and array indices.
fn leaves(v: &toml::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        toml::Value::Array(a) if a.iter().any(|x| x.is_table()) => {
            for (i, v) in a.iter().enumerate() {
                path.push(i.to_string());
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn slot<'a>(v: &'a mut toml::Value, path: &[String]) -> &'a mut toml::Value {
    path.iter().fold(v, |v, k| match v {
        toml::Value::Table(t) => t.get_mut(k).unwrap(),
        toml::Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        _ => unreachable!("paths come from `leaves`"),
    })
}

fn value() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        "[a-z0-9 ._-]{0,10}".prop_map(toml::Value::String),
        any::<i64>().prop_map(toml::Value::Integer),
        prop_oneof![Just(-1i64), Just(0), Just(1), Just(1 << 40)].prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        proptest::collection::vec(
            any::<i32>().prop_map(|i| toml::Value::Integer(i.into())),
            0..3
        )
        .prop_map(toml::Value::Array),
        Just(toml::Value::Table(toml::Table::new())),
    ]
}

fn write(dir: &std::path::Path, doc: &toml::Value) -> std::path::PathBuf {
    let path = dir.join("experiment.toml");
    std::fs::write(&path, toml::to_string(doc).unwrap()).unwrap();
    path
}

#[test]
fn the_base_experiment_loads() {
    let dir = tempfile::tempdir().unwrap();
    let doc: toml::Value = toml::from_str(BASE).unwrap();
    let path = write(dir.path(), &doc);
    assert_eq!(tenure_runner::fuzz::check_load(&path), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_replaced_value_fails_naming_its_key_or_loads(
        at in any::<prop::sample::Index>(),
        new in value(),
    ) {
        let mut doc: toml::Value = toml::from_str(BASE).unwrap();
        let mut all = Vec::new();
        leaves(&doc, &mut Vec::new(), &mut all);
        let path = &all[at.index(all.len())];
        *slot(&mut doc, path) = new.clone();
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), &doc);
        if let Some(err) = tenure_runner::fuzz::check_load(&file) {
            // The key itself, or for a value inside an inline table or
            // array, the key that holds it.
            let named = path
                .iter()
                .rev()
                .filter(|k| k.parse::<usize>().is_err())
                .take(2)
                .any(|k| err.contains(k.as_str()));
            prop_assert!(named, "{} = {} gave: {}", path.join("."), new, err);
        }
    }

    #[test]
    fn an_added_unknown_key_is_named(
        at in any::<prop::sample::Index>(),
        key in "[a-z]{3,8}_x",
    ) {
        let mut doc: toml::Value = toml::from_str(BASE).unwrap();
        let tables = ["", "data.transactions", "features", "labels", "cv", "tracking", "registry"];
        let table = tables[at.index(tables.len())];
        let mut t = &mut doc;
        for k in table.split('.').filter(|k| !k.is_empty()) {
            t = t.get_mut(k).unwrap();
        }
        t.as_table_mut().unwrap().insert(key.clone(), toml::Value::Integer(1));
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), &doc);
        let err = tenure_runner::fuzz::check_load(&file);
        prop_assert!(err.as_ref().is_some_and(|e| e.contains(&key)), "{:?}", err);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\\n]{0,300}") {
        tenure_runner::fuzz::experiment_toml(text.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        tenure_runner::fuzz::experiment_toml(&data);
    }

    #[test]
    fn truncated_experiments_never_panic(at in any::<prop::sample::Index>()) {
        let cut = at.index(BASE.len());
        tenure_runner::fuzz::experiment_toml(&BASE.as_bytes()[..cut]);
    }
}
