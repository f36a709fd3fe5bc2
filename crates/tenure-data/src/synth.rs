//! Synthetic subscription customers with known ground truth.
//!
//! [`generate`] draws a population from the model below and returns three
//! tables; [`write`] stores them as `transactions.parquet`,
//! `customers.parquet` and `truth.parquet`. The first two look like real
//! inputs (read them with [`crate::io::load`]); the third holds the latent
//! parameters and the true quantities that churn, CLV and uplift models try
//! to estimate, so that a pipeline can be scored against the truth rather
//! than against noisy outcomes.
//!
//! # The model
//!
//! Times are in days; `s_i` is customer `i`'s signup (a midnight), `c` the
//! campaign date, `a = t - s_i` the customer's age at calendar time `t`.
//!
//! **Arrival.** Signup days are uniform over `[start, end - 180 days)`.
//!
//! **Attributes.** `age ~ N(40, 12)` clipped to `[18, 90]` and rounded to
//! 0.1; `plan` ∈ {basic, standard, premium} with probabilities
//! 0.50/0.35/0.15; `channel` ∈ {web, store, partner} with 0.55/0.30/0.15;
//! `region` ∈ {r00 … r39} with Zipf frequencies `∝ 1/(k+1)` and a random
//! effect `u_k ~ N(0, 0.35²)` per region, fixed by the seed; `campaign` =
//! treatment with probability `treated_share`, else control.
//!
//! **Cancellation** (proportional hazards). The log hazard ratio is
//!
//! ```text
//! η_i = 0.02 (age_i - 40) + {basic: 0.5, standard: 0, premium: -0.45}
//!       + {web: 0, store: -0.2, partner: 0.35} + u_region
//! ```
//!
//! with a Weibull baseline cumulative hazard `H0(a) = (a / 600)^0.9`. The
//! campaign multiplies a treated customer's hazard by `exp(τ_i)` from the
//! campaign date on, with a heterogeneous effect
//! `τ_i = -0.6 + 0.5 [plan = premium] + 0.01 (age_i - 40)`. With
//! `m_i = exp(τ_i)` for treated customers (1 for controls) and
//! `a_c = max(c - s_i, 0)`, the cumulative hazard at age `a` is
//!
//! ```text
//! Λ_i(a) = exp(η_i) [ H0(min(a, a_c)) + m_i (H0(a) - H0(min(a, a_c))) ]
//! ```
//!
//! and the survival function `S_i(a) = exp(-Λ_i(a))`. The cancel time
//! `T_i = s_i + Λ_i⁻¹(E_i)` with `E_i ~ Exp(1)` is drawn exactly by inverting
//! this piecewise function (`H0⁻¹(x) = 600 x^(1/0.9)`). Cancellations at or
//! after `end` are censored: `cancel_date` is null.
//!
//! **Purchases.** A Poisson process of rate
//! `λ_i = G_i exp(-0.3 η_i)`, `G_i ~ Gamma(shape 1.5, mean 1/25 per day)`,
//! over `[s_i, min(T_i, end))`: customers at lower risk buy more, so purchase
//! histories carry information about churn. Each purchase amount is
//! `Gamma(shape p = 6, rate ν_i)` rounded to cents (at least 0.01), with
//! `ν_i ~ Gamma(shape q = 4, rate γ = 15)` per customer (the Gamma-Gamma
//! spend model), so the customer's mean spend is `μ_i = 6 / ν_i`. Each
//! purchase has a `category` ∈ {music, books, games, video} drawn from the
//! customer's own preferences (normalised `Gamma(0.8)` weights). Purchase
//! times are uniform within the exposure window, to the microsecond.
//!
//! # Truth at the cutoff
//!
//! With `t0 = truth_cutoff` and `h = truth_horizon_days`, a customer is
//! *active at the cutoff* when `s_i < t0 ≤ T_i`; in the observed data: signed
//! up before the cutoff date and `cancel_date` null or on/after it — exactly
//! the customers in a [`crate::Snapshot`] at that cutoff. For active
//! customers,
//!
//! ```text
//! p_churn        = P(T_i ∈ [t0, t0 + h) | T_i ≥ t0) = 1 - exp(-(Λ_i(t0 + h) - Λ_i(t0)))
//! expected_spend = λ_i μ_i ∫_0^h S_i(t0 + t) / S_i(t0) dt     (Simpson's rule)
//! ```
//!
//! with ages measured from `s_i`. `p_churn` and `expected_spend` use the
//! customer's actual arm; `p_churn_untreated` and `p_churn_treated` evaluate
//! the same probability with `m_i = 1` and with `m_i = exp(τ_i)`, and
//! `ite = p_churn_treated - p_churn_untreated` (negative: the campaign
//! prevents churn). These columns are null for customers not active at the
//! cutoff. `expected_spend` is the model's expectation as if purchases went
//! on past `end`; with the default configuration the window ends before it.
//! The cutoff, horizon, campaign date and seed are stored in
//! `truth.parquet`'s key-value metadata (`tenure.synth.*`); to compute the
//! truth at another cutoff use [`LatentCustomer`] (returned in
//! [`SynthData::latent`]).
//!
//! # Determinism
//!
//! Customers are generated in blocks of [`BLOCK_SIZE`], in parallel; block
//! `b` draws from its own generator seeded from `(seed, b)`, so the output
//! depends on the configuration only, never on the number of threads.
//!
//! ```
//! use tenure_data::synth::{SynthConfig, generate};
//!
//! let data = generate(&SynthConfig { customers: 200, ..SynthConfig::default() }).unwrap();
//! assert_eq!(data.customers.height(), 200);
//! assert_eq!(data.truth.height(), 200);
//! assert!(data.transactions.height() > 0);
//! ```

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, Exp1, Gamma, Poisson, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::log::{SECONDS_PER_DAY, Timestamp};
use crate::{DataError, Result, ensure_config, format_date};

