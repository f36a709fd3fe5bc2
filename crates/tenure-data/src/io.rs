//! Reading the transactions and customers tables.
//!
//! Both tables are CSV or Parquet files ([`read_table`] picks the reader by
//! extension). [`load`] reads and validates them and builds a
//! [`CustomerLog`]; every problem with the input is reported as a
//! [`DataError`] that names the file, the column and the first offending row.
//!
//! **Row numbers** in errors are 1-based and count data rows only: the first
//! row after a CSV header is row 1, and so is the first row of a Parquet file.
//! For a CSV file without blank lines, row `r` is on line `r + 1`.
//!
//! Accepted column types:
//!
//! | column | types |
//! |---|---|
//! | customer id | string or integer (written as its decimal string) |
//! | timestamp, signup, end | `Date`, `Datetime` (any unit and time zone, taken as an instant and converted to UTC seconds) or strings such as `2024-01-31`, `2024-01-31 12:00:00` or RFC 3339 |
//! | amount | integer or float, at most [`MAX_AMOUNT`] (10^15) in magnitude |
//! | numeric attribute | integer or float; missing = `NaN` |
//! | categorical attribute, event category | string, boolean or integer; missing = `None` |
//!
//! CSV files are read with polars' type inference (over the first 10,000
//! rows), except that date, amount and attribute columns are read with a
//! fixed type (dates and categories as text, numbers as floats), so that a
//! value late in the file can never contradict a type guessed from the first
//! rows. A CSV amount such as `$12` is therefore a [`DataError::Parse`] that
//! quotes it, where a Parquet string column is a [`DataError::WrongType`].
//!
//! ```
//! use tenure_data::io::{TransactionsSource, load};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("tx.csv");
//! std::fs::write(&path, "customer_id,timestamp,amount\n7,2024-01-03,4\n5,2024-01-01,9.5\n").unwrap();
//! let log = load(&TransactionsSource::new(&path), None).unwrap();
//! assert_eq!(log.customer_ids(), ["5", "7"]);
//! assert_eq!(log.amounts(0), [9.5]);
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::log::{
    CustomerLog, EventColumns, RawCustomer, RawCustomers, RawEvent, SECONDS_PER_DAY, Timestamp,
};
use crate::{DataError, Result, parse_date};

/// Where the transactions are and which columns hold what.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransactionsSource {
    pub path: PathBuf,
    #[serde(default = "default_customer_id")]
    pub customer_id: String,
    #[serde(default = "default_timestamp")]
    pub timestamp: String,
    #[serde(default = "default_amount")]
    pub amount: String,
    /// Optional categorical column of the events (product category, channel…).
    #[serde(default)]
    pub category: Option<String>,
    /// Accept negative amounts (refunds). `NaN` and infinities never are.
    #[serde(default)]
    pub allow_negative_amounts: bool,
}

impl TransactionsSource {
    /// A source with the default column names `customer_id`, `timestamp`,
    /// `amount`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            customer_id: default_customer_id(),
            timestamp: default_timestamp(),
            amount: default_amount(),
            category: None,
            allow_negative_amounts: false,
        }
    }
}

/// Where the customers table is and which columns hold what.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomersSource {
    pub path: PathBuf,
    #[serde(default = "default_customer_id")]
    pub customer_id: String,
    /// Signup date column; a null signup means "at the first purchase".
    #[serde(default)]
    pub signup: Option<String>,
    /// Cancel/end date column. Setting it makes churn contractual: a null
    /// end means the customer is still active.
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub numeric: Vec<String>,
    #[serde(default)]
    pub categorical: Vec<String>,
}

impl CustomersSource {
    /// A source with the default id column `customer_id` and no attributes.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            customer_id: default_customer_id(),
            signup: None,
            end: None,
            numeric: Vec::new(),
            categorical: Vec::new(),
        }
    }
}

fn default_customer_id() -> String {
    "customer_id".into()
}

fn default_timestamp() -> String {
    "timestamp".into()
}

fn default_amount() -> String {
    "amount".into()
}

/// The largest amount accepted, in magnitude. Features sum and average
/// amounts (and models square them), so amounts near `f64::MAX` would turn
/// into infinities and NaN downstream. 10^15 is far beyond any real
/// transaction, and billions of such amounts, summed and squared, stay far
/// below `f64::MAX`.
pub const MAX_AMOUNT: f64 = 1e15;

