//! The login guard file: a refused login (or one with an unknown outcome) is not sent again by
//! any client using the same file for an hour; success clears it; the file never holds the
//! password, is private, and a broken file never stops a login.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;
use tscb_sim::{SIM_PASSWORD, SIM_USERNAME};

use common::ACCOUNT;
use tscb::{codes, Client, ClientBuilder, ErrorKind};
use tscb_sim::{Fault, FaultAction, Simulator};

/// A fresh directory of this test's own under the system's temporary directory, removed when
/// dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn join(&self, path: &str) -> PathBuf {
        self.0.join(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("tscb-guard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Private whatever the umask: the guard uses only a directory no one else can write to.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    TempDir(dir)
}

fn with_password(sim: &Simulator, password: &str, file: &Path) -> ClientBuilder {
    common::with_password(sim, password).login_guard_file(file)
}

fn logins(sim: &Simulator) -> usize {
    common::count(sim, "/session/login")
}

fn refuse_logins(sim: &Simulator) {
    sim.inject(
        Fault::new(FaultAction::json(400, br#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.UserNotAuthorized","errorMessage":"Invalid username or password"}"#.to_vec()))
        .path_contains("/session/login"),
    );
}

#[test]
fn a_refused_login_is_not_sent_again_by_a_new_client() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("refused");
    let file = dir.join("state/tscb/refused-logins");
    let first = with_password(&sim, "wrong-password", &file).build().unwrap();
    let err = first.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.error_code(), "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized");
    for _ in 0..3 {
        let again = with_password(&sim, "wrong-password", &file).build().unwrap();
        let err = again.list_callbacks(ACCOUNT).unwrap_err();
        assert_eq!(err.error_code(), codes::LOGIN_BLOCKED, "{err}");
        assert_eq!(err.kind(), ErrorKind::Auth);
        let message = err.error_message();
        assert!(
            message.contains("five failed logins")
                && message.contains("ignore_login_guard")
                && !message.contains("--"),
            "{message}"
        );
        assert!(message.contains(&file.display().to_string()), "{message}");
        assert!(!err.to_string().contains("wrong-password"));
    }
    assert_eq!(logins(&sim), 1, "one login for four clients");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("wrong-password") && !text.contains(SIM_USERNAME), "{text}");

    // Other credentials are not blocked by it.
    let right = with_password(&sim, SIM_PASSWORD, &file).build().unwrap();
    right.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(logins(&sim), 2);
}

#[test]
fn success_clears_the_entry_and_the_override_sends_again() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("override");
    let file = dir.join("refused-logins");
    refuse_logins(&sim);
    let err = with_password(&sim, SIM_PASSWORD, &file).build().unwrap().login().unwrap_err();
    assert_eq!(err.http_status(), Some(400));
    sim.clear_faults();
    // The service would take it now, but the file says no (the password may be wrong).
    let err = with_password(&sim, SIM_PASSWORD, &file).build().unwrap().login().unwrap_err();
    assert_eq!(err.error_code(), codes::LOGIN_BLOCKED);
    assert_eq!(logins(&sim), 1);
    // Overridden: sent, and the success clears the entry for everyone.
    with_password(&sim, SIM_PASSWORD, &file).ignore_login_guard(true).build().unwrap().login().unwrap();
    with_password(&sim, SIM_PASSWORD, &file).build().unwrap().login().unwrap();
    assert_eq!(logins(&sim), 3);
}

