//! The shell examples of the README and the guides run as written. A `tscb … --sim` line gets a
//! simulator of its own. A block written for "the simulator on 127.0.0.1:9000" (`make sim` in
//! another terminal) runs in bash against a simulator this test starts on a free port, with that
//! address put in, as a user with another port would; `tscb listen` runs in the background, as in
//! its own terminal. A `# ` line right after a command is what it prints (stdout on success; `…`
//! stands for any lines; `# $? = N: …` is the exit code and the start of stderr, up to a `(…)`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{stderr, stdout, tscb, Sim};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// (page, command line, the comment line after it, if any)
fn sim_lines() -> Vec<(String, String, Option<String>)> {
    let mut found = Vec::new();
    for page in pages() {
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

/// The pages a user reads: the README, then the guides in name order.
fn pages() -> Vec<PathBuf> {
    let mut guides: Vec<_> =
        std::fs::read_dir(repo().join("docs")).unwrap().map(|e| e.unwrap().path()).collect();
    guides.sort();
    let guides = guides.into_iter().filter(|p| p.extension().is_some_and(|x| x == "md"));
    std::iter::once(repo().join("README.md")).chain(guides).collect()
}

/// A page's fenced blocks: (language, line number of the opening fence, text).
fn fenced_blocks(text: &str) -> Vec<(String, usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.to_owned(), i + 1, String::new())),
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, _, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// One command of a block (continuation lines joined) and the output shown under it.
struct Step {
    command: String,
    shown: Vec<String>,
}

/// The commands of a block, without those that start the simulator: the test has started one.
fn steps(block: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut after_command = false;
    let mut lines = block.lines();
    while let Some(line) = lines.next() {
        if let Some(shown) = line.strip_prefix("# ").filter(|_| after_command) {
            steps.last_mut().unwrap().shown.push(shown.to_owned());
            continue;
        }
        after_command = false;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut command = line.to_owned();
        while command.ends_with('\\') {
            command.push('\n');
            command.push_str(lines.next().expect("a continued line goes on"));
        }
        // `make sim`, or `tscb sim` on its usual address: the test's simulator stands in for it.
        let words: Vec<&str> = command.split_whitespace().collect();
        let usual = !command.contains("--listen") || command.contains("127.0.0.1:9000");
        if matches!(words.as_slice(), ["make", "sim", ..])
            || matches!(words.as_slice(), ["tscb", "sim", ..]) && usual
        {
            continue;
        }
        steps.push(Step { command, shown: Vec::new() });
        after_command = true;
    }
    steps
}

/// Whether `actual` is what the doc shows: line by line, `…` for any lines in between, and a
/// line ending in `(…)` for any line that starts like it.
fn output_matches(shown: &[String], actual: &[&str]) -> bool {
    match shown.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "…" => {
            (0..=actual.len()).any(|n| output_matches(rest, &actual[n..]))
        }
        Some((first, rest)) => actual.split_first().is_some_and(|(line, more)| {
            let same = match first.strip_suffix(" (…)") {
                Some(start) => line.starts_with(start),
                None => line.trim_end() == first,
            };
            same && output_matches(rest, more)
        }),
    }
}

/// Whether a message `tscb listen` printed is the one the doc shows: the same fields, each with
/// the value shown, except `…` and the time it arrived.
fn message_matches(shown: &serde_json::Value, actual: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (shown, actual) {
        (Value::String(s), _) if s == "…" => true,
        (Value::Object(s), Value::Object(a)) => {
            s.len() == a.len()
                && s.iter().all(|(k, v)| k == "receivedAt" || a.get(k).is_some_and(|w| message_matches(v, w)))
        }
        (Value::Array(s), Value::Array(a)) => {
            s.len() == a.len() && s.iter().zip(a).all(|(v, w)| message_matches(v, w))
        }
        _ => shown == actual,
    }
}

/// The first port a callback URL may use that nothing listens on: the doc's 9001 when free.
fn free_callback_port() -> u16 {
    let mut ports = tscb::CALLBACK_PORTS.iter().flat_map(|&(first, last)| first..=last).filter(|&p| p > 9000);
    ports.find(|&p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()).expect("a free callback port")
}

