use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use rayon::prelude::*;

use crate::Result;

/// Seconds since the Unix epoch, UTC. Dates are midnight of their day.
pub type Timestamp = i64;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or RFC 3339 into a [`Timestamp`].
pub fn parse_date(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp());
        }
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp())
}

/// Formats a [`Timestamp`] as `YYYY-MM-DD` (time of day dropped).
pub fn format_date(t: Timestamp) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("<invalid timestamp {t}>"))
}

/// One transaction before it is placed in a [`CustomerLog`].
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    pub customer_id: String,
    pub time: Timestamp,
    pub amount: f64,
    /// Value of the categorical event column, when one is configured.
    pub category: Option<String>,
}

impl RawEvent {
    pub fn new(customer_id: impl Into<String>, time: Timestamp, amount: f64) -> Self {
        Self {
            customer_id: customer_id.into(),
            time,
            amount,
            category: None,
        }
    }

    pub fn with_category(mut self, category: impl Into<String>) -> Self {
        self.category = Some(category.into());
        self
    }
}

/// One row of the customers table before it is placed in a [`CustomerLog`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawCustomer {
    pub customer_id: String,
    pub signup: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// Values in the order of [`CustomerTable::numeric`]; `NaN` = missing.
    pub numeric: Vec<f64>,
    /// Values in the order of [`CustomerTable::categorical`]; `None` = missing.
    pub categorical: Vec<Option<String>>,
}

/// The customers table as columns, with attribute names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawCustomers {
    pub numeric_names: Vec<String>,
    pub categorical_names: Vec<String>,
    pub rows: Vec<RawCustomer>,
    /// Whether the table has a cancel/end column (a contractual business).
    pub has_end: bool,
}

/// A categorical column of the event table, coded per event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventCategory {
    pub name: String,
    /// Level names, indexed by code.
    pub levels: Vec<String>,
    /// Code per event, aligned with [`CustomerLog::times`]' event order.
    pub codes: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumericAttr {
    pub name: String,
    /// Per customer; `NaN` = missing.
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalAttr {
    pub name: String,
    /// Level names sorted, indexed by code.
    pub levels: Vec<String>,
    /// Per customer; `None` = missing.
    pub codes: Vec<Option<u32>>,
}

/// Static attributes per customer, aligned with [`CustomerLog::customer_ids`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomerTable {
    pub signup: Vec<Option<Timestamp>>,
    pub end: Vec<Option<Timestamp>>,
    /// Whether the source had an end/cancel column: churn is then contractual.
    pub has_end: bool,
    pub numeric: Vec<NumericAttr>,
    pub categorical: Vec<CategoricalAttr>,
}

/// Events as columns, as [`crate::io::load`] reads them.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct EventColumns {
    /// Distinct customer ids, in order of first appearance.
    pub ids: Vec<String>,
    /// Per event: its customer's index in `ids`.
    pub customer: Vec<u32>,
    pub times: Vec<Timestamp>,
    pub amounts: Vec<f64>,
    /// Distinct category values and, per event, an index into them
    /// (`u32::MAX`: missing), when a category column is read.
    pub category: Option<(Vec<String>, Vec<u32>)>,
}

/// Every customer's events, sorted by customer id and then by time, stored as
/// compressed rows (`offsets`) so that a customer's history is one slice.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerLog {
    customer_ids: Vec<String>,
    offsets: Vec<usize>,
    times: Vec<Timestamp>,
    amounts: Vec<f64>,
    category: Option<EventCategory>,
    customers: Option<CustomerTable>,
    last_event: Option<Timestamp>,
}

