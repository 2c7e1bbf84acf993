//! Properties of the two writers every record depends on: front-matter scalars read back as the
//! very string meant (YAML 1.2 by serde-saphyr here, YAML 1.1 by PyYAML in `check_record.rs`), and
//! escaped prose renders as the very text meant (CommonMark + GFM by pulldown-cmark).

use std::collections::BTreeMap;

use proptest::prelude::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use wxsec::markdown::{escape_line_start, escape_text};
use wxsec::record::yaml_scalar;

/// Strings rich in what breaks YAML and Markdown: indicators, quotes, escapes, digits, CJK,
/// controls, odd white space and the words YAML reads as something else.
fn tricky() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("yes".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("2024-01-01".to_string()),
        Just("0x1F".to_string()),
        Just(".inf".to_string()),
        Just("1:20".to_string()),
        Just("---".to_string()),
        Just(": ".to_string()),
        Just(" #".to_string()),
        Just("\u{2028}".to_string()),
        Just("\u{85}".to_string()),
        Just("\u{feff}".to_string()),
        Just("漏洞".to_string()),
        "[-?:,\\[\\]{}#&*!|>'\"%@`=~+.\\\\/ <_a-z0-9\\t\\n\\r]{1,4}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn front_matter_scalars_read_back_exactly(s in tricky()) {
        let doc = format!("title: {}\n", yaml_scalar(&s));
        let map: BTreeMap<String, serde_json::Value> = serde_saphyr::from_str(&doc)
            .map_err(|e| TestCaseError::fail(format!("{doc:?}: {e}")))?;
        prop_assert_eq!(map.get("title"), Some(&serde_json::Value::String(s.clone())), "{:?}", doc);
    }

    #[test]
    fn escaped_prose_renders_as_written(s in "[-*_`\\[\\]()<>!#&;|~+=.:a-z0-9 漏洞\\\\]{0,40}") {
        // A paragraph as the emitter writes it: folded white space, trimmed.
        let text: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        prop_assume!(!text.is_empty());
        let mut md = String::new();
        escape_text(&text, &mut md);
        let md = escape_line_start(&md);
        let mut opts = Options::empty();
        opts.insert(Options::ENABLE_TABLES);
        opts.insert(Options::ENABLE_STRIKETHROUGH);
        let mut rendered = String::new();
        let mut ok = true;
        for event in Parser::new_ext(&md, opts) {
            match event {
                Event::Text(t) => rendered.push_str(&t),
                Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {}
                other => { ok = false; rendered.push_str(&format!("«{other:?}»")); }
            }
        }
        prop_assert!(ok && rendered == text, "text {:?} → md {:?} → {:?}", text, md, rendered);
    }
}