#[test]
fn a_login_with_an_unknown_outcome_is_remembered_and_a_busy_one_is_not() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("unknown");
    let file = dir.join("refused-logins");
    sim.inject(
        Fault::new(FaultAction::Respond {
            status: 503,
            content_type: None,
            body: Vec::new(),
            headers: vec![("Retry-After".into(), "0".into())],
        })
        .path_contains("/session/login")
        .times(1),
    );
    let busy = with_password(&sim, SIM_PASSWORD, &file).build().unwrap().login().unwrap_err();
    assert_eq!(busy.http_status(), Some(503));
    sim.inject(Fault::new(FaultAction::Delay { ms: 2_000 }).path_contains("/session/login").times(1));
    let slow = with_password(&sim, SIM_PASSWORD, &file).timeout(Duration::from_millis(300)).build().unwrap();
    assert_eq!(slow.login().unwrap_err().kind(), ErrorKind::Timeout);
    let err = with_password(&sim, SIM_PASSWORD, &file).build().unwrap().login().unwrap_err();
    assert_eq!(err.error_code(), codes::LOGIN_BLOCKED);
    assert_eq!(logins(&sim), 2, "the busy login did not count; the timed-out one did");
}

#[cfg(unix)]
#[test]
fn the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Simulator::start().unwrap();
    let temp = temp_dir("private");
    let dir = temp.join("state");
    let file = dir.join("tscb/refused-logins");
    let _ = with_password(&sim, "wrong-password", &file).build().unwrap().login();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&dir.join("tscb")), 0o700);
}

#[test]
fn a_corrupt_file_never_stops_a_login_and_is_reported_once() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("corrupt");
    let file = dir.join("refused-logins");
    std::fs::write(&file, "not a guard file\n").unwrap();
    let client = with_password(&sim, SIM_PASSWORD, &file).build().unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    let warning = client.login_guard_warning().expect("reported");
    assert!(warning.contains("not in the expected form"), "{warning}");
    assert_eq!(client.login_guard_warning(), None, "once");
    // It was replaced: a refusal is remembered again.
    let _ = with_password(&sim, "wrong-password", &file).build().unwrap().login();
    let err = with_password(&sim, "wrong-password", &file).build().unwrap().login().unwrap_err();
    assert_eq!(err.error_code(), codes::LOGIN_BLOCKED);
}

#[test]
fn an_unwritable_file_never_stops_a_login_and_is_reported() {
    let sim = Simulator::start().unwrap();
    // Its directory would have to be a regular file: nothing can be written under it.
    let dir = temp_dir("unwritable");
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let file = blocker.join("refused-logins");
    let client = with_password(&sim, SIM_PASSWORD, &file).build().unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    let warning = client.login_guard_warning().expect("reported");
    assert!(warning.contains(&file.display().to_string()) && warning.contains("cannot be"), "{warning}");
    assert_eq!(client.login_guard_warning(), None, "once");
    // Refusals cannot be remembered then, but each client still sends at most one.
    let _ = with_password(&sim, "wrong-password", &file).build().unwrap().login();
    assert_eq!(logins(&sim), 2);
}

/// Waits until the guard file has an entry (the first client's, written before its login).
fn wait_for_entry(file: &Path) {
    for _ in 0..500 {
        if std::fs::read_to_string(file).is_ok_and(|t| t.lines().count() > 2) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no entry in {}", file.display());
}

#[test]
fn a_login_in_flight_elsewhere_is_waited_for_not_blocked_and_never_overlapped() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("in-flight");
    let file = dir.join("refused-logins");
    sim.inject(Fault::new(FaultAction::Delay { ms: 1_500 }).path_contains("/session/login").times(1));
    let first = with_password(&sim, SIM_PASSWORD, &file).build().unwrap();
    let second = with_password(&sim, SIM_PASSWORD, &file).build().unwrap();
    std::thread::scope(|s| {
        let slow = s.spawn(|| {
            first.login().unwrap();
            std::time::Instant::now()
        });
        wait_for_entry(&file);
        // The first login is in flight (and delayed): this one waits for it, then sends its own.
        second.login().unwrap();
        let second_done = std::time::Instant::now();
        let first_done = slow.join().unwrap();
        // Sent together, the second (undelayed) login would have been answered first.
        assert!(second_done > first_done, "the second login was sent while the first was in flight");
    });
    assert_eq!(logins(&sim), 2);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 2, "both entries were cleared: {text}");
}

