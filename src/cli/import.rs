//! `wxsec import`: the record of each article now, from an address, a saved page or standard
//! input; one line (or JSON object) per target on standard output.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;
use std::time::Duration;

use wxsec::ExitCode;
use wxsec::fetch::FetchConfig;
use wxsec::import::{self, ImportOptions};
use wxsec::store::Format;

use super::args::{ExtrasArgs, OutFormat};
use super::out::{error_text, progress_bar, quiet, runtime, say, stdout_line, usage};

/// The arguments of `import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The archive folder.
    #[arg(long, default_value = "archive")]
    pub out: PathBuf,
    /// Output form.
    #[arg(long, value_enum, default_value_t = OutFormat::Md)]
    pub format: OutFormat,
    /// Seconds one request may take, connection included.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Largest page accepted, in bytes after decompression (real pages are 2–4 MB).
    #[arg(long, default_value_t = wxsec::fetch::DEFAULT_MAX_BODY)]
    pub max_page_bytes: usize,
    /// Seconds between requests to mp.weixin.qq.com (redirect hops included), as in `crawl`.
    #[arg(long, default_value_t = 3.0)]
    pub delay: f64,
    /// Random extra spacing, as a fraction of the delay.
    #[arg(long, default_value_t = 0.5)]
    pub jitter: f64,
    #[command(flatten)]
    pub extras: ExtrasArgs,
    /// Do not add the records to the search index.
    #[arg(long, conflicts_with = "state")]
    pub no_index: bool,
    /// The state holding the search index: a file, or the `postgres://` address crawl hosts
    /// share [default: OUT/.wxsec/state.sqlite].
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The account of saved pages that name none (a backup tool's page rebuilt around the
    /// content, with no account line); a page's own account always wins.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// One JSON object per target on standard output instead of the record's path:
    /// {"target", "path", "url", "title"} when written, {"target", "error", "exit"} when not.
    #[arg(long)]
    pub json: bool,
    /// Article addresses (https://mp.weixin.qq.com/s?__biz=… or /s/…), saved pages, or -.
    #[arg(required = true)]
    pub targets: Vec<String>,
}

/// Runs `import`.
pub fn run(args: ImportArgs) -> ProcessExit {
    let ImportArgs {
        out,
        format,
        timeout,
        max_page_bytes,
        delay,
        jitter,
        extras,
        no_index,
        state,
        source,
        json,
        targets,
    } = args;
    let index = (!no_index).then(|| state.unwrap_or_else(|| out.join(".wxsec/state.sqlite")));
    let fetch = match FetchConfig::from_env() {
        Ok(f) => FetchConfig {
            timeout: Duration::from_secs(timeout),
            connect_timeout: Duration::from_secs(timeout).min(f.connect_timeout),
            max_body: max_page_bytes,
            image_allow: wxsec::fetch::guard::Allowed::new(&extras.allow_image_hosts),
            delay: Duration::from_secs_f64(delay.clamp(0.0, 3600.0)),
            jitter: jitter.clamp(0.0, 4.0),
            ..f
        },
        Err(msg) => return usage(&msg),
    };
    let format = match format {
        OutFormat::Md => Format::Markdown,
        OutFormat::Json => Format::Json,
    };
    let (extra_fields, images, image_delay) = (extras.extra_fields, extras.images, extras.image_delay());
    let opts = ImportOptions { out, format, fetch, extra_fields, images, image_delay, index, source };
    write(opts, targets, json)
}

fn write(opts: ImportOptions, targets: Vec<String>, json: bool) -> ProcessExit {
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // A bar only when there is something to wait for: several targets, on a terminal.
    let bar = progress_bar().filter(|_| targets.len() > 1);
    if let Some(b) = &bar {
        b.set_length(targets.len() as u64);
    }
    let tell = |line: &str| say(bar.as_ref(), line);
    let mut first_failure: Option<ExitCode> = None;
    let result = runtime.block_on(import::run(&targets, &opts, |target, outcome| {
        match outcome {
            Ok(written) => {
                // The records matter more than their listing: a closed pipe only stops the listing.
                let _ = if json {
                    let line = serde_json::json!({
                        "target": target,
                        "path": written.path,
                        "url": written.url,
                        "title": written.title,
                    });
                    stdout_line(format_args!("{line}"))
                } else {
                    stdout_line(format_args!("{}", written.path.display()))
                };
                if !quiet() {
                    for f in &written.failed_images {
                        tell(&format!("wxsec: {}: {} (the image kept its remote link)", f.url, f.error));
                    }
                }
            }
            Err(e) => {
                tell(&error_text(e));
                if json {
                    let line = serde_json::json!({
                        "target": target,
                        "error": e.to_string(),
                        "exit": e.exit_code() as u8,
                    });
                    let _ = stdout_line(format_args!("{line}"));
                }
                first_failure.get_or_insert(e.exit_code());
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Err(e) = result {
        errln!("{}", error_text(&e));
        first_failure.get_or_insert(e.exit_code());
    }
    ProcessExit::from(first_failure.unwrap_or(ExitCode::Ok) as u8)
}
