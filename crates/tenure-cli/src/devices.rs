//! `tenure devices`: what `--device` can pick on this machine.

use anyhow::Result;
use tenure_runner::core::DeviceRequest;
use tenure_runner::device::{BackendStatus, Inventory, discover, resolve};

pub fn run(json: bool) -> Result<()> {
    let inv = discover();
    let auto = resolve(DeviceRequest::Auto, &inv)?;
    if json {
        println!("{}", serde_json::json!({"inventory": inv, "auto": auto}));
        return Ok(());
    }
    print!("{}", render(&inv));
    println!("\n--device auto → {} ({})", auto.device, auto.reason);
    Ok(())
}

fn render(inv: &Inventory) -> String {
    let mut out = format!("cpu: {} cores\n", inv.cpu_cores);
    match &inv.wgpu {
        BackendStatus::NotCompiled => out.push_str("wgpu: not in this build (feature `wgpu`)\n"),
        BackendStatus::Unavailable(why) => out.push_str(&format!("wgpu: unavailable: {why}\n")),
        BackendStatus::Available(adapters) if adapters.is_empty() => out
            .push_str("wgpu: no adapter (a Vulkan driver such as mesa-vulkan-drivers adds one)\n"),
        BackendStatus::Available(adapters) => {
            out.push_str("wgpu adapters:\n");
            for a in adapters {
                out.push_str(&format!(
                    "  {} · {} · {} · {}{}\n",
                    a.name,
                    a.backend,
                    a.kind.as_str(),
                    if a.is_physical() {
                        "physical"
                    } else {
                        "software"
                    },
                    if a.compute_api {
                        ""
                    } else {
                        " (not the compute API)"
                    }
                ));
            }
        }
    }
    match &inv.cuda {
        BackendStatus::NotCompiled => {
            out.push_str("cuda: not in this build (rebuild with `--features cuda`)\n")
        }
        BackendStatus::Unavailable(why) => out.push_str(&format!("cuda: unavailable: {why}\n")),
        BackendStatus::Available(devs) if devs.is_empty() => out.push_str("cuda: no device\n"),
        BackendStatus::Available(devs) => {
            out.push_str("cuda devices:\n");
            for d in devs {
                out.push_str(&format!(
                    "  {}: {} · {:.1} GiB\n",
                    d.index,
                    d.name,
                    d.memory_bytes as f64 / (1u64 << 30) as f64
                ));
            }
        }
    }
    out
}