#[test]
fn a_wrong_password_sent_by_two_clients_at_once_reaches_the_service_once() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("wrong-together");
    let file = dir.join("refused-logins");
    // The first login takes a while, so the other client surely finds it in flight.
    sim.inject(Fault::new(FaultAction::Delay { ms: 500 }).path_contains("/session/login").times(1));
    let clients: Vec<Client> =
        (0..2).map(|_| with_password(&sim, "wrong-password", &file).build().unwrap()).collect();
    let barrier = std::sync::Barrier::new(2);
    let mut codes: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = clients
            .iter()
            .map(|c| {
                s.spawn(|| {
                    barrier.wait();
                    c.login().unwrap_err().error_code().to_owned()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    codes.sort();
    assert_eq!(codes, [codes::LOGIN_BLOCKED, "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized"]);
    assert_eq!(logins(&sim), 1);
}

#[test]
fn many_clients_with_the_right_password_never_block_each_other() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("many");
    let file = dir.join("refused-logins");
    let barrier = std::sync::Barrier::new(8);
    // Failures are collected, not panicked on, so that no thread is left waiting at the barrier.
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let mut failures = Vec::new();
                    for _ in 0..4 {
                        barrier.wait();
                        let client = with_password(&sim, SIM_PASSWORD, &file).build().unwrap();
                        if let Err(e) = client.login() {
                            failures.push(format!("{}: {e}", e.error_code()));
                        }
                    }
                    failures
                })
            })
            .collect();
        runs.into_iter().flat_map(|r| r.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "{} of 32 logins failed: {failures:?}", failures.len());
    assert_eq!(logins(&sim), 32);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 2, "no entry left behind: {text}");
}

#[test]
fn a_client_waits_while_another_process_holds_the_lock() {
    // Another process's read-modify-write, as it looks from here: the lock file beside the
    // guard file, locked through an open file of its own (which flock treats as another owner).
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("locked");
    let file = dir.join("refused-logins");
    let lock = std::fs::File::create(dir.join("refused-logins.lock")).unwrap();
    lock.lock().unwrap();
    let client = with_password(&sim, SIM_PASSWORD, &file).build().unwrap();
    std::thread::scope(|s| {
        let login = s.spawn(|| client.login());
        std::thread::sleep(Duration::from_millis(500));
        assert!(!login.is_finished(), "the login went ahead while the guard file was locked");
        assert_eq!(logins(&sim), 0);
        lock.unlock().unwrap();
        login.join().unwrap().unwrap();
    });
    assert_eq!(logins(&sim), 1);
}

const KILLED_CHILD: &str = "TSCB_GUARD_KILLED_CHILD";

/// A run interrupted during its login (killed, or Ctrl-C) and started again: the login's outcome
/// is unknown, so the new run is blocked like after a refusal, but at once, rather than after
/// waiting for the dead run's call timeout (two minutes by default) and then failing with a
/// timeout.
#[test]
fn a_login_whose_process_was_killed_is_blocked_at_once_not_waited_for() {
    if let Some(base_url) = std::env::var_os(KILLED_CHILD) {
        // The child: a login that the simulator holds until the parent kills this process.
        let c = tscb_sim::SimConfig::default();
        let file = PathBuf::from(std::env::var_os("TSCB_GUARD_FILE").unwrap());
        let client = Client::builder()
            .base_url(base_url.to_str().unwrap())
            .credentials(c.client_id, c.client_secret, c.username, SIM_PASSWORD)
            .login_guard_file(file)
            .build()
            .unwrap();
        let _ = client.login();
        return;
    }
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("killed");
    let file = dir.join("refused-logins");
    sim.inject(Fault::new(FaultAction::Delay { ms: 60_000 }).path_contains("/session/login").times(1));
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_login_whose_process_was_killed_is_blocked_at_once_not_waited_for",
            "--nocapture",
        ])
        .env(KILLED_CHILD, sim.base_url())
        .env("TSCB_GUARD_FILE", &file)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_entry(&file);
    child.kill().unwrap();
    child.wait().unwrap();

    let client =
        with_password(&sim, SIM_PASSWORD, &file).call_timeout(Duration::from_secs(20)).build().unwrap();
    let started = std::time::Instant::now();
    let err = client.login().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "waited {:?} for a dead process", started.elapsed());
    assert_eq!(err.error_code(), codes::LOGIN_BLOCKED, "{err}");
    assert_eq!(logins(&sim), 1, "only the killed run's login reached the service");
    // Knowing the credentials are right, the override sends them.
    let client = with_password(&sim, SIM_PASSWORD, &file).ignore_login_guard(true).build().unwrap();
    client.login().unwrap();
}

