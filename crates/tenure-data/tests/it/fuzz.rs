//! CSV ingestion never panics: the fuzz target's corpus and crashes
//! replayed, arbitrary bytes, and well-formed logs with one bad cell, whose
//! error must name that cell's file, column and row.

use proptest::prelude::*;
use tenure_data::DataError;
use tenure_data::io::{TransactionsSource, load};

#[path = "../../../../fuzz/replay.rs"]
mod replay;

#[test]
fn the_fuzz_corpus_and_crashes_replay() {
    let n = replay::replay("csv_event_log", tenure_data::fuzz::csv_event_log);
    assert!(n > 0, "fuzz/corpus/csv_event_log is missing");
}

/// A cell of a transactions row: valid values of every shape, or a fault.
#[derive(Debug, Clone)]
enum Fault {
    None,
    EmptyId,
    BadDate(String),
    BadAmount(String),
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,6}",
        "[\\u{A0}-\\u{D7FF}]{1,4}",
        (0u64..1_000).prop_map(|n| n.to_string()),
    ]
    // Commas, quotes and line breaks need CSV quoting; the writer below
    // does not quote.
    .prop_filter("plain cell", |s| {
        !s.contains([',', '"', '\n', '\r']) && s.trim() == s
    })
}

fn date() -> impl Strategy<Value = String> {
    // Far before 1970 to far after 2100, as a date or a date and time.
    (1800i32..2300, 1u32..=12, 1u32..=28, any::<bool>()).prop_map(|(y, m, d, with_time)| {
        if with_time {
            format!("{y:04}-{m:02}-{d:02} 13:05:59")
        } else {
            format!("{y:04}-{m:02}-{d:02}")
        }
    })
}

fn amount() -> impl Strategy<Value = String> {
    prop_oneof![
        (0.0f64..1e6).prop_map(|v| v.to_string()),
        (0u32..10_000).prop_map(|v| v.to_string()),
        Just("1e15".to_string()),
        Just("0".to_string()),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        3 => Just(Fault::None),
        1 => Just(Fault::EmptyId),
        1 => prop::sample::select(vec!["2023-13-01", "2023-02-30", "yesterday", "01/02/2023", "2023-1-1x"])
            .prop_map(|s| Fault::BadDate(s.to_string())),
        1 => prop::sample::select(vec!["1e308", "-5", "NaN", "inf", "$12", "1e16", "-1e300"])
            .prop_map(|s| Fault::BadAmount(s.to_string())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        tenure_data::fuzz::csv_event_log(&data);
    }

    #[test]
    fn arbitrary_text_rows_never_panic(
        options in any::<u8>(),
        rows in proptest::collection::vec("[ -~]{0,40}", 0..8),
    ) {
        let mut data = vec![options];
        data.extend_from_slice(b"customer_id,timestamp,amount,category\n");
        for r in rows {
            data.extend_from_slice(r.as_bytes());
            data.push(b'\n');
        }
        tenure_data::fuzz::csv_event_log(&data);
    }

    #[test]
    fn one_bad_cell_is_named_by_column_and_row(
        rows in proptest::collection::vec((id(), date(), amount()), 1..30),
        at in any::<prop::sample::Index>(),
        fault in fault(),
    ) {
        let bad = at.index(rows.len());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tx.csv");
        let mut text = String::from("customer_id,timestamp,amount\n");
        for (i, (id, date, amount)) in rows.iter().enumerate() {
            let (mut id, mut date, mut amount) = (id.clone(), date.clone(), amount.clone());
            if i == bad {
                match &fault {
                    Fault::None => {}
                    Fault::EmptyId => id.clear(),
                    Fault::BadDate(d) => date = d.clone(),
                    Fault::BadAmount(a) => amount = a.clone(),
                }
            }
            text.push_str(&format!("{id},{date},{amount}\n"));
        }
        std::fs::write(&path, text).unwrap();
        let result = load(&TransactionsSource::new(&path), None);
        let column = match &fault {
            Fault::None => {
                let log = result.unwrap();
                prop_assert_eq!(log.n_events(), rows.len());
                return Ok(());
            }
            Fault::EmptyId => "customer_id",
            Fault::BadDate(_) => "timestamp",
            Fault::BadAmount(_) => "amount",
        };
        let err = result.unwrap_err();
        let text = err.to_string();
        match &err {
            DataError::BadValue { column: c, row, .. } => {
                prop_assert_eq!(c.as_str(), column, "{}", text);
                prop_assert_eq!(*row, bad + 1, "{}", text);
            }
            other => prop_assert!(false, "expected a bad value, got {other}"),
        }
        prop_assert!(text.contains("tx.csv"), "{}", text);
    }
}
