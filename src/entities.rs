//! Security entities named in a record: CVE, CNVD, CNNVD and GitHub advisory ids, MITRE ATT&CK
//! technique ids and CVSS base scores. Read from the record's own text (title and Markdown body),
//! so the same record gives the same entities whichever tool wrote it.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// The entities of one record, each list in order of first mention, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Entities {
    /// `CVE-YYYY-NNNN…`, upper case.
    pub cves: Vec<String>,
    /// `CNVD-YYYY-NNNNN` (and `CNVD-C-…` pre-assignments).
    pub cnvds: Vec<String>,
    /// `CNNVD-YYYYMM-NNNN`.
    pub cnnvds: Vec<String>,
    /// `GHSA-xxxx-xxxx-xxxx`, the three groups lower case.
    pub ghsas: Vec<String>,
    /// ATT&CK techniques and sub-techniques, `T1059` or `T1059.001`.
    pub attack: Vec<String>,
    /// CVSS scores from 0.0 to 10.0.
    pub cvss: Vec<f32>,
}

// Dashes that Chinese editors and word processors put in place of `-`.
const DASH: &str = r"[-‐‑‒–—－_]";

static CVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)(?-u:\b)CVE{DASH}((?:199|20[0-4])[0-9]){DASH}([0-9]{{4,7}})(?-u:\b)")).unwrap()
});
static CNVD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)(?-u:\b)CNVD{DASH}(C{DASH})?((?:200|201|202|203)[0-9]){DASH}([0-9]{{4,6}})(?-u:\b)"))
        .unwrap()
});
static CNNVD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?-u:\b)CNNVD{DASH}((?:200|201|202|203)[0-9](?:0[1-9]|1[0-2])){DASH}([0-9]{{2,5}})(?-u:\b)"
    ))
    .unwrap()
});
// GitHub's advisory ids use 8 letters and digits that cannot be misread: 23456789cfghjmpqrvwx.
static GHSA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)GHSA-([2-9cfghjmpqrvwx]{4})-([2-9cfghjmpqrvwx]{4})-([2-9cfghjmpqrvwx]{4})(?-u:\b)")
        .unwrap()
});
// Every enterprise, mobile and ICS technique id is T1 followed by three digits.
static TECHNIQUE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?-u:\b)T1[0-9]{3}(?:\.[0-9]{3})?(?-u:\b)").unwrap());
static ATTACK_CONTEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)ATT\s*&(?:amp;)?\s*CK|(?-u:\b)MITRE(?-u:\b)|攻击技术|技战术|战术").unwrap());
static CVSS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)(?-u:\b)CVSS").unwrap());
// What may stand between `CVSS` and its score: a version, a vector, words for "score", and the
// marks of a Markdown table cell (`**CVSS 3.1分数** | | 9.8`); nothing else, so that a number
// further on in the sentence is not taken for the score.
static CVSS_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^
        (?: \s* (?:v|版本)? \s* [234](?:\.[01x])? )?                      # version
        (?: [:：]? [234]\.[01] / [A-Z:/]+ )?                             # vector
        (?: [\s*|:：=(（)）] | base | score | severity | rating | of | is | v[234](?:\.[01])?
          | 基础评分 | 基本评分 | 评分 | 得分 | 分数 | 分值 | 评级 | 风险值 | 为 | 高达 | 达到 | 基础 )*?
        (10(?:\.0)? | [0-9]\.[0-9]) (?:[^0-9.] | $)",
    )
    .unwrap()
});

/// Finds the entities in a record's title and body.
pub fn find(title: &str, body: &str) -> Entities {
    let mut e = Entities::default();
    for text in [title, body] {
        scan(text, &mut e);
    }
    if !e.attack.is_empty() && !ATTACK_CONTEXT.is_match(title) && !ATTACK_CONTEXT.is_match(body) {
        // `T1190` alone is as likely a model number; techniques are named next to ATT&CK.
        e.attack.clear();
    }
    e
}

fn push<T: PartialEq>(list: &mut Vec<T>, v: T) {
    if !list.contains(&v) {
        list.push(v);
    }
}

