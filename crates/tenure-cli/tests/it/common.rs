use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn tenure() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tenure"))
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("tenure runs");
    assert!(
        out.status.success(),
        "tenure failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Synthetic data shared by the tests of this binary, generated once.
pub fn synth_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("tenure-cli-synth")
            .tempdir()
            .unwrap()
            .keep();
        run_ok(
            tenure()
                .args(["synth", "--customers", "3000", "--seed", "7", "--out"])
                .arg(&dir),
        );
        dir
    })
}

/// A small churn experiment over the shared synthetic data, written in `dir`.
pub fn write_experiment(dir: &Path, name: &str) -> PathBuf {
    let data = synth_dir();
    let text = format!(
        r#"
name = "{name}"
seed = 1

[data.transactions]
path = "{tx}"
category = "category"

[data.customers]
path = "{cu}"
signup = "signup_date"
end = "cancel_date"
numeric = ["age"]
categorical = ["plan", "channel", "region", "campaign"]

[labels]
task = "churn"
horizon_days = 90
churn = "cancel"

[cv]
cutoffs = ["2022-07-01", "2022-10-01", "2023-01-01", "2023-04-01", "2023-07-01"]
folds = 2
test_cutoff = "2023-10-01"

[[models]]
name = "logreg"
kind = "logistic"
params = {{ l2 = 1.0 }}

[tracking]
uri = "{store}"
"#,
        tx = data.join("transactions.parquet").display(),
        cu = data.join("customers.parquet").display(),
        store = dir.join("store").display(),
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}
