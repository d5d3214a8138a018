//! systemd's two protocols, without libsystemd: socket activation (the listening socket is
//! inherited as fd 3, announced by `LISTEN_FDS` and `LISTEN_PID`) and `sd_notify` (a datagram
//! to the unix socket named by `NOTIFY_SOCKET`). Both are no-ops where the variables are unset.

use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::net::UnixDatagram;

/// The first fd passed by socket activation.
const SD_LISTEN_FDS_START: RawFd = 3;

/// The listening socket passed by systemd, if this process was socket-activated: `LISTEN_PID`
/// is this process (the variables may have been inherited from a parent) and `LISTEN_FDS` is 1.
pub fn inherited_listener() -> Result<Option<std::net::TcpListener>, String> {
    let (Ok(pid), Ok(fds)) = (std::env::var("LISTEN_PID"), std::env::var("LISTEN_FDS")) else {
        return Ok(None);
    };
    if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
        return Ok(None);
    }
    match fds.trim().parse::<u32>() {
        Ok(1) => {}
        Ok(0) => return Ok(None),
        _ => {
            return Err(format!(
                "LISTEN_FDS={fds}: tscb listen takes exactly one socket from systemd (one ListenStream=)"
            ))
        }
    }
    let fd = SD_LISTEN_FDS_START;
    // SAFETY: fstat and getsockopt only read; they fail (EBADF) on an fd that is not open.
    let (mut stat, mut kind, mut listening) = (unsafe { std::mem::zeroed::<libc::stat>() }, 0i32, 0i32);
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    let is_socket =
        unsafe { libc::fstat(fd, &mut stat) } == 0 && stat.st_mode & libc::S_IFMT == libc::S_IFSOCK;
    let stream = is_socket
        && unsafe {
            libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE, (&mut kind as *mut i32).cast(), &mut len)
        } == 0
        && kind == libc::SOCK_STREAM;
    len = std::mem::size_of::<i32>() as libc::socklen_t;
    let accepting = stream
        && unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ACCEPTCONN,
                (&mut listening as *mut i32).cast(),
                &mut len,
            )
        } == 0
        && listening == 1;
    if !accepting {
        return Err(
            "LISTEN_FDS=1, but fd 3 is not a listening TCP socket (ListenStream= with an address)".into()
        );
    }
    // Not passed on to the commands of --exec. SAFETY: fcntl on an fd checked open above.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SAFETY: fd 3 is a listening socket that systemd handed to this process alone, taken once.
    Ok(Some(unsafe { std::net::TcpListener::from_raw_fd(fd) }))
}

/// Sends `state` (`READY=1`, `STOPPING=1`) to systemd, when it asked for notifications. Best
/// effort: a failure is returned for the log, never fatal.
pub fn notify(state: &str) -> Result<(), String> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return Ok(()) };
    let failed = |e: std::io::Error| format!("could not notify systemd ({state}): {e}");
    let socket = UnixDatagram::unbound().map_err(failed)?;
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    match bytes.strip_prefix(b"@") {
        // An abstract socket (Linux).
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name).map_err(failed)?;
            socket.send_to_addr(state.as_bytes(), &addr).map_err(failed)?;
        }
        None => {
            socket.send_to(state.as_bytes(), &path).map_err(failed)?;
        }
    }
    Ok(())
}