/// Customers per generator block. Part of the data's definition: changing
/// it changes every draw.
pub const BLOCK_SIZE: usize = 1024;
/// Scale of the Weibull baseline cumulative hazard, in days.
pub const WEIBULL_SCALE_DAYS: f64 = 600.0;
/// Shape of the Weibull baseline cumulative hazard.
pub const WEIBULL_SHAPE: f64 = 0.9;
/// Days before `end` after which nobody signs up.
pub const LAST_SIGNUP_MARGIN_DAYS: i64 = 180;

const PLANS: [&str; 3] = ["basic", "standard", "premium"];
const PLAN_SHARES: [f64; 3] = [0.50, 0.35, 0.15];
const PLAN_EFFECTS: [f64; 3] = [0.5, 0.0, -0.45];
const PREMIUM: usize = 2;
const CHANNELS: [&str; 3] = ["web", "store", "partner"];
const CHANNEL_SHARES: [f64; 3] = [0.55, 0.30, 0.15];
const CHANNEL_EFFECTS: [f64; 3] = [0.0, -0.2, 0.35];
const REGIONS: usize = 40;
const REGION_EFFECT_SD: f64 = 0.35;
const CATEGORIES: [&str; 4] = ["music", "books", "games", "video"];
const ARMS: [&str; 2] = ["control", "treatment"];
const SPEND_P: f64 = 6.0;
const SPEND_Q: f64 = 4.0;
const SPEND_GAMMA: f64 = 15.0;
const RATE_SHAPE: f64 = 1.5;
const RATE_MEAN_PER_DAY: f64 = 1.0 / 25.0;
const RATE_RISK_SLOPE: f64 = -0.3;
/// Simpson subintervals per smooth piece of the survival integral.
const SIMPSON_STEPS: usize = 32;

/// What to generate. All times are UTC seconds; dates should be midnights.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SynthConfig {
    pub customers: usize,
    pub seed: u64,
    /// First possible signup.
    pub start: Timestamp,
    /// End of observation (exclusive): no events at or after it.
    pub end: Timestamp,
    /// Cutoff at which `truth.parquet`'s probabilities are evaluated.
    pub truth_cutoff: Timestamp,
    pub truth_horizon_days: u32,
    /// From this date on, treated customers' hazard is multiplied by `exp(τ)`.
    pub campaign_date: Timestamp,
    /// Probability that a customer is in the treatment arm.
    pub treated_share: f64,
    /// Multiplies every customer's purchase rate `λ_i` (1 draws the model
    /// above): more transactions per customer at the same population, for
    /// scale tests. The truth's expected spend uses the scaled rate.
    pub purchase_rate_scale: f64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            customers: 10_000,
            seed: 42,
            start: midnight(2021, 1, 1),
            end: midnight(2024, 1, 1),
            truth_cutoff: midnight(2023, 7, 1),
            truth_horizon_days: 90,
            campaign_date: midnight(2022, 7, 1),
            treated_share: 0.5,
            purchase_rate_scale: 1.0,
        }
    }
}

fn midnight(y: i32, m: u32, d: u32) -> Timestamp {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
        .expect("valid calendar date")
}

