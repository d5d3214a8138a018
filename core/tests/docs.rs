//! The documentation is checked like code: `docs/errors.md` is generated from
//! `tscb::codes::TABLE` (run with `TSCB_UPDATE_DOCS=1`, or `make docs`, to rewrite it), and the
//! Markdown files must not drift from the code: the Rust version they ask for is `Cargo.toml`'s
//! `rust-version`, the callback ports and Verizon's source addresses are written only where core
//! defines them (everything else names `CALLBACK_PORTS` and `VERIZON_CALLBACK_SOURCES`, or is
//! generated from core), and every relative link between them resolves, anchors included.

use std::fs;
use std::path::{Path, PathBuf};

/// The line after which `docs/errors.md` is generated; the prose above it is written by hand.
const GENERATED_MARK: &str = "<!-- Everything below this line is generated from tscb::codes::TABLE";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every Markdown file a user reads: the front page, the guides, the PyPI page, the benchmarks'
/// notebook and the changelog.
fn markdown_files() -> Vec<PathBuf> {
    let root = repo();
    let mut files: Vec<PathBuf> = ["README.md", "CHANGELOG.md", "python/README.md", "bench/README.md"]
        .iter()
        .map(|p| root.join(p))
        .collect();
    let mut guides: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    guides.sort();
    files.extend(guides);
    files
}

fn errors_table() -> String {
    let mut out = String::from("\n| code | kind | meaning |\n|---|---|---|\n");
    for c in tscb::codes::TABLE {
        out.push_str(&format!("| `{}` | {} | {} |\n", c.code, c.kind, c.meaning));
    }
    out
}

#[test]
fn docs_errors_md_is_generated_from_the_codes_table() {
    let path = repo().join("docs/errors.md");
    let current = read(&path);
    let mark = current.find(GENERATED_MARK).expect("docs/errors.md has lost its generated-part marker");
    let end_of_mark = mark + current[mark..].find('\n').expect("the marker ends its line") + 1;
    let expected = format!("{}{}", &current[..end_of_mark], errors_table());
    if std::env::var_os("TSCB_UPDATE_DOCS").is_some() {
        if current != expected {
            fs::write(&path, &expected).unwrap();
        }
        return;
    }
    assert!(
        current == expected,
        "docs/errors.md is stale: run `make docs` (TSCB_UPDATE_DOCS=1 cargo test -p tscb --test docs) and commit it"
    );
}

#[test]
fn every_kind_named_in_the_table_exists() {
    let kinds = [
        "invalid_input",
        "api",
        "auth",
        "transport",
        "timeout",
        "invalid_response",
        "internal",
        "callback_rejected",
        "callback_invalid",
    ];
    for info in tscb::codes::TABLE {
        let named = info.kind.split([',', ' ']).filter(|w| kinds.contains(w)).count();
        assert!(named >= 1, "{}: unknown kind {:?}", info.code, info.kind);
    }
}

/// `Cargo.toml`'s `rust-version`, e.g. `1.89`.
fn msrv() -> String {
    read(&repo().join("Cargo.toml"))
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("Cargo.toml's [workspace.package] has a rust-version")
        .to_owned()
}

/// The Rust versions a text asks for: `1.NN` written as `Rust 1.NN`, `Rust toolchain (1.NN`,
/// `1.NN or newer` or `1.NN or later`.
fn rust_versions_asked_for(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("1.") {
        let digits: String = text[i + 2..].chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || text[..i].ends_with(|c: char| c.is_ascii_digit() || c == '.') {
            continue;
        }
        let after = &text[i + 2 + digits.len()..];
        if after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
            continue; // a three-part version (0.1.0, 2.0.0) is a package's, not Rust's
        }
        let before = &text[..i];
        // Another product's version ("musl 1.2 or newer") is not Rust's.
        if ["musl ", "glibc ", "Python ", "CMake "].iter().any(|other| before.ends_with(other)) {
            continue;
        }
        let named = before.ends_with("Rust ")
            || before.ends_with("Rust toolchain (")
            || before.ends_with("rust-version ")
            || before.ends_with("MSRV ")
            || after.starts_with(" or newer")
            || after.starts_with(" or later");
        if named {
            found.push(format!("1.{digits}"));
        }
    }
    found
}