fn scan(text: &str, e: &mut Entities) {
    for c in CVE.captures_iter(text) {
        push(&mut e.cves, format!("CVE-{}-{}", &c[1], &c[2]));
    }
    for c in CNVD.captures_iter(text) {
        let pre = if c.get(1).is_some() { "C-" } else { "" };
        push(&mut e.cnvds, format!("CNVD-{pre}{}-{}", &c[2], &c[3]));
    }
    for c in CNNVD.captures_iter(text) {
        push(&mut e.cnnvds, format!("CNNVD-{}-{}", &c[1], &c[2]));
    }
    for c in GHSA.captures_iter(text) {
        push(&mut e.ghsas, format!("GHSA-{}-{}-{}", c[1].to_lowercase(), c[2].to_lowercase(), c[3].to_lowercase()));
    }
    for m in TECHNIQUE.find_iter(text) {
        // Not a piece of a longer token: `T1059` in `AT1059X` or a path is no technique.
        let before = text.get(..m.start()).unwrap_or_default().chars().next_back();
        let after = text.get(m.end()..).unwrap_or_default().chars().next();
        let joined = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '/' || c == '-' || c == '_');
        if !joined(before) && !joined(after) {
            push(&mut e.attack, m.as_str().to_string());
        }
    }
    for m in CVSS.find_iter(text) {
        let rest = text.get(m.end()..).unwrap_or_default();
        let window = rest.get(..rest.floor_char_boundary(90)).unwrap_or_default();
        if let Some(c) = CVSS_TAIL.captures(window)
            && let Ok(score) = c[1].parse::<f32>()
            && (0.0..=10.0).contains(&score)
        {
            // A bare version (`CVSS 3.1`) followed by nothing that is a score is no score.
            let before = window.get(..c.get(1).map_or(0, |m| m.start())).unwrap_or_default();
            let version_only = matches!(&c[1], "2.0" | "3.0" | "3.1" | "4.0")
                && before.trim().trim_matches(['v', 'V', ':', '：']).is_empty();
            if !version_only {
                push(&mut e.cvss, score);
            }
        }
    }
}

impl Entities {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.cves.is_empty()
            && self.cnvds.is_empty()
            && self.cnnvds.is_empty()
            && self.ghsas.is_empty()
            && self.attack.is_empty()
            && self.cvss.is_empty()
    }

    /// Front-matter lines for the lists that are not empty (`cves: [CVE-2024-1, …]`), written after
    /// the five standard keys when `--extra-fields` asks for them.
    pub fn front_matter(&self) -> String {
        let mut out = String::new();
        let mut list = |key: &str, items: Vec<String>| {
            if !items.is_empty() {
                out.push_str(key);
                out.push_str(": [");
                out.push_str(&items.join(", "));
                out.push_str("]\n");
            }
        };
        list("cves", self.cves.clone());
        list("cnvds", self.cnvds.clone());
        list("cnnvds", self.cnnvds.clone());
        list("ghsas", self.ghsas.clone());
        list("attack", self.attack.clone());
        list("cvss", self.cvss.iter().map(|s| format!("{s:.1}")).collect());
        out
    }

    /// Every id, for the search index.
    pub fn ids(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.cves
            .iter()
            .map(|s| ("cve", s.as_str()))
            .chain(self.cnvds.iter().map(|s| ("cnvd", s.as_str())))
            .chain(self.cnnvds.iter().map(|s| ("cnnvd", s.as_str())))
            .chain(self.ghsas.iter().map(|s| ("ghsa", s.as_str())))
            .chain(self.attack.iter().map(|s| ("attack", s.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_prose() {
        let e = find(
            "Apache Tomcat 漏洞（CVE-2025-24813）",
            "漏洞编号：cve–2025–24813、CNVD-2025-01234、CNNVD-202503-1234，\
             参见 GHSA-83QJ-6FR2-VHQG 与 https://nvd.nist.gov/vuln/detail/CVE-2024-3400。\
             CVSS 3.1 评分：9.8（严重）；另一个漏洞 CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H 7.5。\
             ATT&CK 技术 T1190、T1059.001；型号 AT1234 不算。",
        );
        assert_eq!(e.cves, ["CVE-2025-24813", "CVE-2024-3400"]);
        assert_eq!(e.cnvds, ["CNVD-2025-01234"]);
        assert_eq!(e.cnnvds, ["CNNVD-202503-1234"]);
        assert_eq!(e.ghsas, ["GHSA-83qj-6fr2-vhqg"]);
        assert_eq!(e.attack, ["T1190", "T1059.001"]);
        assert_eq!(e.cvss, [9.8, 7.5]);
    }

    #[test]
    fn ids_inside_chinese_text() {
        let e =
            find("", "通过CVE-2021-28474在SharePoint上；编号为CVE-2023-47610或CVE-2023-47616，CVE-2024-123456789 太长");
        assert_eq!(e.cves, ["CVE-2021-28474", "CVE-2023-47610", "CVE-2023-47616"]);
    }

    #[test]
    fn near_misses() {
        let e = find("T1000 路由器", "CVSS 3.1 标准介绍。CVE-2024-12 不完整。CVSSv3 base score of 10.0");
        assert!(e.attack.is_empty(), "no ATT&CK context");
        assert!(e.cves.is_empty());
        assert_eq!(e.cvss, [10.0]);
        assert_eq!(
            find("", "CVE-2024-1234 CVE-2024-1234").front_matter(),
            "cves: [CVE-2024-1234]\n",
            "once each, in order"
        );
    }
}