impl CustomerLog {
    /// Builds a log from loose events and an optional customers table.
    ///
    /// Customers are the union of those with events and those in the table,
    /// ordered by id so that a snapshot's row order never depends on which
    /// events exist. Events of a customer keep a stable order by time.
    pub fn from_events(events: Vec<RawEvent>, customers: Option<RawCustomers>) -> Result<Self> {
        // Distinct ids first (a hash pass over borrowed strings), then sort
        // only those: sorting one string per event dominated load time.
        let mut distinct: HashMap<&str, u32> = HashMap::new();
        let all_ids = events.iter().map(|e| e.customer_id.as_str()).chain(
            customers
                .iter()
                .flat_map(|c| c.rows.iter().map(|r| r.customer_id.as_str())),
        );
        for id in all_ids {
            let next = distinct.len() as u32;
            distinct.entry(id).or_insert(next);
        }
        let mut ids: Vec<String> = distinct.keys().map(|s| (*s).to_string()).collect();
        ids.par_sort_unstable();
        let index: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();

        let mut order: Vec<(usize, Timestamp, usize)> = events
            .par_iter()
            .enumerate()
            .map(|(k, e)| (index[e.customer_id.as_str()], e.time, k))
            .collect();
        order.par_sort_unstable();

        let mut offsets = vec![0usize; ids.len() + 1];
        for &(c, _, _) in &order {
            offsets[c + 1] += 1;
        }
        for i in 0..ids.len() {
            offsets[i + 1] += offsets[i];
        }
        let times: Vec<Timestamp> = order.iter().map(|&(_, t, _)| t).collect();
        let amounts: Vec<f64> = order.iter().map(|&(_, _, k)| events[k].amount).collect();
        let last_event = times.iter().copied().max();

        let category = if events.iter().any(|e| e.category.is_some()) {
            let mut levels: Vec<String> =
                events.iter().filter_map(|e| e.category.clone()).collect();
            levels.sort_unstable();
            levels.dedup();
            let lookup: HashMap<&str, u32> = levels
                .iter()
                .enumerate()
                .map(|(i, s)| (s.as_str(), i as u32))
                .collect();
            let codes = order
                .iter()
                .map(|&(_, _, k)| {
                    // A missing category value counts as its own level.
                    lookup
                        .get(events[k].category.as_deref().unwrap_or(""))
                        .copied()
                        .unwrap_or(u32::MAX)
                })
                .collect();
            Some(EventCategory {
                name: "category".into(),
                levels,
                codes,
            })
        } else {
            None
        };

        let customers = customers.map(|raw| build_table(raw, &ids, &index));
        Ok(Self {
            customer_ids: ids,
            offsets,
            times,
            amounts,
            category,
            customers,
            last_event,
        })
    }

