//! The daemons' log lines: `tracing-subscriber`'s full format, written at a fraction of its cost.
//!
//! The line is the one `tracing_subscriber::fmt()` writes without colours ([`LineFormat`])
//! (`2026-11-28T03:33:34.307870Z  INFO context{ctx=1}: iq_agw::control: added term="ip/acc/t1"
//! context=1`): tests, scripts and operators read it. How it is written is ours, because a
//! profile of the AGW under load (`callgrind`, 1,000 sessions) put a fifth of its instructions in
//! writing about ten lines per session, ~10,000 instructions a line:
//!
//! - [`LineFormat`] writes the line's parts (timestamp, level, spans, target) with plain string
//!   writes;
//! - [`Fields`] formats event and span fields. The stock visitor sends every value, integers
//!   included, through `Debug` and through a writer that escapes one `char` at a time; this one
//!   writes integers and booleans directly and escapes in runs, with the same result: strings
//!   quoted as `Debug` quotes them, messages and `Display`/`Debug` values with control
//!   characters (C0, DEL, C1) escaped, so a peer's text cannot forge or split a line;
//! - [`UtcMicros`] writes the RFC 3339 timestamp with microseconds, formatting the date and time
//!   of day once per second instead of once per line;
//! - [`Stdout`] collects lines and writes them to standard output together: before the drivers
//!   send the messages a turn of their loop produced (so the lines about a message are out before
//!   it is), at the latest [`FLUSH_EVERY`] after they were logged, at once for warnings and
//!   errors, when [`FLUSH_AT`] bytes are waiting, and when the [`Flush`] guard is dropped (the
//!   end of `main`) or a panic is reported. A line per `write` system call was 7 calls per
//!   session in the AGW.

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::io::{self, Write as _};
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Longest a line waits in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Bytes waiting that make the next line write them all at once.
pub const FLUSH_AT: usize = 32 * 1024;

/// Lines not yet written.
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Held while a batch is written, so that batches reach standard output in order.
static WRITING: Mutex<()> = Mutex::new(());

/// `MakeWriter` for the daemons' standard output (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

/// One event's writer: appends to the buffer; dropping it flushes when due.
#[derive(Debug)]
pub struct LineWriter {
    urgent: bool,
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Stdout {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter { urgent: false }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LineWriter {
        LineWriter {
            urgent: *meta.level() <= tracing::Level::WARN,
        }
    }
}

impl io::Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
        pending.extend_from_slice(buf);
        if pending.len() >= FLUSH_AT {
            self.urgent = true;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.urgent {
            flush();
        }
    }
}

/// Write the waiting lines to standard output now. The drivers call it before they send what
/// a turn of their loop produced, so a line about a message is out before the message is.
pub fn flush() {
    // Nothing waiting: return without queueing behind a batch being written (the event loop
    // calls this every turn).
    if PENDING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .is_empty()
    {
        return;
    }
    let _order = WRITING.lock().unwrap_or_else(PoisonError::into_inner);
    let batch = std::mem::take(&mut *PENDING.lock().unwrap_or_else(PoisonError::into_inner));
    if !batch.is_empty() {
        let mut out = io::stdout().lock();
        // Nowhere to report a failed write of the log itself.
        let _ = out.write_all(&batch);
        let _ = out.flush();
    }
}

/// Flushes the log when dropped: keep it alive for the whole of `main`.
#[derive(Debug)]
#[must_use = "dropping the guard flushes the log now, not at the end of main"]
pub struct Flush(());

impl Drop for Flush {
    fn drop(&mut self) {
        flush();
    }
}

/// Start the periodic flush and the flush on panic (once per process); the returned guard
/// flushes when dropped.
pub fn start_flushing() -> Flush {
    static START: Once = Once::new();
    START.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            flush();
            previous(info);
        }));
        // If the thread cannot start, warnings and errors still go out at once and the rest
        // at FLUSH_AT or at the end.
        let _ = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(|| loop {
                std::thread::sleep(FLUSH_EVERY);
                flush();
            });
    });
    Flush(())
}

/// The whole line: `tracing-subscriber`'s `Full` format without colours (timestamp, level,
/// span scope with the spans' fields, target, fields), written with plain string writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineFormat;

impl<S, N> FormatEvent<S, N> for LineFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events from the `log` crate carry their real target and level in fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        if UtcMicros.format_time(&mut w).is_err() {
            w.write_str("<unknown time>")?;
        }
        w.write_str(match *meta.level() {
            Level::TRACE => " TRACE ",
            Level::DEBUG => " DEBUG ",
            Level::INFO => "  INFO ",
            Level::WARN => "  WARN ",
            Level::ERROR => " ERROR ",
        })?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                w.write_str(span.metadata().name())?;
                seen = true;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        w.write_char('{')?;
                        w.write_str(fields)?;
                        w.write_char('}')?;
                    }
                }
                w.write_char(':')?;
            }
            if seen {
                w.write_char(' ')?;
            }
        }
        w.write_str(meta.target())?;
        w.write_str(": ")?;
        ctx.format_fields(w.by_ref(), event)?;
        w.write_char('\n')
    }
}

