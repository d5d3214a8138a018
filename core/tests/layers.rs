//! The core's structure, held by a test: its modules import each other in one direction only (no
//! cycle, through the crate root's re-exports either), and the async client knows nothing of the
//! blocking client's engines. A reader can then take the layers in `docs/architecture.md` as true.
//!
//! The graph is read from the source text: every `crate::…`, `super::…` and `self::…` path
//! outside comments and outside `#[cfg(test)]` modules, resolved to the file that defines the
//! deepest module the path names. Tests may import what they like.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module's path inside the crate: `[]` for lib.rs, `["auth", "guard"]` for auth/guard.rs.
type ModPath = Vec<String>;

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<ModPath, PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let mut name = prefix.to_vec();
        if !(prefix.is_empty() && stem == "lib") {
            name.push(stem.clone());
        }
        let sub = dir.join(&stem);
        if sub.is_dir() {
            modules(&sub, &name, out);
        }
        out.insert(name, path);
    }
}

/// The code of a file without its comments, and without a `#[cfg(test)] mod … { … }` (which this
/// crate keeps at the end of a file). Also returns the names of `#[cfg(test)] mod x;` files.
fn code_of(text: &str) -> (String, Vec<String>) {
    let mut test_files = Vec::new();
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]" {
            if let Some(next) = lines.peek() {
                let next = next.trim();
                if let Some(rest) = next.strip_prefix("mod ") {
                    if let Some(name) = rest.strip_suffix(';') {
                        test_files.push(name.trim().to_string());
                        lines.next();
                        continue;
                    }
                    break; // an inline test module: the rest of the file
                }
            }
        }
        let without_comment = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        code.push_str(without_comment);
        code.push('\n');
    }
    (code, test_files)
}

/// Every path the code names, expanded from `use` groups: `crate::{a::{B, C}, d}` gives
/// `crate::a::B`, `crate::a::C` and `crate::d`. A path that starts with the name of one of the
/// module's own children (`pub use callback::X` in lib.rs) is returned as `self::callback::X`.
fn paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let bytes: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        if starts_word
            && (rest.starts_with("crate::") || rest.starts_with("super::") || rest.starts_with("self::"))
        {
            let (found, end) = parse_path(&bytes, i);
            out.extend(found);
            i = end.max(i + 1);
        } else if starts_word && (i < 2 || bytes[i - 2..i] != [':', ':']) {
            let (found, end) = parse_path(&bytes, i);
            let mut any = false;
            for path in found {
                let child = path.len() > 1 && children.contains(&path[0]);
                if child {
                    let mut whole = vec!["self".to_string()];
                    whole.extend(path);
                    out.push(whole);
                    any = true;
                }
            }
            i = if any { end.max(i + 1) } else { i + 1 };
        } else {
            i += 1;
        }
    }
    out
}

/// Parses `a::b::{c, d::e}` starting at `start`; returns the expanded paths and where it ended.
fn parse_path(chars: &[char], start: usize) -> (Vec<Vec<String>>, usize) {
    let mut segments = Vec::new();
    let mut i = start;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i < chars.len() && chars[i] == '{' {
            let mut found = Vec::new();
            i += 1;
            loop {
                while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                    i += 1;
                }
                if i >= chars.len() || chars[i] == '}' {
                    i += 1;
                    break;
                }
                let (inner, end) = parse_path(chars, i);
                for tail in inner {
                    let mut whole: Vec<String> = segments.clone();
                    whole.extend(tail);
                    found.push(whole);
                }
                i = end.max(i + 1);
            }
            return (found, i);
        }
        let begin = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i == begin {
            break;
        }
        segments.push(chars[begin..i].iter().collect());
        if i + 1 < chars.len() && chars[i] == ':' && chars[i + 1] == ':' {
            i += 2;
        } else {
            break;
        }
    }
    (vec![segments], i)
}

/// The file module a path lands in: the deepest known module it names.
fn resolve(from: &ModPath, path: &[String], known: &BTreeMap<ModPath, PathBuf>) -> ModPath {
    let mut base: ModPath = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") => from.clone(),
        Some("super") => {
            let mut base = from.clone();
            base.pop();
            base
        }
        _ => unreachable!("paths() only yields crate::, self:: and super:: paths"),
    };
    let mut rest = &path[1..];
    while rest.first().map(String::as_str) == Some("super") {
        base.pop();
        rest = &rest[1..];
    }
    let mut best = base.clone();
    for segment in rest {
        base.push(segment.clone());
        if known.contains_key(&base) {
            best = base.clone();
        } else {
            break;
        }
    }
    best
}