    /// Builds a log from events stored as columns ([`EventColumns`]): the
    /// same log as [`Self::from_events`] on the same events, without a
    /// `String` per event, which is what lets a log of hundreds of millions
    /// of transactions fit in memory.
    pub(crate) fn from_columns(
        events: EventColumns,
        customers: Option<RawCustomers>,
    ) -> Result<Self> {
        let EventColumns {
            ids: event_ids,
            customer,
            times: event_times,
            amounts: event_amounts,
            category,
        } = events;
        let mut ids: Vec<String> = event_ids.clone();
        {
            let known: std::collections::HashSet<&str> =
                event_ids.iter().map(String::as_str).collect();
            let extra: Vec<String> = customers
                .iter()
                .flat_map(|c| c.rows.iter().map(|r| r.customer_id.as_str()))
                .filter(|id| !known.contains(id))
                .map(str::to_string)
                .collect();
            ids.extend(extra);
        }
        ids.par_sort_unstable();
        ids.dedup();
        let index: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let remap: Vec<u32> = event_ids
            .iter()
            .map(|id| index[id.as_str()] as u32)
            .collect();
        drop(event_ids);

        // (customer, time, original position): the same order as
        // `from_events`, in 16 bytes per event.
        let mut order: Vec<(u32, Timestamp, u32)> = customer
            .par_iter()
            .zip(event_times.par_iter())
            .enumerate()
            .map(|(k, (&c, &t))| (remap[c as usize], t, k as u32))
            .collect();
        drop(customer);
        drop(event_times);
        order.par_sort_unstable();

        let mut offsets = vec![0usize; ids.len() + 1];
        for &(c, _, _) in &order {
            offsets[c as usize + 1] += 1;
        }
        for i in 0..ids.len() {
            offsets[i + 1] += offsets[i];
        }
        let times: Vec<Timestamp> = order.iter().map(|&(_, t, _)| t).collect();
        let amounts: Vec<f64> = order
            .iter()
            .map(|&(_, _, k)| event_amounts[k as usize])
            .collect();
        drop(event_amounts);
        let last_event = times.iter().copied().max();

        let category = match category {
            Some((raw_levels, codes)) if codes.iter().any(|&c| c != u32::MAX) => {
                let mut levels: Vec<String> = raw_levels.clone();
                levels.sort_unstable();
                levels.dedup();
                let lookup: HashMap<&str, u32> = levels
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.as_str(), i as u32))
                    .collect();
                // A missing value counts as the level "" if there is one,
                // as in `from_events`.
                let missing = lookup.get("").copied().unwrap_or(u32::MAX);
                let new_code: Vec<u32> = raw_levels.iter().map(|l| lookup[l.as_str()]).collect();
                let codes = order
                    .iter()
                    .map(|&(_, _, k)| match codes[k as usize] {
                        u32::MAX => missing,
                        c => new_code[c as usize],
                    })
                    .collect();
                Some(EventCategory {
                    name: "category".into(),
                    levels,
                    codes,
                })
            }
            _ => None,
        };
        drop(order);

        let customers = customers.map(|raw| build_table(raw, &ids, &index));
        Ok(Self {
            customer_ids: ids,
            offsets,
            times,
            amounts,
            category,
            customers,
            last_event,
        })
    }

    /// Names the event category column (for feature names).
    pub fn with_category_name(mut self, name: &str) -> Self {
        if let Some(c) = &mut self.category {
            c.name = name.to_string();
        }
        self
    }

    pub fn n_customers(&self) -> usize {
        self.customer_ids.len()
    }

    pub fn n_events(&self) -> usize {
        self.times.len()
    }

    pub fn customer_ids(&self) -> &[String] {
        &self.customer_ids
    }

    /// Event times of customer `i`, ascending.
    pub fn times(&self, i: usize) -> &[Timestamp] {
        &self.times[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Amounts of customer `i`, aligned with [`Self::times`].
    pub fn amounts(&self, i: usize) -> &[f64] {
        &self.amounts[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Category codes of customer `i`, aligned with [`Self::times`].
    pub fn category_codes(&self, i: usize) -> Option<&[u32]> {
        self.category
            .as_ref()
            .map(|c| &c.codes[self.offsets[i]..self.offsets[i + 1]])
    }

    pub fn category(&self) -> Option<&EventCategory> {
        self.category.as_ref()
    }

    pub fn customers(&self) -> Option<&CustomerTable> {
        self.customers.as_ref()
    }

    /// Time of the latest event in the log; the default end of observation.
    pub fn last_event(&self) -> Option<Timestamp> {
        self.last_event
    }
}

fn build_table(raw: RawCustomers, ids: &[String], index: &HashMap<&str, usize>) -> CustomerTable {
    let n = ids.len();
    let mut table = CustomerTable {
        signup: vec![None; n],
        end: vec![None; n],
        has_end: raw.has_end,
        numeric: raw
            .numeric_names
            .iter()
            .map(|name| NumericAttr {
                name: name.clone(),
                values: vec![f64::NAN; n],
            })
            .collect(),
        categorical: Vec::new(),
    };
    for (j, name) in raw.categorical_names.iter().enumerate() {
        let mut levels: Vec<String> = raw
            .rows
            .iter()
            .filter_map(|r| r.categorical.get(j).cloned().flatten())
            .collect();
        levels.sort_unstable();
        levels.dedup();
        let lookup: HashMap<&str, u32> = levels
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i as u32))
            .collect();
        let mut codes = vec![None; n];
        for r in &raw.rows {
            let i = index[r.customer_id.as_str()];
            codes[i] = r
                .categorical
                .get(j)
                .and_then(|v| v.as_deref())
                .map(|v| lookup[v]);
        }
        table.categorical.push(CategoricalAttr {
            name: name.clone(),
            levels,
            codes,
        });
    }
    for r in &raw.rows {
        let i = index[r.customer_id.as_str()];
        table.signup[i] = r.signup;
        table.end[i] = r.end;
        for (attr, v) in table.numeric.iter_mut().zip(&r.numeric) {
            attr.values[i] = *v;
        }
    }
    table
}
