//! Local fakes of the services discovery reads, speaking the shapes the public clients read:
//! WeChat's album JSON (wechat-article-exporter's `server/api/web/misc/appmsgalbum.get.ts`:
//! `getalbum_resp.article_list`, string values, one object for a one-item page, `continue_flag`,
//! the next page from the last item's `msgid`/`itemidx`, which may come again first) and article
//! pages; WeRead's `/web/mp/articles` (`reviews[].subReviews[].review.mpInfo.originalId`, `offset`
//! counting groups, `errCode` on failure) and `/web/login/renewal` (a new `wr_skey` in
//! `Set-Cookie`). Every request is logged with the moment it arrived.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use wiremock::{Request, Respond, ResponseTemplate};

/// The account every fake article is of.
pub const BIZ: &str = "MzI0ODE5NDU5Mw==";
/// Its WeRead id.
pub const BOOK: &str = "MP_WXS_3248194593";

/// An article page naming its own id, as WeChat serves one.
pub fn article_page(mid: u32) -> String {
    format!(
        "<html><head><title>t</title></head><body><script>var biz = \"{BIZ}\" || \"\"; var sn = \"0123456789abcdef0123456789abcdef\" || \"\"; var mid = \"{mid}\" || \"\"; var idx = \"1\" || \"\"; var nickname = htmlDecode(\"安全账号\"); var msg_title = '漏洞通告 {mid}'.html(false); var ct = \"1735144230\";</script><div id=\"js_content\"><p>正文 {mid}：漏洞分析，一篇测试文章。</p></div></body></html>"
    )
}

/// WeChat's page for an article its author deleted.
const DELETED: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title></title></head><body><div class=\"weui-msg\"><div class=\"weui-msg__text-area\"><div class=\"weui-msg__title warn\">该内容已被发布者删除</div></div></div></body></html>";

/// The long address of an article.
pub fn long_url(mid: u32) -> String {
    format!("https://mp.weixin.qq.com/s?__biz={BIZ}&mid={mid}&idx=1&sn=0123456789abcdef0123456789abcdef")
}

/// A request as it arrived.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: String,
    pub cookie: Option<String>,
    pub at: Instant,
}

/// The log of a fake.
#[derive(Debug, Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<Seen>>>);

impl Log {
    fn push(&self, r: &Request) {
        let cookie = r.headers.get("cookie").and_then(|v| v.to_str().ok()).map(str::to_string);
        let seen = Seen {
            path: r.url.path().to_string(),
            query: r.url.query().unwrap_or_default().to_string(),
            cookie,
            at: Instant::now(),
        };
        self.0.lock().unwrap().push(seen);
    }
    pub fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
    pub fn on(&self, path: &str) -> Vec<Seen> {
        self.all().into_iter().filter(|s| s.path == path).collect()
    }
    pub fn clear(&self) {
        self.0.lock().unwrap().clear()
    }
}

