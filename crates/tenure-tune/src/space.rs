//! Search spaces: what each hyperparameter may take and when it is active.
//!
//! A space is written in the experiment config, one table per parameter:
//!
//! ```toml
//! [tune.space]
//! l2 = { type = "float", low = 1e-4, high = 100.0, log = true }
//! rounds = { type = "int", low = 50, high = 500, step = 50 }
//! booster = { type = "categorical", choices = ["gbtree", "dart"] }
//! rate_drop = { type = "float", low = 0.0, high = 0.5, when = { booster = "dart" } }
//! ```
//!
//! [`SearchSpace::from_specs`] checks every table and names the key at
//! fault (`l2.low`, `booster.choices`, `rate_drop.when.booster`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Result, TuneError, ensure_space};

/// One value of a hyperparameter, as sampled and as written in a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl ParamValue {
    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Bool(_) => "a boolean",
            ParamValue::Int(_) => "an integer",
            ParamValue::Float(_) => "a float",
            ParamValue::Str(_) => "a string",
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Str(s) => write!(f, "{s}"),
        }
    }
}

/// A sampled configuration: the active parameters only.
pub type Params = BTreeMap<String, ParamValue>;

/// The values a parameter may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Distribution {
    /// `[low, high]`, uniform in `ln x` when `log`, on the grid
    /// `low + k·step` when `step` is set.
    Float {
        low: f64,
        high: f64,
        log: bool,
        step: Option<f64>,
    },
    /// `low, low + step, …, high`; uniform in `ln x` when `log` (step 1).
    Int {
        low: i64,
        high: i64,
        log: bool,
        step: i64,
    },
    /// One of the choices, unordered.
    Categorical { choices: Vec<ParamValue> },
}

/// The numeric view of a distribution that samplers work in: values are
/// mapped to `ln x` for log scales, and discrete grids keep half a step of
/// room either side so every grid point has the same width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Domain {
    Numeric {
        low: f64,
        high: f64,
        log: bool,
        step: Option<f64>,
    },
    Categorical {
        n: usize,
    },
}

impl Domain {
    /// Bounds in the transformed (`ln` for log scales) coordinate.
    pub fn transformed_bounds(&self) -> (f64, f64) {
        match *self {
            Domain::Numeric {
                low,
                high,
                log,
                step,
            } => {
                let half = step.unwrap_or(0.0) / 2.0;
                if log {
                    ((low - half).ln(), (high + half).ln())
                } else {
                    (low - half, high + half)
                }
            }
            Domain::Categorical { n } => (0.0, n as f64),
        }
    }

    /// A value mapped to the transformed coordinate.
    pub fn transform(&self, x: f64) -> f64 {
        match *self {
            Domain::Numeric { log: true, .. } => x.ln(),
            _ => x,
        }
    }

    /// A transformed coordinate mapped back to a valid value (rounded to the
    /// grid, clamped to the bounds).
    pub fn untransform(&self, y: f64) -> f64 {
        match *self {
            Domain::Numeric { log: true, .. } => self.snap(y.exp()),
            _ => self.snap(y),
        }
    }

    /// Rounds a value in the original scale to the grid and clamps it to
    /// the bounds.
    pub fn snap(&self, x: f64) -> f64 {
        match *self {
            Domain::Numeric {
                low, high, step, ..
            } => match step {
                Some(s) => (low + ((x - low) / s).round() * s).clamp(low, high),
                None => x.clamp(low, high),
            },
            Domain::Categorical { n } => x.round().clamp(0.0, n as f64 - 1.0),
        }
    }

    pub fn is_categorical(&self) -> bool {
        matches!(self, Domain::Categorical { .. })
    }
}

impl Distribution {
    pub fn domain(&self) -> Domain {
        match self {
            Distribution::Float {
                low,
                high,
                log,
                step,
            } => Domain::Numeric {
                low: *low,
                high: *high,
                log: *log,
                step: *step,
            },
            Distribution::Int {
                low,
                high,
                log,
                step,
            } => Domain::Numeric {
                low: *low as f64,
                high: *high as f64,
                log: *log,
                step: Some(*step as f64),
            },
            Distribution::Categorical { choices } => Domain::Categorical { n: choices.len() },
        }
    }

    /// The sampler's number for a value: the value itself for numbers, the
    /// index of the choice for categories.
    pub fn to_internal(&self, value: &ParamValue) -> Option<f64> {
        match self {
            Distribution::Float { .. } | Distribution::Int { .. } => value.as_f64(),
            Distribution::Categorical { choices } => {
                choices.iter().position(|c| c == value).map(|i| i as f64)
            }
        }
    }