const AMOUNT_EXPECTED: &str = "an amount of at most 1e15 in magnitude \
                               (larger ones overflow the sums the features are built from)";

const DATE_EXPECTED: &str = "a date like 2024-01-31 or 2024-01-31 12:00:00";
const TIME_EXPECTED: &str = "a date, a datetime or date strings";
const ID_EXPECTED: &str = "a string or integer customer id";

/// Reads both tables and builds the log. The event category column, when
/// configured, keeps its name in the log.
pub fn load(
    transactions: &TransactionsSource,
    customers: Option<&CustomersSource>,
) -> Result<CustomerLog> {
    let events = read_event_columns(transactions)?;
    let customers = customers.map(read_customers).transpose()?;
    let log = CustomerLog::from_columns(events, customers)?;
    Ok(match &transactions.category {
        Some(name) => log.with_category_name(name),
        None => log,
    })
}

/// Reads and validates the transactions table.
pub fn read_transactions(src: &TransactionsSource) -> Result<Vec<RawEvent>> {
    let mut overrides = vec![
        (src.timestamp.as_str(), DataType::String),
        (src.amount.as_str(), DataType::Float64),
    ];
    if let Some(c) = &src.category {
        overrides.push((c.as_str(), DataType::String));
    }
    let table = Table::read(&src.path, &overrides)?;
    // Check types and cast once, then convert row ranges in parallel.
    let ids = table.column(&src.customer_id)?.id_text()?;
    let times = table.column(&src.timestamp)?.time_source()?;
    let amounts = table.column(&src.amount)?.amount_floats()?;
    let categories = match &src.category {
        Some(c) => Some(table.column(c)?.label_text()?),
        None => None,
    };
    let n = table.df.height();
    let parts: Vec<Result<Vec<RawEvent>>> = (0..n.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|k| {
            let (offset, len) = (k * ROWS_PER_TASK, ROWS_PER_TASK.min(n - k * ROWS_PER_TASK));
            let ids = ids.slice(offset, len).ids()?;
            let times = times.slice(offset, len).required_times()?;
            let amounts = amounts
                .slice(offset, len)
                .amounts(src.allow_negative_amounts)?;
            let mut categories = match &categories {
                Some(c) => c.slice(offset, len).labels()?,
                None => Vec::new(),
            }
            .into_iter();
            Ok(ids
                .into_iter()
                .zip(times)
                .zip(amounts)
                .map(|((customer_id, time), amount)| RawEvent {
                    customer_id,
                    time,
                    amount,
                    category: categories.next().flatten(),
                })
                .collect())
        })
        .collect();
    // The earliest range with an error reports, whatever the thread timing.
    let mut events = Vec::with_capacity(n);
    for part in parts {
        events.extend(part?);
    }
    Ok(events)
}

/// [`read_transactions`] as columns: the same checks and errors, but a
/// customer id or category is stored once, not once per event. A Parquet
/// file is read [`READ_SLICE_ROWS`] rows at a time, each slice converted
/// and freed before the next, so the table is never whole in memory.
fn read_event_columns(src: &TransactionsSource) -> Result<EventColumns> {
    read_event_columns_in(src, READ_SLICE_ROWS)
}

