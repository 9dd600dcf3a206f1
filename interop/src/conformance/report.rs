//! Verdicts, the human summary table and the JUnit XML report.

use std::fmt::Write as _;
use std::time::Duration;

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// The first check that failed, naming the rule it enforces.
    Fail(String),
    /// A precondition is missing (no media plane, option not given, ...): the reason.
    NotApplicable(String),
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Scenario name.
    pub name: &'static str,
    /// What it covers.
    pub about: &'static str,
    /// Verdict.
    pub verdict: Verdict,
    /// Wall time.
    pub time: Duration,
    /// The steps taken (for the JUnit system-out and `--verbose`).
    pub steps: Vec<String>,
}

fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail(_) => "FAIL",
        Verdict::NotApplicable(_) => "N/A",
    }
}

/// The summary table: scenario, verdict, time, first failure (or the N/A reason).
pub fn summary(outcomes: &[Outcome]) -> String {
    let w = outcomes
        .iter()
        .map(|o| o.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<w$}  {:<7} {:>7}  first failure / reason",
        "scenario", "verdict", "time"
    );
    let _ = writeln!(s, "{}", "-".repeat(w + 50));
    for o in outcomes {
        let why = match &o.verdict {
            Verdict::Pass => String::new(),
            Verdict::Fail(m) | Verdict::NotApplicable(m) => {
                m.lines().next().unwrap_or("").to_string()
            }
        };
        let _ = writeln!(
            s,
            "{:<w$}  {:<7} {:>6.2}s  {}",
            o.name,
            verdict_word(&o.verdict),
            o.time.as_secs_f64(),
            why
        );
    }
    let (p, f, n) = counts(outcomes);
    let _ = writeln!(s, "{p} passed, {f} failed, {n} not applicable");
    s
}

/// (passed, failed, not applicable).
pub fn counts(outcomes: &[Outcome]) -> (usize, usize, usize) {
    let c = |pred: fn(&Verdict) -> bool| outcomes.iter().filter(|o| pred(&o.verdict)).count();
    (
        c(|v| *v == Verdict::Pass),
        c(|v| matches!(v, Verdict::Fail(_))),
        c(|v| matches!(v, Verdict::NotApplicable(_))),
    )
}

/// XML character data / attribute value: escape markup and drop characters XML 1.0 forbids.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' | '\r' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => o.push('?'),
            c => o.push(c),
        }
    }
    o
}

/// The JUnit XML report: one `testsuite` (`suite`), one `testcase` per scenario with
/// `failure` or `skipped` (N/A) and the steps as `system-out`.
pub fn junit(suite: &str, outcomes: &[Outcome]) -> String {
    let (_, f, n) = counts(outcomes);
    let total: f64 = outcomes.iter().map(|o| o.time.as_secs_f64()).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"iq-interop conformance\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"{n}\" time=\"{total:.3}\">",
        outcomes.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"{n}\" time=\"{total:.3}\">",
        esc(suite),
        outcomes.len()
    );
    for o in outcomes {
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            esc(suite),
            esc(o.name),
            o.time.as_secs_f64()
        );
        match &o.verdict {
            Verdict::Pass => {}
            Verdict::Fail(m) => {
                let first = m.lines().next().unwrap_or("");
                let _ = write!(
                    s,
                    "\n      <failure message=\"{}\" type=\"conformance\">{}</failure>",
                    esc(first),
                    esc(m)
                );
            }
            Verdict::NotApplicable(m) => {
                let _ = write!(
                    s,
                    "\n      <skipped message=\"not applicable: {}\"/>",
                    esc(m)
                );
            }
        }
        let _ = write!(
            s,
            "\n      <system-out>{}\n{}</system-out>\n    </testcase>\n",
            esc(o.about),
            esc(&o.steps.join("\n"))
        );
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(esc("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;?");
        let o = Outcome {
            name: "x",
            about: "y",
            verdict: Verdict::Fail("[rule] <bad> & \u{0}".into()),
            time: Duration::from_millis(1500),
            steps: vec!["step <1>".into()],
        };
        let x = junit("s", &[o]);
        assert!(x.contains("failures=\"1\""));
        assert!(x.contains("&lt;bad&gt; &amp; ?"));
        assert!(!x.contains('\u{0}'));
    }
}
