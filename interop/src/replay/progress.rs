//! Progress of a long replay, on standard error (the report goes to standard output, after the
//! replay, so the two never mix): on a terminal one `\r`-updated line, erased at the end;
//! otherwise one line every N transactions and one for the last. `--quiet` turns it off.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The indicator.
pub(super) struct Progress {
    total: usize,
    every: usize,
    on: bool,
    tty: bool,
    last_draw: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// `every`: lines are printed every that many transactions when standard error is no
    /// terminal (0 is taken as 1).
    pub(super) fn new(total: usize, quiet: bool, every: usize) -> Self {
        Progress {
            total,
            every: every.max(1),
            on: !quiet && total > 0,
            tty: std::io::stderr().is_terminal(),
            last_draw: None,
            drawn: false,
        }
    }

    fn line(&self, done: usize, failed: usize) -> String {
        format!(
            "replay: {done}/{} transaction(s), {failed} not matching",
            self.total
        )
    }

    /// `done` transactions replayed so far, `failed` of them not matching.
    pub(super) fn step(&mut self, done: usize, failed: usize) {
        if !self.on {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let due = self
                .last_draw
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
            if due || done == self.total {
                let _ = write!(err, "\r\x1b[K{}", self.line(done, failed));
                let _ = err.flush();
                self.last_draw = Some(Instant::now());
                self.drawn = true;
            }
        } else if done % self.every == 0 || done == self.total {
            let _ = writeln!(err, "{}", self.line(done, failed));
        }
    }

    /// Erases the terminal line (so that nothing is left half-drawn before the report).
    pub(super) fn finish(&mut self) {
        if self.on && self.tty && self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