/// [`read_event_columns`], `slice_rows` Parquet rows at a time.
fn read_event_columns_in(src: &TransactionsSource, slice_rows: usize) -> Result<EventColumns> {
    let mut overrides = vec![
        (src.timestamp.as_str(), DataType::String),
        (src.amount.as_str(), DataType::Float64),
    ];
    if let Some(c) = &src.category {
        overrides.push((c.as_str(), DataType::String));
    }
    let (slices, rows): (Vec<_>, usize) = match format_of(&src.path)? {
        Format::Parquet => {
            let n = parquet_rows(&src.path)?;
            if n > u32::MAX as usize {
                // Event positions are u32 in the columnar log.
                return Err(too_many_events(src, n));
            }
            let slices = (0..n.div_ceil(slice_rows).max(1))
                .map(|k| Some((k * slice_rows, slice_rows.min(n - k * slice_rows))))
                .collect();
            (slices, n)
        }
        Format::Csv => (vec![None], 0),
    };
    let mut ids = Interner::default();
    let mut categories = src.category.as_ref().map(|_| Interner::default());
    let mut out = EventColumns {
        ids: Vec::new(),
        customer: Vec::new(),
        times: Vec::new(),
        amounts: Vec::new(),
        category: None,
    };
    let mut category_codes = Vec::new();
    // Growing by doubling would hold two copies of a column at once.
    out.customer.reserve_exact(rows);
    out.times.reserve_exact(rows);
    out.amounts.reserve_exact(rows);
    if categories.is_some() {
        category_codes.reserve_exact(rows);
    }
    for slice in slices {
        let table = Table::read_rows(&src.path, &overrides, slice)?;
        let n = table.offset + table.df.height();
        if n > u32::MAX as usize {
            drop(table);
            return Err(too_many_events(src, n));
        }
        let id_col = table.column(&src.customer_id)?;
        let id_text = id_col.id_text()?;
        let times = table.column(&src.timestamp)?.time_source()?;
        let amounts = table.column(&src.amount)?.amount_floats()?;
        let category = match &src.category {
            Some(c) => Some(table.column(c)?.label_text()?),
            None => None,
        };
        out.customer.extend(ids.codes(&id_text, |i| {
            Err(id_col.bad_value(i, "null".into(), "a customer id"))
        })?);
        drop(id_text);
        let len = table.df.height();
        let chunks = len.div_ceil(ROWS_PER_TASK);
        let part = |k: usize| {
            (
                k * ROWS_PER_TASK,
                ROWS_PER_TASK.min(len - k * ROWS_PER_TASK),
            )
        };
        // The earliest chunk with an error reports, whatever the thread timing.
        let slice_times: Vec<Vec<Timestamp>> = (0..chunks)
            .into_par_iter()
            .map(|k| {
                let (offset, len) = part(k);
                times.slice(offset, len).required_times()
            })
            .collect::<Result<_>>()?;
        out.times.extend(slice_times.into_iter().flatten());
        let slice_amounts: Vec<Vec<f64>> = (0..chunks)
            .into_par_iter()
            .map(|k| {
                let (offset, len) = part(k);
                amounts
                    .slice(offset, len)
                    .amounts(src.allow_negative_amounts)
            })
            .collect::<Result<_>>()?;
        out.amounts.extend(slice_amounts.into_iter().flatten());
        if let (Some(c), Some(interner)) = (&category, &mut categories) {
            category_codes.extend(interner.codes(c, |_| Ok(u32::MAX))?);
        }
    }
    out.ids = ids.into_distinct();
    out.category = categories.map(|c| (c.into_distinct(), category_codes));
    Ok(out)
}

fn too_many_events(src: &TransactionsSource, n: usize) -> DataError {
    DataError::Parse {
        path: src.path.clone(),
        message: format!("{n} rows: at most {} transactions are supported", u32::MAX),
    }
}

