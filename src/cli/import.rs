//! `gauntlet import nginx-log|har FILE -o SCENARIO.yaml`: the flags, checked into
//! [`crate::import::Options`], and the scenario written whole (a temporary file renamed), with
//! the import's summary on standard error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use crate::import::{self, nginx, Options, Source, Timing};
use crate::model::verdict::code;

/// `gauntlet import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What to import.
    #[command(subcommand)]
    pub what: ImportWhat,
}

/// The sources `import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// An nginx access log.
    #[command(name = "nginx-log")]
    NginxLog {
        /// The log file.
        file: PathBuf,
        /// `combined` (nginx's default), `json` (one object per line, keys named like the
        /// variables: time_local or time_iso8601 or msec, request or request_method and
        /// request_uri, status, http_*), or the log_format string itself.
        #[arg(long, default_value = "combined")]
        format: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// A HAR 1.2 file, as browsers export it.
    Har {
        /// The HAR file.
        file: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
}

/// `--timing`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TimingArg {
    /// The recorded mix at the recorded mean rate, for 30 s.
    Mix,
    /// The recorded per-second arrival rate (times --speed).
    Original,
}

/// Flags every source takes.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Write the scenario here.
    #[arg(
        short = 'o',
        long = "out",
        required = true,
        value_name = "SCENARIO.yaml"
    )]
    pub out: PathBuf,
    /// `mix` (default): the mix at the mean rate; `original`: the recorded arrival rate, second
    /// by second.
    #[arg(long, value_enum, default_value = "mix")]
    pub timing: TimingArg,
    /// With --timing original: replay this many times faster (0.5: half as fast).
    #[arg(long, allow_negative_numbers = true)]
    pub speed: Option<f64>,
    /// The target's URL in the scenario.
    #[arg(long, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub target: String,
    /// Keep recorded secrets (authorization, cookies, tokens) instead of replacing them by
    /// environment references.
    #[arg(long)]
    pub keep_secrets: bool,
    /// At most this many requests in the scenario, the most frequent groups (1 to 4096).
    #[arg(long, default_value_t = 100, allow_negative_numbers = true)]
    pub max_requests: i64,
}

/// The checked request: input, options, output.
struct Checked {
    file: PathBuf,
    out: PathBuf,
    options: Options,
}

impl TryFrom<ImportArgs> for Checked {
    type Error = String;

    fn try_from(a: ImportArgs) -> Result<Self, String> {
        let (file, source, c) = match a.what {
            ImportWhat::NginxLog {
                file,
                format,
                common,
            } => (
                file,
                Source::NginxLog {
                    format: nginx::Format::parse(&format).map_err(|e| format!("--format: {e}"))?,
                    spec: format,
                },
                common,
            ),
            ImportWhat::Har { file, common } => (file, Source::Har, common),
        };
        let timing = match c.timing {
            TimingArg::Mix => Timing::Mix,
            TimingArg::Original => Timing::Original,
        };
        if c.speed.is_some() && timing == Timing::Mix {
            return Err("--speed applies to --timing original only".into());
        }
        let speed = c.speed.unwrap_or(1.0);
        if !(speed.is_finite() && speed > 0.0 && speed <= 1000.0) {
            return Err(format!(
                "--speed {speed}: give a factor above 0 and at most 1000"
            ));
        }
        let max_groups = import::MAX_GROUPS;
        if !(1..=max_groups as i64).contains(&c.max_requests) {
            return Err(format!(
                "--max-requests {}: give 1 to {max_groups}",
                c.max_requests
            ));
        }
        let t = c.target.as_str();
        let scheme_ok = ["http://", "https://", "h2c://"]
            .iter()
            .any(|s| t.starts_with(s) && t.len() > s.len());
        if !(scheme_ok || t == "embedded") {
            return Err(format!(
                "--target {t}: give an http://, https:// or h2c:// URL, or `embedded`"
            ));
        }
        Ok(Checked {
            file,
            out: c.out,
            options: Options {
                source,
                timing,
                speed,
                target: c.target,
                keep_secrets: c.keep_secrets,
                max_requests: c.max_requests as usize,
            },
        })
    }
}

/// Runs `gauntlet import`.
pub fn import(a: ImportArgs) -> ExitCode {
    let c = match Checked::try_from(a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(code::HARNESS);
        }
    };
    let imported = match import::import(&c.file, &c.options) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(code::HARNESS);
        }
    };
    for l in &imported.summary {
        eprintln!("{l}");
    }
    if let Err(e) = crate::model::files::write_atomic(&c.out, imported.yaml.as_bytes()) {
        eprintln!("error: cannot write {}: {e}", c.out.display());
        return ExitCode::from(code::HARNESS);
    }
    outln!("wrote {}", c.out.display());
    ExitCode::SUCCESS
}
