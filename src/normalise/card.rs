//! Picture, video and share posts whose content the archiving tool never saw: what it kept is the
//! post's card alone. WeChat draws such a post as its cover (or the account's avatar), the account
//! name, the title again, a row of punctuation where the counters were, `轻触阅读原文` /
//! `轻触查看原文`, and the avatar once more with the name. A record of that holds nothing of the
//! article: it is `chrome-only`, to be fetched again. A real image-only article (a poster, a
//! series of slides) holds images that are neither the cover nor the avatar, and is kept.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::text::fold_ws;

/// The link under a post's card; its presence is what marks the card's template.
const TOUCH_LINES: &[&str] = &["轻触阅读原文", "轻触查看原文"];

static IMAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"!\[(?:[^\]\\\n]|\\.)*\]\(([^)\s]*)\)").unwrap());

/// Whether `body` (the record cleaned of its chrome) holds only the card of the post `raw` (the
/// body as the file held it) was: every line an image of the cover or the avatar, the title again,
/// an account name, or punctuation.
pub(super) fn card_only(raw: &str, body: &str, cover: Option<&str>, title: &str, names: &[&str]) -> bool {
    let Some(at) = raw.lines().position(|l| TOUCH_LINES.contains(&l.trim())) else { return false };
    // The avatar is the image drawn under the card's link, beside the account name.
    let after: HashSet<String> = raw
        .lines()
        .skip(at + 1)
        .flat_map(|l| IMAGE.captures_iter(l).map(|c| image_key(&c[1])).collect::<Vec<_>>())
        .collect();
    let cover = cover.map(image_key);
    let title = fold_ws(title);
    let names: Vec<String> = names.iter().map(|n| fold_ws(n)).filter(|n| !n.is_empty()).collect();
    let is_title =
        |line: &str| !title.is_empty() && fold_ws(line.trim_start_matches('#').trim().trim_matches('*')) == title;
    let lines: Vec<&str> = body.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    for (i, line) in lines.iter().enumerate() {
        if IMAGE.replace_all(line, "").trim().is_empty() {
            // A video post shows its cover over the title again.
            let over_title = lines.get(i + 1).is_some_and(|next| is_title(next));
            let all_card = IMAGE.captures_iter(line).all(|c| {
                let key = image_key(&c[1]);
                after.contains(&key) || cover.as_ref() == Some(&key) || (i == 0 && over_title)
            });
            if !all_card {
                return false;
            }
            continue;
        }
        let folded = fold_ws(line);
        if is_title(line) || names.contains(&folded) || !line.chars().any(char::is_alphanumeric) {
            continue;
        }
        return false;
    }
    true
}

/// An image by its picture, not its size: WeChat serves one picture at `/0`, `/300`, `/640` and
/// `/132`, with any query.
fn image_key(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let url = url.strip_prefix("https:").or_else(|| url.strip_prefix("http:")).unwrap_or(url);
    match url.rsplit_once('/') {
        Some((base, size)) if !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()) => base.to_string(),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AVATAR: &str = "http://mmbiz.qpic.cn/mmbiz_png/AvAtAr1/";

    fn raw_card(before: &str) -> String {
        format!("{before}\n\n,\n\n,  ,\n\n轻触阅读原文\n\n![]({AVATAR}0?wx_fmt=png)\n\n安全账号\n\n向上滑动看下一个\n")
    }

    #[test]
    fn a_share_card_of_avatar_name_and_title_is_only_a_card() {
        let before = format!("![]({AVATAR}300?wx_fmt=png)\n\n安全账号\n\n# 标题");
        let body = format!("![]({AVATAR}300?wx_fmt=png)\n\n安全账号\n\n# 标题\n\n,  ,\n");
        assert!(card_only(&raw_card(&before), &body, None, "标题", &["安全账号"]));
    }

    #[test]
    fn a_video_post_kept_as_its_cover_and_title_is_only_a_card() {
        let body = "![](http://mmbiz.qpic.cn/mmbiz_jpg/CoVeR/0?wx_fmt=jpeg)\n\n# 标题\n";
        let raw = format!("{body}\n轻触查看原文\n\n![]({AVATAR}0?wx_fmt=png)\n\n作者\n");
        assert!(card_only(&raw, body, None, "标题", &["安全账号"]));
        // The cover the record names, and a lone `·`.
        assert!(card_only(&raw, "·\n", Some("https://mmbiz.qpic.cn/x/CoVeR/0?wx_fmt=jpeg"), "标题", &[]));
    }

    #[test]
    fn an_image_article_or_any_words_are_kept() {
        let poster = "![](https://mmbiz.qpic.cn/mmbiz_png/PoStEr/640?wx_fmt=png)\n";
        let raw = raw_card(&format!("安全账号\n\n{poster}\n预览时标签不可点"));
        assert!(!card_only(&raw, &format!("安全账号\n\n{poster}"), None, "标题", &["安全账号"]));
        assert!(!card_only(&raw_card("# 标题"), "# 标题\n\n一句话。\n", None, "标题", &[]));
        // Without the card's link it is not the card's template at all.
        let body = format!("![]({AVATAR}300?wx_fmt=png)\n\n安全账号\n");
        assert!(!card_only(&body, &body, None, "标题", &["安全账号"]));
    }

    #[test]
    fn sizes_and_queries_name_one_picture() {
        assert_eq!(image_key("http://a.cn/p/X/300?wx_fmt=png"), image_key("https://a.cn/p/X/0?wx_fmt=jpeg#x"));
        assert_ne!(image_key("https://a.cn/p/X/0"), image_key("https://a.cn/p/Y/0"));
    }
}
