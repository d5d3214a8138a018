//! The `tscb … --sim` lines of the README and the guides run as written: each gets a simulator of
//! its own, so they need nothing else. A `# ` line after a command is what it prints (stdout on
//! success; `# $? = N: …` is the exit code and the start of stderr, up to a `(…)`).

mod common;

use std::path::Path;

use common::{stderr, stdout, tscb};

/// (page, command line, the comment line after it, if any)
fn sim_lines() -> Vec<(String, String, Option<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut pages = vec![root.join("README.md")];
    let mut guides: Vec<_> =
        std::fs::read_dir(root.join("docs")).unwrap().map(|e| e.unwrap().path()).collect();
    guides.sort();
    pages.extend(guides.into_iter().filter(|p| p.extension().is_some_and(|x| x == "md")));
    let mut found = Vec::new();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let mut in_sh = false;
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with("```") {
                in_sh = !in_sh && *line == "```sh";
                continue;
            }
            if in_sh && line.starts_with("tscb ") && line.split_whitespace().any(|w| w == "--sim") {
                let expected = lines.get(i + 1).and_then(|l| l.strip_prefix("# ")).map(str::to_owned);
                found.push((page.display().to_string(), line.to_string(), expected));
            }
        }
    }
    found
}

#[test]
fn every_sim_line_of_the_docs_runs_as_shown() {
    let lines = sim_lines();
    assert!(lines.len() >= 5, "the README and docs/cli.md have --sim examples: found {lines:?}");
    for (page, line, expected) in lines {
        let args: Vec<&str> = line.split_whitespace().skip(1).collect();
        let out = tscb(&[], &args);
        let code = out.status.code();
        match expected.as_deref().and_then(|e| e.strip_prefix("$? = ")) {
            Some(rest) => {
                let (want_code, message) = rest.split_once(": ").unwrap();
                assert_eq!(code, Some(want_code.parse().unwrap()), "{page}: `{line}`: {}", stderr(&out));
                let message = message.split(" (…)").next().unwrap();
                assert!(stderr(&out).starts_with(message), "{page}: `{line}` printed {:?}", stderr(&out));
            }
            None => {
                assert_eq!(code, Some(0), "{page}: `{line}`: {}", stderr(&out));
                if let Some(want) = expected {
                    assert_eq!(stdout(&out).lines().next(), Some(want.as_str()), "{page}: `{line}`");
                }
            }
        }
    }
}