impl SynthConfig {
    /// Signup days `[first, last)` as day numbers since the epoch.
    fn signup_days(&self) -> (i64, i64) {
        let first = (self.start + SECONDS_PER_DAY - 1).div_euclid(SECONDS_PER_DAY);
        let last =
            (self.end - LAST_SIGNUP_MARGIN_DAYS * SECONDS_PER_DAY).div_euclid(SECONDS_PER_DAY);
        (first, last)
    }

    pub fn check(&self) -> Result<()> {
        ensure_config!(self.customers > 0, "customers", "must be at least 1");
        let (first, last) = self.signup_days();
        ensure_config!(
            last > first,
            "end",
            "must be more than {LAST_SIGNUP_MARGIN_DAYS} days after start ({} .. {})",
            format_date(self.start),
            format_date(self.end)
        );
        ensure_config!(
            self.truth_horizon_days > 0,
            "truth_horizon_days",
            "must be at least 1"
        );
        ensure_config!(
            (0.0..=1.0).contains(&self.treated_share),
            "treated_share",
            "must be in [0, 1], got {}",
            self.treated_share
        );
        ensure_config!(
            self.purchase_rate_scale.is_finite() && self.purchase_rate_scale > 0.0,
            "purchase_rate_scale",
            "must be a positive number, got {}",
            self.purchase_rate_scale
        );
        Ok(())
    }
}

/// The generated tables (see the module docs for their columns), plus every
/// customer's latent parameters in the same order.
#[derive(Debug, Clone)]
pub struct SynthData {
    pub transactions: DataFrame,
    pub customers: DataFrame,
    pub truth: DataFrame,
    pub latent: Vec<LatentCustomer>,
}

/// What [`write`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSummary {
    pub customers: usize,
    pub transactions: usize,
    pub files: Vec<PathBuf>,
}

/// Which treatment regime a probability is evaluated under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arm {
    /// The customer's actual arm.
    Assigned,
    /// As if in the control arm (no campaign effect).
    Control,
    /// As if treated: hazard × `exp(τ)` from the campaign date on.
    Treatment,
}

/// One customer's latent parameters: everything needed to evaluate the true
/// survival, churn probability and expected spend at any date.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentCustomer {
    pub customer_id: String,
    pub signup: Timestamp,
    /// Latent cancel time, possibly after `end` (then censored in the data).
    pub cancel: Timestamp,
    /// `η`, without the campaign effect.
    pub log_hazard_ratio: f64,
    /// Campaign effect on the log hazard, applied when treated.
    pub tau: f64,
    pub treated: bool,
    pub campaign_date: Timestamp,
    pub purchase_rate_per_day: f64,
    pub mean_spend: f64,
}

fn baseline_cumulative_hazard(age_days: f64) -> f64 {
    (age_days.max(0.0) / WEIBULL_SCALE_DAYS).powf(WEIBULL_SHAPE)
}

fn inverse_baseline(h: f64) -> f64 {
    WEIBULL_SCALE_DAYS * h.powf(1.0 / WEIBULL_SHAPE)
}

impl LatentCustomer {
    fn age_days(&self, t: Timestamp) -> f64 {
        (t - self.signup).max(0) as f64 / SECONDS_PER_DAY as f64
    }

    fn multiplier(&self, arm: Arm) -> f64 {
        let treated = match arm {
            Arm::Assigned => self.treated,
            Arm::Control => false,
            Arm::Treatment => true,
        };
        if treated { self.tau.exp() } else { 1.0 }
    }

    /// `Λ(t)`: cumulative hazard from signup to calendar time `t`.
    pub fn cumulative_hazard(&self, t: Timestamp, arm: Arm) -> f64 {
        let a = self.age_days(t);
        let before = a.min(self.age_days(self.campaign_date));
        let h_before = baseline_cumulative_hazard(before);
        let h_after = baseline_cumulative_hazard(a) - h_before;
        self.log_hazard_ratio.exp() * (h_before + self.multiplier(arm) * h_after)
    }

    /// Age in days at which `Λ` reaches `e` under the assigned arm.
    fn invert_cumulative_hazard(&self, e: f64) -> f64 {
        let risk = self.log_hazard_ratio.exp();
        let h_campaign = baseline_cumulative_hazard(self.age_days(self.campaign_date));
        let m = self.multiplier(Arm::Assigned);
        if risk * h_campaign >= e {
            inverse_baseline(e / risk)
        } else {
            inverse_baseline(h_campaign + (e - risk * h_campaign) / (risk * m))
        }
    }

    /// Whether the customer signed up before `t` and has not cancelled
    /// before it (the snapshot's rule).
    pub fn is_active_at(&self, t: Timestamp) -> bool {
        self.signup < t && t <= self.cancel
    }

