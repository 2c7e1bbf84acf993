//! Tables and cards: a data table becomes a GFM pipe table; a layout table is unwrapped into its
//! cells' blocks; a layout cell that is a card (one link target, a title) becomes one list item.

use ego_tree::NodeRef;
use scraper::Node;

use super::blocks::{Emitter, code_language, is_blank_markdown, raw_text};
use super::{codebox, escape_text, escape_url, is_safe_url};

impl Emitter {
    pub(super) fn table(&mut self, node: NodeRef<Node>, depth: usize) -> Vec<String> {
        let rows = table_rows(node);
        // A one-cell table of code lines is a box of code.
        if let [row] = rows.as_slice()
            && let [cell] = row.as_slice()
            && let Node::Element(el) = cell.value()
            && let Some(block) = codebox::code_box(*cell, codebox::says_code(el), &code_language(*cell, el))
        {
            return vec![block];
        }
        // A table inside another table's cell is part of a layout.
        let nested = node.ancestors().any(|a| matches!(a.value(), Node::Element(e) if e.name() == "table"));
        if !nested && is_data_table(node, &rows) {
            let mut grid: Vec<Vec<String>> = Vec::new();
            for row in &rows {
                let mut cells = Vec::new();
                for cell in row {
                    let text = self.inline(*cell, depth + 2);
                    let text = text
                        .split('\n')
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                        .replace('|', "\\|");
                    let span = match cell.value() {
                        Node::Element(e) => e.attr("colspan").and_then(|s| s.trim().parse::<usize>().ok()).unwrap_or(1),
                        _ => 1,
                    };
                    cells.push(text);
                    for _ in 1..span.min(64) {
                        cells.push(String::new());
                    }
                }
                grid.push(cells);
            }
            let width = grid.iter().map(Vec::len).max().unwrap_or(0);
            let mut out = Vec::new();
            for (i, row) in grid.iter().enumerate() {
                let mut cells = row.clone();
                cells.resize(width, String::new());
                out.push(format!("| {} |", cells.join(" | ")));
                if i == 0 {
                    out.push(format!("|{}|", vec![" --- "; width].join("|")));
                }
            }
            return vec![out.join("\n")];
        }
        // A layout table: its cells are read in order; a cell that is a card (one link, its title
        // and maybe a picture) becomes one list item.
        let mut blocks = Vec::new();
        let mut cards = Vec::new();
        for row in &rows {
            for cell in row {
                if let Some(card) = self.card(*cell, depth) {
                    cards.push(card);
                    continue;
                }
                if !cards.is_empty() {
                    blocks.push(std::mem::take(&mut cards).join("\n"));
                }
                blocks.extend(self.container(*cell, depth + 2));
            }
        }
        if !cards.is_empty() {
            blocks.push(cards.join("\n"));
        }
        blocks
    }

    /// One list item for a layout cell that is a card: one link target, and either all its text
    /// under the link (`- [title](link)`) or a title beside a short link such as `► 点击阅读`,
    /// kept whole on one line (`- 01 ● title ► [点击阅读](link)`): numbers, bullets and the link's
    /// words are the author's too.
    pub(super) fn card(&mut self, cell: NodeRef<Node>, depth: usize) -> Option<String> {
        if self.in_card > 0 {
            return None;
        }
        let mut hrefs = Vec::new();
        let mut linked = String::new();
        for n in cell.descendants() {
            if let Node::Element(e) = n.value()
                && e.name() == "a"
                && let Some(h) = e.attr("href").filter(|h| is_safe_url(h) && !h.starts_with('#'))
            {
                if !hrefs.contains(&h) {
                    hrefs.push(h);
                }
                raw_text(n, &mut linked);
            }
        }
        if hrefs.len() != 1 {
            return None;
        }
        let mut text = String::new();
        raw_text(cell, &mut text);
        let full = crate::text::fold_ws(&text);
        let linked = crate::text::fold_ws(&linked);
        if full.is_empty() {
            return None;
        }
        if full == linked {
            let mut md = String::new();
            escape_text(&full, &mut md);
            let target =
                crate::article::article_address(hrefs[0]).map(String::from).unwrap_or_else(|| hrefs[0].to_string());
            return Some(format!("- [{md}]({})", escape_url(&target)));
        }
        if linked.chars().count() > 8 || !full.contains(&linked) {
            return None;
        }
        self.in_card += 1;
        let line = self.inline(cell, depth + 2);
        self.in_card -= 1;
        let line = line.split('\n').map(str::trim).filter(|l| !is_blank_markdown(l)).collect::<Vec<_>>().join(" ");
        (!line.is_empty()).then(|| format!("- {line}"))
    }
}

/// Rows of a table, each a list of its cells (`td`/`th`), nested tables excluded.
pub(super) fn table_rows(table: NodeRef<Node>) -> Vec<Vec<NodeRef<Node>>> {
    let mut rows = Vec::new();
    let mut stack: Vec<NodeRef<Node>> = table.children().collect();
    stack.reverse();
    while let Some(n) = stack.pop() {
        if let Node::Element(e) = n.value() {
            match e.name() {
                "tr" => {
                    let cells: Vec<_> = n
                        .children()
                        .filter(|c| matches!(c.value(), Node::Element(ce) if matches!(ce.name(), "td" | "th")))
                        .collect();
                    if !cells.is_empty() {
                        rows.push(cells);
                    }
                }
                "thead" | "tbody" | "tfoot" => {
                    let mut kids: Vec<_> = n.children().collect();
                    kids.reverse();
                    stack.extend(kids);
                }
                _ => {}
            }
        }
    }
    rows
}

/// A data table has rows and columns of short text; anything with pictures, nested tables,
/// several paragraphs in a cell, or a single row or column only lays things out.
pub(super) fn is_data_table(table: NodeRef<Node>, rows: &[Vec<NodeRef<Node>>]) -> bool {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    if rows.len() < 2 || width < 2 {
        return false;
    }
    for n in table.descendants().skip(1) {
        if let Node::Element(e) = n.value()
            && matches!(e.name(), "table" | "img" | "iframe" | "pre" | "ul" | "ol" | "blockquote" | "h1" | "h2" | "h3")
        {
            return false;
        }
    }
    rows.iter().flatten().all(|cell| {
        let paragraphs = cell
            .descendants()
            .filter(|n| matches!(n.value(), Node::Element(e) if matches!(e.name(), "p" | "section" | "div")))
            .count();
        paragraphs <= 3
    })
}
