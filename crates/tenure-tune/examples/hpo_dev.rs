// Scratch harness (not committed): median best at 20/40/60.
use tenure_core::ParamGuard;
use tenure_tune::bench::{self, TestFunction};
use tenure_tune::{Sampler, SamplerKind, TpeParams, TpeSampler};

fn env(k: &str, d: f64) -> f64 {
    std::env::var(k)
        .ok()
        .map(|v| v.parse().unwrap())
        .unwrap_or(d)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let samplers: Vec<String> = args[1].split(',').map(String::from).collect();
    let funcs: Vec<TestFunction> = args[2].split(',').map(|s| s.parse().unwrap()).collect();
    let trials: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(60);
    let seeds: usize = args.get(4).map(|s| s.parse().unwrap()).unwrap_or(10);
    for f in &funcs {
        for s in &samplers {
            let make = || -> Box<dyn Sampler> {
                if s == "tpex" {
                    Box::new(TpeSampler::new(
                        TpeParams::new()
                            .n_startup_trials(env("STARTUP", 10.0) as usize)
                            .n_ei_candidates(env("CANDS", 24.0) as usize)
                            .gamma(env("GAMMA", 0.1), env("GMAX", 25.0) as usize)
                            .prior_weight(env("PRIOR", 1.0))
                            .startup(if env("LHS", 1.0) > 0.0 {
                                tenure_tune::Startup::LatinHypercube
                            } else {
                                tenure_tune::Startup::Random
                            })
                            .check()
                            .unwrap(),
                    ))
                } else if s == "gpx" {
                    Box::new(tenure_tune::GpSampler::new(
                        tenure_tune::GpParams::new()
                            .n_startup_trials(env("STARTUP", 10.0) as usize)
                            .n_candidates(env("CANDS", 1024.0) as usize)
                            .warp(env("WARP", 1.0) > 0.0)
                            .startup(if env("LHS", 1.0) > 0.0 {
                                tenure_tune::Startup::LatinHypercube
                            } else {
                                tenure_tune::Startup::Random
                            })
                            .check()
                            .unwrap(),
                    ))
                } else {
                    s.parse::<SamplerKind>().unwrap().build()
                }
            };
            let r = bench::run_with(*f, s, make, trials, seeds);
            let tail: f64 = r.sampler_ms[trials.saturating_sub(10)..]
                .iter()
                .sum::<f64>()
                / 10.0;
            let m: Vec<String> = r
                .median_best
                .values()
                .map(|v| format!("{v:>10.4}"))
                .collect();
            println!(
                "{:<16} {:<8} {}  ms(last10)={:.2}",
                f.name(),
                s,
                m.join(" "),
                tail
            );
        }
    }
}