    /// `P(T ∈ [cutoff, cutoff + h) | T ≥ cutoff)` under `arm`.
    pub fn churn_probability(&self, cutoff: Timestamp, horizon_days: u32, arm: Arm) -> f64 {
        let until = cutoff + i64::from(horizon_days) * SECONDS_PER_DAY;
        let dh = self.cumulative_hazard(until, arm) - self.cumulative_hazard(cutoff, arm);
        -(-dh).exp_m1()
    }

    /// `∫_0^h S(cutoff + t) / S(cutoff) dt` in days under the assigned arm:
    /// the expected number of active days in the window given active at the
    /// cutoff.
    pub fn expected_active_days(&self, cutoff: Timestamp, horizon_days: u32) -> f64 {
        let h = f64::from(horizon_days);
        let base = self.cumulative_hazard(cutoff, Arm::Assigned);
        let survival = |t_days: f64| {
            let t = cutoff + (t_days * SECONDS_PER_DAY as f64).round() as i64;
            (base - self.cumulative_hazard(t, Arm::Assigned)).exp()
        };
        // The integrand has a kink where the campaign starts: integrate the
        // two smooth pieces separately.
        let kink = (self.campaign_date - cutoff) as f64 / SECONDS_PER_DAY as f64;
        if kink > 0.0 && kink < h {
            simpson(&survival, 0.0, kink) + simpson(&survival, kink, h)
        } else {
            simpson(&survival, 0.0, h)
        }
    }

    /// True expected spend in `[cutoff, cutoff + h)` given active at the
    /// cutoff: `λ μ ∫_0^h S(cutoff + t) / S(cutoff) dt`.
    pub fn expected_spend(&self, cutoff: Timestamp, horizon_days: u32) -> f64 {
        self.purchase_rate_per_day
            * self.mean_spend
            * self.expected_active_days(cutoff, horizon_days)
    }
}

/// The true churn probability in `[cutoff, cutoff + horizon)` given active at
/// the cutoff, including the campaign effect for treated customers.
pub fn true_churn_probability(
    customer: &LatentCustomer,
    cutoff: Timestamp,
    horizon_days: u32,
) -> f64 {
    customer.churn_probability(cutoff, horizon_days, Arm::Assigned)
}

fn simpson(f: &impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let n = SIMPSON_STEPS;
    let step = (b - a) / n as f64;
    let inner: f64 = (1..n)
        .map(|k| {
            let w = if k % 2 == 1 { 4.0 } else { 2.0 };
            w * f(a + k as f64 * step)
        })
        .sum();
    (f(a) + inner + f(b)) * step / 3.0
}

/// SplitMix64's finaliser: a bijection that spreads nearby inputs apart.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn stream(seed: u64, index: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(mix(mix(seed) ^ index))
}

/// The region effects' stream, apart from every block's.
const REGION_STREAM: u64 = u64::MAX;

fn pick(rng: &mut impl Rng, cumulative: &[f64]) -> usize {
    let u: f64 = rng.random();
    cumulative
        .iter()
        .position(|&c| u < c)
        .unwrap_or(cumulative.len() - 1)
}

fn cumulative(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect()
}

/// Fixed per population: what every block needs.
struct Population {
    cfg: SynthConfig,
    plan_cdf: Vec<f64>,
    channel_cdf: Vec<f64>,
    region_cdf: Vec<f64>,
    region_effects: Vec<f64>,
    rate: Gamma<f64>,
    spend_scale: Gamma<f64>,
    amount: Gamma<f64>,
    preference: Gamma<f64>,
}

/// One block's customers and their transactions, as columns.
#[derive(Default)]
struct Block {
    latent: Vec<LatentCustomer>,
    age: Vec<f64>,
    plan: Vec<u8>,
    channel: Vec<u8>,
    region: Vec<u8>,
    truth: Vec<TruthRow>,
    /// Index of the buying customer within the block.
    tx_customer: Vec<u32>,
    tx_time_us: Vec<i64>,
    tx_amount: Vec<f64>,
    tx_category: Vec<u8>,
}

#[derive(Clone, Copy)]
struct TruthRow {
    active: bool,
    p_churn: f64,
    p_untreated: f64,
    p_treated: f64,
    expected_spend: f64,
}

