//! `wxsec account ADDRESS`: which account an article is of, and the `[[source]]` tables that
//! follow it (its WeRead list; its feed needs a bridge). One polite request to WeChat for an
//! address (a short link says nothing of its account until its page is read), none for a saved
//! page.

use std::process::ExitCode as ProcessExit;
use std::time::Duration;

use serde::Serialize;
use wxsec::fetch::{FetchConfig, FetchedPage, Fetcher, Target};

/// The arguments.
#[derive(Debug, clap::Args)]
pub struct AccountArgs {
    /// An article address (`https://mp.weixin.qq.com/s/…` or `…/s?__biz=…`) or a saved page.
    pub address: String,
    /// Seconds the request may take.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Print one JSON object instead.
    #[arg(long)]
    pub json: bool,
}

/// What `account` prints.
#[derive(Debug, Serialize)]
struct Account {
    name: String,
    biz: String,
    number: String,
    weread: String,
    account_id: Option<String>,
    source: String,
}

/// Runs the command.
pub fn run(args: AccountArgs) -> ProcessExit {
    let page = match read(&args) {
        Ok(p) => p,
        Err(e) => return super::out::fail(&e),
    };
    let article = match wxsec::extract::extract(&page) {
        Ok(a) => a,
        Err(e) => return super::out::fail(&e),
    };
    let Some(id) = article.id.as_ref() else {
        return super::out::fail(&wxsec::Error::Extract { target: args.address.clone(), missing: "__biz" });
    };
    let Some(number) = wxsec::store::biz_number(&id.biz) else {
        return super::out::fail(&wxsec::Error::Extract { target: args.address.clone(), missing: "__biz" });
    };
    let weread = format!("MP_WXS_{number}");
    let name = article.source.clone();
    let source = format!("[[source]]\nname = {}\nweread = {}\n", toml_string(&name), toml_string(&id.biz));
    let a = Account { name, biz: id.biz.clone(), number, weread, account_id: article.account_id.clone(), source };
    if args.json {
        outln!("{}", serde_json::to_string(&a).unwrap_or_default());
    } else {
        outln!("account: {}", a.name);
        outln!("__biz: {} ({})", a.biz, a.number);
        outln!("weread: {}", a.weread);
        if let Some(gh) = &a.account_id {
            outln!("id: {gh}");
        }
        outln!("\n# its history through your WeRead login (needs weread_cookie_file):\n{}", a.source);
    }
    ProcessExit::SUCCESS
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn read(args: &AccountArgs) -> wxsec::error::Result<FetchedPage> {
    match Target::parse(&args.address)? {
        Target::File(path) => FetchedPage::from_file(&path, wxsec::fetch::DEFAULT_MAX_BODY),
        Target::Stdin => FetchedPage::from_stdin(wxsec::fetch::DEFAULT_MAX_BODY),
        Target::Url(url) => {
            let config = FetchConfig::from_env()
                .map_err(|message| wxsec::Error::Config { path: "WXSEC_ORIGIN".into(), message })?;
            let fetcher = Fetcher::new(FetchConfig { timeout: Duration::from_secs(args.timeout.max(1)), ..config })?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| wxsec::Error::Internal { target: args.address.clone(), message: e.to_string() })?;
            runtime.block_on(fetcher.fetch(&args.address, &url))
        }
    }
}