    /// The value of a sampler's number (already on the grid for discrete
    /// distributions; rounded again here to be safe).
    pub fn from_internal(&self, x: f64) -> ParamValue {
        match self {
            Distribution::Float { .. } => ParamValue::Float(self.domain().snap(x)),
            Distribution::Int { .. } => ParamValue::Int(self.domain().snap(x).round() as i64),
            Distribution::Categorical { choices } => {
                let i = (x.round().max(0.0) as usize).min(choices.len() - 1);
                choices[i].clone()
            }
        }
    }

    /// The only value of a distribution that has one (`low == high`, or a
    /// single choice); samplers assign it without modelling it.
    pub fn single(&self) -> Option<ParamValue> {
        match self {
            Distribution::Float { low, high, .. } if low == high => Some(ParamValue::Float(*low)),
            Distribution::Int { low, high, .. } if low == high => Some(ParamValue::Int(*low)),
            Distribution::Categorical { choices } if choices.len() == 1 => Some(choices[0].clone()),
            _ => None,
        }
    }

    /// Whether `value` is one this distribution can produce.
    pub fn contains(&self, value: &ParamValue) -> bool {
        match self {
            Distribution::Float {
                low, high, step, ..
            } => match value.as_f64() {
                Some(x) => x >= *low && x <= *high && step.is_none_or(|s| on_grid(x - low, s)),
                None => false,
            },
            Distribution::Int {
                low, high, step, ..
            } => match value {
                ParamValue::Int(i) => i >= low && i <= high && (i - low) % step == 0,
                _ => false,
            },
            Distribution::Categorical { choices } => choices.contains(value),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Distribution::Float { .. } => "float",
            Distribution::Int { .. } => "int",
            Distribution::Categorical { .. } => "categorical",
        }
    }
}

fn on_grid(offset: f64, step: f64) -> bool {
    let k = offset / step;
    (k - k.round()).abs() <= 1e-9 * k.abs().max(1.0)
}

/// A parameter is active only when another parameter took one of `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub parent: String,
    pub values: Vec<ParamValue>,
}

/// One parameter of a space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamDef {
    pub name: String,
    pub distribution: Distribution,
    /// All must hold (and their parents be active) for the parameter to be
    /// sampled.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

impl ParamDef {
    pub fn float(name: &str, low: f64, high: f64) -> Self {
        Self::new(
            name,
            Distribution::Float {
                low,
                high,
                log: false,
                step: None,
            },
        )
    }

    pub fn log_float(name: &str, low: f64, high: f64) -> Self {
        Self::new(
            name,
            Distribution::Float {
                low,
                high,
                log: true,
                step: None,
            },
        )
    }

    pub fn int(name: &str, low: i64, high: i64) -> Self {
        Self::new(
            name,
            Distribution::Int {
                low,
                high,
                log: false,
                step: 1,
            },
        )
    }

    pub fn categorical(name: &str, choices: Vec<ParamValue>) -> Self {
        Self::new(name, Distribution::Categorical { choices })
    }

    pub fn new(name: &str, distribution: Distribution) -> Self {
        Self {
            name: name.to_string(),
            distribution,
            conditions: Vec::new(),
        }
    }

    /// Active only when `parent` takes one of `values`.
    pub fn when(mut self, parent: &str, values: Vec<ParamValue>) -> Self {
        self.conditions.push(Condition {
            parent: parent.to_string(),
            values,
        });
        self
    }
}

/// A parameter's table as written in a config (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<ParamValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<ParamValue>,
    #[serde(default)]
    pub log: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<ParamValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<ParamValue>>,
    /// `{ parent = value }` or `{ parent = [values] }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<BTreeMap<String, OneOrMany>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    Many(Vec<ParamValue>),
    One(ParamValue),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<ParamValue> {
        match self {
            OneOrMany::Many(v) => v,
            OneOrMany::One(v) => vec![v],
        }
    }
}