/// Rows of a Parquet file, from its metadata.
fn parquet_rows(path: &Path) -> Result<usize> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    ParquetReader::new(file)
        .num_rows()
        .map_err(|e| DataError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Rows of a Parquet transactions file read and converted at a time: the
/// polars table of a slice takes about 50 bytes a row, against 24 for the
/// converted columns.
const READ_SLICE_ROWS: usize = 1 << 24;

/// The distinct values of text columns, in order of first appearance,
/// across the slices of a file.
#[derive(Default)]
struct Interner {
    index: HashMap<Box<str>, u32>,
}

impl Interner {
    /// Per row of `col`, the index of its value; a null row gets
    /// `on_null(row)`.
    fn codes(&mut self, col: &Col<'_>, on_null: impl Fn(usize) -> Result<u32>) -> Result<Vec<u32>> {
        let text = col.series.str().expect("checked: string");
        let mut codes = Vec::with_capacity(text.len());
        for (i, v) in text.iter().enumerate() {
            codes.push(match v {
                Some(v) => match self.index.get(v) {
                    Some(&c) => c,
                    None => {
                        let c = self.index.len() as u32;
                        self.index.insert(v.into(), c);
                        c
                    }
                },
                None => on_null(i)?,
            });
        }
        Ok(codes)
    }

    fn into_distinct(self) -> Vec<String> {
        let mut distinct = vec![String::new(); self.index.len()];
        for (v, c) in self.index {
            distinct[c as usize] = v.into();
        }
        distinct
    }
}

/// Rows converted per parallel task in [`read_transactions`].
const ROWS_PER_TASK: usize = 1 << 18;

/// Reads and validates the customers table. Customer ids must be unique.
pub fn read_customers(src: &CustomersSource) -> Result<RawCustomers> {
    let mut overrides: Vec<(&str, DataType)> = Vec::new();
    for date in [&src.signup, &src.end].into_iter().flatten() {
        overrides.push((date, DataType::String));
    }
    overrides.extend(src.numeric.iter().map(|c| (c.as_str(), DataType::Float64)));
    overrides.extend(
        src.categorical
            .iter()
            .map(|c| (c.as_str(), DataType::String)),
    );
    let table = Table::read(&src.path, &overrides)?;

    let id_col = table.column(&src.customer_id)?;
    let ids = id_col.ids()?;
    let mut first_row: HashMap<&str, usize> = HashMap::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if let Some(&first) = first_row.get(id.as_str()) {
            return Err(DataError::DuplicateId {
                path: src.path.clone(),
                column: src.customer_id.clone(),
                row: i + 1,
                id: id.clone(),
                first_row: first + 1,
            });
        }
        first_row.insert(id, i);
    }

    let n = ids.len();
    let dates = |name: &Option<String>| -> Result<Vec<Option<Timestamp>>> {
        match name {
            Some(c) => table.column(c)?.optional_times(),
            None => Ok(vec![None; n]),
        }
    };
    let signup = dates(&src.signup)?;
    let end = dates(&src.end)?;
    let numeric = src
        .numeric
        .iter()
        .map(|c| table.column(c)?.numbers())
        .collect::<Result<Vec<_>>>()?;
    let categorical = src
        .categorical
        .iter()
        .map(|c| table.column(c)?.labels())
        .collect::<Result<Vec<_>>>()?;

    let rows = ids
        .into_iter()
        .enumerate()
        .map(|(i, customer_id)| RawCustomer {
            customer_id,
            signup: signup[i],
            end: end[i],
            numeric: numeric.iter().map(|v| v[i]).collect(),
            categorical: categorical.iter().map(|v| v[i].clone()).collect(),
        })
        .collect();
    Ok(RawCustomers {
        numeric_names: src.numeric.clone(),
        categorical_names: src.categorical.clone(),
        rows,
        has_end: src.end.is_some(),
    })
}

/// Reads a `.csv` or `.parquet` (`.pq`) file into a data frame, inferring
/// CSV column types. A table without data rows is [`DataError::Empty`].
pub fn read_table(path: &Path) -> Result<DataFrame> {
    Ok(Table::read(path, &[])?.df)
}

/// The column names of a CSV or Parquet table, in file order.
pub fn column_names(path: &Path) -> Result<Vec<String>> {
    Ok(Table::read(path, &[])?
        .df
        .get_column_names()
        .into_iter()
        .map(|c| c.to_string())
        .collect())
}

/// Columns of a ready-made table (one row per customer), for fitting a model
/// outside an experiment (`tenure fit`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnTable {
    pub path: PathBuf,
    pub n_rows: usize,
    /// Requested numeric columns, in the order asked; `NaN` = missing.
    pub numeric: Vec<(String, Vec<f64>)>,
    /// Requested text columns (groups, strata, ids); `None` = missing.
    pub text: Vec<(String, Vec<Option<String>>)>,
}