impl Population {
    fn new(cfg: &SynthConfig) -> Self {
        let mut rng = stream(cfg.seed, REGION_STREAM);
        let region_effects = (0..REGIONS)
            .map(|_| REGION_EFFECT_SD * rng.sample::<f64, _>(StandardNormal))
            .collect();
        let zipf: Vec<f64> = (0..REGIONS).map(|k| 1.0 / (k + 1) as f64).collect();
        let gamma = |shape: f64, scale: f64| Gamma::new(shape, scale).expect("positive parameters");
        Self {
            cfg: cfg.clone(),
            plan_cdf: cumulative(&PLAN_SHARES),
            channel_cdf: cumulative(&CHANNEL_SHARES),
            region_cdf: cumulative(&zipf),
            region_effects,
            rate: gamma(RATE_SHAPE, RATE_MEAN_PER_DAY / RATE_SHAPE),
            spend_scale: gamma(SPEND_Q, 1.0 / SPEND_GAMMA),
            amount: gamma(SPEND_P, 1.0),
            preference: gamma(0.8, 1.0),
        }
    }

    fn n_blocks(&self) -> usize {
        self.cfg.customers.div_ceil(BLOCK_SIZE)
    }

    /// Blocks `range`, drawn in parallel.
    fn blocks(&self, range: std::ops::Range<usize>) -> Vec<Block> {
        range.into_par_iter().map(|b| self.block(b)).collect()
    }

    fn block(&self, b: usize) -> Block {
        let cfg = &self.cfg;
        let mut rng = stream(cfg.seed, b as u64);
        let first = b * BLOCK_SIZE;
        let count = BLOCK_SIZE.min(cfg.customers - first);
        let (first_day, last_day) = cfg.signup_days();
        let mut out = Block::default();

        for k in 0..count {
            let signup = (first_day + rng.random_range(0..last_day - first_day)) * SECONDS_PER_DAY;
            let normal: f64 = rng.sample(StandardNormal);
            let age = ((40.0 + 12.0 * normal).clamp(18.0, 90.0) * 10.0).round() / 10.0;
            let plan = pick(&mut rng, &self.plan_cdf);
            let channel = pick(&mut rng, &self.channel_cdf);
            let region = pick(&mut rng, &self.region_cdf);
            let treated = rng.random::<f64>() < cfg.treated_share;
            let eta = 0.02 * (age - 40.0)
                + PLAN_EFFECTS[plan]
                + CHANNEL_EFFECTS[channel]
                + self.region_effects[region];
            let tau = -0.6 + if plan == PREMIUM { 0.5 } else { 0.0 } + 0.01 * (age - 40.0);
            let rate = self.rate.sample(&mut rng)
                * (RATE_RISK_SLOPE * eta).exp()
                * cfg.purchase_rate_scale;
            let nu = self.spend_scale.sample(&mut rng);
            let mut customer = LatentCustomer {
                customer_id: customer_id(first + k),
                signup,
                cancel: signup,
                log_hazard_ratio: eta,
                tau,
                treated,
                campaign_date: cfg.campaign_date,
                purchase_rate_per_day: rate,
                mean_spend: SPEND_P / nu,
            };
            let e: f64 = rng.sample(Exp1);
            let life_days = customer.invert_cumulative_hazard(e);
            // Some 30,000 years: far beyond any horizon, and microseconds
            // since the epoch still fit in an i64.
            customer.cancel = signup + (life_days * SECONDS_PER_DAY as f64).min(1e12) as i64;

            let weights: Vec<f64> = CATEGORIES
                .iter()
                .map(|_| self.preference.sample(&mut rng))
                .collect();
            let preference_cdf = cumulative(&weights);
            let from_us = signup * 1_000_000;
            let until_us = customer.cancel.min(cfg.end) * 1_000_000;
            let exposure_days = (until_us - from_us) as f64 / (SECONDS_PER_DAY as f64 * 1e6);
            let mean_count = rate * exposure_days;
            let n = if mean_count > 0.0 {
                Poisson::new(mean_count)
                    .expect("positive finite mean")
                    .sample(&mut rng) as usize
            } else {
                0
            };
            let tx_start = out.tx_time_us.len();
            for _ in 0..n {
                out.tx_customer.push(k as u32);
                out.tx_time_us.push(rng.random_range(from_us..until_us));
                let spend = self.amount.sample(&mut rng) / nu;
                out.tx_amount
                    .push(((spend * 100.0).round() / 100.0).max(0.01));
                out.tx_category.push(pick(&mut rng, &preference_cdf) as u8);
            }
            sort_by_time(&mut out, tx_start);

            out.truth.push(truth_row(&customer, cfg));
            out.latent.push(customer);
            out.age.push(age);
            out.plan.push(plan as u8);
            out.channel.push(channel as u8);
            out.region.push(region as u8);
        }
        out
    }
}

