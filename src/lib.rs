//! wxsec: archive WeChat official-account articles as clean Markdown records.
//!
//! The pipeline is `FetchedPage → Article → Record`:
//! [`fetch`] brings a page in (from the network, a file or stdin), [`page`] tells an article from the
//! pages WeChat serves instead of one, [`extract`] reads the facts and the content out of an article
//! page, [`markdown`] turns the content into clean Markdown, [`record`] writes the front matter and
//! the JSON form, and [`store`] puts a record on disk whole or not at all. Only `fetch` and `store`
//! do I/O; everything between them is pure and works on strings.
//!
//! Beside the records: [`entities`] reads the security ids and CVSS scores a record names,
//! [`assets`] makes a record's images local, [`index`] keeps every record searchable in the state
//! file, and [`feed`] writes Atom feeds of the archive from that index.
//!
//! ```
//! use wxsec::{FetchedPage, Record};
//!
//! let html = r#"<script>var msg_title = '漏洞预警'.html(false); var nickname = htmlDecode("安全中心");
//!     var ct = "1735144230";</script><div id="js_content"><p>请<strong>尽快</strong>升级。</p></div>"#;
//! let page = FetchedPage { target: "example".into(), url: None, html: html.into(), fetched_at: chrono::Utc::now() };
//! let article = wxsec::extract::extract(&page).unwrap();
//! let record = Record::new(article, page.fetched_at);
//! assert_eq!(record.date, "2024-12-26");
//! assert!(record.to_markdown().ends_with("# 漏洞预警\n\n请**尽快**升级。\n"));
//! ```
#![deny(missing_docs)]
// Slicing a str at a byte offset panics off a character boundary, and pages are untrusted: every
// cut goes through `get`, `split_at_checked` or a position a search returned.
#![warn(clippy::string_slice)]

pub mod archive;
pub mod article;
pub mod assets;
pub mod crawl;
pub mod entities;
pub mod error;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod import;

pub mod markdown;
pub mod normalise;
pub mod page;
pub mod record;
pub mod store;
pub mod text;
pub mod tree;

pub use article::{Article, ArticleId, Kind};
pub use error::{Error, ExitCode};
pub use fetch::{FetchedPage, Target};
pub use record::Record;