fn import_graph() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut known = BTreeMap::new();
    modules(&source_dir(), &[], &mut known);
    let mut test_only = BTreeSet::new();
    let mut codes = BTreeMap::new();
    for (name, file) in &known {
        let (code, tests) = code_of(&fs::read_to_string(file).unwrap());
        for t in tests {
            let mut m = name.clone();
            m.push(t);
            test_only.insert(m);
        }
        codes.insert(name.clone(), code);
    }
    let mut graph = BTreeMap::new();
    for (name, code) in &codes {
        if test_only.contains(name) {
            continue;
        }
        let mut edges = BTreeSet::new();
        let children: BTreeSet<String> = known
            .keys()
            .filter(|m| m.len() == name.len() + 1 && m.starts_with(name))
            .map(|m| m.last().unwrap().clone())
            .collect();
        for path in paths(code, &children) {
            let target = resolve(name, &path, &known);
            // A module naming its own items, or its children naming their parent's module
            // declaration, is no import.
            if &target != name {
                edges.insert(target);
            }
        }
        graph.insert(name.clone(), edges);
    }
    graph
}

fn show(m: &ModPath) -> String {
    if m.is_empty() {
        "lib.rs (the crate root)".to_string()
    } else {
        m.join("::")
    }
}

/// A cycle, if any, by depth-first search.
fn find_cycle(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &ModPath,
        graph: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let from = stack.iter().position(|m| m == next).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_core_modules_import_each_other_in_one_direction() {
    let graph = import_graph();
    // The reading itself is checked: these imports are known to exist, so a parser that found
    // nothing would fail here rather than pass vacuously.
    let blocking_client = vec!["blocking".to_string(), "client".to_string()];
    assert!(
        graph[&blocking_client].contains(&vec!["async_client".to_string()]),
        "the reader missed blocking::client -> async_client: {:?}",
        graph[&blocking_client]
    );
    assert!(graph.len() > 20, "only {} modules read", graph.len());
    // Every cycle is reported, not only the first: each is broken at its last edge and the
    // search runs again.
    let mut graph = graph;
    let mut cycles = Vec::new();
    while let Some(cycle) = find_cycle(&graph) {
        let shown: Vec<String> = cycle.iter().map(show).collect();
        cycles.push(shown.join(" -> "));
        let (from, to) = (&cycle[cycle.len() - 2], &cycle[cycle.len() - 1]);
        graph.get_mut(from).unwrap().remove(to);
    }
    assert!(
        cycles.is_empty(),
        "import cycles in core/src (a module below the crate root imports from the root's \
         re-exports, or two modules import each other; import from the defining module):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_async_client_knows_no_engine_of_the_blocking_client() {
    let dir = source_dir();
    let mut files = vec![dir.join("async_client.rs")];
    for entry in fs::read_dir(dir.join("async_client")).unwrap() {
        files.push(entry.unwrap().path());
    }
    for file in files {
        let (code, _) = code_of(&fs::read_to_string(&file).unwrap());
        assert!(
            !code.to_lowercase().contains("engine") && !code.contains("blocking::"),
            "{} mentions the blocking client's engine",
            file.display()
        );
    }
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let a = vec!["a".to_string()];
    let b = vec!["b".to_string()];
    let c = vec!["c".to_string()];
    let mut graph = BTreeMap::new();
    graph.insert(a.clone(), BTreeSet::from([b.clone()]));
    graph.insert(b.clone(), BTreeSet::from([c.clone()]));
    graph.insert(c.clone(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
    graph.get_mut(&c).unwrap().insert(a.clone());
    assert_eq!(find_cycle(&graph), Some(vec![a.clone(), b, c, a]));
    assert_eq!(
        paths("use crate::{a::{B, C}, d};", &BTreeSet::new()),
        vec![vec!["crate", "a", "B"], vec!["crate", "a", "C"], vec!["crate", "d"]]
    );
    let children = BTreeSet::from(["child".to_string()]);
    assert_eq!(
        paths("pub use child::{X, Y};", &children),
        vec![vec!["self", "child", "X"], vec!["self", "child", "Y"]]
    );
}