/// Orders the customer's transactions (from `start` on) by time, keeping
/// amounts and categories aligned.
fn sort_by_time(block: &mut Block, start: usize) {
    let mut order: Vec<usize> = (start..block.tx_time_us.len()).collect();
    order.sort_by_key(|&i| block.tx_time_us[i]);
    let time: Vec<i64> = order.iter().map(|&i| block.tx_time_us[i]).collect();
    let amount: Vec<f64> = order.iter().map(|&i| block.tx_amount[i]).collect();
    let category: Vec<u8> = order.iter().map(|&i| block.tx_category[i]).collect();
    block.tx_time_us[start..].copy_from_slice(&time);
    block.tx_amount[start..].copy_from_slice(&amount);
    block.tx_category[start..].copy_from_slice(&category);
}

fn truth_row(c: &LatentCustomer, cfg: &SynthConfig) -> TruthRow {
    let (t0, h) = (cfg.truth_cutoff, cfg.truth_horizon_days);
    if !c.is_active_at(t0) {
        return TruthRow {
            active: false,
            p_churn: f64::NAN,
            p_untreated: f64::NAN,
            p_treated: f64::NAN,
            expected_spend: f64::NAN,
        };
    }
    TruthRow {
        active: true,
        p_churn: c.churn_probability(t0, h, Arm::Assigned),
        p_untreated: c.churn_probability(t0, h, Arm::Control),
        p_treated: c.churn_probability(t0, h, Arm::Treatment),
        expected_spend: c.expected_spend(t0, h),
    }
}

/// The id of the `i`-th generated customer (0-based): `C0000001`, ….
pub fn customer_id(i: usize) -> String {
    format!("C{:07}", i + 1)
}

/// Draws a population. See the module docs for the model and the columns.
pub fn generate(cfg: &SynthConfig) -> Result<SynthData> {
    cfg.check()?;
    let population = Population::new(cfg);
    let blocks = population.blocks(0..population.n_blocks());
    let transactions = transactions_frame(&blocks)?;
    let (customers, truth) = rayon::join(
        || customers_frame(&blocks, cfg),
        || truth_frame(&blocks, cfg),
    );
    let latent = blocks.into_iter().flat_map(|b| b.latent).collect();
    Ok(SynthData {
        transactions,
        customers: customers?,
        truth: truth?,
        latent,
    })
}

/// Blocks generated together when [`write`] streams transactions to disk:
/// memory holds one group's transactions (about a million), not all of them.
const WRITE_GROUP_BLOCKS: usize = 64;

/// The transactions of `blocks`, one chunk per block: polars writes such a
/// frame in row groups without re-slicing one huge string array, which is
/// far slower.
fn transactions_frame(blocks: &[Block]) -> Result<DataFrame> {
    let frames = blocks
        .par_iter()
        .map(Block::transactions_frame)
        .collect::<Result<Vec<_>>>()?;
    frames
        .into_iter()
        .try_fold(empty_transactions_frame(), |mut all, df| {
            all.vstack_mut_owned(df)?;
            Ok::<_, DataError>(all)
        })
}

fn strings<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> Column {
    StringChunked::from_iter_values(name.into(), values)
        .into_series()
        .into_column()
}

fn floats(name: &str, values: Vec<f64>) -> Column {
    Float64Chunked::from_vec(name.into(), values)
        .into_series()
        .into_column()
}

/// NaN marks a missing value.
fn nullable_floats(name: &str, values: impl Iterator<Item = f64>) -> Column {
    Float64Chunked::from_iter_options(name.into(), values.map(|v| (!v.is_nan()).then_some(v)))
        .into_series()
        .into_column()
}

fn bools(name: &str, values: impl Iterator<Item = bool>) -> Column {
    BooleanChunked::from_iter_values(name.into(), values)
        .into_series()
        .into_column()
}

fn dates(name: &str, days: impl Iterator<Item = Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), days)
        .into_date()
        .into_series()
        .into_column()
}

fn day_number(t: Timestamp) -> i32 {
    t.div_euclid(SECONDS_PER_DAY) as i32
}

fn latents(blocks: &[Block]) -> impl Iterator<Item = &LatentCustomer> {
    blocks.iter().flat_map(|b| &b.latent)
}

impl Block {
    fn drop_transactions(&mut self) {
        self.tx_customer = Vec::new();
        self.tx_time_us = Vec::new();
        self.tx_amount = Vec::new();
        self.tx_category = Vec::new();
    }

