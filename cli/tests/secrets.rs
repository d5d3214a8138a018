//! Secrets and hostile text in what `tscb` prints: tokens the service echoes are redacted,
//! control characters from the service are escaped, and a credential variable that cannot be
//! used is refused by name without its value.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use common::{command, respond, stderr, stdout, KillOnDrop, Sim, BIN, CREDENTIALS};

/// `tscb` with THINGSPACE_* exactly `env`, whose values may be any bytes.
fn tscb_bytes(env: &[(&str, &[u8])], args: &[&str]) -> Output {
    use std::os::unix::ffi::OsStrExt;
    let mut command = command(&[], args);
    for (name, value) in env {
        command.env(name, std::ffi::OsStr::from_bytes(value));
    }
    command.output().expect("tscb runs")
}

#[test]
fn tokens_echoed_by_the_service_never_reach_stdout_or_stderr() {
    const LEAKED: &str = "LEAKED-TOKEN-0123456789";
    let token_answer = format!(r#"{{"access_token":"{LEAKED}","expires_in":3600}}x"#);
    let login_answer = format!(r#"{{"sessionToken":"{LEAKED}"}}x"#);
    for (path, body) in [("/oauth2/token", &token_answer), ("/session/login", &login_answer)] {
        for json in [false, true] {
            let sim = Sim::start();
            sim.inject(respond(path, 200, body));
            let args: &[&str] = if json { &["login", "--json"] } else { &["login"] };
            let o = sim.run(&CREDENTIALS, args);
            assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
            let all = stdout(&o) + &stderr(&o);
            assert!(!all.contains(LEAKED), "{all}");
            assert!(all.contains("sign-in answer is not JSON"), "{all}");
        }
    }
    // Fixed tokens echoed in an error body, raw, JSON-escaped and \u-escaped.
    let bearer = r#"bearer"SECRET\7"#;
    let session = "session-SECRET-8";
    let env = [("THINGSPACE_BEARER_TOKEN", bearer), ("THINGSPACE_SESSION_TOKEN", session)];
    let escaped = serde_json::to_string(bearer).unwrap();
    let u: String = bearer.encode_utf16().map(|c| format!("\\u{c:04x}")).collect();
    let body = format!(
        r#"{{"errorCode":"X.REQUEST_FAILED.Echo","errorMessage":"{} {u} {session}"}}"#,
        escaped.trim_matches('"')
    );
    for (status, body) in [(400, body.as_str()), (502, &*format!("<html>{bearer} {u} {session}</html>"))] {
        let sim = Sim::start();
        sim.inject(respond("/callbacks/", status, body));
        for args in [&["list", "--account", "A"][..], &["list", "--json", "--account", "A"]] {
            let o = sim.run(&env, args);
            assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
            let all = stdout(&o) + &stderr(&o);
            for secret in [bearer, escaped.trim_matches('"'), &u, session] {
                assert!(!all.contains(secret), "{secret} in {all}");
            }
        }
    }
}

#[test]
fn list_shows_control_characters_escaped_in_text_and_exact_in_json() {
    let sim = Sim::start();
    let listed = r#"[{"accountName":"A","serviceName":"CarrierService","url":"https://x.example/\u001b[2J",
                      "username":"\u001b[31mPWNED\u202e","password":"pw\u0007"}]"#;
    sim.inject(respond("/callbacks/", 200, listed));
    let o = sim.run(&CREDENTIALS, &["list", "--account", "A", "--show-passwords"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.chars().any(|c| c.is_control() && c != '\t' && c != '\n'), "{text:?}");
    assert!(!text.contains('\u{202e}'), "{text:?}");
    assert!(text.contains(r"username: \u{1b}[31mPWNED\u{202e}"), "{text}");
    assert!(text.contains(r"https://x.example/\u{1b}[2J"), "{text}");
    assert!(text.contains(r"password: pw\u{7}"), "{text}");
    let o = sim.run(&CREDENTIALS, &["list", "--json", "--account", "A", "--show-passwords"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json[0]["username"], "\u{1b}[31mPWNED\u{202e}");
    assert_eq!(json[0]["url"], "https://x.example/\u{1b}[2J");
    assert_eq!(json[0]["password"], "pw\u{7}");
}

#[test]
fn a_credential_variable_that_is_not_utf8_or_empty_is_refused_not_skipped() {
    let sim = Sim::start();
    let creds: Vec<(&str, &[u8])> = CREDENTIALS.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    let base = ["list", "--base-url", sim.base_url.as_str(), "--account", "A"];
    for (name, value) in [
        ("THINGSPACE_LOGIN_PASSWORD", &b"\xff"[..]),
        ("THINGSPACE_CLIENT_SECRET", b"sim-\xffsecret"),
        ("THINGSPACE_BEARER_TOKEN", b"tok\xfe"),
        ("THINGSPACE_SESSION_TOKEN", b"\xc3"),
    ] {
        let mut env = creds.clone();
        env.retain(|(n, _)| *n != name);
        env.push((name, value));
        let o = tscb_bytes(&env, &base);
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(err.contains("Tscb.INPUT_INVALID.Argument.Encoding") && err.contains(name), "{err}");
        assert!(!err.contains('\u{fffd}') && !err.contains("secret"), "the value is never shown: {err}");
    }
    // A bearer token that is set but empty does not silently switch to the OAuth credentials.
    let mut env = creds.clone();
    env.push(("THINGSPACE_BEARER_TOKEN", b""));
    let o = tscb_bytes(&env, &base);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("Tscb.INPUT_INVALID.BearerToken.Missing"), "{}", stderr(&o));
    // The callback password's variable too.
    let mut env = creds.clone();
    env.push(("LISTENER_PW", b"\xff"));
    let args = ["register", "--base-url", &sim.base_url, "--account", "A", "--service", "S"];
    let o = tscb_bytes(
        &env,
        &[&args[..], &["--url", "https://x.example", "--password-env", "LISTENER_PW"]].concat(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("Argument.Encoding") && stderr(&o).contains("LISTENER_PW"), "{}", stderr(&o));
    assert!(sim.requests().is_empty(), "nothing was sent");
}

#[test]
fn the_base_url_and_ca_file_variables_are_refused_by_name_and_no_credentials_says_what_to_set() {
    let sim = Sim::start();
    let creds: Vec<(&str, &[u8])> = CREDENTIALS.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    let list = ["list", "--account", "A"];
    for name in ["THINGSPACE_BASE_URL", "THINGSPACE_CA_FILE"] {
        let mut env = creds.clone();
        env.push((name, b"/x\xff"));
        let o = tscb_bytes(&env, &list);
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(err.contains("Tscb.INPUT_INVALID.Argument.Encoding") && err.contains(name), "{err}");
    }
    // The variable is read (the simulator answers), and the option wins over it.
    let mut env = creds.clone();
    env.push(("THINGSPACE_BASE_URL", sim.base_url.as_bytes()));
    let o = tscb_bytes(&env, &["login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = tscb_bytes(&env, &["login", "--base-url", "http://127.0.0.1:1/api"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    // No credentials at all: which variables to set.
    let o = tscb_bytes(&[("THINGSPACE_BASE_URL", sim.base_url.as_bytes())], &list);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("Tscb.INPUT_INVALID.BearerToken.Missing") && err.contains("no credentials"),
        "{err}"
    );
    for name in ["THINGSPACE_CLIENT_ID", "THINGSPACE_LOGIN_PASSWORD", "THINGSPACE_SESSION_TOKEN", "--sim"] {
        assert!(err.contains(name), "{name}: {err}");
    }
}

/// The owner of `/proc/PID/status`: the process's own user while it is dumpable, root once it
/// is not (the kernel's sign that other processes of the user may not read its memory). This is
/// seen from outside, unlike `prctl(PR_GET_DUMPABLE)`; as root, the child runs as `nobody` so
/// that the two owners differ.
fn proc_owner(pid: u32) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/status")).unwrap().uid()
}

#[test]
fn tscb_holding_a_password_is_not_dumpable() {
    use std::os::unix::process::CommandExt;
    // SAFETY: getuid has no preconditions.
    let me = unsafe { libc::getuid() };
    let user = if me == 0 { 65534 } else { me };
    let as_user = |command: &mut Command| {
        if me == 0 {
            command.uid(user).gid(user);
        }
    };
    // The check must tell a dumpable process from one that is not.
    let mut sleep = Command::new("sleep");
    as_user(sleep.arg("60"));
    let Ok(sleeper) = sleep.spawn().map(KillOnDrop) else {
        println!("skipped: cannot start a process as user {user}");
        return;
    };
    assert_eq!(proc_owner(sleeper.0.id()), user, "a plain process's /proc files are its user's");
    let mut tscb = Command::new(BIN);
    tscb.args([
        "listen",
        "--listen",
        "127.0.0.1:0",
        "--any-source",
        "--username",
        "u",
        "--password-env",
        "CB_PW",
    ])
    .env("CB_PW", "listener-SECRET-dump")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    as_user(&mut tscb);
    let mut child = tscb.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let listener = KillOnDrop(child);
    // Listening: the password has been read.
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("://"), "tscb listen started: {first}");
    assert_eq!(proc_owner(listener.0.id()), 0, "tscb is still dumpable");
}