impl ParamSpec {
    /// Checks the table of parameter `name` and builds its definition.
    pub fn to_def(&self, name: &str) -> Result<ParamDef> {
        let key = |field: &str| format!("{name}.{field}");
        let number = |field: &str, v: &Option<ParamValue>| -> Result<f64> {
            match v {
                None => Err(TuneError::Space {
                    key: key(field),
                    reason: format!("a {} parameter needs `{field}`", self.kind),
                }),
                Some(v) => match v.as_f64() {
                    Some(x) if x.is_finite() => Ok(x),
                    Some(x) => Err(TuneError::Space {
                        key: key(field),
                        reason: format!("{x} is not a finite number"),
                    }),
                    None => Err(TuneError::Space {
                        key: key(field),
                        reason: format!("expected a number, found {}", v.type_name()),
                    }),
                },
            }
        };
        let integer = |field: &str, v: &ParamValue| -> Result<i64> {
            match v {
                ParamValue::Int(i) => Ok(*i),
                other => Err(TuneError::Space {
                    key: key(field),
                    reason: format!(
                        "an int parameter needs an integer, found {} ({other})",
                        other.type_name()
                    ),
                }),
            }
        };
        let forbid = |field: &str, present: bool| -> Result<()> {
            ensure_space!(
                !present,
                key(field),
                "`{field}` does not apply to a {} parameter",
                self.kind
            );
            Ok(())
        };
        let distribution = match self.kind.as_str() {
            "float" => {
                forbid("choices", self.choices.is_some())?;
                let low = number("low", &self.low)?;
                let high = number("high", &self.high)?;
                ensure_space!(
                    low <= high,
                    key("low"),
                    "low {low} is greater than high {high}"
                );
                if self.log {
                    ensure_space!(
                        low > 0.0,
                        key("low"),
                        "a log scale needs low > 0, got {low}"
                    );
                }
                let step = match &self.step {
                    None => None,
                    Some(s) => {
                        let s = number("step", &Some(s.clone()))?;
                        ensure_space!(s > 0.0, key("step"), "step must be > 0, got {s}");
                        ensure_space!(!self.log, key("step"), "a log scale cannot have a step");
                        ensure_space!(
                            on_grid(high - low, s),
                            key("high"),
                            "high {high} is not low {low} plus a whole number of steps {s}"
                        );
                        Some(s)
                    }
                };
                Distribution::Float {
                    low,
                    high,
                    log: self.log,
                    step,
                }
            }
            "int" => {
                forbid("choices", self.choices.is_some())?;
                let low = integer(
                    "low",
                    self.low.as_ref().ok_or_else(|| TuneError::Space {
                        key: key("low"),
                        reason: "an int parameter needs `low`".into(),
                    })?,
                )?;
                let high = integer(
                    "high",
                    self.high.as_ref().ok_or_else(|| TuneError::Space {
                        key: key("high"),
                        reason: "an int parameter needs `high`".into(),
                    })?,
                )?;
                ensure_space!(
                    low <= high,
                    key("low"),
                    "low {low} is greater than high {high}"
                );
                let step = match &self.step {
                    None => 1,
                    Some(s) => integer("step", s)?,
                };
                ensure_space!(step >= 1, key("step"), "step must be >= 1, got {step}");
                if self.log {
                    ensure_space!(
                        low >= 1,
                        key("low"),
                        "a log scale needs low >= 1, got {low}"
                    );
                    ensure_space!(
                        step == 1,
                        key("step"),
                        "a log scale cannot have a step other than 1"
                    );
                }
                ensure_space!(
                    (high - low) % step == 0,
                    key("high"),
                    "high {high} is not low {low} plus a whole number of steps {step}"
                );
                Distribution::Int {
                    low,
                    high,
                    log: self.log,
                    step,
                }
            }
            "categorical" => {
                for (field, present) in [
                    ("low", self.low.is_some()),
                    ("high", self.high.is_some()),
                    ("log", self.log),
                    ("step", self.step.is_some()),
                ] {
                    forbid(field, present)?;
                }
                let choices = self.choices.clone().ok_or_else(|| TuneError::Space {
                    key: key("choices"),
                    reason: "a categorical parameter needs `choices`".into(),
                })?;
                ensure_space!(
                    !choices.is_empty(),
                    key("choices"),
                    "empty choices: give at least one value"
                );
                for (i, c) in choices.iter().enumerate() {
                    ensure_space!(
                        !choices[..i].contains(c),
                        key("choices"),
                        "`{c}` is listed twice"
                    );
                    if let ParamValue::Float(x) = c {
                        ensure_space!(x.is_finite(), key("choices"), "{x} is not finite");
                    }
                }
                Distribution::Categorical { choices }
            }
            other => {
                return Err(TuneError::Space {
                    key: key("type"),
                    reason: format!(
                        "unknown parameter type `{other}` (expected float, int or categorical)"
                    ),
                });
            }
        };
        let conditions = self
            .when
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(parent, values)| Condition {
                parent,
                values: values.into_vec(),
            })
            .collect();
        Ok(ParamDef {
            name: name.to_string(),
            distribution,
            conditions,
        })
    }
}

/// A checked space: parameters ordered so that every parent comes before
/// the parameters it conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchSpace {
    params: Vec<ParamDef>,
}

