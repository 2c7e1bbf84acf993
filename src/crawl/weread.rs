//! An account's history through 微信读书 (WeRead), with the user's own login: the list
//! `GET /web/mp/articles?bookId=MP_WXS_<decimal __biz>&offset=N` and the renewal of the
//! short-lived `wr_skey` by the long-lived `wr_rt` (`POST /web/login/renewal`), as the public
//! WeRead clients ask them (docs/finding-articles.md names the files). The cookie is a secret:
//! it is sent, and written back to its own file, never shown.

use std::path::{Path, PathBuf};

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use url::Url;

use super::paging::{Listed, Page};
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::fetch::api::WEREAD_HOST;

/// An account's WeRead id from what a user has of it: `MP_WXS_3248194593`, its `__biz`
/// (`MzI0ODE5NDU5Mw==`, the base64 of that number) or an article address naming it.
pub fn book_id(given: &str) -> Option<String> {
    let g = given.trim();
    if let Some(n) = g.strip_prefix("MP_WXS_") {
        return (!n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit())).then(|| g.to_string());
    }
    let biz = match crate::article::ArticleId::from_url(g) {
        Some(id) => id.biz,
        None => Url::parse(g)
            .ok()
            .and_then(|u| u.query_pairs().find(|(k, _)| k == "__biz").map(|(_, v)| v.into_owned()))
            .unwrap_or_else(|| g.to_string()),
    };
    crate::store::biz_number(&biz).map(|n| format!("MP_WXS_{n}"))
}

/// The file holding the login's `Cookie` header.
pub struct CookieFile {
    path: PathBuf,
}

