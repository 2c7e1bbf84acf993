//! A WeChat album (合集), every page: the JSON form of `/mp/appmsgalbum`, as
//! wechat-article-exporter's `server/api/web/misc/appmsgalbum.get.ts` asks it
//! (`action=getalbum&__biz=B&album_id=A&count=20&f=json`, then `begin_msgid`/`begin_itemidx` of
//! the last item). The answer's values are strings; a page of one item holds an object instead
//! of a list; `continue_flag` says whether more follow.

use serde_json::Value;
use url::Url;

use super::paging::{Listed, Page};
use crate::article::{WECHAT_HOST, article_address};
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::page::PageKind;

/// Items asked per page (the album page's own count).
const COUNT: u32 = 20;

/// An album address's `__biz` and `album_id`.
pub fn album_of(url: &str) -> Option<(String, String)> {
    let u = Url::parse(url.trim()).ok()?;
    let get = |k: &str| u.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty());
    Some((get("__biz")?, get("album_id")?))
}

/// The address of one page of the album; `cursor` is `msgid:itemidx` of the last item before it.
pub fn page_url(biz: &str, album_id: &str, cursor: Option<&str>) -> Url {
    let mut u = Url::parse(&format!("https://{WECHAT_HOST}/mp/appmsgalbum")).expect("constant URL");
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("action", "getalbum").append_pair("__biz", biz).append_pair("album_id", album_id);
        q.append_pair("count", &COUNT.to_string()).append_pair("f", "json");
        if let Some((msgid, itemidx)) = cursor.and_then(|c| c.split_once(':')) {
            q.append_pair("begin_msgid", msgid).append_pair("begin_itemidx", itemidx);
        }
    }
    u
}

/// Asks one page of the album, spaced, breaker and cool-down as every request to WeChat.
pub async fn fetch_page(
    fetcher: &Fetcher,
    album: &str,
    biz: &str,
    album_id: &str,
    cursor: Option<&str>,
) -> Result<Page> {
    let url = page_url(biz, album_id, cursor);
    let page = fetcher.fetch(album, &url).await?;
    let (kind, evidence) = crate::page::classify(&page.html);
    if kind == PageKind::Verify {
        return Err(Error::NotArticle { target: album.to_string(), kind, evidence });
    }
    // A mirror, or an older WeChat, may answer with the album's page instead of its JSON: its
    // links of this account are the first page, and the walk ends there.
    if !page.html.trim_start().starts_with('{') && page.html.contains('<') {
        let links = super::sources::article_links(&page.html);
        let items = super::sources::same_account(&links, biz)
            .map(|u| Listed { url: u.clone(), alternate: None, published: None })
            .collect();
        return Ok(Page { items, next: None });
    }
    parse_page(&page.html, url.as_str())
}

/// A value the album writes as a string, or now and then as a number.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One page of the album's JSON answer.
pub fn parse_page(body: &str, shown: &str) -> Result<Page> {
    let bad = |message: String| Error::Network { url: shown.to_string(), message, timeout: false };
    let v: Value = serde_json::from_str(body.trim()).map_err(|e| bad(format!("the album answered no JSON: {e}")))?;
    let ret = v.pointer("/base_resp/ret").and_then(|r| text(Some(r))).unwrap_or_else(|| "0".to_string());
    if ret != "0" {
        let msg = v.pointer("/base_resp/err_msg").and_then(|m| m.as_str()).unwrap_or_default();
        return Err(bad(format!("the album answered ret {ret} {msg}").trim_end().to_string()));
    }
    let resp = v.get("getalbum_resp").ok_or_else(|| bad("the album answered without getalbum_resp".to_string()))?;
    let list: Vec<&Value> = match resp.get("article_list") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    };
    let mut items = Vec::new();
    let mut last = None;
    for item in list {
        let (msgid, itemidx) = (text(item.get("msgid")), text(item.get("itemidx")));
        if let (Some(m), Some(i)) = (&msgid, &itemidx) {
            last = Some(format!("{m}:{i}"));
        }
        let Some(url) = text(item.get("url")).and_then(|u| article_address(&u)) else { continue };
        let published = text(item.get("create_time")).and_then(|t| t.parse().ok());
        items.push(Listed { url: url.to_string(), alternate: None, published });
    }
    let more = text(resp.get("continue_flag")).is_some_and(|f| f == "1");
    Ok(Page { next: last.filter(|_| more && !items.is_empty()), items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_the_album() {
        let body = r#"{"base_resp":{"ret":0},"getalbum_resp":{"article_list":[
            {"title":"a","url":"http://mp.weixin.qq.com/s?__biz=MzA=&amp;mid=2&amp;idx=1&amp;sn=ab#rd","msgid":"2","itemidx":"1","create_time":"1700000000"},
            {"title":"b","url":"http://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=2&sn=cd","msgid":"1","itemidx":"2"}],
            "base_info":{"article_count":"40"},"continue_flag":"1"}}"#;
        let p = parse_page(body, "x").unwrap();
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.items[0].url, "https://mp.weixin.qq.com/s?__biz=MzA=&mid=2&idx=1&sn=ab");
        assert_eq!(p.items[0].published, Some(1_700_000_000));
        assert_eq!(p.next.as_deref(), Some("1:2"));
        let one = r#"{"base_resp":{"ret":"0"},"getalbum_resp":{"article_list":{"url":"https://mp.weixin.qq.com/s/Abc","msgid":"9","itemidx":"1"},"continue_flag":"0"}}"#;
        let p = parse_page(one, "x").unwrap();
        assert_eq!((p.items.len(), p.next), (1, None), "a single object, and the end");
        assert!(parse_page(r#"{"base_resp":{"ret":-1,"err_msg":"x"}}"#, "x").is_err());
        assert_eq!(
            page_url("MzA=", "7", Some("5:2")).as_str(),
            "https://mp.weixin.qq.com/mp/appmsgalbum?action=getalbum&__biz=MzA%3D&album_id=7&count=20&f=json&begin_msgid=5&begin_itemidx=2"
        );
        assert_eq!(
            album_of("https://mp.weixin.qq.com/mp/appmsgalbum?__biz=MzA=&action=getalbum&album_id=7"),
            Some(("MzA=".into(), "7".into()))
        );
    }
}
