//! `tscb listen --password-file/--previous-password-file`: a password rotation without a
//! restart, by rewriting the files and sending SIGHUP, as a secrets manager does.

mod common;

use common::listener::{message, post, scratch, Listener};

#[test]
fn sighup_rereads_the_password_files_and_a_failed_reload_keeps_the_old_ones() {
    let dir = scratch("rotation");
    let (current, previous) = (dir.join("password"), dir.join("previous"));
    std::fs::write(&current, "ROT-secret-1\n").unwrap();
    std::fs::write(&previous, "ROT-secret-0").unwrap();
    let listener = Listener::start(&[
        "--listen",
        "127.0.0.1:0",
        "--any-source",
        "--password-file",
        current.to_str().unwrap(),
        "--previous-password-file",
        previous.to_str().unwrap(),
    ]);
    assert!(listener.stderr().contains("password: checked (previous password accepted for 15 minutes)"));
    let mut n = 0;
    let mut status = |password: &str| {
        n += 1;
        post(listener.addr, "/", &message(&format!("r-{n}"), 1, password)).0
    };
    // The trailing newline is not part of the password.
    assert_eq!(status("ROT-secret-1"), 200);
    assert_eq!(status("ROT-secret-0"), 200);
    assert_eq!(status("ROT-secret-1\n"), 401);

    std::fs::write(&current, "ROT-secret-2\n").unwrap();
    std::fs::write(&previous, "ROT-secret-1\n").unwrap();
    listener.signal("HUP");
    assert!(listener.wait_for_stderr("SIGHUP: reloaded the passwords"), "{}", listener.stderr());
    assert_eq!(status("ROT-secret-2"), 200);
    assert_eq!(status("ROT-secret-1"), 200, "the previous password, in its window");
    assert_eq!(status("ROT-secret-0"), 401, "no longer accepted");

    // A reload that fails (the file is gone) keeps the passwords in force.
    std::fs::remove_file(&current).unwrap();
    listener.signal("HUP");
    assert!(
        listener.wait_for_stderr("SIGHUP: reload failed, the passwords in force are kept: could not read"),
        "{}",
        listener.stderr()
    );
    assert_eq!(status("ROT-secret-2"), 200);
    assert_eq!(status("ROT-secret-1"), 200);

    // An unchanged reload says so.
    std::fs::write(&current, "ROT-secret-2").unwrap();
    listener.signal("HUP");
    assert!(
        listener.wait_for_stderr("SIGHUP: reloaded, the passwords are unchanged"),
        "{}",
        listener.stderr()
    );
    assert_eq!(status("ROT-secret-2"), 200);
    assert!(!listener.stderr().contains("ROT-secret"), "a password in the log: {}", listener.stderr());
}

#[test]
fn a_password_file_that_cannot_be_read_stops_the_start() {
    let dir = scratch("rotation-missing");
    let missing = dir.join("nothing");
    let out = common::command(
        &[],
        &["listen", "--listen", "127.0.0.1:0", "--password-file", missing.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("could not read {}", missing.display())), "{stderr}");
}

#[test]
fn a_previous_password_alone_is_refused() {
    let out = common::command(
        &[("OLD_PW", "x")],
        &["listen", "--listen", "127.0.0.1:0", "--previous-password-env", "OLD_PW"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("a previous password needs the current one"));
}