/// A link planted under a name the guard writes (the temporary file's name, which used to be
/// `.refused-logins.<pid>.tmp`, or the lock's) never makes it write or create a file elsewhere.
#[test]
fn links_planted_beside_the_file_are_never_followed() {
    use std::os::unix::fs::symlink;
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("links");
    let file = dir.join("refused-logins");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    symlink(&victim, dir.join(&format!(".refused-logins.{}.tmp", std::process::id()))).unwrap();
    let created = dir.join("created-through-the-lock");
    symlink(&created, dir.join("refused-logins.lock")).unwrap();

    let client = with_password(&sim, "wrong-password", &file).build().unwrap();
    assert_eq!(
        client.login().unwrap_err().error_code(),
        "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n", "written through the link");
    assert!(!created.exists(), "the lock's link was followed");
    let warning = client.login_guard_warning().expect("reported");
    assert!(warning.contains("cannot be locked") && warning.contains("symbolic link"), "{warning}");
    // Without its lock file the guard still remembers the refusal.
    let err = with_password(&sim, "wrong-password", &file).build().unwrap().login().unwrap_err();
    assert_eq!(err.error_code(), codes::LOGIN_BLOCKED, "{err}");
    assert_eq!(logins(&sim), 1);
}

/// Like ssh with `~/.ssh`: a directory that others can write to (who could plant links, or
/// remove a refusal) is not used, and the user is told.
#[test]
fn a_directory_others_can_write_to_is_not_used_and_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Simulator::start().unwrap();
    let temp = temp_dir("shared");
    let dir = temp.join("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    let file = dir.join("refused-logins");
    let client = with_password(&sim, "wrong-password", &file).build().unwrap();
    assert_eq!(
        client.login().unwrap_err().error_code(),
        "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized"
    );
    let warning = client.login_guard_warning().expect("reported");
    assert!(warning.contains("is not used") && warning.contains("writable by group or others"), "{warning}");
    assert!(!file.exists() && !dir.join("refused-logins.lock").exists(), "files were made in it");
    // Not used: the refusal was not remembered there (the client itself still sends it once).
    let err = with_password(&sim, "wrong-password", &file).build().unwrap().login().unwrap_err();
    assert_eq!(err.error_code(), "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized");
    assert_eq!(logins(&sim), 2);
}

/// A child of `fork()`: runs `work` and ends with `_exit` (no destructor of the parent's state
/// runs twice), 0 when it returned true.
fn fork_child(work: impl FnOnce() -> bool) -> libc::pid_t {
    // SAFETY: the child only runs `work` (which makes its own client and runtime) and exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or(false);
        // SAFETY: _exit is always safe to call.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) }
    }
    pid
}

