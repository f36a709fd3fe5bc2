use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use tempfile::TempDir;
use tenure_data::io::{
    CustomersSource, TransactionsSource, load, read_customers, read_table, read_transactions,
};
use tenure_data::{DataError, RawEvent, parse_date};

fn day(s: &str) -> i64 {
    parse_date(s).unwrap()
}

fn write_text(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn write_parquet(dir: &TempDir, name: &str, mut df: DataFrame) -> PathBuf {
    let path = dir.path().join(name);
    ParquetWriter::new(File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    path
}

fn col(name: &str, s: Series) -> Column {
    s.with_name(name.into()).into_column()
}

fn frame(columns: Vec<Column>) -> DataFrame {
    DataFrame::new_infer_height(columns).unwrap()
}

/// Milliseconds since the epoch as a `Datetime(ms, tz)` column.
fn datetime(name: &str, millis: &[i64], tz: Option<TimeZone>) -> Column {
    Int64Chunked::from_slice(name.into(), millis)
        .into_datetime(TimeUnit::Milliseconds, tz)
        .into_series()
        .into_column()
}

fn date_col(name: &str, days: &[Option<i32>]) -> Column {
    Int32Chunked::from_slice_options(name.into(), days)
        .into_date()
        .into_series()
        .into_column()
}

fn tx(path: &Path) -> TransactionsSource {
    TransactionsSource::new(path)
}

#[test]
fn csv_with_integer_ids_and_string_dates() {
    let dir = TempDir::new().unwrap();
    let path = write_text(
        &dir,
        "tx.csv",
        "customer_id,timestamp,amount,note\n\
         7,2024-01-02,10,x\n\
         12,2024-01-01 12:30:00,2.5,y\n\
         7,2024-01-01T06:00:00,0,\n",
    );
    let events = read_transactions(&tx(&path)).unwrap();
    assert_eq!(
        events,
        [
            RawEvent::new("7", day("2024-01-02"), 10.0),
            RawEvent::new("12", day("2024-01-01") + 12 * 3600 + 30 * 60, 2.5),
            RawEvent::new("7", day("2024-01-01") + 6 * 3600, 0.0),
        ]
    );
}

#[test]
fn csv_amounts_that_turn_fractional_late_in_the_file() {
    // Type inference sees only integers in the first rows.
    let dir = TempDir::new().unwrap();
    let mut text = String::from("customer_id,timestamp,amount\n");
    for i in 0..20_000 {
        text.push_str(&format!("c{},2024-01-01,{}\n", i % 7, i % 5));
    }
    text.push_str("c1,2024-01-02,3.75\n");
    let path = write_text(&dir, "tx.csv", &text);
    let events = read_transactions(&tx(&path)).unwrap();
    assert_eq!(events.len(), 20_001);
    assert_eq!(events.last().unwrap().amount, 3.75);
}

#[test]
fn parquet_with_string_ids_datetimes_and_categories() {
    let dir = TempDir::new().unwrap();
    let t0 = day("2024-03-01") * 1000;
    let df = frame(vec![
        col("cid", Series::new("".into(), ["b", "a", "b"])),
        datetime(
            "when",
            &[t0, t0 + 1500, t0 - 86_400_000],
            Some(TimeZone::UTC),
        ),
        col("spend", Series::new("".into(), [1i32, 2, 3])),
        col("cat", Series::new("".into(), [Some("x"), Some("y"), None])),
        col("extra", Series::new("".into(), [1.0f64, 2.0, 3.0])),
    ]);
    let path = write_parquet(&dir, "tx.parquet", df);
    let src = TransactionsSource {
        customer_id: "cid".into(),
        timestamp: "when".into(),
        amount: "spend".into(),
        category: Some("cat".into()),
        ..tx(&path)
    };
    let events = read_transactions(&src).unwrap();
    let t = day("2024-03-01");
    assert_eq!(
        events,
        [
            RawEvent::new("b", t, 1.0).with_category("x"),
            RawEvent::new("a", t + 1, 2.0).with_category("y"),
            RawEvent::new("b", t - 86_400, 3.0),
        ]
    );
    let log = load(&src, None).unwrap();
    assert_eq!(log.customer_ids(), ["a", "b"]);
    assert_eq!(log.category().unwrap().name, "cat");
}

#[test]
fn datetimes_in_any_unit_and_zone_are_utc_seconds() {
    let dir = TempDir::new().unwrap();
    let t = day("2024-03-01") + 3661;
    let nanos = Int64Chunked::from_slice("ns".into(), &[t * 1_000_000_000])
        .into_datetime(TimeUnit::Nanoseconds, None)
        .into_series()
        .into_column();
    let zoned = datetime("zoned", &[t * 1000], Some(TimeZone::UTC));
    let df = frame(vec![
        col("customer_id", Series::new("".into(), [1u64])),
        nanos,
        zoned,
        date_col("date", &[Some((t / 86_400) as i32)]),
        col("amount", Series::new("".into(), [1.0f32])),
    ]);
    let path = write_parquet(&dir, "tx.parquet", df);
    for (column, expected) in [("ns", t), ("zoned", t), ("date", day("2024-03-01"))] {
        let src = TransactionsSource {
            timestamp: column.into(),
            ..tx(&path)
        };
        let events = read_transactions(&src).unwrap();
        assert_eq!(events, [RawEvent::new("1", expected, 1.0)], "{column}");
    }
}

#[test]
fn customers_table_with_attributes_and_nulls() {
    let dir = TempDir::new().unwrap();
    let tx_path = write_text(
        &dir,
        "tx.csv",
        "customer_id,timestamp,amount\n1,2024-01-05,5\n3,2024-01-06,6\n",
    );
    let cust_path = write_text(
        &dir,
        "customers.csv",
        "customer_id,signup,end,age,score,plan,vip,tier,ignored\n\
         1,2024-01-01,,30,1.5,basic,true,1,a\n\
         2,2024-01-02,2024-02-01,,2,premium,false,2,b\n\
         3,,,45,,,,,c\n",
    );
    let src = CustomersSource {
        signup: Some("signup".into()),
        end: Some("end".into()),
        numeric: vec!["age".into(), "score".into()],
        categorical: vec!["plan".into(), "vip".into(), "tier".into()],
        ..CustomersSource::new(&cust_path)
    };
    let raw = read_customers(&src).unwrap();
    assert!(raw.has_end);
    assert_eq!(raw.rows.len(), 3);
    let r = &raw.rows;
    assert_eq!(r[0].signup, Some(day("2024-01-01")));
    assert_eq!(r[0].end, None);
    assert_eq!(r[1].end, Some(day("2024-02-01")));
    assert_eq!(r[2].signup, None);
    assert_eq!(r[0].numeric, [30.0, 1.5]);
    assert!(r[1].numeric[0].is_nan());
    assert!(r[2].numeric[1].is_nan());
    assert_eq!(
        r[0].categorical,
        [Some("basic".into()), Some("true".into()), Some("1".into())]
    );
    assert_eq!(r[2].categorical, [None, None, None]);

    let log = load(&tx(&tx_path), Some(&src)).unwrap();
    assert_eq!(log.customer_ids(), ["1", "2", "3"]);
    let table = log.customers().unwrap();
    assert_eq!(table.end[1], Some(day("2024-02-01")));
    assert_eq!(table.categorical[0].levels, ["basic", "premium"]);
}

#[test]
fn parquet_customers_with_date_columns_and_typed_attributes() {
    let dir = TempDir::new().unwrap();
    let df = frame(vec![
        col("customer_id", Series::new("".into(), [10i64, 20])),
        date_col("signup", &[Some(19_000), None]),
        date_col("end", &[None, Some(19_100)]),
        col("n", Series::new("".into(), [Some(3i32), None])),
        col("flag", Series::new("".into(), [Some(true), None])),
    ]);
    let path = write_parquet(&dir, "c.parquet", df);
    let src = CustomersSource {
        signup: Some("signup".into()),
        end: Some("end".into()),
        numeric: vec!["n".into()],
        categorical: vec!["flag".into()],
        ..CustomersSource::new(&path)
    };
    let raw = read_customers(&src).unwrap();
    assert_eq!(raw.rows[0].customer_id, "10");
    assert_eq!(raw.rows[0].signup, Some(19_000 * 86_400));
    assert_eq!(raw.rows[1].end, Some(19_100 * 86_400));
    assert_eq!(raw.rows[0].numeric, [3.0]);
    assert!(raw.rows[1].numeric[0].is_nan());
    assert_eq!(raw.rows[0].categorical, [Some("true".into())]);
    assert_eq!(raw.rows[1].categorical, [None]);
}

#[test]
fn read_table_picks_the_reader_by_extension() {
    let dir = TempDir::new().unwrap();
    let csv = write_text(&dir, "t.CSV", "a,b\n1,x\n2,y\n");
    assert_eq!(read_table(&csv).unwrap().shape(), (2, 2));
    let df = frame(vec![col("a", Series::new("".into(), [1i64, 2, 3]))]);
    let pq = write_parquet(&dir, "t.pq", df);
    assert_eq!(read_table(&pq).unwrap().shape(), (3, 1));
}

#[test]
fn unsupported_extension() {
    let dir = TempDir::new().unwrap();
    let path = write_text(&dir, "t.json", "{}");
    let err = read_table(&path).unwrap_err();
    assert!(matches!(err, DataError::UnsupportedFormat { path: p } if p == path));
}

#[test]
fn missing_file_names_the_path() {
    let path = PathBuf::from("/nonexistent/dir/tx.csv");
    let err = read_transactions(&tx(&path)).unwrap_err();
    assert!(matches!(&err, DataError::Io { path: p, .. } if *p == path));
    assert!(err.to_string().contains("/nonexistent/dir/tx.csv"));
}

#[test]
fn missing_column_lists_the_available_ones() {
    let dir = TempDir::new().unwrap();
    let path = write_text(&dir, "tx.csv", "customer_id,date,amount\n1,2024-01-01,3\n");
    let err = read_transactions(&tx(&path)).unwrap_err();
    match err {
        DataError::MissingColumn {
            column, available, ..
        } => {
            assert_eq!(column, "timestamp");
            assert_eq!(available, ["customer_id", "date", "amount"]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn empty_tables() {
    let dir = TempDir::new().unwrap();
    let header_only = write_text(&dir, "h.csv", "customer_id,timestamp,amount\n");
    let nothing = write_text(&dir, "n.csv", "");
    let empty_pq = write_parquet(
        &dir,
        "e.parquet",
        frame(vec![col(
            "customer_id",
            Series::new_empty("".into(), &DataType::String),
        )]),
    );
    for path in [header_only, nothing, empty_pq] {
        let err = read_transactions(&tx(&path)).unwrap_err();
        assert!(
            matches!(&err, DataError::Empty { path: p } if *p == path),
            "{err}"
        );
    }
}

#[test]
fn duplicate_customer_ids_name_both_rows() {
    let dir = TempDir::new().unwrap();
    let path = write_text(&dir, "c.csv", "customer_id\na\nb\nc\nb\n");
    let err = read_customers(&CustomersSource::new(&path)).unwrap_err();
    match err {
        DataError::DuplicateId {
            id, row, first_row, ..
        } => assert_eq!((id.as_str(), row, first_row), ("b", 4, 2)),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn text_in_a_csv_number_column_names_the_row() {
    let dir = TempDir::new().unwrap();
    let path = write_text(
        &dir,
        "tx.csv",
        "customer_id,timestamp,amount\n1,2024-01-01,3\n2,2024-01-02,abc\n",
    );
    let (column, row, found, expected) = bad_value(read_transactions(&tx(&path)).unwrap_err());
    assert_eq!(
        (column.as_str(), row, found.as_str()),
        ("amount", 2, "\"abc\"")
    );
    assert_eq!(expected, "a number");
}

#[test]
fn malformed_csv_is_a_parse_error() {
    let dir = TempDir::new().unwrap();
    let path = write_text(
        &dir,
        "tx.csv",
        "customer_id,timestamp,amount\n1,2024-01-01,3\n2,\"2024-01-02,4\n",
    );
    let err = read_transactions(&tx(&path)).unwrap_err();
    assert!(matches!(err, DataError::Parse { .. }), "{err:?}");
}

fn bad_value(err: DataError) -> (String, usize, String, String) {
    match err {
        DataError::BadValue {
            column,
            row,
            found,
            expected,
            ..
        } => (column, row, found, expected),
        other => panic!("expected BadValue, got {other:?}"),
    }
}

#[test]
fn null_customer_id_names_the_row() {
    let dir = TempDir::new().unwrap();
    let path = write_text(
        &dir,
        "tx.csv",
        "customer_id,timestamp,amount\na,2024-01-01,1\nb,2024-01-01,1\n,2024-01-02,1\n",
    );
    let (column, row, found, _) = bad_value(read_transactions(&tx(&path)).unwrap_err());
    assert_eq!(
        (column.as_str(), row, found.as_str()),
        ("customer_id", 3, "null")
    );
}

#[test]
fn unparsable_date_names_the_row_and_value() {
    let dir = TempDir::new().unwrap();
    let path = write_text(
        &dir,
        "tx.csv",
        "customer_id,timestamp,amount\na,2024-01-01,1\nb,yesterday,1\n",
    );
    let (column, row, found, expected) = bad_value(read_transactions(&tx(&path)).unwrap_err());
    assert_eq!((column.as_str(), row), ("timestamp", 2));
    assert_eq!(found, "\"yesterday\"");
    assert_eq!(expected, "a date like 2024-01-31 or 2024-01-31 12:00:00");
}

#[test]
fn null_timestamp_is_rejected_in_transactions() {
    let dir = TempDir::new().unwrap();
    let path = write_text(&dir, "tx.csv", "customer_id,timestamp,amount\na,,1\n");
    let (column, row, found, _) = bad_value(read_transactions(&tx(&path)).unwrap_err());
    assert_eq!(
        (column.as_str(), row, found.as_str()),
        ("timestamp", 1, "null")
    );
}

#[test]
fn numeric_timestamp_column_is_a_wrong_type() {
    let dir = TempDir::new().unwrap();
    let df = frame(vec![
        col("customer_id", Series::new("".into(), ["a"])),
        col("timestamp", Series::new("".into(), [20240101i64])),
        col("amount", Series::new("".into(), [1.0])),
    ]);
    let path = write_parquet(&dir, "tx.parquet", df);
    let err = read_transactions(&tx(&path)).unwrap_err();
    assert!(
        matches!(&err, DataError::WrongType { column, .. } if column == "timestamp"),
        "{err}"
    );
}

#[test]
fn string_amount_column_is_a_wrong_type() {
    let dir = TempDir::new().unwrap();
    let df = frame(vec![
        col("customer_id", Series::new("".into(), ["a"])),
        col("timestamp", Series::new("".into(), ["2024-01-01"])),
        col("amount", Series::new("".into(), ["12.00"])),
    ]);
    let path = write_parquet(&dir, "tx.parquet", df);
    let err = read_transactions(&tx(&path)).unwrap_err();
    match err {
        DataError::WrongType { column, found, .. } => {
            assert_eq!(column, "amount");
            assert_eq!(found, "str");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn null_and_nan_amounts_are_rejected() {
    let dir = TempDir::new().unwrap();
    for (values, row, found) in [
        (vec![Some(1.0), None], 2, "null"),
        (vec![Some(f64::NAN), Some(1.0)], 1, "NaN"),
        (vec![Some(1.0), Some(f64::INFINITY)], 2, "inf"),
    ] {
        let df = frame(vec![
            col("customer_id", Series::new("".into(), ["a", "b"])),
            col(
                "timestamp",
                Series::new("".into(), ["2024-01-01", "2024-01-02"]),
            ),
            col("amount", Series::new("".into(), values)),
        ]);
        let path = write_parquet(&dir, "tx.parquet", df);
        let src = TransactionsSource {
            allow_negative_amounts: true,
            ..tx(&path)
        };
        let (column, r, f, expected) = bad_value(read_transactions(&src).unwrap_err());
        assert_eq!((column.as_str(), r, f.as_str()), ("amount", row, found));
        assert_eq!(expected, "a finite number");
    }
}

#[test]
fn negative_amounts_need_the_refund_flag() {
    let dir = TempDir::new().unwrap();
    let path = write_text(
        &dir,
        "tx.csv",
        "customer_id,timestamp,amount\na,2024-01-01,5\na,2024-01-02,-5\n",
    );
    let (_, row, found, expected) = bad_value(read_transactions(&tx(&path)).unwrap_err());
    assert_eq!((row, found.as_str()), (2, "-5"));
    assert!(expected.contains("allow_negative_amounts"), "{expected}");

    let src = TransactionsSource {
        allow_negative_amounts: true,
        ..tx(&path)
    };
    assert_eq!(read_transactions(&src).unwrap()[1].amount, -5.0);
}

#[test]
fn errors_deep_in_a_large_file_name_the_earliest_row() {
    // Large enough to be converted in several parallel row ranges.
    let dir = TempDir::new().unwrap();
    let mut text = String::from("customer_id,timestamp,amount\n");
    for row in 1..=600_000 {
        let amount = if row == 300_001 || row == 550_000 {
            -1
        } else {
            1
        };
        text.push_str(&format!("{},2024-01-01,{amount}\n", row % 1000));
    }
    let path = write_text(&dir, "tx.csv", &text);
    let (column, row, found, _) = bad_value(read_transactions(&tx(&path)).unwrap_err());
    assert_eq!(
        (column.as_str(), row, found.as_str()),
        ("amount", 300_001, "-1")
    );
}

#[test]
fn attribute_columns_of_the_wrong_type() {
    let dir = TempDir::new().unwrap();
    let df = frame(vec![
        col("customer_id", Series::new("".into(), ["a"])),
        col("label", Series::new("".into(), ["x"])),
        col("ratio", Series::new("".into(), [0.5])),
    ]);
    let path = write_parquet(&dir, "c.parquet", df);
    let numeric = CustomersSource {
        numeric: vec!["label".into()],
        ..CustomersSource::new(&path)
    };
    let err = read_customers(&numeric).unwrap_err();
    assert!(
        matches!(&err, DataError::WrongType { column, .. } if column == "label"),
        "{err}"
    );
    let categorical = CustomersSource {
        categorical: vec!["ratio".into()],
        ..CustomersSource::new(&path)
    };
    let err = read_customers(&categorical).unwrap_err();
    assert!(
        matches!(&err, DataError::WrongType { column, .. } if column == "ratio"),
        "{err}"
    );
}

#[test]
fn cdnow_master_loads() {
    // CI clones the project with shared/ beside it.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cdnow/cdnow_master.csv");
    if !path.exists() {
        println!("skipping: {} not found", path.display());
        return;
    }
    let src = TransactionsSource {
        timestamp: "date".into(),
        amount: "dollar_value".into(),
        ..TransactionsSource::new(&path)
    };
    let log = load(&src, None).unwrap();
    assert_eq!(log.n_events(), 69_659);
    assert_eq!(log.n_customers(), 23_570);
    assert_eq!(log.last_event(), Some(day("1998-06-30")));
    let total: f64 = (0..log.n_customers())
        .flat_map(|i| log.amounts(i).iter().copied())
        .sum();
    assert!((total - 2_500_315.63).abs() < 0.01, "{total}");
}

#[test]
fn parquet_dates_before_1970_and_after_2100_are_exact() {
    // Negative day counts and instants, and days past 2100, in both
    // Parquet date types: the log holds the exact UTC seconds.
    let dir = TempDir::new().unwrap();
    let days = [
        day("1969-12-31"),
        day("1900-03-01"),
        day("2101-01-01"),
        day("2250-06-15"),
    ];
    let as_date: Vec<Option<i32>> = days.iter().map(|&t| Some((t / 86_400) as i32)).collect();
    let path = write_parquet(
        &dir,
        "dates.parquet",
        frame(vec![
            col("customer_id", Series::new("".into(), &["a", "b", "c", "d"])),
            date_col("timestamp", &as_date),
            col("amount", Series::new("".into(), &[1.0, 2.0, 3.0, 4.0])),
        ]),
    );
    let log = load(&tx(&path), None).unwrap();
    let times: Vec<i64> = (0..4).map(|i| log.times(i)[0]).collect();
    assert_eq!(times, days);
    // Milliseconds with a time of day before the epoch floor to the second
    // below, as the string form does.
    let millis: Vec<i64> = days.iter().map(|&t| t * 1000 - 1).collect();
    let path = write_parquet(
        &dir,
        "instants.parquet",
        frame(vec![
            col("customer_id", Series::new("".into(), &["a", "b", "c", "d"])),
            datetime("timestamp", &millis, None),
            col("amount", Series::new("".into(), &[1.0, 2.0, 3.0, 4.0])),
        ]),
    );
    let log = load(&tx(&path), None).unwrap();
    let times: Vec<i64> = (0..4).map(|i| log.times(i)[0]).collect();
    assert_eq!(times, days.map(|t| t - 1));
}

#[test]
fn amounts_beyond_1e15_are_refused_with_their_row() {
    // Larger amounts overflow the sums features are built from (1e308 + 1e308
    // is infinite); a Parquet column is checked like a CSV one.
    let dir = TempDir::new().unwrap();
    let path = write_parquet(
        &dir,
        "tx.parquet",
        frame(vec![
            col("customer_id", Series::new("".into(), &["a", "a", "b"])),
            col(
                "timestamp",
                Series::new("".into(), &["2024-01-01", "2024-01-02", "2024-01-03"]),
            ),
            col("amount", Series::new("".into(), &[1e15, 5.0, 1e308])),
        ]),
    );
    let err = load(&tx(&path), None).unwrap_err();
    assert!(
        matches!(&err, DataError::BadValue { column, row: 3, found, .. }
            if column == "amount" && found == "1e308"),
        "{err}"
    );
    assert!(err.to_string().contains("at most 1e15"), "{err}");
}