impl CookieFile {
    /// The file at `path`.
    pub fn new(path: &Path) -> CookieFile {
        CookieFile { path: path.to_path_buf() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether others than its owner may read it (a secret's file should be 0600).
    pub fn readable_by_others(&self) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&self.path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }

    /// The cookie: its first line that is not blank, a `Cookie:` label taken off.
    pub fn read(&self) -> Result<String> {
        let text =
            std::fs::read_to_string(&self.path).map_err(|source| Error::Read { path: self.path.clone(), source })?;
        let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
        let line = line.strip_prefix("Cookie:").or_else(|| line.strip_prefix("cookie:")).unwrap_or(line).trim();
        if line.is_empty() || !line.contains('=') {
            return Err(Error::LoginExpired {
                path: self.path.clone(),
                message: "the file holds no cookie".to_string(),
            });
        }
        Ok(line.to_string())
    }

    /// Replaces the cookie whole or not at all (a new file beside it, renamed over it), with the
    /// old file's mode.
    pub fn write(&self, cookie: &str) -> Result<()> {
        use std::io::Write;
        let err = |source| Error::Write { path: self.path.clone(), source };
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mode = std::fs::metadata(&self.path).map(|m| m.permissions()).map_err(err)?;
        let mut tmp = tempfile::Builder::new().prefix(".wxsec-cookie-").tempfile_in(dir).map_err(err)?;
        tmp.as_file().set_permissions(mode).map_err(err)?;
        tmp.write_all(format!("{cookie}\n").as_bytes()).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(&self.path).map_err(|e| err(e.error))?;
        Ok(())
    }
}

/// A cookie with the values a renewal's `Set-Cookie` headers give put in (the others kept as
/// they were, in their order).
pub fn merged_cookie(cookie: &str, set_cookies: &[String]) -> String {
    let mut pairs: Vec<(String, String)> = cookie
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    for sc in set_cookies {
        let Some((k, v)) = sc.split(';').next().and_then(|p| p.trim().split_once('=')) else { continue };
        let (k, v) = (k.trim(), v.trim());
        match pairs.iter_mut().find(|(n, _)| n == k) {
            Some(pair) => pair.1 = v.to_string(),
            None => pairs.push((k.to_string(), v.to_string())),
        }
    }
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

/// What one answer of the list said.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A page: its articles, and how many groups (the unit of `offset`) it held.
    Page(Vec<Listed>, usize),
    /// `errCode` and its message.
    Refused(i64, String),
}

/// The article address of an `originalId` (`~` as `_`), and the id as given when it differs.
pub fn article_of(original_id: &str) -> Option<(String, Option<String>)> {
    let id = original_id.trim();
    let primary = crate::article::short_link(&format!("https://mp.weixin.qq.com/s/{}", id.replace('~', "_")))?;
    let given = crate::article::short_link(&format!("https://mp.weixin.qq.com/s/{id}")).filter(|g| *g != primary);
    Some((primary, given))
}

fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads one answer of `/web/mp/articles`, leniently: unknown fields ignored, missing ones
/// skipped (an item without `originalId` takes the last part of its `reviewId`; without `time`,
/// its review's `createTime`).
pub fn parse_answer(body: &[u8], shown: &str) -> Result<Answer> {
    let v: Value = serde_json::from_slice(body).map_err(|e| Error::Network {
        url: shown.to_string(),
        message: format!("WeRead answered no JSON: {e}"),
        timeout: false,
    })?;
    let code = int(v.get("errCode"))
        .or_else(|| int(v.get("errcode")))
        .or_else(|| v.get("data").and_then(|d| int(d.get("errcode")).or_else(|| int(d.get("errCode")))));
    if let Some(code) = code.filter(|c| *c != 0) {
        let data = v.get("data");
        let msg = ["errMsg", "errmsg", "errlog"]
            .iter()
            .find_map(|k| v.get(*k).or_else(|| data.and_then(|d| d.get(*k))).and_then(|m| m.as_str()))
            .unwrap_or("");
        return Ok(Answer::Refused(code, msg.to_string()));
    }
    let groups = v.get("reviews").and_then(|r| r.as_array()).cloned().unwrap_or_default();
    let mut items = Vec::new();
    for group in &groups {
        let group_time = int(group.get("createTime"));
        for sub in group.get("subReviews").and_then(|s| s.as_array()).into_iter().flatten() {
            let review = sub.get("review").unwrap_or(sub);
            let info = review.get("mpInfo");
            let original =
                info.and_then(|i| i.get("originalId")).and_then(|o| o.as_str()).map(str::to_string).or_else(|| {
                    review
                        .get("reviewId")
                        .and_then(|r| r.as_str())
                        .and_then(|r| r.rsplit('_').next())
                        .map(str::to_string)
                });
            let Some((url, alternate)) = original.as_deref().and_then(article_of) else { continue };
            let published =
                info.and_then(|i| int(i.get("time"))).or_else(|| int(review.get("createTime"))).or(group_time);
            items.push(Listed { url, alternate, published });
        }
    }
    Ok(Answer::Page(items, groups.len()))
}

/// WeRead's codes (as the public clients read them): the login timed out, or is refused.
const LOGIN_CODES: [i64; 2] = [-2012, -2010];
/// Not on the user's shelf, or a passing risk control.
const NOT_ON_SHELF: i64 = -2041;
/// A passing fault: asked again.
const RETRY: i64 = -10100;

/// The WeRead side of one run: the login, renewed at most once.
pub struct Weread {
    fetcher: Fetcher,
    file: CookieFile,
    cookie: Option<String>,
    renewed: bool,
}

impl Weread {
    /// The client of one run; the cookie is read when first needed.
    pub fn new(fetcher: Fetcher, cookie_file: &Path) -> Weread {
        Weread { fetcher, file: CookieFile::new(cookie_file), cookie: None, renewed: false }
    }

    /// The cookie file, to name it in warnings.
    pub fn file(&self) -> &CookieFile {
        &self.file
    }

    fn headers(cookie: &str, referer: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(mut v) = HeaderValue::from_str(cookie) {
            v.set_sensitive(true);
            h.insert(reqwest::header::COOKIE, v);
        }
        h.insert(reqwest::header::REFERER, HeaderValue::from_static(referer));
        h.insert(reqwest::header::ORIGIN, HeaderValue::from_static("https://weread.qq.com"));
        h.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/json, text/plain, */*"));
        h
    }

    /// One page of an account's list: `offset` counts groups. A timed-out login is renewed once
    /// and the page asked again; a passing fault is asked again twice.
    pub async fn page(&mut self, source: &str, book_id: &str, offset: usize) -> Result<Page> {
        let mut url = Url::parse(&format!("https://{WEREAD_HOST}/web/mp/articles")).expect("constant URL");
        url.query_pairs_mut().append_pair("bookId", book_id).append_pair("offset", &offset.to_string());
        let mut faults = 0;
        loop {
            let cookie = match &self.cookie {
                Some(c) => c.clone(),
                None => {
                    let c = self.file.read()?;
                    self.cookie = Some(c.clone());
                    c
                }
            };
            let resp = self.fetcher.api(&url, Weread::headers(&cookie, "https://weread.qq.com/"), None).await?;
            // An error code may come in the body of a 4xx (`data.errcode` of a 499): it is read
            // first; an error status without one is the status.
            let answer = match parse_answer(&resp.body, url.as_str()) {
                Ok(Answer::Page(..)) | Err(_) if resp.status != 200 => return Err(resp.status_error()),
                answer => answer?,
            };
            match answer {
                Answer::Page(items, groups) => {
                    let next = (groups > 0).then(|| (offset + groups).to_string());
                    return Ok(Page { items, next });
                }
                Answer::Refused(code, msg) if LOGIN_CODES.contains(&code) => {
                    if self.renewed {
                        return Err(Error::LoginExpired {
                            path: self.file.path().to_path_buf(),
                            message: format!("errCode {code} {msg}").trim_end().to_string(),
                        });
                    }
                    self.renewed = true;
                    self.renew(&cookie).await?;
                }
                Answer::Refused(RETRY, _) if faults < 2 => faults += 1,
                Answer::Refused(code, msg) => {
                    let hint = if code == NOT_ON_SHELF {
                        " (not on this login's shelf, or a passing risk control)"
                    } else {
                        ""
                    };
                    return Err(Error::Refused {
                        source_name: source.to_string(),
                        service: WEREAD_HOST.to_string(),
                        message: format!("errCode {code}{hint} {msg}").trim_end().to_string(),
                    });
                }
            }
        }
    }

    /// Renews `wr_skey` with `wr_rt` and writes the new cookie back to its file. A renewal that
    /// gives no new `wr_skey` means the login itself is gone.
    async fn renew(&mut self, cookie: &str) -> Result<()> {
        let expired =
            |message: &str| Error::LoginExpired { path: self.file.path().to_path_buf(), message: message.to_string() };
        if !cookie.split(';').any(|p| p.trim().starts_with("wr_rt=")) {
            return Err(expired("the login timed out and the cookie has no wr_rt to renew it"));
        }
        let url = Url::parse(&format!("https://{WEREAD_HOST}/web/login/renewal")).expect("constant URL");
        let body = r#"{"rq":"%2Fweb%2Fbook%2Fread","ql":false}"#.to_string();
        let resp =
            self.fetcher.api(&url, Weread::headers(cookie, "https://weread.qq.com/web/shelf"), Some(body)).await?;
        if resp.status != 200 {
            return Err(expired(&format!("the renewal answered HTTP {}", resp.status)));
        }
        let fresh = resp.set_cookies.iter().any(|c| {
            c.trim_start().strip_prefix("wr_skey=").is_some_and(|v| !v.split(';').next().unwrap_or_default().is_empty())
        });
        if !fresh {
            return Err(expired("the login timed out and its renewal gave no new wr_skey"));
        }
        let renewed = merged_cookie(cookie, &resp.set_cookies);
        self.file.write(&renewed)?;
        tracing::info!(file = %self.file.path().display(), "WeRead login renewed");
        self.cookie = Some(renewed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_code_inside_data() {
        let body = br#"{"data":{"errcode":-2041,"errmsg":"x"}}"#;
        assert_eq!(parse_answer(body, "x").unwrap(), Answer::Refused(-2041, "x".to_string()));
    }

    #[test]
    fn ids_and_answers() {
        assert_eq!(book_id("MzI0ODE5NDU5Mw==").as_deref(), Some("MP_WXS_3248194593"));
        assert_eq!(book_id("MP_WXS_3248194593").as_deref(), Some("MP_WXS_3248194593"));
        assert_eq!(
            book_id("https://mp.weixin.qq.com/s?__biz=MzI0ODE5NDU5Mw==&mid=1&idx=1&sn=ab").as_deref(),
            Some("MP_WXS_3248194593")
        );
        assert_eq!(book_id("not an account"), None);
        assert_eq!(
            article_of("AbC~d").unwrap(),
            ("https://mp.weixin.qq.com/s/AbC_d".to_string(), Some("https://mp.weixin.qq.com/s/AbC~d".to_string()))
        );
        let body = br#"{"reviews":[{"createTime":1700000300,"subReviews":[
            {"review":{"reviewId":"MP_WXS_1_x","createTime":1700000100,"mpInfo":{"title":"t","originalId":"Aa1","time":1700000000,"extra":1}}},
            {"review":{"reviewId":"MP_WXS_1_Bb2"}}]}],"synckey":1}"#;
        let Answer::Page(items, groups) = parse_answer(body, "x").unwrap() else { panic!() };
        assert_eq!(groups, 1);
        assert_eq!(items[0].url, "https://mp.weixin.qq.com/s/Aa1");
        assert_eq!(items[0].published, Some(1_700_000_000));
        assert_eq!(
            (items[1].url.as_str(), items[1].published),
            ("https://mp.weixin.qq.com/s/Bb2", Some(1_700_000_300))
        );
        assert_eq!(
            parse_answer(r#"{"errCode":-2012,"errMsg":"登录超时"}"#.as_bytes(), "x").unwrap(),
            Answer::Refused(-2012, "登录超时".into())
        );
        assert_eq!(
            merged_cookie(
                "wr_vid=1; wr_skey=old; wr_rt=r",
                &["wr_skey=new; Path=/; HttpOnly".into(), "wr_x=2; Path=/".into()]
            ),
            "wr_vid=1; wr_skey=new; wr_rt=r; wr_x=2"
        );
    }
}