fn param(r: &Request, name: &str) -> Option<String> {
    r.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// WeChat: an album over `mids` (newest first), cut into `pages` (ranges of indexes into the
/// list; a page that starts where the one before it ended less one repeats that page's last
/// item), and the article page of every mid, long or short (`/s/A<mid>`).
#[derive(Clone)]
pub struct FakeWechat {
    pub mids: Arc<Mutex<Vec<u32>>>,
    pub pages: Arc<Mutex<Vec<(usize, usize)>>>,
    pub log: Log,
    /// Album pages after this many are answered slowly (seconds), for a kill in flight.
    pub slow_after: Arc<Mutex<Option<(usize, u64)>>>,
}

impl FakeWechat {
    pub fn new(mids: Vec<u32>, pages: Vec<(usize, usize)>) -> FakeWechat {
        FakeWechat {
            mids: Arc::new(Mutex::new(mids)),
            pages: Arc::new(Mutex::new(pages)),
            log: Log::default(),
            slow_after: Arc::new(Mutex::new(None)),
        }
    }

    fn album(&self, r: &Request) -> ResponseTemplate {
        let mids = self.mids.lock().unwrap().clone();
        let pages = self.pages.lock().unwrap().clone();
        // The page that follows the item the request begins at: it starts at that item (which
        // comes again) or just after it.
        let page = match param(r, "begin_msgid").and_then(|m| m.parse::<u32>().ok()) {
            None => 0,
            Some(m) => {
                let at = mids.iter().position(|x| *x == m).unwrap_or(usize::MAX - 1);
                pages.iter().position(|(s, _)| *s == at || *s == at + 1).unwrap_or(usize::MAX)
            }
        };
        let Some((start, end)) = pages.get(page).copied() else {
            return json(
                r#"{"base_resp":{"ret":0},"getalbum_resp":{"article_list":[],"continue_flag":"0"}}"#.to_string(),
            );
        };
        let items: Vec<String> = mids[start..end]
            .iter()
            .map(|m| {
                format!(
                    r#"{{"title":"漏洞通告 {m}","url":"http://mp.weixin.qq.com/s?__biz={BIZ}&amp;mid={m}&amp;idx=1&amp;sn=0123456789abcdef0123456789abcdef&amp;chksm=x#rd","msgid":"{m}","itemidx":"1","create_time":"{}","cover_img_1_1":"x"}}"#,
                    1_700_000_000 + m
                )
            })
            .collect();
        let list = if items.len() == 1 { items[0].clone() } else { format!("[{}]", items.join(",")) };
        let more = if page + 1 < pages.len() { "1" } else { "0" };
        let body = format!(
            r#"{{"base_resp":{{"ret":0,"err_msg":"ok"}},"getalbum_resp":{{"article_list":{list},"base_info":{{"article_count":"{}","title":"漏洞合集","nickname":"安全账号"}},"continue_flag":"{more}"}}}}"#,
            mids.len()
        );
        let t = json(body);
        match *self.slow_after.lock().unwrap() {
            Some((after, secs)) if page >= after => t.set_delay(std::time::Duration::from_secs(secs)),
            _ => t,
        }
    }
}

fn json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("content-type", "application/json; charset=utf-8").set_body_string(body)
}

impl Respond for FakeWechat {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        self.log.push(r);
        let html = |body: String| {
            ResponseTemplate::new(200).insert_header("content-type", "text/html; charset=utf-8").set_body_string(body)
        };
        match r.url.path() {
            "/mp/appmsgalbum" => self.album(r),
            "/s" => match param(r, "mid").and_then(|m| m.parse().ok()) {
                Some(mid) => html(article_page(mid)),
                None => ResponseTemplate::new(404),
            },
            // An id spelled with `~` (as WeRead may list it) is an article only as given; with
            // `_` in its place WeChat says the article is gone.
            p if p.ends_with("_t") => html(DELETED.to_string()),
            p => match p.strip_prefix("/s/A").map(|m| m.trim_end_matches("~t")).and_then(|m| m.parse().ok()) {
                Some(mid) => html(article_page(mid)),
                None => ResponseTemplate::new(404),
            },
        }
    }
}

/// WeRead: an account's list of `groups` (each a list of mids, newest first), `per_page` groups
/// a page; a login it accepts (a `wr_skey` value), and what its renewal hands out.
#[derive(Clone)]
pub struct FakeWeread {
    pub groups: Arc<Mutex<Vec<Vec<u32>>>>,
    pub per_page: usize,
    pub accepted: Arc<Mutex<String>>,
    /// The `wr_skey` a renewal gives (none: the renewal fails).
    pub renews_to: Arc<Mutex<Option<String>>>,
    /// Offsets at or past this answer `-2012` unless the login was renewed (a session expiring
    /// mid-list).
    pub expires_at: Arc<Mutex<Option<usize>>>,
    /// An error code every list answers with.
    pub refuse: Arc<Mutex<Option<i64>>>,
    /// Articles whose `originalId` is spelled with `~` (`A<mid>~t`).
    pub tilde: Arc<Mutex<Vec<u32>>>,
    /// Once, the list at this offset answers this HTTP status (with `Retry-After: 1`).
    pub status_at: Arc<Mutex<Option<(usize, u16)>>>,
    pub log: Log,
}

