//! Runs the `codegen-bench` binary in the debug profile and reads its JSON, so code
//! generation is timed as a build script would run it, not as optimised release code.

use crate::model::CodegenTimes;
use crate::options::workspace_root;
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

/// Builds (if needed) and runs `codegen-bench` in debug, returning its timings.
pub fn run(tables: usize, columns: usize, rounds: usize) -> Result<CodegenTimes, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "run",
            "--quiet",
            "-p",
            "audit-bench",
            "--bin",
            "codegen-bench",
            "--",
        ])
        .args(["--tables", &tables.to_string()])
        .args(["--columns", &columns.to_string()])
        .args(["--rounds", &rounds.to_string()])
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "codegen-bench failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    from_json(text.trim()).ok_or_else(|| format!("unexpected codegen-bench output: {text}"))
}

/// The JSON `codegen-bench` prints.
pub fn to_json(times: &CodegenTimes) -> String {
    let ms = |d: &[Duration]| {
        d.iter()
            .map(|d| d.as_secs_f64() * 1000.0)
            .collect::<Vec<_>>()
    };
    json!({
        "tables": times.tables,
        "columns": times.columns,
        "first_ms": ms(&times.first),
        "noop_ms": ms(&times.noop),
        "files": times.files,
        "bytes": times.bytes,
        "pipeline": times.pipeline,
        "first_phases": phases(&times.first_phases),
        "noop_phases": phases(&times.noop_phases),
        "debug": cfg!(debug_assertions),
    })
    .to_string()
}

fn phases(phases: &[(String, Duration)]) -> Value {
    phases
        .iter()
        .map(|(name, d)| json!([name, d.as_secs_f64() * 1000.0]))
        .collect()
}

fn read_phases(value: &Value) -> Vec<(String, Duration)> {
    value
        .as_array()
        .map(|phases| {
            phases
                .iter()
                .filter_map(|p| {
                    Some((
                        p[0].as_str()?.to_owned(),
                        Duration::from_secs_f64(p[1].as_f64()? / 1000.0),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Reads [`to_json`]'s output back; `None` when it is not that shape.
pub fn from_json(text: &str) -> Option<CodegenTimes> {
    let value: Value = serde_json::from_str(text).ok()?;
    let durations = |key: &str| -> Option<Vec<Duration>> {
        value[key]
            .as_array()?
            .iter()
            .map(|v| v.as_f64().map(|ms| Duration::from_secs_f64(ms / 1000.0)))
            .collect()
    };
    let mut pipeline = value["pipeline"].as_str()?.to_owned();
    if value["debug"].as_bool() == Some(false) {
        pipeline.push_str(" [release build: not the build-script profile]");
    }
    Some(CodegenTimes {
        tables: value["tables"].as_u64()? as usize,
        columns: value["columns"].as_u64()? as usize,
        first: durations("first_ms")?,
        noop: durations("noop_ms")?,
        files: value["files"].as_u64()? as usize,
        bytes: value["bytes"].as_u64()?,
        pipeline,
        first_phases: read_phases(&value["first_phases"]),
        noop_phases: read_phases(&value["noop_phases"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let times = CodegenTimes {
            tables: 3,
            columns: 4,
            first: vec![Duration::from_millis(12)],
            noop: vec![Duration::from_millis(2)],
            files: 5,
            bytes: 600,
            pipeline: "p".into(),
            first_phases: vec![("plan".into(), Duration::from_millis(3))],
            noop_phases: Vec::new(),
        };
        let back = from_json(&to_json(&times)).unwrap();
        assert_eq!(back.tables, 3);
        assert_eq!(back.files, 5);
        assert_eq!(back.first_phases[0].0, "plan");
        assert!((back.first[0].as_secs_f64() - 0.012).abs() < 1e-9);
    }
}
