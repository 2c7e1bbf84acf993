//! Bytes → a search (words, source, id) against a small index made once, as `wxsec search` runs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;

thread_local! {
    static STATE: RefCell<Option<(tempfile::TempDir, wxsec::archive::State)>> = const { RefCell::new(None) };
}

fn with_state(f: impl FnOnce(&std::path::Path, &wxsec::archive::State)) {
    STATE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (dir, state) = cell.get_or_insert_with(|| {
            let dir = tempfile::tempdir().unwrap();
            let state = wxsec::archive::State::open(&dir.path().join("state.sqlite")).unwrap();
            for (i, body) in ["漏洞预警：CVE-2024-56337 远程代码执行", "Apache Tomcat 补丁分析 CVSS 9.8", "攻防演练 ATT&CK T1059"]
                .iter()
                .enumerate()
            {
                let record = format!(
                    "---\ntitle: 标题{i}\nurl: https://mp.weixin.qq.com/s?__biz=MzA=&mid={i}&idx=1&sn=a\nsource: 安全号\ndate: 2024-01-0{}\nfetch_date: 2024-01-01T00:00:00.000000\n---\n\n# 标题{i}\n\n{body}\n",
                    i + 1
                );
                std::fs::create_dir_all(dir.path().join("1")).unwrap();
                std::fs::write(dir.path().join(format!("1/{i}_1.md")), &record).unwrap();
                let e = wxsec::archive::index::Entry::of_file_text(&record, format!("1/{i}_1.md"), false).unwrap();
                wxsec::archive::index::upsert(&state, &e).unwrap();
            }
            (dir, state)
        });
        f(dir.path(), state);
    });
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{0}');
    let terms: Vec<String> = parts.next().unwrap_or_default().split_whitespace().map(String::from).collect();
    let source = parts.next().map(String::from);
    let id = parts.next().map(String::from);
    let q = wxsec::archive::index::Query { terms, source, since: None, id, limit: 20 };
    with_state(|root, state| {
        let _ = wxsec::archive::index::search(state, root, &q, "\x1b[1m", "\x1b[0m");
    });
});