impl FakeWeread {
    pub fn new(groups: Vec<Vec<u32>>, per_page: usize, accepted: &str) -> FakeWeread {
        FakeWeread {
            groups: Arc::new(Mutex::new(groups)),
            per_page,
            accepted: Arc::new(Mutex::new(accepted.to_string())),
            renews_to: Arc::new(Mutex::new(None)),
            expires_at: Arc::new(Mutex::new(None)),
            refuse: Arc::new(Mutex::new(None)),
            tilde: Arc::new(Mutex::new(Vec::new())),
            status_at: Arc::new(Mutex::new(None)),
            log: Log::default(),
        }
    }

    fn skey(r: &Request) -> Option<String> {
        let cookie = r.headers.get("cookie")?.to_str().ok()?.to_string();
        cookie.split(';').find_map(|p| p.trim().strip_prefix("wr_skey=").map(str::to_string))
    }
}

impl Respond for FakeWeread {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        self.log.push(r);
        match r.url.path() {
            "/web/login/renewal" => {
                let has_rt =
                    r.headers.get("cookie").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("wr_rt="));
                match self.renews_to.lock().unwrap().clone() {
                    Some(new) if has_rt => {
                        *self.accepted.lock().unwrap() = new.clone();
                        *self.expires_at.lock().unwrap() = None;
                        ResponseTemplate::new(200)
                            .append_header(
                                "set-cookie",
                                format!("wr_skey={new}; Domain=.weread.qq.com; Path=/; HttpOnly"),
                            )
                            .append_header("set-cookie", "wr_ql=1; Path=/")
                            .set_body_string(r#"{"succ":1}"#)
                    }
                    _ => json(r#"{"errCode":-2013,"errMsg":"鉴权失败"}"#.to_string()),
                }
            }
            "/web/mp/articles" => {
                if param(r, "bookId").as_deref() != Some(BOOK) {
                    return json(r#"{"errCode":-2041,"errMsg":"not on shelf"}"#.to_string());
                }
                // As WeRead answers a refusal now and then: the code inside `data` of a 499.
                if let Some(code) = *self.refuse.lock().unwrap() {
                    return ResponseTemplate::new(499)
                        .insert_header("content-type", "application/json; charset=utf-8")
                        .set_body_string(format!(r#"{{"data":{{"errcode":{code},"errmsg":"refused"}}}}"#));
                }
                let offset: usize = param(r, "offset").and_then(|o| o.parse().ok()).unwrap_or(0);
                let mut status_at = self.status_at.lock().unwrap();
                if let Some((at, status)) = *status_at
                    && at == offset
                {
                    *status_at = None;
                    return ResponseTemplate::new(status).insert_header("retry-after", "1");
                }
                drop(status_at);
                let accepted = self.accepted.lock().unwrap().clone();
                let expired = self.expires_at.lock().unwrap().is_some_and(|at| offset >= at);
                if FakeWeread::skey(r).as_deref() != Some(accepted.as_str()) || expired {
                    return json(r#"{"errCode":-2012,"errMsg":"登录超时"}"#.to_string());
                }
                let groups = self.groups.lock().unwrap().clone();
                let tilde = self.tilde.lock().unwrap().clone();
                let page: Vec<String> = groups
                    .iter()
                    .skip(offset)
                    .take(self.per_page)
                    .map(|g| {
                        let subs: Vec<String> = g
                            .iter()
                            .map(|m| {
                                let id = if tilde.contains(m) { format!("A{m}~t") } else { format!("A{m}") };
                                format!(
                                    r#"{{"review":{{"reviewId":"{BOOK}_{id}","createTime":{},"mpInfo":{{"title":"漏洞通告 {m} 这是一条被截断的","time":{},"originalId":"{id}","mp_name":"安全账号","pic_url":"x","content":"摘要"}},"isLike":0}}}}"#,
                                    1_700_000_000 + m,
                                    1_700_000_000 + m
                                )
                            })
                            .collect();
                        format!(r#"{{"createTime":{},"subReviews":[{}]}}"#, 1_700_000_000 + g[0], subs.join(","))
                    })
                    .collect();
                json(format!(r#"{{"reviews":[{}],"synckey":1,"totalCount":{}}}"#, page.join(","), groups.len()))
            }
            _ => ResponseTemplate::new(404),
        }
    }
}