/// The exit code of the child `pid`, which must end within `limit` (else it is killed and the
/// test fails).
fn wait_child(pid: libc::pid_t, limit: Duration) -> i32 {
    let started = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child, with a valid pointer.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            return if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
        }
        if started.elapsed() > limit {
            // SAFETY: our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("the forked child was still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A login in a child forked while a thread of the parent was in the guard's read-modify-write
/// (here: waiting for the lock file, which another process holds): the child's copy of the
/// process-wide lock was taken by a thread that does not exist in it, and must not stop it.
#[test]
fn a_child_forked_while_a_thread_waits_for_the_guard_lock_logs_in_within_its_deadline() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("fork-waiting");
    let parent_file = dir.join("parent/refused-logins");
    std::fs::create_dir(dir.join("parent")).unwrap();
    let held = std::fs::File::create(dir.join("parent/refused-logins.lock")).unwrap();
    held.lock().unwrap();
    let client = with_password(&sim, SIM_PASSWORD, &parent_file)
        .call_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let waiting = std::thread::spawn(move || client.login());
    // Its bearer token fetched, the login goes to the guard at once, and waits there.
    while common::count(&sim, "/oauth2/token") == 0 {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(logins(&sim), 0, "the login went ahead of the lock");

    let child_file = dir.join("child/refused-logins");
    let base_url = sim.base_url();
    let child = fork_child(|| {
        let client =
            with_password_at(&base_url, &child_file).call_timeout(Duration::from_secs(10)).build().unwrap();
        client.login().is_ok() && client.login_guard_warning().is_none()
    });
    assert_eq!(wait_child(child, Duration::from_secs(30)), 0, "the child's login failed or warned");
    held.unlock().unwrap();
    waiting.join().unwrap().unwrap();
}

/// `with_password` from a base URL alone (a forked child has no simulator object of its own).
fn with_password_at(base_url: &str, file: &Path) -> ClientBuilder {
    let c = tscb_sim::SimConfig::default();
    Client::builder()
        .base_url(base_url)
        .credentials(c.client_id, c.client_secret, c.username, SIM_PASSWORD)
        .login_guard_file(file)
}

/// A child forked while another thread holds the guard's locks: the child takes the
/// process-wide lock over (it uses the guard, without waiting nor a warning), and the child's
/// copy of the lock file's descriptor does not keep the file locked once the parent lets go.
#[test]
fn a_child_forked_while_a_thread_holds_the_guard_lock_neither_waits_nor_keeps_it() {
    let sim = Simulator::start().unwrap();
    let dir = temp_dir("fork-holding");
    let parent_file = dir.join("parent/refused-logins");
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (taken, is_taken) = std::sync::mpsc::channel::<bool>();
    let holder = {
        let parent_file = parent_file.clone();
        std::thread::spawn(move || {
            let held = tscb::__hold_login_guard_lock(&parent_file);
            taken.send(held.is_some()).unwrap();
            let _ = released.recv();
            drop(held);
        })
    };
    assert!(is_taken.recv().unwrap(), "the hook could not take the locks");

    let child_file = dir.join("child/refused-logins");
    let result = dir.join("child-result");
    let done = dir.join("parent-done");
    let base_url = sim.base_url();
    let child = fork_child(|| {
        let client =
            with_password_at(&base_url, &child_file).call_timeout(Duration::from_secs(10)).build().unwrap();
        let outcome = match (client.login(), client.login_guard_warning()) {
            (Ok(()), None) if child_file.exists() => "ok".to_owned(),
            (login, warning) => format!("{login:?} {warning:?}"),
        };
        std::fs::write(&result, outcome).unwrap();
        // Alive (with its copy of the parent's descriptors) until the parent is done.
        for _ in 0..3000 {
            if done.exists() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    });
    let started = std::time::Instant::now();
    while !result.exists() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let outcome = std::fs::read_to_string(&result).unwrap_or_else(|_| "no answer in 30 s".into());
    release.send(()).unwrap();
    holder.join().unwrap();
    // The parent's own next login, while the child still lives.
    let client = with_password(&sim, SIM_PASSWORD, &parent_file)
        .call_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let parent = client.login();
    let parent_warning = client.login_guard_warning();
    std::fs::write(&done, "").unwrap();
    assert_eq!(wait_child(child, Duration::from_secs(40)), 0);
    assert_eq!(outcome, "ok", "the child's login");
    parent.unwrap();
    assert_eq!(parent_warning, None, "the parent could not lock its guard file again");
}
