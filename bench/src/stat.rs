//! CPU accounting: a process's `utime + stime` from `/proc/PID/stat` (all its threads), and
//! the calling thread's CPU clock.

use std::path::Path;
use std::time::Duration;

use thiserror::Error;

/// Why a stat line could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatError {
    /// No `)` closing the command name.
    #[error("no closing parenthesis after the command name")]
    NoComm,
    /// Fewer fields than `stime` (field 15).
    #[error("too few fields")]
    Short,
    /// A field that should be a number is not.
    #[error("field {0} is not a number")]
    NotNumber(usize),
    /// The file could not be read.
    #[error("read {0}")]
    Io(String),
}

/// `utime` and `stime` (fields 14 and 15 of proc(5), in clock ticks) of one stat line. The
/// command name (field 2) is in parentheses and may itself contain spaces and parentheses,
/// so the fields are counted from the last `)`.
pub fn parse_stat(line: &str) -> Result<(u64, u64), StatError> {
    let close = line.rfind(')').ok_or(StatError::NoComm)?;
    // after ")": field 3 (state) is the first
    let rest: Vec<&str> = line[close + 1..].split_whitespace().collect();
    let field = |n: usize| -> Result<u64, StatError> {
        rest.get(n - 3)
            .ok_or(StatError::Short)?
            .parse()
            .map_err(|_| StatError::NotNumber(n))
    };
    Ok((field(14)?, field(15)?))
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when getconf is missing).
pub fn clk_tck() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// CPU time (user + system, all threads) a process has used so far.
pub fn process_cpu(pid: u32, tck: u64) -> Result<Duration, StatError> {
    let path = Path::new("/proc").join(pid.to_string()).join("stat");
    let text = std::fs::read_to_string(&path).map_err(|e| StatError::Io(e.to_string()))?;
    let (u, s) = parse_stat(&text)?;
    Ok(ticks(u + s, tck))
}

/// `t` clock ticks as a duration.
pub fn ticks(t: u64, tck: u64) -> Duration {
    let tck = tck.max(1);
    Duration::from_secs(t / tck) + Duration::from_nanos((t % tck) * 1_000_000_000 / tck)
}

/// The calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, nanosecond resolution).
pub fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_counted_from_the_last_parenthesis() {
        // a command name with spaces and a ")" inside, as proc(5) warns
        let line = "4242 (we ird) (x) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 \
                    1 0 100 1000000 300 18446744073709551615";
        assert_eq!(parse_stat(line), Ok((1234, 567)));
    }

    #[test]
    fn bad_lines_are_errors() {
        assert_eq!(parse_stat("12 noparen S 1"), Err(StatError::NoComm));
        assert_eq!(parse_stat("12 (a) S 1 2 3"), Err(StatError::Short));
        let bad = "1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 5";
        assert_eq!(parse_stat(bad), Err(StatError::NotNumber(14)));
    }

    #[test]
    fn own_process_cpu_grows_with_work() {
        let tck = clk_tck();
        let before = process_cpu(std::process::id(), tck).expect("own stat");
        let t0 = thread_cpu();
        let mut x = 0u64;
        while thread_cpu() - t0 < Duration::from_millis(60) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        let after = process_cpu(std::process::id(), tck).expect("own stat");
        // 60 ms of busy thread time shows in the process's ticks (10 ms granularity)
        assert!(
            after >= before + Duration::from_millis(30),
            "{before:?} -> {after:?}"
        );
    }

    #[test]
    fn ticks_convert_exactly() {
        assert_eq!(ticks(250, 100), Duration::from_millis(2500));
        assert_eq!(ticks(3, 1000), Duration::from_millis(3));
    }
}
