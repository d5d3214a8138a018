//! `tscb login`, and the login guard every command goes through: a refused login is remembered
//! (under XDG_STATE_HOME) and not sent again by the next run until a run overrides it.

mod common;

use std::process::{Child, Stdio};

use common::{command, stderr, stdout, Sim, StateDir, CREDENTIALS};

#[test]
fn login_checks_the_credentials_and_prints_nothing_secret() {
    let sim = Sim::start();
    let o = sim.run(&CREDENTIALS, &["login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("signed in to {}\n", sim.base_url));
    assert_eq!((sim.count("/oauth2/token"), sim.count("/session/login")), (1, 1));
    for (_, value) in CREDENTIALS.iter().skip(1) {
        assert!(!stdout(&o).contains(value) && !stderr(&o).contains(value));
    }
}

#[test]
fn a_bad_password_is_an_auth_failure_after_one_login() {
    let sim = Sim::start();
    let mut env = CREDENTIALS.to_vec();
    env[3] = ("THINGSPACE_LOGIN_PASSWORD", "wrong-SECRET-2");
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("UserNotAuthorized"));
    assert!(!stderr(&o).contains("wrong-SECRET-2"));
    assert_eq!(sim.count("/session/login"), 1);
}

#[test]
fn login_with_fixed_tokens_says_it_cannot_check_them() {
    let sim = Sim::start();
    let env = [("THINGSPACE_BEARER_TOKEN", "bogus"), ("THINGSPACE_SESSION_TOKEN", "bogus")];
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stderr(&o).contains("fixed tokens cannot be checked"), "{}", stderr(&o));
    assert!(sim.requests().is_empty());
}

#[test]
fn a_refused_login_is_not_sent_again_by_the_next_run() {
    let sim = Sim::start();
    let state = StateDir::new("refused");
    let mut env = CREDENTIALS.to_vec();
    env[3] = ("THINGSPACE_LOGIN_PASSWORD", "wrong-SECRET-3");
    env.push(("XDG_STATE_HOME", state.path()));
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("UserNotAuthorized"), "{}", stderr(&o));
    let o = sim.run(&env, &["list", "--account", "TestAccount-2"]);
    assert_eq!(o.status.code(), Some(5));
    let err = stderr(&o);
    assert!(err.contains("Tscb.REQUEST_FAILED.LoginBlocked"), "{err}");
    assert!(err.contains("--ignore-login-guard") && err.contains("five failed logins"), "{err}");
    assert!(!err.contains("wrong-SECRET-3"));
    assert_eq!(sim.count("/session/login"), 1, "the second run sent no login");
    let file = state.0.join("tscb/refused-logins");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("wrong-SECRET-3"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Overridden: sent again (and refused again).
    let o = sim.run(&env, &["login", "--ignore-login-guard"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("UserNotAuthorized"), "{}", stderr(&o));
    assert_eq!(sim.count("/session/login"), 2);
}

#[test]
fn a_successful_login_clears_the_refusal() {
    let sim = Sim::start();
    let state = StateDir::new("cleared");
    let mut env = CREDENTIALS.to_vec();
    env.push(("XDG_STATE_HOME", state.path()));
    sim.admin(
        "POST",
        "/__admin/faults",
        r#"{"path_contains":"/session/login","times":1,"action":"respond","status":400,"content_type":"application/json","body":"{\"errorCode\":\"UnifiedWebService.REQUEST_FAILED.UserNotAuthorized\",\"errorMessage\":\"Invalid username or password\"}"}"#,
    );
    assert_eq!(sim.run(&env, &["login"]).status.code(), Some(5));
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("LoginBlocked"), "{}", stderr(&o));
    assert_eq!(sim.count("/session/login"), 1);
    let o = sim.run(&env, &["login", "--ignore-login-guard"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sim.count("/session/login"), 3);
}

#[test]
fn an_unwritable_state_directory_is_a_warning_not_a_failure() {
    let sim = Sim::start();
    let state = StateDir::new("unwritable");
    std::fs::write(&state.0, "a file, not a directory").unwrap();
    let mut env = CREDENTIALS.to_vec();
    env.push(("XDG_STATE_HOME", state.path()));
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("warning: the login guard file").count(), 1, "{err}");
    let _ = std::fs::remove_file(&state.0);
}

#[test]
fn parallel_runs_with_the_right_password_never_block_each_other() {
    // Processes sharing the guard file: each read-modify-write is locked, and a run that finds
    // another's login in flight waits for it rather than failing with LoginBlocked.
    let sim = Sim::start();
    let state = StateDir::new("parallel");
    let mut env = CREDENTIALS.to_vec();
    env.push(("XDG_STATE_HOME", state.path()));
    for _ in 0..3 {
        let runs: Vec<Child> = (0..6)
            .map(|_| {
                command(&env, &["login", "--base-url", &sim.base_url, "--call-timeout", "30"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("tscb runs")
            })
            .collect();
        for run in runs {
            let o = run.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        }
    }
    assert_eq!(sim.count("/session/login"), 18);
}

/// `tscb ARGS`, which must end within `limit`: killed, and the test failed, otherwise.
fn run_within(env: &[(&str, &str)], args: &[&str], limit: std::time::Duration) -> std::process::Output {
    let mut run =
        command(env, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("tscb runs");
    let started = std::time::Instant::now();
    while run.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = run.kill();
            let o = run.wait_with_output().unwrap();
            panic!("tscb {args:?} still ran after {limit:?}: {}", stderr(&o));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    run.wait_with_output().unwrap()
}

/// A state directory whose `tscb/` exists, private, as a run leaves it.
fn state_with_guard_dir(name: &str) -> StateDir {
    let state = StateDir::new(name);
    let dir = state.0.join("tscb");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    state
}

#[test]
fn a_lock_held_elsewhere_does_not_hold_the_login_past_its_timeout() {
    // Another process (this test) holds the lock, and keeps it: a stopped or stuck run.
    let sim = Sim::start();
    let state = state_with_guard_dir("lock-held");
    let lock = std::fs::File::create(state.0.join("tscb/refused-logins.lock")).unwrap();
    lock.lock().unwrap();
    let mut env = CREDENTIALS.to_vec();
    env.push(("XDG_STATE_HOME", state.path()));
    let started = std::time::Instant::now();
    let o = run_within(
        &env,
        &["login", "--base-url", &sim.base_url, "--call-timeout", "2"],
        std::time::Duration::from_secs(20),
    );
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("warning: the login guard file").count(), 1, "{err}");
    assert!(err.contains("refused-logins.lock stayed held"), "{err}");
    // 2 s and a process's start, with room for a loaded machine.
    assert!(took < std::time::Duration::from_secs(8), "took {took:?}");
    assert_eq!(sim.count("/session/login"), 1);
}

#[test]
fn a_fifo_at_the_guard_path_does_not_hold_the_login() {
    let sim = Sim::start();
    let state = state_with_guard_dir("fifo");
    let fifo = state.0.join("tscb/refused-logins");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let mut env = CREDENTIALS.to_vec();
    env.push(("XDG_STATE_HOME", state.path()));
    let o = run_within(
        &env,
        &["login", "--base-url", &sim.base_url, "--call-timeout", "2"],
        std::time::Duration::from_secs(20),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("cannot be read (it is not a regular file (a FIFO))"), "{err}");
    // Replaced by a guard file, which works again for the next run.
    assert!(std::fs::metadata(&fifo).unwrap().is_file());
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}