impl ColumnTable {
    pub fn numeric(&self, name: &str) -> Option<&[f64]> {
        self.numeric
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    pub fn text(&self, name: &str) -> Option<&[Option<String>]> {
        self.text
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Reads the named columns of a CSV or Parquet table, checking that each
/// exists and has the expected kind (numbers, or text/integer/bool labels).
pub fn read_columns(path: &Path, numeric: &[&str], text: &[&str]) -> Result<ColumnTable> {
    let mut overrides: Vec<(&str, DataType)> =
        numeric.iter().map(|c| (*c, DataType::Float64)).collect();
    overrides.extend(text.iter().map(|c| (*c, DataType::String)));
    let mut table = Table::read(path, &overrides)?;
    let n_rows = table.df.height();
    // Each column leaves the frame once converted, so a wide table is never
    // held twice (1M rows x 50 features is 400 MB).
    let mut numbers = Vec::with_capacity(numeric.len());
    for (k, c) in numeric.iter().enumerate() {
        numbers.push(((*c).to_string(), table.column(c)?.numbers()?));
        if !numeric[k + 1..].contains(c) && !text.contains(c) {
            drop(table.df.drop_in_place(c));
        }
    }
    Ok(ColumnTable {
        path: path.to_path_buf(),
        n_rows,
        numeric: numbers,
        text: text
            .iter()
            .map(|c| Ok(((*c).to_string(), table.column(c)?.labels()?)))
            .collect::<Result<_>>()?,
    })
}

#[derive(Clone, Copy)]
enum Format {
    Csv,
    Parquet,
}

fn format_of(path: &Path) -> Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("parquet" | "pq") => Ok(Format::Parquet),
        _ => Err(DataError::UnsupportedFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// A non-empty table and the file it came from, for error messages.
struct Table<'a> {
    path: &'a Path,
    df: DataFrame,
    /// Index in the file of the table's first row (a slice of a file).
    offset: usize,
    /// CSV: numeric columns arrive as text and are parsed by [`Col`].
    untyped: bool,
}

impl<'a> Table<'a> {
    /// Reads the file; for CSV, `overrides` fix the type of the named columns
    /// (names absent from the file are ignored here and reported when the
    /// column is asked for).
    fn read(path: &'a Path, overrides: &[(&str, DataType)]) -> Result<Self> {
        Self::read_rows(path, overrides, None)
    }

    /// [`Table::read`], of rows `offset..offset + len` only when `rows` is
    /// given (Parquet).
    fn read_rows(
        path: &'a Path,
        overrides: &[(&str, DataType)],
        rows: Option<(usize, usize)>,
    ) -> Result<Self> {
        let format = format_of(path)?;
        let file = File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let parse_error = |e: PolarsError| DataError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let df = match format {
            Format::Csv => {
                // CSV has no types: numbers are read as text and parsed by
                // us, so a bad value is reported with its row and column
                // instead of polars' reader error.
                let schema: Schema = overrides
                    .iter()
                    .map(|(name, dtype)| {
                        let dtype = if dtype.is_primitive_numeric() {
                            DataType::String
                        } else {
                            dtype.clone()
                        };
                        Field::new((*name).into(), dtype)
                    })
                    .collect();
                CsvReadOptions::default()
                    .with_has_header(true)
                    .with_raise_if_empty(false)
                    .with_infer_schema_length(Some(10_000))
                    .with_schema_overwrite(Some(Arc::new(schema)))
                    .into_reader_with_file_handle(file)
                    .finish()
                    .map_err(parse_error)?
            }
            Format::Parquet => ParquetReader::new(file)
                .with_slice(rows)
                .finish()
                .map_err(parse_error)?,
        };
        let offset = rows.map_or(0, |(offset, _)| offset);
        if df.height() == 0 && offset == 0 {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            path,
            df,
            offset,
            untyped: matches!(format, Format::Csv),
        })
    }

    fn column<'b>(&'b self, name: &'b str) -> Result<Col<'b>> {
        let column = self.df.column(name).map_err(|_| DataError::MissingColumn {
            path: self.path.to_path_buf(),
            column: name.to_string(),
            available: self
                .df
                .get_column_names()
                .into_iter()
                .map(|c| c.to_string())
                .collect(),
        })?;
        Ok(Col {
            path: self.path,
            name,
            series: column.as_materialized_series().clone(),
            offset: self.offset,
            untyped: self.untyped,
        })
    }
}

/// One column of a [`Table`], with typed, validating accessors. They walk
/// polars' typed arrays, never `AnyValue`s, because transaction tables have
/// tens of millions of rows.
struct Col<'a> {
    path: &'a Path,
    name: &'a str,
    series: Series,
    /// Index of the series' first row in the table.
    offset: usize,
    /// Numbers may come as text (CSV); in a typed format text is a wrong type.
    untyped: bool,
}

impl Col<'_> {
    fn wrong_type(&self, expected: &str) -> DataError {
        DataError::WrongType {
            path: self.path.to_path_buf(),
            column: self.name.to_string(),
            expected: expected.to_string(),
            found: self.series.dtype().to_string(),
        }
    }

