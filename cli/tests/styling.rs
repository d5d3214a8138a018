//! `NO_COLOR`, `TERM=dumb` and an output that is not a terminal turn styling off: `tscb apply`
//! draws its progress bar (which redraws itself with escape sequences) only for a person at a
//! terminal, and prints plain lines otherwise. Run on a real pseudo-terminal, through
//! util-linux's `script`.

mod common;

use std::process::Command;

use common::BIN;

/// Six registrations at three a second: long enough for the bar to be drawn.
const FLEET: &str = "[defaults]\nurl = \"https://listener.example.com/cb\"\n\
    services = [\"CarrierService\", \"DeviceUsage\", \"SMSService\"]\n\n\
    [[account]]\nname = \"TestAccount-1\"\n\n[[account]]\nname = \"TestAccount-2\"\n";

/// `tscb apply` (against its own simulator) on a terminal, with `env` and `redirect` appended
/// to the command line in the shell; what the terminal received, or `None` where `script` is
/// missing or cannot open a terminal here.
fn apply_on_a_terminal(name: &str, env: &str, redirect: &str) -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("styling-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fleet = dir.join("fleet.toml");
    std::fs::write(&fleet, FLEET).unwrap();
    let line = format!("{env} '{BIN}' apply --sim -f '{}' --yes --max-rate 3 {redirect}", fleet.display());
    let run = Command::new("script")
        .args(["-qefc", &line, "/dev/null"])
        .current_dir(&dir)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env("XDG_STATE_HOME", &dir)
        .output();
    let out = match run {
        Ok(out) if out.status.success() => out,
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("apply:") => panic!(
            "tscb apply failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        other => {
            println!("skipped: no terminal through `script` here ({other:?})");
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
    };
    let mut shown = String::from_utf8_lossy(&out.stdout).into_owned();
    if let Ok(file) = std::fs::read_to_string(dir.join("out.txt")) {
        shown.push_str(&file);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Some(shown)
}

fn escapes(text: &str) -> bool {
    text.contains('\u{1b}')
}

#[test]
fn no_color_dumb_terminals_and_redirected_output_get_no_escape_sequences() {
    // Without any of them, the bar is drawn: the check below can see escape sequences.
    let Some(styled) = apply_on_a_terminal("styled", "", "") else { return };
    assert!(escapes(&styled), "no progress bar on a terminal:\n{styled}");
    assert!(styled.contains("apply: 6 created"), "{styled}");

    for (name, env, redirect) in
        [("no-color", "NO_COLOR=1", ""), ("dumb", "TERM=dumb", ""), ("redirected", "", "> out.txt")]
    {
        let shown = apply_on_a_terminal(name, env, redirect).unwrap();
        assert!(!escapes(&shown), "{name}: escape sequences in {shown:?}");
        // One plain line per change instead of the bar.
        assert_eq!(shown.matches("created TestAccount-").count(), 6, "{name}: {shown}");
        assert!(shown.contains("apply: 6 created"), "{name}: {shown}");
    }
}
