use super::convert;

fn md(html: &str) -> String {
    convert(html).markdown
}

#[test]
fn paragraphs_and_breaks() {
    assert_eq!(md("<p>one<br>two</p><section><p>three</p></section>"), "one\n\ntwo\n\nthree\n");
}

#[test]
fn emphasis_keeps_cjk_punctuation_outside() {
    assert_eq!(md("<p>看<strong>注意：</strong>这里</p>"), "看**注意**：这里\n");
    assert_eq!(md("<p><strong></strong><b> </b>x</p>"), "x\n");
}

#[test]
fn lazy_images_and_pixels() {
    let out = convert(
        r#"<p><img src="data:image/svg+xml,x" data-src="https://mmbiz.qpic.cn/a/640?wx_fmt=png"><img src="https://t.example/p.gif" width="1" height="1"></p>"#,
    );
    assert_eq!(out.markdown, "![](https://mmbiz.qpic.cn/a/640?wx_fmt=png)\n");
    assert_eq!(out.images, vec!["https://mmbiz.qpic.cn/a/640?wx_fmt=png"]);
}

#[test]
fn code_snippet_is_one_fence() {
    let html = r#"<section class="code-snippet__fix code-snippet__js"><ul class="code-snippet__line-index code-snippet__js"><li></li><li></li></ul><pre class="code-snippet__js" data-lang="python"><code><span class="code-snippet_outer">def f():</span></code><code><span class="code-snippet_outer">&nbsp; &nbsp; return `x` * 2</span></code></pre></section>"#;
    assert_eq!(md(html), "```python\ndef f():\n    return `x` * 2\n```\n");
}