    /// `row` is the 0-based index; errors show it 1-based.
    fn bad_value(&self, row: usize, found: String, expected: &str) -> DataError {
        DataError::BadValue {
            path: self.path.to_path_buf(),
            column: self.name.to_string(),
            row: self.offset + row + 1,
            found,
            expected: expected.to_string(),
        }
    }

    fn cast(&self, dtype: &DataType) -> Result<Series> {
        self.series.cast(dtype).map_err(|e| DataError::Parse {
            path: self.path.to_path_buf(),
            message: format!("column `{}`: {e}", self.name),
        })
    }

    /// Rows `offset..offset + len` of this column.
    fn slice(&self, offset: usize, len: usize) -> Self {
        Col {
            path: self.path,
            name: self.name,
            series: self.series.slice(offset as i64, len),
            offset: self.offset + offset,
            untyped: self.untyped,
        }
    }

    fn with_series(&self, series: Series) -> Self {
        Col {
            path: self.path,
            name: self.name,
            series,
            offset: self.offset,
            untyped: self.untyped,
        }
    }

    fn all_null(&self) -> bool {
        self.series.null_count() == self.series.len()
    }

    /// The column as text, if it is text, an integer or a boolean column.
    fn as_text(&self, expected: &str) -> Result<Self> {
        let dtype = self.series.dtype();
        if dtype.is_string() {
            Ok(self.with_series(self.series.clone()))
        } else if dtype.is_integer() || dtype.is_bool() || dtype.is_null() {
            Ok(self.with_series(self.cast(&DataType::String)?))
        } else {
            Err(self.wrong_type(expected))
        }
    }

    /// The id column as text: integers become their decimal string.
    fn id_text(&self) -> Result<Self> {
        let dtype = self.series.dtype();
        if !(dtype.is_string() || dtype.is_integer()) {
            return Err(self.wrong_type(ID_EXPECTED));
        }
        self.as_text(ID_EXPECTED)
    }

    /// Customer ids; nulls are errors.
    fn ids(&self) -> Result<Vec<String>> {
        let text = self.id_text()?;
        let mut out = Vec::with_capacity(text.series.len());
        for (i, v) in text
            .series
            .str()
            .expect("checked: string")
            .iter()
            .enumerate()
        {
            match v {
                Some(v) => out.push(v.to_string()),
                None => return Err(self.bad_value(i, "null".into(), "a customer id")),
            }
        }
        Ok(out)
    }

    fn label_text(&self) -> Result<Self> {
        self.as_text("a string, boolean or integer category")
    }

    /// Categorical values as strings; nulls are `None`.
    fn labels(&self) -> Result<Vec<Option<String>>> {
        let text = self.label_text()?;
        let values = text.series.str().expect("checked: string");
        Ok(values.iter().map(|v| v.map(str::to_string)).collect())
    }

    /// Numeric attribute as `f64`; nulls are `NaN`.
    fn numbers(&self) -> Result<Vec<f64>> {
        if self.all_null() {
            return Ok(vec![f64::NAN; self.series.len()]);
        }
        if self.untyped && self.series.dtype() == &DataType::String {
            return Ok(self
                .parse_floats()?
                .f64()
                .expect("parsed to f64")
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect());
        }
        if !self.series.dtype().is_primitive_numeric() {
            return Err(self.wrong_type("an integer or float column"));
        }
        let values = self.cast(&DataType::Float64)?;
        Ok(values
            .f64()
            .expect("cast to f64")
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    }

    /// The amount column as `f64`, if it is numeric.
    fn amount_floats(&self) -> Result<Self> {
        if self.untyped && self.series.dtype() == &DataType::String {
            return Ok(self.with_series(self.parse_floats()?));
        }
        if !self.series.dtype().is_primitive_numeric() {
            return Err(self.wrong_type("an integer or float amount"));
        }
        Ok(self.with_series(self.cast(&DataType::Float64)?))
    }

    /// Numbers written as text (CSV): empty and null stay null, anything
    /// else must parse, or the first bad row is reported.
    fn parse_floats(&self) -> Result<Series> {
        let text = self.series.str().expect("string column");
        let mut out = Vec::with_capacity(text.len());
        for (i, v) in text.iter().enumerate() {
            out.push(match v.map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(
                    v.parse::<f64>()
                        .map_err(|_| self.bad_value(i, format!("{v:?}"), "a number"))?,
                ),
            });
        }
        Ok(Series::new(self.name.into(), out))
    }

