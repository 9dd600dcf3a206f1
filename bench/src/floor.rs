//! The third-party peers: Debian packages installed on demand (`apt-get`), the C programs of
//! `bench/c/` compiled against them, and their one-line JSON results.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The workspace root (the bench crate's parent).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where compiled helpers go: `$CARGO_TARGET_DIR/bench` or `<workspace>/target/bench`.
pub fn out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("bench")
}

/// Make sure the Debian packages are installed (`apt-get install` when one is missing).
pub fn ensure_packages(pkgs: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = pkgs
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
                .unwrap_or(false)
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("iq-bench: installing {}", missing.join(" "));
    let st = Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    if !st.success() {
        return Err(format!(
            "apt-get install {} failed (root needed)",
            missing.join(" ")
        ));
    }
    Ok(())
}

/// Compile `bench/c/<name>.c` with `libs`; the executable.
pub fn compile(name: &str, libs: &[&str]) -> Result<PathBuf, String> {
    let src = workspace().join("bench/c").join(format!("{name}.c"));
    let dir = out_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let exe = dir.join(name);
    let out = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-O2", "-Wall", "-o"])
        .arg(&exe)
        .arg(&src)
        .args(libs)
        .output()
        .map_err(|e| format!("cc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cc {}: {}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(exe)
}

/// Run a helper and parse its JSON line.
pub fn run_json(exe: &Path, args: &[&str]) -> Result<Value, String> {
    let out = Command::new(exe)
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            exe.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse_line(&String::from_utf8_lossy(&out.stdout))
}

/// The last non-empty line of `text` as a JSON object.
pub fn parse_line(text: &str) -> Result<Value, String> {
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or("no output")?;
    let v: Value = serde_json::from_str(line).map_err(|e| format!("{line:?}: {e}"))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(format!("{line:?}: not an object"))
    }
}

/// A number field of a helper's result.
pub fn num(v: &Value, key: &str) -> Result<f64, String> {
    v.get(key)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("no number {key:?} in {v}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_json_line_counts() {
        let v = parse_line("warming up\n{\"protect_ns\": 812.5, \"v\": \"x\"}\n\n").unwrap();
        assert_eq!(num(&v, "protect_ns"), Ok(812.5));
        assert!(num(&v, "v").is_err());
        assert!(parse_line("").is_err());
        assert!(parse_line("[1,2]").is_err());
        assert!(parse_line("{oops").is_err());
    }
}
