//! `iq-interop`: the lab tool. For now: the codec demo (`iq-interop codec`).

use clap::{Parser, Subcommand, ValueEnum};
use iq_codec::text::{self, Style};
use std::io::Read;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "iq-interop",
    version,
    about = "Iq (H.248) lab tool: codec, lab runs, conformance, trace replay"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Decode one H.248 message and write it re-encoded.
    ///
    /// Reads FILE (or standard input), decodes it as the `--from` encoding and writes it in the
    /// `--to` form on standard output. On bad input prints `line:column: error CODE: reason` on
    /// standard error and exits with status 2; CODE is the H.248 error code a receiver would
    /// answer with (400 syntax error, 403 syntax error in transaction, 406 version not supported).
    Codec {
        /// Input encoding.
        #[arg(long, value_enum, default_value_t = From::Text)]
        from: From,
        /// Output form: pretty text (long tokens), compact text (short tokens) or JSON (a stable
        /// rendering of the decoded model, for diffs and scripts).
        #[arg(long, value_enum, default_value_t = To::Pretty)]
        to: To,
        /// Message file; standard input when absent.
        file: Option<std::path::PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum From {
    /// H.248.1 Annex B text (long or short tokens).
    Text,
}

#[derive(Clone, Copy, ValueEnum)]
enum To {
    /// Text with long tokens, indented.
    Pretty,
    /// Text with short tokens, no optional white space.
    Compact,
    /// JSON rendering of the model.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Codec { from, to, file } => codec(from, to, file),
    }
}

fn codec(from: From, to: To, file: Option<std::path::PathBuf>) -> ExitCode {
    let input = match &file {
        Some(p) => std::fs::read(p).map_err(|e| format!("{}: {e}", p.display())),
        None => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .map(|_| v)
                .map_err(|e| format!("stdin: {e}"))
        }
    };
    let input = match input {
        Ok(i) => i,
        Err(e) => {
            eprintln!("iq-interop codec: cannot read {e}");
            return ExitCode::from(2);
        }
    };
    let msg = match from {
        From::Text => text::decode(&input),
    };
    let msg = match msg {
        Ok(m) => m,
        Err(e) => {
            let name = file
                .as_ref()
                .map_or("<stdin>".to_string(), |p| p.display().to_string());
            eprintln!("{name}:{e}");
            return ExitCode::from(2);
        }
    };
    let out = match to {
        To::Pretty => text::encode(&msg, Style::Pretty),
        To::Compact => text::encode(&msg, Style::Compact),
        To::Json => match serde_json::to_string_pretty(&msg) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("iq-interop codec: JSON rendering failed: {e}");
                return ExitCode::from(2);
            }
        },
    };
    print!("{out}");
    ExitCode::SUCCESS
}