    fn transactions_frame(&self) -> Result<DataFrame> {
        let ids = self
            .tx_customer
            .iter()
            .map(|&k| self.latent[k as usize].customer_id.as_str());
        let categories = self.tx_category.iter().map(|&c| CATEGORIES[c as usize]);
        Ok(DataFrame::new(
            self.tx_time_us.len(),
            vec![
                strings("customer_id", ids),
                timestamps(self.tx_time_us.clone()),
                floats("amount", self.tx_amount.clone()),
                strings("category", categories),
            ],
        )?)
    }
}

fn empty_transactions_frame() -> DataFrame {
    DataFrame::new(
        0,
        vec![
            strings("customer_id", std::iter::empty()),
            timestamps(Vec::new()),
            floats("amount", Vec::new()),
            strings("category", std::iter::empty()),
        ],
    )
    .expect("columns of equal length")
}

fn timestamps(micros: Vec<i64>) -> Column {
    Int64Chunked::from_vec("timestamp".into(), micros)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
        .into_column()
}

fn customers_frame(blocks: &[Block], cfg: &SynthConfig) -> Result<DataFrame> {
    let flat = |f: fn(&Block) -> &[u8]| blocks.iter().flat_map(move |b| f(b).iter().copied());
    let cancel = latents(blocks).map(|c| (c.cancel < cfg.end).then(|| day_number(c.cancel)));
    Ok(DataFrame::new(
        cfg.customers,
        vec![
            strings(
                "customer_id",
                latents(blocks).map(|c| c.customer_id.as_str()),
            ),
            dates(
                "signup_date",
                latents(blocks).map(|c| Some(day_number(c.signup))),
            ),
            dates("cancel_date", cancel),
            floats(
                "age",
                blocks.iter().flat_map(|b| b.age.iter().copied()).collect(),
            ),
            strings("plan", flat(|b| &b.plan).map(|p| PLANS[p as usize])),
            strings(
                "channel",
                flat(|b| &b.channel).map(|c| CHANNELS[c as usize]),
            ),
            strings(
                "region",
                flat(|b| &b.region).map(|r| REGION_NAMES[r as usize]),
            ),
            strings(
                "campaign",
                latents(blocks).map(|c| ARMS[usize::from(c.treated)]),
            ),
        ],
    )?)
}

const REGION_NAMES: [&str; REGIONS] = [
    "r00", "r01", "r02", "r03", "r04", "r05", "r06", "r07", "r08", "r09", "r10", "r11", "r12",
    "r13", "r14", "r15", "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25",
    "r26", "r27", "r28", "r29", "r30", "r31", "r32", "r33", "r34", "r35", "r36", "r37", "r38",
    "r39",
];

fn truth_frame(blocks: &[Block], cfg: &SynthConfig) -> Result<DataFrame> {
    let truth = || blocks.iter().flat_map(|b| b.truth.iter().copied());
    let latent_floats =
        |f: fn(&LatentCustomer) -> f64| latents(blocks).map(f).collect::<Vec<f64>>();
    Ok(DataFrame::new(
        cfg.customers,
        vec![
            strings(
                "customer_id",
                latents(blocks).map(|c| c.customer_id.as_str()),
            ),
            bools("treated", latents(blocks).map(|c| c.treated)),
            floats("log_hazard_ratio", latent_floats(|c| c.log_hazard_ratio)),
            floats("hazard_ratio", latent_floats(|c| c.log_hazard_ratio.exp())),
            floats("tau", latent_floats(|c| c.tau)),
            floats(
                "purchase_rate_per_day",
                latent_floats(|c| c.purchase_rate_per_day),
            ),
            floats("mean_spend", latent_floats(|c| c.mean_spend)),
            dates(
                "cancel_time",
                latents(blocks).map(|c| (c.cancel < cfg.end).then(|| day_number(c.cancel))),
            ),
            bools("active_at_truth_cutoff", truth().map(|t| t.active)),
            nullable_floats("p_churn", truth().map(|t| t.p_churn)),
            nullable_floats("p_churn_untreated", truth().map(|t| t.p_untreated)),
            nullable_floats("p_churn_treated", truth().map(|t| t.p_treated)),
            nullable_floats("ite", truth().map(|t| t.p_treated - t.p_untreated)),
            nullable_floats("expected_spend", truth().map(|t| t.expected_spend)),
        ],
    )?)
}