#[test]
fn the_docs_ask_for_the_rust_version_cargo_toml_requires() {
    let msrv = msrv();
    let mut in_readme = false;
    for path in markdown_files() {
        let text = read(&path);
        for v in rust_versions_asked_for(&text) {
            assert_eq!(
                v,
                msrv,
                "{} asks for Rust {v}, but Cargo.toml's rust-version is {msrv}",
                path.display()
            );
            in_readme |= path.ends_with("README.md") && path.parent() == Some(&repo());
        }
    }
    assert!(in_readme, "README.md no longer says which Rust version is needed ({msrv})");
}

/// The files that must name the callback ports and Verizon's sources rather than copy them:
/// the Markdown, the C header, and the non-test sources of every crate and of the Python package
/// (core's own definitions excepted). Tests are not here: they hold the values to check them.
fn files_that_must_not_copy_constants() -> Vec<PathBuf> {
    let root = repo();
    let definitions =
        ["core/src/validate.rs", "core/src/callback/verify.rs", "core/src/codes.rs"].map(|p| root.join(p));
    let mut files = markdown_files();
    files.retain(|p| !p.ends_with("docs/errors.md")); // generated from core::codes
    files.push(root.join("include/tscb.h"));
    files.push(root.join("release/README-c.txt"));
    for dir in [
        "core/src",
        "ffi/src",
        "cli/src",
        "sim/src",
        "python/src",
        "python/tscb",
        "python/examples",
        "examples",
    ] {
        walk(&root.join(dir), &mut files);
    }
    files.retain(|p| !definitions.contains(p));
    files
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path
            .extension()
            .is_some_and(|x| ["rs", "py", "pyi", "c", "h", "toml", "md"].iter().any(|e| x == *e))
        {
            out.push(path);
        }
    }
}

