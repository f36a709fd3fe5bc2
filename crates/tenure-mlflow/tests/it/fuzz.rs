//! Whatever an MLflow server answers, the client returns a value or a typed
//! error and never panics or loops: the fuzz target's corpus and crashes
//! replayed, arbitrary bytes and arbitrary JSON as the body of every answer.

use proptest::prelude::*;
use serde_json::Value;

#[path = "../../../../fuzz/replay.rs"]
mod replay;

#[test]
fn the_fuzz_corpus_and_crashes_replay() {
    let n = replay::replay("mlflow_response", tenure_mlflow::fuzz::response_body);
    assert!(n > 0, "fuzz/corpus/mlflow_response is missing");
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            "[a-z_]{0,12}",
            Just("NaN".to_string()),
            Just("Infinity".to_string()),
            Just("mlflow-artifacts:/1/x/artifacts".to_string()),
            Just("0123456789abcdef0123456789abcdef".to_string()),
        ]
        .prop_map(Value::String),
    ];
    // Keys MLflow's answers use, so that nested objects reach the typed
    // conversions and not only serde's "missing field".
    let key = prop_oneof![
        Just("experiment_id"),
        Just("experiment"),
        Just("experiments"),
        Just("name"),
        Just("run"),
        Just("runs"),
        Just("info"),
        Just("data"),
        Just("run_id"),
        Just("status"),
        Just("metrics"),
        Just("params"),
        Just("tags"),
        Just("key"),
        Just("value"),
        Just("step"),
        Just("timestamp"),
        Just("files"),
        Just("path"),
        Just("is_dir"),
        Just("next_page_token"),
        Just("registered_model"),
        Just("model_version"),
        Just("model_versions"),
        Just("version"),
        Just("aliases"),
        Just("alias"),
        Just("artifact_uri"),
        Just("lifecycle_stage"),
        Just("start_time"),
        Just("error_code"),
        Just("message"),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..6).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    // Each case answers a few dozen HTTP requests on the loopback.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn arbitrary_bytes_never_panic(
        pick in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut data = vec![pick];
        data.extend(body);
        tenure_mlflow::fuzz::response_body(&data);
    }

    #[test]
    fn arbitrary_json_never_panics(status in 0u8..12, body in json()) {
        let mut data = vec![status];
        data.extend(body.to_string().into_bytes());
        tenure_mlflow::fuzz::response_body(&data);
    }
}