    /// Amounts: finite, at most [`MAX_AMOUNT`] in magnitude, and non-negative
    /// unless refunds are allowed.
    fn amounts(&self, allow_negative: bool) -> Result<Vec<f64>> {
        let values = self.amount_floats()?;
        let mut out = Vec::with_capacity(values.series.len());
        for (i, v) in values.series.f64().expect("cast to f64").iter().enumerate() {
            match v {
                Some(v) if v.is_finite() && v.abs() > MAX_AMOUNT => {
                    return Err(self.bad_value(i, format!("{v:e}"), AMOUNT_EXPECTED));
                }
                Some(v) if v.is_finite() && (allow_negative || v >= 0.0) => out.push(v),
                Some(v) if v.is_finite() => {
                    return Err(self.bad_value(
                        i,
                        v.to_string(),
                        "a non-negative amount (set allow_negative_amounts = true for refunds)",
                    ));
                }
                Some(v) => return Err(self.bad_value(i, v.to_string(), "a finite number")),
                None => return Err(self.bad_value(i, "null".into(), "a finite number")),
            }
        }
        Ok(out)
    }

    /// Checks that the column holds dates, datetimes or strings.
    fn time_source(&self) -> Result<Self> {
        match self.series.dtype() {
            DataType::Date | DataType::Datetime(..) | DataType::String | DataType::Null => {
                Ok(self.with_series(self.series.clone()))
            }
            _ => Err(self.wrong_type(TIME_EXPECTED)),
        }
    }

    /// Timestamps where a null is an error (event times).
    fn required_times(&self) -> Result<Vec<Timestamp>> {
        let mut out = Vec::with_capacity(self.series.len());
        self.for_each_time(|i, t| match t {
            Some(t) => {
                out.push(t);
                Ok(())
            }
            None => Err(self.bad_value(i, "null".into(), DATE_EXPECTED)),
        })?;
        Ok(out)
    }