#[test]
fn the_callback_ports_and_verizon_sources_are_written_only_in_core() {
    let mut needles: Vec<String> = tscb::VERIZON_CALLBACK_SOURCES.iter().map(|s| s.to_string()).collect();
    for &(lo, hi) in tscb::CALLBACK_PORTS.iter().filter(|(lo, hi)| lo != hi) {
        needles.extend([
            format!("{lo}–{hi}"),
            format!("{lo}-{hi}"),
            format!("{lo}..={hi}"),
            format!("({lo}, {hi})"),
        ]);
    }
    // Generated from core's codes table (the C header's list of codes): allowed.
    let port_meaning =
        tscb::codes::TABLE.iter().find(|c| c.code == tscb::codes::CALLBACK_URL_PORT).unwrap().meaning;
    let mut copies = Vec::new();
    for path in files_that_must_not_copy_constants() {
        let text = read(&path);
        for (n, line) in text.lines().enumerate() {
            if line.contains(port_meaning) {
                continue;
            }
            for needle in &needles {
                if line.contains(needle.as_str()) {
                    copies.push(format!(
                        "{}:{}: {needle}",
                        path.strip_prefix(repo()).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        copies.is_empty(),
        "a copy of core's callback ports or Verizon's sources (name tscb::CALLBACK_PORTS / VERIZON_CALLBACK_SOURCES instead):\n{}",
        copies.join("\n")
    );
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.push(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of `[text](target)` links outside code blocks.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        for (i, _) in line.match_indices("](") {
            if let Some(end) = line[i + 2..].find(')') {
                out.push(line[i + 2..i + 2 + end].to_owned());
            }
        }
    }
    out
}

#[test]
fn every_link_between_the_docs_resolves() {
    let mut broken = Vec::new();
    for path in markdown_files() {
        let text = read(&path);
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if file.is_empty() { path.clone() } else { path.parent().unwrap().join(file) };
            if !resolved.exists() {
                broken.push(format!("{}: {target}: no such file", path.display()));
                continue;
            }
            let is_markdown = resolved.extension().is_some_and(|x| x == "md");
            if !anchor.is_empty() && is_markdown && !anchors(&read(&resolved)).iter().any(|a| a == anchor) {
                broken.push(format!("{}: {target}: no such heading", path.display()));
            }
        }
    }
    assert!(broken.is_empty(), "links that do not resolve:\n{}", broken.join("\n"));
}

/// The address the guides' Rust programs show (`make sim`); the generated tests give each
/// program a simulator of its own instead.
const SHOWN_BASE_URL: &str = "\"http://127.0.0.1:9000/api\"";

/// `core/tests/doc_programs.rs`: every whole Rust program (a ```` ```rust ```` block with a
/// `main`) of the Markdown files, each in a module of its own with a test that runs it against a
/// simulator, the address it shows replaced by that simulator's.
fn doc_programs() -> String {
    let root = repo();
    let mut out = String::from(
        "//! Generated by `make docs` from the Rust programs of README.md and docs/*.md (core/tests/docs.rs\n\
         //! checks that it is up to date; do not edit): each runs against a simulator of its own, with\n\
         //! the address its page shows (127.0.0.1:9000, `make sim`) replaced by that simulator's.\n\
         #![allow(unused_imports, clippy::all)]\n\n\
         use std::cell::RefCell;\n\n\
         thread_local! {\n    static SIM_URL: RefCell<String> = const { RefCell::new(String::new()) };\n}\n\n\
         /// The base URL of the simulator of the test running on this thread.\n\
         fn sim_url() -> String {\n    SIM_URL.with(|url| url.borrow().clone())\n}\n\n\
         fn run<E: std::fmt::Debug>(program: impl FnOnce() -> Result<(), E>) {\n    \
         let sim = tscb_sim::Simulator::start().unwrap();\n    \
         SIM_URL.with(|url| *url.borrow_mut() = sim.base_url());\n    \
         program().expect(\"the program returned an error\");\n}\n",
    );
    for file in markdown_files() {
        let text = read(&file);
        let name = file.strip_prefix(&root).unwrap().to_string_lossy().to_string();
        let mut lines = text.lines().enumerate();
        while let Some((number, line)) = lines.next() {
            let fence = line.trim_start();
            if !(fence.starts_with("```rust") && !fence.contains("ignore") && !fence.contains("compile_fail"))
            {
                continue;
            }
            let mut block = Vec::new();
            for (_, line) in lines.by_ref() {
                if line.trim_start().starts_with("```") {
                    break;
                }
                block.push(line);
            }
            let code = block.join("\n");
            if !code.contains("fn main()") || !code.contains(SHOWN_BASE_URL) {
                continue;
            }
            let module: String = format!("{}_{}", name, number + 1)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
                .collect();
            let code = code
                .replace(SHOWN_BASE_URL, "&*super::sim_url()")
                .replace("async fn main()", "pub(super) async fn main()")
                .replace("\nfn main()", "\npub(super) fn main()");
            let code = if code.starts_with("fn main()") { format!("pub(super) {code}") } else { code };
            out.push_str(&format!("\n/// {name}, line {}.\nmod {module} {{\n", number + 1));
            for line in code.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("    {line}\n"));
                }
            }
            out.push_str(&format!("}}\n\n#[test]\nfn {module}() {{\n    run({module}::main);\n}}\n"));
        }
    }
    rustfmt(&out)
}

/// `text` as `cargo fmt` leaves it, so that `make fmt-check` and the staleness check agree.
fn rustfmt(text: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2021", "--emit", "stdout", "--config-path"])
        .arg(repo().join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("rustfmt (the toolchain's) formats the generated tests");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "rustfmt failed on the generated tests");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_guides_rust_programs_are_the_tests_in_doc_programs_rs() {
    let path = repo().join("core/tests/doc_programs.rs");
    let want = doc_programs();
    assert!(want.matches("#[test]").count() >= 5, "too few programs found:\n{want}");
    if std::env::var_os("TSCB_UPDATE_DOCS").is_some() {
        fs::write(&path, &want).unwrap();
    }
    assert!(
        fs::read_to_string(&path).unwrap_or_default() == want,
        "core/tests/doc_programs.rs is stale: run `make docs` and commit it"
    );
}
