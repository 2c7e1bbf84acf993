//! A list of feeds in OPML, the form security people share their account lists in (the public
//! security list of Wechat2RSS, `public/opml/sec.opml` in ttttmr/Wechat2RSS: nested `outline`s,
//! each feed one with `text`, `title`, `type="rss"` and `xmlUrl`). Every outline with an
//! `xmlUrl`, at any depth, is a feed.

use quick_xml::events::Event;

use crate::error::{Error, Result};

/// One feed of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// Its `title`, else its `text`, else its address.
    pub name: String,
    /// Its `xmlUrl`.
    pub url: String,
}

/// Every feed of an OPML document, once each, in order. `shown` names the list in errors.
pub fn outlines(bytes: &[u8], shown: &str) -> Result<Vec<Outline>> {
    let bad = |message: String| Error::Network { url: shown.to_string(), message, timeout: false };
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut out: Vec<Outline> = Vec::new();
    let mut seen_opml = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.local_name();
                if name.as_ref().eq_ignore_ascii_case("opml") {
                    seen_opml = true;
                }
                if name.as_ref().eq_ignore_ascii_case("outline") {
                    let (mut url, mut title, mut text) = (None, None, None);
                    for a in e.attributes().flatten() {
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map(|v| v.trim().to_string())
                            .unwrap_or_default();
                        match a.key.local_name().as_ref() {
                            "xmlUrl" | "xmlurl" => url = Some(value),
                            "title" => title = Some(value),
                            "text" => text = Some(value),
                            _ => {}
                        }
                    }
                    let Some(url) = url.filter(|u| !u.is_empty()) else { continue };
                    if out.iter().any(|o| o.url == url) {
                        continue;
                    }
                    let name = title
                        .filter(|t| !t.is_empty())
                        .or(text.filter(|t| !t.is_empty()))
                        .unwrap_or_else(|| url.clone());
                    out.push(Outline { name, url });
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(bad(format!("not an OPML list: {e}"))),
        }
        buf.clear();
    }
    if !seen_opml {
        return Err(bad("not an OPML list: no <opml> element".to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_outlines() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?><opml version="1.0"><head><title>t</title></head><body>
            <outline text="安全技术公众号" title="安全技术公众号">
              <outline text="看雪学院" title="看雪学院" type="rss" xmlUrl="https://x.example/feed/1.xml" htmlUrl="https://x.example/feed/1.xml" />
              <outline text="A &amp; B" type="rss" xmlUrl="https://x.example/feed/2.xml?a=1&amp;b=2"/>
              <outline text="again" xmlUrl="https://x.example/feed/1.xml"/>
            </outline></body></opml>"#;
        let o = outlines(doc.as_bytes(), "x").unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!((o[0].name.as_str(), o[0].url.as_str()), ("看雪学院", "https://x.example/feed/1.xml"));
        assert_eq!((o[1].name.as_str(), o[1].url.as_str()), ("A & B", "https://x.example/feed/2.xml?a=1&b=2"));
        assert!(outlines(b"<html><body>no</body></html>", "x").is_err());
    }
}