    /// Timestamps where a null means "not known" or "not yet".
    fn optional_times(&self) -> Result<Vec<Option<Timestamp>>> {
        let mut out = Vec::with_capacity(self.series.len());
        self.for_each_time(|_, t| {
            out.push(t);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f(row index, seconds since the epoch)` for every row in order.
    fn for_each_time(
        &self,
        mut f: impl FnMut(usize, Option<Timestamp>) -> Result<()>,
    ) -> Result<()> {
        let dtype = self.series.dtype();
        match dtype {
            DataType::Date => {
                let days = self.series.to_physical_repr();
                for (i, d) in days.i32().expect("date physical").iter().enumerate() {
                    f(i, d.map(|d| i64::from(d) * SECONDS_PER_DAY))?;
                }
            }
            DataType::Datetime(unit, _) => {
                // The stored values are instants since the epoch in UTC
                // whatever the time zone; the zone only changes display.
                let per_second = match unit {
                    TimeUnit::Nanoseconds => 1_000_000_000,
                    TimeUnit::Microseconds => 1_000_000,
                    TimeUnit::Milliseconds => 1_000,
                };
                let ticks = self.series.to_physical_repr();
                for (i, t) in ticks.i64().expect("datetime physical").iter().enumerate() {
                    f(i, t.map(|t| t.div_euclid(per_second)))?;
                }
            }
            DataType::String => {
                // Event tables are usually sorted or grouped by date, so the
                // same string often repeats: parse each run once.
                let mut last: Option<(&str, Timestamp)> = None;
                for (i, s) in self.series.str().expect("string").iter().enumerate() {
                    let t = match s {
                        None => None,
                        Some(s) => match last {
                            Some((prev, t)) if prev == s => Some(t),
                            _ => {
                                let t = parse_timestamp(s).ok_or_else(|| {
                                    self.bad_value(i, format!("{s:?}"), DATE_EXPECTED)
                                })?;
                                last = Some((s, t));
                                Some(t)
                            }
                        },
                    };
                    f(i, t)?;
                }
            }
            DataType::Null => {
                for i in 0..self.series.len() {
                    f(i, None)?;
                }
            }
            _ => return Err(self.wrong_type(TIME_EXPECTED)),
        }
        Ok(())
    }
}

/// [`parse_date`] with a fast path for the two commonest layouts,
/// `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS`; anything else goes to
/// [`parse_date`], so both always agree.
fn parse_timestamp(s: &str) -> Option<Timestamp> {
    fast_timestamp(s.as_bytes()).or_else(|| parse_date(s))
}

fn fast_timestamp(b: &[u8]) -> Option<Timestamp> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (date, clock) = match b.len() {
        10 => (b, None),
        19 if b[10] == b' ' || b[10] == b'T' => (&b[..10], Some(&b[11..])),
        _ => return None,
    };
    if date[4] != b'-' || date[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * SECONDS_PER_DAY;
    if let Some(c) = clock {
        if c[2] != b':' || c[5] != b':' {
            return None;
        }
        let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
        // Leap seconds and other oddities go to chrono.
        if hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
        secs += hh * 3600 + mm * 60 + ss;
    }
    Some(secs)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn fast_path_agrees_with_parse_date(
            y in 1000i64..3000, m in 0i64..14, d in 0i64..33,
            hh in 0i64..26, mm in 0i64..62, ss in 0i64..62,
            sep in prop::sample::select(vec![' ', 'T', '_']),
            with_clock in any::<bool>(),
        ) {
            let s = if with_clock {
                format!("{y:04}-{m:02}-{d:02}{sep}{hh:02}:{mm:02}:{ss:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02}")
            };
            prop_assert_eq!(parse_timestamp(&s), parse_date(&s), "{}", s);
            if let Some(t) = fast_timestamp(s.as_bytes()) {
                prop_assert_eq!(Some(t), parse_date(&s), "{}", s);
            }
        }

        #[test]
        fn fast_path_rejects_what_it_does_not_know(s in "[0-9:T -]{0,20}") {
            if let Some(t) = fast_timestamp(s.as_bytes()) {
                prop_assert_eq!(Some(t), parse_date(&s));
            }
        }
    }

    /// A Parquet file read a slice at a time gives the columns of one read,
    /// ids and categories interned across slices in order of first
    /// appearance, and an error names the file's row, not the slice's.
    #[test]
    fn parquet_slices_read_as_one_table() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("tx.parquet");
        let n = 1_000;
        let ids: Vec<String> = (0..n).map(|i| format!("c{}", (i * 7919) % 131)).collect();
        let categories: Vec<Option<&str>> = (0..n)
            .map(|i| [Some("a"), None, Some("b"), Some("c")][(i * 31 % 7) % 4])
            .collect();
        let write = |amount_at_700: f64| {
            let mut df = df!(
                "customer_id" => &ids,
                "timestamp" => (0..n).map(|i| format!("2023-01-{:02}", 1 + i % 28)).collect::<Vec<_>>(),
                "amount" => (0..n).map(|i| if i == 700 { amount_at_700 } else { i as f64 / 10.0 }).collect::<Vec<_>>(),
                "category" => &categories,
            )
            .unwrap();
            ParquetWriter::new(File::create(&path).unwrap())
                .with_row_group_size(Some(100))
                .finish(&mut df)
                .unwrap();
        };
        write(1.0);
        let src = TransactionsSource {
            category: Some("category".into()),
            ..TransactionsSource::new(&path)
        };
        let whole = read_event_columns_in(&src, usize::MAX).unwrap();
        assert_eq!(whole.customer.len(), n);
        assert_eq!(whole.ids.len(), 131);
        for slice_rows in [1, 256, 999, 1_000] {
            assert_eq!(
                read_event_columns_in(&src, slice_rows).unwrap(),
                whole,
                "{slice_rows}"
            );
        }
        write(-1.0);
        for slice_rows in [256, usize::MAX] {
            match read_event_columns_in(&src, slice_rows) {
                Err(DataError::BadValue { row, column, .. }) => {
                    assert_eq!((row, column.as_str()), (701, "amount"));
                }
                other => panic!("expected a bad amount at row 701, got {other:?}"),
            }
        }
    }
}