const MARK: &str = "@@tscb-docs-step@@";

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs one block in bash (as a user pastes it), with the simulator's address, free ports for the
/// others the page names and a scratch directory for its /tmp file put in; returns the failures.
/// A command that runs in a terminal of its own (`tscb listen`, or one ending in `&`) runs in the
/// background until the block ends, and the next command waits until it listens.
fn run_block(page: &str, line: usize, block: &str, sim: &Sim, message: Option<&str>) -> Vec<String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("docs-{}-{line}", page.replace('/', "-")));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sim_addr = sim.base_url.trim_start_matches("http://").trim_end_matches("/api").to_owned();
    let listener = format!("127.0.0.1:{}", free_callback_port());
    let tls_sim = format!("127.0.0.1:{}", free_port());
    let ca_file = dir.join("ca.pem").display().to_string();
    let put_in = |s: &str| {
        s.replace("127.0.0.1:9000", &sim_addr)
            .replace("127.0.0.1:9001", &listener)
            .replace("127.0.0.1:9443", &tls_sim)
            .replace("/tmp/tscb-sim-ca.pem", &ca_file)
    };
    let steps = steps(block);
    // Whatever a block leaves running ends with the script.
    let mut script = String::from("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n");
    let mut background = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let command = put_in(&step.command);
        if command.starts_with("tscb listen ") || command.ends_with('&') {
            let out = dir.join(format!("background-{i}.out"));
            let command = command.trim_end_matches('&').trim_end();
            script += &format!("{command} >'{}' &\n", out.display());
            let words: Vec<&str> = command.split_whitespace().collect();
            if let Some(port) =
                words.windows(2).find(|w| w[0] == "--listen").and_then(|w| w[1].rsplit(':').next())
            {
                script += &format!(
                    "for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done\n"
                );
            }
            background.push((step, out));
        } else {
            script += &command;
            script.push('\n');
        }
        script += &format!("printf '\\n{MARK}\\n'\n");
    }
    let listener_out = background.iter().find(|(s, _)| s.command.starts_with("tscb listen ")).map(|(_, o)| o);
    if let (Some(out), Some(_)) = (listener_out, message) {
        // The listener prints the message a delivery brings: wait for it (a loaded machine is slow).
        script += &format!("for _ in $(seq 600); do [ -s '{}' ] && break; sleep 0.1; done\n", out.display());
    }
    let bin_dir = Path::new(common::BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new("bash");
    command.arg("-c").arg(&script).current_dir(repo()).env("PATH", path);
    for (name, _) in std::env::vars_os().filter(|(n, _)| n.to_string_lossy().starts_with("THINGSPACE_")) {
        command.env_remove(name);
    }
    command.env("XDG_STATE_HOME", dir.join("state"));
    let out = command.output().expect("bash runs");
    let mut failures = Vec::new();
    let here = format!("{page}:{line}");
    if !out.status.success() {
        failures.push(format!(
            "{here}: the block failed ({}):\n{}\n{}",
            out.status,
            stdout(&out),
            stderr(&out)
        ));
        return failures;
    }
    let all = stdout(&out);
    let outputs: Vec<&str> = all.split(&format!("\n{MARK}\n")).collect();
    for (step, output) in steps.iter().zip(&outputs) {
        let shown: Vec<String> = step.shown.iter().map(|l| put_in(l)).collect();
        let lines: Vec<&str> = output.lines().collect();
        if !shown.is_empty()
            && !background.iter().any(|(s, _)| std::ptr::eq(*s, step))
            && !output_matches(&shown, &lines)
        {
            failures.push(format!(
                "{here}: `{}` printed\n{output}\nnot what the page shows:\n{}",
                step.command,
                shown.join("\n")
            ));
        }
    }
    // What a program in its own terminal printed starts with what the page shows.
    for (step, out) in &background {
        let printed = std::fs::read_to_string(out).unwrap();
        let shown: Vec<String> = step.shown.iter().map(|l| put_in(l)).collect();
        let lines: Vec<&str> = printed.lines().take(shown.len()).collect();
        if !output_matches(&shown, &lines) {
            failures.push(format!(
                "{here}: `{}` printed\n{printed}\nnot what the page shows:\n{}",
                step.command,
                shown.join("\n")
            ));
        }
    }
    if let (Some(out), Some(shown)) = (listener_out, message) {
        let printed = std::fs::read_to_string(out).unwrap();
        let shown: serde_json::Value = serde_json::from_str(shown).unwrap();
        let first = printed.lines().next().and_then(|l| serde_json::from_str(l).ok());
        if !first.is_some_and(|m| message_matches(&shown, &m)) {
            failures
                .push(format!("{here}: the listener printed {printed:?}, not the message the page shows"));
        }
    }
    failures
}

#[test]
fn every_block_written_for_the_simulator_runs_against_one() {
    let mut ran = Vec::new();
    let mut failures = Vec::new();
    let has_curl = Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success());
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(repo()).unwrap().display().to_string();
        let blocks = fenced_blocks(&text);
        // One simulator a page: its blocks go on from each other, as in one sitting.
        let mut sim = None;
        for (i, (lang, line, block)) in blocks.iter().enumerate() {
            // Blocks that run a C program are run by tests/c/run.sh, which builds it.
            let for_a_simulator = block.contains("127.0.0.1:9000") || block.contains("tscb sim --listen");
            if lang != "sh" || !for_a_simulator || block.contains("./") {
                continue;
            }
            if block.contains("curl ") && !has_curl {
                eprintln!("skipped {name}:{line}: curl is not installed (apt-get install curl)");
                continue;
            }
            // "Terminal 2 prints the message": the JSON block right after the listener's.
            let message = blocks.get(i + 1).filter(|(l, _, _)| l == "json").map(|(_, _, b)| b.as_str());
            let sim = sim.get_or_insert_with(Sim::start);
            failures.extend(run_block(
                &name,
                *line,
                block,
                sim,
                message.filter(|_| block.contains("tscb listen ")),
            ));
            ran.push(format!("{name}:{line}"));
        }
    }
    eprintln!("ran {} blocks: {ran:?}", ran.len());
    assert!(
        ran.len() >= 4,
        "docs/cli.md, many-accounts.md, receiving-callbacks.md and simulator.md have such blocks: {ran:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