#[test]
fn hidden_and_script_text_is_dropped() {
    assert_eq!(md(r#"<p>a<span style="display: none">secret</span>b</p><script>x()</script>"#), "ab\n");
}

#[test]
fn prose_that_looks_like_markup_is_escaped() {
    assert_eq!(
        md("<p>&lt;script&gt;alert(1)&lt;/script&gt; *x* [y]</p>"),
        "\\<script>alert(1)\\</script> \\*x\\* \\[y\\]\n"
    );
    assert_eq!(md("<p># 1</p><p>1. one</p>"), "\\# 1\n\n1\\. one\n");
}

#[test]
fn links() {
    assert_eq!(
        md(r#"<p><a href="javascript:void(0)">x</a> <a href="https://a.b/c d">y</a><a href="https://e">  </a></p>"#),
        "x [y](https://a.b/c%20d)\n"
    );
}

#[test]
fn data_and_layout_tables() {
    let data = "<table><tr><th>CVE</th><th>CVSS</th></tr><tr><td>CVE-2024-1|x</td><td>9.8</td></tr></table>";
    assert_eq!(md(data), "| CVE | CVSS |\n| --- | --- |\n| CVE-2024-1\\|x | 9.8 |\n");
    let layout = r#"<table><tr><td><a href="https://mp.weixin.qq.com/s/a"><img data-src="https://i/1"><p>第一篇</p></a></td><td><a href="https://mp.weixin.qq.com/s/b"><p>第二篇</p></a></td></tr></table>"#;
    assert_eq!(md(layout), "- [第一篇](https://mp.weixin.qq.com/s/a)\n- [第二篇](https://mp.weixin.qq.com/s/b)\n");
}

#[test]
fn lists_and_quotes() {
    assert_eq!(md("<ul><li>a</li><li><p>b</p></li></ul><ol start=3><li>c</li></ol>"), "- a\n- b\n\n3. c\n");
    assert_eq!(md("<blockquote><p>q1</p><p>q2</p></blockquote>"), "> q1\n>\n> q2\n");
}

#[test]
fn embeds_are_named() {
    let v = md(
        r#"<iframe class="video_iframe" data-src="https://v.qq.com/iframe/preview.html?vid=o0608305r9k&amp;width=500"></iframe>"#,
    );
    assert_eq!(v, "[视频](https://v.qq.com/x/page/o0608305r9k.html)\n");
    let a = md(r#"<mpvoice name="早安" voice_encode_fileid="MjM5_OA=="></mpvoice>"#);
    assert_eq!(a, "[语音：早安](https://res.wx.qq.com/voice/getvoice?mediaid=MjM5_OA==)\n");
}

#[test]
fn deep_nesting_does_not_overflow() {
    let html = format!("{}deep{}", "<span>".repeat(5000), "</span>".repeat(5000));
    assert!(md(&html).contains("deep"));
}

#[test]
fn zero_font_text_is_hidden_unless_children_set_a_size() {
    assert_eq!(md(r#"<p>补<span style="font:0px Vrs">&lt;河桥送人处&gt;</span>贴</p>"#), "补贴\n");
    let layout = r#"<section style="font-size: 0px;"><section style="display:inline-block;font-size:16px;">看得见</section></section>"#;
    assert_eq!(md(layout), "看得见\n");
}

#[test]
fn recommendation_cards_with_a_short_link_become_list_items_keeping_every_word() {
    let card = |n: &str, t: &str, u: &str| {
        format!(
            r#"<tr><td><section><table><tbody><tr><td rowspan="2" style="background-image: url(&#34;https://i/{n}.png&#34;);"><p><strong>{n}</strong></p></td><td><p><span>●</span><span>{t}</span></p></td></tr><tr><td><p><span>► <a href="{u}&amp;scene=21#wechat_redirect">点击阅读</a></span></p></td></tr></tbody></table></section></td></tr>"#
        )
    };
    let html = format!(
        "<p>往期推荐</p><table><tbody>{}{}</tbody></table>",
        card("01", "第一篇：漏洞预警", "https://mp.weixin.qq.com/s?__biz=MzA=&amp;mid=1&amp;idx=1&amp;sn=aa"),
        card("02", "第二篇", "https://mp.weixin.qq.com/s?__biz=MzA=&amp;mid=2&amp;idx=1&amp;sn=bb")
    );
    // A short title under the link, a number and a bar beside it: the title is not lost.
    let short = r#"<table><tbody><tr><td><p><strong>02</strong></p><p><span>｜</span><a href="https://mp.weixin.qq.com/s?__biz=MzA=&amp;mid=3&amp;idx=1&amp;sn=cc">苹果硬刚欧盟</a></p></td></tr><tr><td><p><strong>03</strong></p><p><span>｜</span><a href="https://mp.weixin.qq.com/s?__biz=MzA=&amp;mid=4&amp;idx=1&amp;sn=dd">标题</a></p></td></tr></tbody></table>"#;
    assert_eq!(
        md(short),
        "- **02** ｜[苹果硬刚欧盟](https://mp.weixin.qq.com/s?__biz=MzA=&mid=3&idx=1&sn=cc)\n- **03** ｜[标题](https://mp.weixin.qq.com/s?__biz=MzA=&mid=4&idx=1&sn=dd)\n"
    );
    assert_eq!(
        md(&html),
        "往期推荐\n\n- **01** ●第一篇：漏洞预警 ► [点击阅读](https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1&sn=aa)\n- **02** ●第二篇 ► [点击阅读](https://mp.weixin.qq.com/s?__biz=MzA=&mid=2&idx=1&sn=bb)\n"
    );
}

#[test]
fn a_box_of_code_lines_is_a_code_block() {
    // A one-cell table with a section per line, as write-ups paste a proof of concept.
    let line =
        |t: &str| format!(r#"<section style="margin: 0 8px;"><span style="font-family: 宋体;">{t}</span></section>"#);
    let lines = [
        "//对应代码",
        "if n[&#34;query&#34;] then",
        "&nbsp;&nbsp;&nbsp; if n.method ~= &#34;do&#34; then",
        "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; return false",
        "&nbsp;&nbsp;&nbsp; end",
        "end",
    ];
    let table = format!(
        "<table><tbody><tr><td>{}</td></tr></tbody></table>",
        lines.iter().map(|l| line(l)).collect::<String>()
    );
    assert_eq!(
        md(&table),
        "```\n//对应代码\nif n[\"query\"] then\n    if n.method ~= \"do\" then\n       return false\n    end\nend\n```\n"
    );
    // A section in a monospace font, one paragraph a line, its language named.
    let mono = r#"<section style="font-family: Consolas, monospace;" data-lang="http"><p>GET /api/v1/users?id=1 HTTP/1.1</p><p>Host: target.example</p><p>Cookie: ASP.NET_SessionId=abc</p></section>"#;
    assert_eq!(
        md(mono),
        "```http\nGET /api/v1/users?id=1 HTTP/1.1\nHost: target.example\nCookie: ASP.NET_SessionId=abc\n```\n"
    );
    // A boxed notice of prose stays prose.
    let notice = format!(
        "<table><tr><td>{}</td></tr></table>",
        ["声明：本文仅用于技术交流。", "请勿用于非法用途，否则后果自负。", "如有侵权请联系删除。"]
            .iter()
            .map(|l| line(l))
            .collect::<String>()
    );
    assert!(!md(&notice).contains("```"), "{}", md(&notice));
    // Two lines are no box without a sign of code; a table of several cells is a table.
    assert!(!md(&format!("<table><tr><td>{}{}</td></tr></table>", line("a = 1"), line("b = 2"))).contains("```"));
}
