//! What `tscb` tells about itself: each command's help shows the options that apply to it, and
//! the completion scripts and manual pages it generates are valid for their readers.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{stderr, stdout, tscb};

const CLIENT_OPTIONS: [&str; 8] = [
    "--verbose",
    "--base-url",
    "--sim",
    "--json",
    "--call-timeout",
    "--ignore-login-guard",
    "--ca-file",
    "--proxy",
];

/// Whether `help` has a line of its own for `option` (a description may mention another).
fn lists(help: &str, option: &str) -> bool {
    help.lines().any(|line| {
        line.trim_start()
            .split([' ', '<', ','])
            .filter(|word| word.starts_with("--"))
            .take(1)
            .any(|word| word.trim_end_matches("...") == option)
    })
}

fn help(command: &str) -> String {
    let o = tscb(&[], &[command, "--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn only_the_commands_that_call_thingspace_show_the_client_options() {
    for command in ["register", "list", "deregister", "plan", "apply", "login"] {
        let help = help(command);
        for option in CLIENT_OPTIONS {
            assert!(lists(&help, option), "{command} --help lacks {option}:\n{help}");
        }
    }
    for command in ["listen", "sim", "completions"] {
        let help = help(command);
        for option in CLIENT_OPTIONS {
            assert!(!lists(&help, option), "{command} --help lists {option}:\n{help}");
        }
    }
    // The command's own options are still there.
    assert!(lists(&help("listen"), "--listen") && lists(&help("sim"), "--listen"));
}

/// The call timeout has the library's name; nothing was released under the old one.
#[test]
fn the_call_timeout_is_call_timeout() {
    let o = tscb(&[], &["login", "--sim", "--call-timeout", "30"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = tscb(&[], &["login", "--sim", "--timeout", "30"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// The client options belong to the command: before it they are unknown.
#[test]
fn client_options_before_the_command_are_a_usage_error() {
    let o = tscb(&[], &["--sim", "login"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A scratch directory of this test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("help-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether `program` can be run here (tests install nothing: a missing one is skipped).
fn installed(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

#[test]
fn each_shells_completion_script_parses() {
    let scratch = Scratch::new("completions");
    for (shell, checker) in [("bash", "bash"), ("zsh", "zsh"), ("fish", "fish"), ("powershell", "")] {
        let o = tscb(&[], &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        // Every command is completed (the hidden `man` is not).
        for command in ["register", "list", "deregister", "plan", "apply", "login", "listen", "sim"] {
            assert!(script.contains(command), "{shell}'s script lacks {command}");
        }
        assert!(script.contains("call-timeout"), "{shell}'s script lacks --call-timeout");
        if checker.is_empty() {
            continue;
        }
        if !installed(checker) {
            println!("skipped: {checker} is not installed, so its completion script was not parsed");
            continue;
        }
        let file = scratch.0.join(format!("tscb.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let checked = Command::new(checker).arg("-n").arg(&file).output().unwrap();
        assert!(checked.status.success(), "{checker} -n: {}", String::from_utf8_lossy(&checked.stderr));
        assert!(checked.stderr.is_empty(), "{checker} -n: {}", String::from_utf8_lossy(&checked.stderr));
    }
    let o = tscb(&[], &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_manual_page_per_command_renders_without_warnings() {
    let scratch = Scratch::new("man");
    let o = tscb(&[], &["man", "--out-dir", scratch.0.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut pages: Vec<String> = std::fs::read_dir(&scratch.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    let expected = [
        "tscb-apply.1",
        "tscb-completions.1",
        "tscb-deregister.1",
        "tscb-list.1",
        "tscb-listen.1",
        "tscb-login.1",
        "tscb-plan.1",
        "tscb-register.1",
        "tscb-sim.1",
        "tscb.1",
    ];
    assert_eq!(pages, expected);
    let list = std::fs::read_to_string(scratch.0.join("tscb-list.1")).unwrap();
    assert!(list.contains("call\\-timeout") && list.contains("show\\-passwords"), "{list}");
    assert!(std::fs::read_to_string(scratch.0.join("tscb.1")).unwrap().contains("Exit codes"));
    if !installed("groff") {
        println!("skipped: groff is not installed, so the manual pages were not rendered");
        return;
    }
    for page in expected {
        // -ww: all warnings; -z: check only, no output.
        let rendered = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(scratch.0.join(page))
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap();
        assert!(rendered.status.success(), "{page}: {}", String::from_utf8_lossy(&rendered.stderr));
        assert!(rendered.stderr.is_empty(), "{page}: {}", String::from_utf8_lossy(&rendered.stderr));
    }
}