/// Generates the population and writes `transactions.parquet`,
/// `customers.parquet` and `truth.parquet` into `dir` (created if needed),
/// with the same rows as [`generate`]. Transactions stream to disk a group
/// of blocks at a time, so memory grows with the customers, not with their
/// transactions. The files are written under temporary names and renamed
/// together at the end, so a reader never sees a half-written file, nor
/// one population's transactions beside another's customers.
pub fn write(cfg: &SynthConfig, dir: &Path) -> Result<SynthSummary> {
    cfg.check()?;
    std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let population = Population::new(cfg);
    let n_blocks = population.n_blocks();
    let mut blocks = Vec::with_capacity(n_blocks);
    let mut transactions = 0;
    let mut staged = Staged::new(dir);
    staged.write("transactions.parquet", None, |file| {
        let mut writer = file.batched(empty_transactions_frame().schema())?;
        for first in (0..n_blocks).step_by(WRITE_GROUP_BLOCKS) {
            let mut group = population.blocks(first..(first + WRITE_GROUP_BLOCKS).min(n_blocks));
            let mut df = transactions_frame(&group)?;
            transactions += df.height();
            let chunked = polars::frame::chunk_df_for_writing(&mut df, ROW_GROUP_ROWS)?;
            writer.write_batch(chunked.as_ref())?;
            group.iter_mut().for_each(Block::drop_transactions);
            blocks.append(&mut group);
        }
        writer.finish()?;
        Ok(())
    })?;
    let (customers, truth) = rayon::join(
        || customers_frame(&blocks, cfg),
        || truth_frame(&blocks, cfg),
    );
    let (mut customers, mut truth) = (customers?, truth?);
    let metadata = vec![
        (
            "tenure.synth.truth_cutoff".to_string(),
            format_date(cfg.truth_cutoff),
        ),
        (
            "tenure.synth.truth_horizon_days".to_string(),
            cfg.truth_horizon_days.to_string(),
        ),
        (
            "tenure.synth.campaign_date".to_string(),
            format_date(cfg.campaign_date),
        ),
        ("tenure.synth.seed".to_string(), cfg.seed.to_string()),
        (
            "tenure.synth.purchase_rate_scale".to_string(),
            cfg.purchase_rate_scale.to_string(),
        ),
    ];
    staged.write("customers.parquet", None, |w| {
        w.finish(&mut customers)?;
        Ok(())
    })?;
    staged.write("truth.parquet", Some(metadata), |w| {
        w.finish(&mut truth)?;
        Ok(())
    })?;
    Ok(SynthSummary {
        customers: customers.height(),
        transactions,
        files: staged.commit()?,
    })
}

/// Rows per Parquet row group of the transactions, polars' default.
const ROW_GROUP_ROWS: usize = 512 * 512;

/// Files written under temporary names in one folder and renamed to their
/// names together by [`Staged::commit`]; dropped before that, it removes
/// them.
struct Staged<'a> {
    dir: &'a Path,
    /// (temporary, final) paths.
    files: Vec<(PathBuf, PathBuf)>,
}

impl<'a> Staged<'a> {
    fn new(dir: &'a Path) -> Self {
        Self {
            dir,
            files: Vec::new(),
        }
    }

    /// Writes `name`'s temporary file through `fill`.
    fn write(
        &mut self,
        name: &str,
        metadata: Option<Vec<(String, String)>>,
        fill: impl FnOnce(ParquetWriter<File>) -> Result<()>,
    ) -> Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        self.files.push((tmp.clone(), path.clone()));
        let file = File::create(&tmp).map_err(|e| DataError::Io {
            path: tmp.clone(),
            source: e,
        })?;
        let writer = ParquetWriter::new(file)
            .with_key_value_metadata(metadata.map(KeyValueMetadata::from_static));
        fill(writer).map_err(|e| match e {
            DataError::Polars(e) => DataError::Write {
                path,
                message: e.to_string(),
            },
            e => e,
        })
    }

    /// Renames every file to its name; returns the names.
    fn commit(mut self) -> Result<Vec<PathBuf>> {
        let files = std::mem::take(&mut self.files);
        for (k, (tmp, path)) in files.iter().enumerate() {
            if let Err(e) = std::fs::rename(tmp, path) {
                // The ones not renamed are removed on drop.
                self.files = files[k..].to_vec();
                return Err(DataError::Write {
                    path: path.clone(),
                    message: e.to_string(),
                });
            }
        }
        Ok(files.into_iter().map(|(_, path)| path).collect())
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        for (tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Reads `truth.parquet`'s `tenure.synth.*` key-value metadata.
pub fn read_truth_metadata(path: &Path) -> Result<HashMap<String, String>> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = ParquetReader::new(file);
    let metadata = reader.get_metadata().map_err(|e| DataError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(metadata
        .key_value_metadata()
        .iter()
        .flatten()
        .filter(|kv| kv.key.starts_with("tenure.synth."))
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect())
}