/// Field formatter of the daemons' logs: `message` first and bare, then `name=value`,
/// space-separated, as `tracing-subscriber`'s default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields;

impl<'w> FormatFields<'w> for Fields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut v = Visitor {
            w: writer,
            padded: false,
            result: Ok(()),
        };
        fields.record(&mut v);
        v.result
    }
}

struct Visitor<'w> {
    w: Writer<'w>,
    /// Something was written: the next field needs a space first.
    padded: bool,
    result: fmt::Result,
}

impl Visitor<'_> {
    /// Starts a field: `false` when it must be skipped (an earlier write failed, or a `log.*`
    /// metadata field of the `log` bridge).
    fn start(&mut self, field: &Field) -> bool {
        if self.result.is_err() || field.name().starts_with("log.") {
            return false;
        }
        if self.padded {
            self.result = self.w.write_char(' ');
        }
        self.padded = true;
        if field.name() != "message" {
            let name = field.name();
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.result = self
                .result
                .and_then(|()| self.w.write_str(name))
                .and_then(|()| self.w.write_char('='));
        }
        self.result.is_ok()
    }

    fn integer(&mut self, field: &Field, v: impl fmt::Display) {
        if self.start(field) {
            self.result = write!(self.w, "{v}");
        }
    }
}

impl Visit for Visitor<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value)
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field, value)
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.integer(field, value)
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.integer(field, value)
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field) {
            self.result = self.w.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.start(field) {
            self.result = if field.name() == "message" {
                Escaping(&mut self.w).write_str(value)
            } else {
                // `Debug` of a `str` quotes and escapes every control character itself.
                write!(self.w, "{value:?}")
            };
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.start(field) {
            let mut w = Escaping(&mut self.w);
            self.result = write!(w, "{value}");
            let mut source = value.source();
            if source.is_some() {
                self.result = self
                    .result
                    .and_then(|()| write!(w, " {}.sources=[", field.name()));
                let mut first = true;
                while let Some(s) = source {
                    if !first {
                        self.result = self.result.and_then(|()| w.write_str(", "));
                    }
                    first = false;
                    self.result = self.result.and_then(|()| write!(w, "{s}"));
                    source = s.source();
                }
                self.result = self.result.and_then(|()| w.write_char(']'));
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.result = write!(Escaping(&mut self.w), "{value:?}");
        }
    }
}

/// Writes through, escaping the control characters a terminal or a line-based reader would act
/// on (C0 including line ends, DEL, C1), in runs rather than one `char` at a time.
struct Escaping<'a, W: fmt::Write>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| c.is_control()) {
            self.0.write_str(&rest[..i])?;
            write!(self.0, "\\u{{{:x}}}", c as u32)?;
            rest = &rest[i + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

/// RFC 3339 UTC timestamp with microseconds (`2026-11-28T03:33:34.307870Z`), as
/// `tracing_subscriber::fmt::time::SystemTime` writes it.
#[derive(Debug, Clone, Copy, Default)]
pub struct UtcMicros;

thread_local! {
    /// The last second formatted, and its `YYYY-MM-DDTHH:MM:SS`.
    static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

impl FormatTime for UtcMicros {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let secs = now.as_secs();
        let (cached, mut text) = SECOND.get();
        if cached != secs {
            text = date_time(secs);
            SECOND.set((secs, text));
        }
        // Only ASCII digits and separators were written into `text`.
        w.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)?;
        let mut frac = *b".000000Z";
        digits(&mut frac[1..7], u64::from(now.subsec_micros()));
        w.write_str(std::str::from_utf8(&frac).map_err(|_| fmt::Error)?)
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix time (proleptic Gregorian calendar, UTC).
fn date_time(secs: u64) -> [u8; 19] {
    let days = secs / 86_400;
    let sod = secs % 86_400;
    let (y, m, d) = iq_codec::model::civil_from_days(days);
    let mut out = *b"0000-00-00T00:00:00";
    digits(&mut out[0..4], y);
    digits(&mut out[5..7], m);
    digits(&mut out[8..10], d);
    digits(&mut out[11..13], sod / 3600);
    digits(&mut out[14..16], sod / 60 % 60);
    digits(&mut out[17..19], sod % 60);
    out
}

/// `v` in decimal into all of `out`, zero-padded (the lowest digits if it is longer).
fn digits(out: &mut [u8], mut v: u64) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Sink {
        type Writer = Sink;
        fn make_writer(&'a self) -> Sink {
            self.clone()
        }
    }

    /// What a subscriber writes for `f`'s events, with our parts or with the stock ones.
    fn lines(ours: bool, f: impl FnOnce()) -> String {
        let sink = Sink::default();
        let builder = tracing_subscriber::fmt()
            .with_writer(sink.clone())
            .with_ansi(false)
            .without_time();
        if ours {
            tracing::subscriber::with_default(builder.fmt_fields(Fields).finish(), f);
        } else {
            tracing::subscriber::with_default(builder.finish(), f);
        }
        let out = sink.0.lock().unwrap().clone();
        String::from_utf8(out).unwrap()
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    enum Kind {
        DtlsSrtp,
        Plain,
    }

    #[test]
    fn lines_match_the_stock_formatter() {
        let events = || {
            let span = tracing::info_span!("context", ctx = 7u32, name = "ip/acc/t1");
            let _g = span.enter();
            let inner = tracing::info_span!("termination", term = "x", neg = -3i64, ok = true);
            let _g2 = inner.enter();
            tracing::info!(
                id = 42u64,
                commands = ?["Add", "Modify"],
                contexts = 1usize,
                kind = ?Kind::DtlsSrtp,
                addr = %std::net::SocketAddr::from(([127, 0, 0, 1], 2944)),
                r#type = "quoted \"text\"",
                "request answered"
            );
            tracing::warn!(big = u128::MAX, small = i128::MIN, "limits {}", 5);
            tracing::info!(text = "tab\there", "no fields of note");
            let e = std::io::Error::other("broken pipe");
            tracing::info!(error = &e as &(dyn std::error::Error + 'static), "failed");
        };
        let stock = lines(false, events);
        let ours = lines(true, events);
        assert_eq!(ours, stock);
        assert!(ours.contains(
            "context{ctx=7 name=\"ip/acc/t1\"}:termination{term=\"x\" neg=-3 ok=true}: "
        ));
        assert!(ours.contains("request answered id=42 commands=[\"Add\", \"Modify\"] contexts=1 kind=DtlsSrtp addr=127.0.0.1:2944 type=\"quoted \\\"text\\\"\""));
    }

    #[test]
    fn whole_lines_match_the_stock_format() {
        let events = || {
            let span = tracing::info_span!("context", ctx = 7u32);
            let _g = span.enter();
            let empty = tracing::info_span!("txn");
            let _g2 = empty.enter();
            tracing::info!(term = "ip/acc/t1", context = 1u32, "added");
            tracing::warn!("no fields");
            tracing::error!(target: "iq_link::other", code = 500u16, "failed");
            drop(_g2);
            drop(_g);
            tracing::debug!(x = 1u8, "outside any span");
        };
        let sink = Sink::default();
        let stock = {
            let sub = tracing_subscriber::fmt()
                .with_writer(sink.clone())
                .with_ansi(false)
                .with_max_level(Level::DEBUG)
                .without_time()
                .fmt_fields(Fields)
                .finish();
            tracing::subscriber::with_default(sub, events);
            String::from_utf8(std::mem::take(&mut *sink.0.lock().unwrap())).unwrap()
        };
        let ours = {
            let sub = tracing_subscriber::fmt()
                .with_writer(sink.clone())
                .with_max_level(Level::DEBUG)
                .fmt_fields(Fields)
                .event_format(LineFormat)
                .finish();
            tracing::subscriber::with_default(sub, events);
            String::from_utf8(std::mem::take(&mut *sink.0.lock().unwrap())).unwrap()
        };
        assert_eq!(stock.lines().count(), 4, "{stock}");
        assert_eq!(ours.lines().count(), 4, "{ours}");
        for (o, s) in ours.lines().zip(stock.lines()) {
            // Ours carries the timestamp: `2026-11-28T03:33:34.307870Z ` (28 bytes) first.
            assert_eq!(o.as_bytes()[26..28], *b"Z ", "{o}");
            assert_eq!(&o[28..], s);
        }
        assert!(ours.contains(" INFO context{ctx=7}:txn: iq_link::logs::tests: added term=\"ip/acc/t1\" context=1\n"), "{ours}");
    }

    #[test]
    fn control_characters_cannot_forge_lines() {
        let peer_text = "bye\n2026-01-01T00:00:00.000000Z  INFO forged\u{1b}[31m\u{9b}";
        let out = lines(true, || {
            tracing::info!(reason = %peer_text, "ng request {}", peer_text);
            tracing::info!(reason = ?peer_text, "debug form");
        });
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(!out.contains('\u{1b}') && !out.contains('\u{9b}'), "{out}");
        assert!(out.contains("bye\\u{a}2026"), "{out}");
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        assert_eq!(&date_time(0), b"1970-01-01T00:00:00");
        // 2026-11-28T03:33:34Z, 2000-02-29T23:59:59Z (leap day), 2100-03-01T00:00:00Z.
        assert_eq!(&date_time(1_795_836_814), b"2026-11-28T03:33:34");
        assert_eq!(&date_time(951_868_799), b"2000-02-29T23:59:59");
        assert_eq!(&date_time(4_107_542_400), b"2100-03-01T00:00:00");
        let mut s = String::new();
        UtcMicros.format_time(&mut Writer::new(&mut s)).unwrap();
        let b = s.as_bytes();
        assert_eq!(s.len(), 27, "{s}");
        assert_eq!((b[4], b[10], b[19], b[26]), (b'-', b'T', b'.', b'Z'), "{s}");
        let stock_now = {
            let mut t = String::new();
            tracing_subscriber::fmt::time::SystemTime
                .format_time(&mut Writer::new(&mut t))
                .unwrap();
            t
        };
        // Same second (or the next one, if the clock ticked between the two calls).
        assert!(stock_now[..17] == s[..17], "{stock_now} vs {s}");
    }
}