impl SearchSpace {
    /// Parses config tables (`name → table`).
    pub fn from_specs<'a>(
        specs: impl IntoIterator<Item = (&'a str, &'a ParamSpec)>,
    ) -> Result<Self> {
        let defs = specs
            .into_iter()
            .map(|(name, spec)| spec.to_def(name))
            .collect::<Result<Vec<_>>>()?;
        Self::new(defs)
    }

    /// Checks names and conditions and orders parents first.
    pub fn new(defs: Vec<ParamDef>) -> Result<Self> {
        ensure_space!(
            !defs.is_empty(),
            "space",
            "the search space has no parameters"
        );
        let mut names = BTreeSet::new();
        for d in &defs {
            ensure_space!(
                !d.name.trim().is_empty(),
                d.name,
                "parameter names must not be empty"
            );
            ensure_space!(
                names.insert(d.name.as_str()),
                d.name,
                "parameter defined twice"
            );
        }
        for d in &defs {
            for c in &d.conditions {
                let key = format!("{}.when.{}", d.name, c.parent);
                ensure_space!(
                    c.parent != d.name,
                    key,
                    "a parameter cannot depend on itself"
                );
                let Some(parent) = defs.iter().find(|p| p.name == c.parent) else {
                    return Err(TuneError::Space {
                        key,
                        reason: format!("no parameter named `{}` in the space", c.parent),
                    });
                };
                ensure_space!(!c.values.is_empty(), key, "list at least one value");
                for v in &c.values {
                    ensure_space!(
                        parent.distribution.contains(v),
                        key,
                        "`{v}` is not a value `{}` ({}) can take",
                        c.parent,
                        parent.distribution.kind()
                    );
                }
            }
        }
        // Kahn's algorithm, stable in the given order.
        let mut ordered: Vec<ParamDef> = Vec::with_capacity(defs.len());
        let mut remaining = defs;
        while !remaining.is_empty() {
            let ready = remaining.iter().position(|d| {
                d.conditions
                    .iter()
                    .all(|c| ordered.iter().any(|o| o.name == c.parent))
            });
            match ready {
                Some(i) => ordered.push(remaining.remove(i)),
                None => {
                    let d = &remaining[0];
                    return Err(TuneError::Space {
                        key: format!("{}.when", d.name),
                        reason: "conditions form a cycle".into(),
                    });
                }
            }
        }
        Ok(Self { params: ordered })
    }

    pub fn params(&self) -> &[ParamDef] {
        &self.params
    }

    pub fn get(&self, name: &str) -> Option<&ParamDef> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn len(&self) -> usize {
        self.params.len()
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Whether `def` is active given the values assigned so far (parents
    /// come first, so their values are known when children are decided).
    pub fn is_active(&self, def: &ParamDef, assigned: &Params) -> bool {
        def.conditions.iter().all(|c| {
            assigned
                .get(&c.parent)
                .is_some_and(|v| c.values.contains(v))
        })
    }

    /// Whether the space has no conditional parameter.
    pub fn is_flat(&self) -> bool {
        self.params.iter().all(|p| p.conditions.is_empty())
    }

    /// Parameters that share the same conditions, in order: the
    /// unconditional ones first. Multivariate TPE samples each group
    /// jointly.
    pub fn groups(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<(Vec<Condition>, Vec<usize>)> = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            match groups.iter_mut().find(|(c, _)| *c == p.conditions) {
                Some((_, members)) => members.push(i),
                None => groups.push((p.conditions.clone(), vec![i])),
            }
        }
        groups.into_iter().map(|(_, m)| m).collect()
    }

    /// Checks that `params` holds exactly the active parameters, each with a
    /// value its distribution can take.
    pub fn check(&self, params: &Params) -> std::result::Result<(), String> {
        let mut seen = Params::new();
        for def in &self.params {
            let active = self.is_active(def, &seen);
            match (active, params.get(&def.name)) {
                (true, Some(v)) => {
                    if !def.distribution.contains(v) {
                        return Err(format!("`{}` = {v} is outside its distribution", def.name));
                    }
                    seen.insert(def.name.clone(), v.clone());
                }
                (true, None) => return Err(format!("active parameter `{}` missing", def.name)),
                (false, Some(_)) => {
                    return Err(format!("inactive parameter `{}` was sampled", def.name));
                }
                (false, None) => {}
            }
        }
        if let Some(extra) = params.keys().find(|k| self.get(k).is_none()) {
            return Err(format!("`{extra}` is not in the space"));
        }
        Ok(())
    }
}
