//! The listener, one thread per connection, and the faults that act on the connection itself.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::fault::FaultAction;
use crate::http::{self, RequestReader, Response};
use crate::shared::{OpenConnection, Shared};
use crate::sync::lock;
use crate::tls::Conn;
use crate::{admin, api};

/// Accepts connections until shutdown, giving each its own thread.
pub(crate) fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    for incoming in listener.incoming() {
        if shared.is_stopping() {
            break;
        }
        let stream = match incoming {
            Ok(stream) => stream,
            Err(_) => {
                // Typically out of file descriptors; back off instead of spinning.
                shared.sleep_unless_stopping(Duration::from_millis(10));
                continue;
            }
        };
        // Without it, a keep-alive client that writes head and body separately waits ~40 ms
        // for each answer (Nagle's algorithm meeting delayed ACKs).
        let _ = stream.set_nodelay(true);
        let Ok(shutdown_handle) = stream.try_clone() else {
            continue;
        };
        let id = {
            let mut connections = lock(&shared.connections);
            if connections.closed {
                break;
            }
            if connections.open.len() >= shared.config.max_connections {
                drop(connections);
                refuse(stream, shared.config.max_connections);
                continue;
            }
            let id = connections.next_id;
            connections.next_id += 1;
            connections.open.insert(id, OpenConnection { stream: shutdown_handle, thread: None });
            id
        };
        let for_thread = Arc::clone(&shared);
        let spawned = thread::Builder::new()
            .name("tscb-sim-conn".to_owned())
            .spawn(move || connection_thread(for_thread, id, stream));
        let mut connections = lock(&shared.connections);
        match spawned {
            // The entry is already gone if the thread has finished.
            Ok(thread) => {
                if let Some(connection) = connections.open.get_mut(&id) {
                    connection.thread = Some(thread);
                }
            }
            Err(_) => {
                connections.open.remove(&id);
            }
        }
    }
}

/// Answers a connection over the cap with 503 and closes it, without waiting for anything: the
/// accept loop must go on.
fn refuse(mut stream: TcpStream, max: usize) {
    // What the client already sent is read first, so that closing does not reset the
    // connection before the answer is read.
    if stream.set_nonblocking(true).is_ok() {
        let mut scratch = [0u8; 16 * 1024];
        while matches!(stream.read(&mut scratch), Ok(n) if n > 0) {}
        let _ = stream.set_nonblocking(false);
    }
    let message = format!("the simulator already has {max} open connections (SimConfig::max_connections)");
    let mut answer = Response::text(503, &message);
    answer.extra_headers.push(("Retry-After".to_owned(), "1".to_owned()));
    let _ = answer.write_to(&mut stream, true);
    let _ = stream.shutdown(Shutdown::Write);
}

/// How a connection ends.
#[derive(PartialEq, Eq)]
enum Ending {
    Close,
    Reset,
}

fn connection_thread(shared: Arc<Shared>, id: u64, stream: TcpStream) {
    let Ok(mut stream) = Conn::new(stream, shared.tls.as_ref()) else {
        lock(&shared.connections).open.remove(&id);
        return;
    };
    let ending = serve(&shared, id, &mut stream);
    if ending == Ending::Close {
        stream.close_notify();
    }
    // The shutdown handle must go first: the socket only really closes (and a reset is only
    // sent) when its last descriptor does.
    let handle = lock(&shared.connections).open.remove(&id);
    drop(handle);
    if ending == Ending::Reset {
        let _ = socket2::SockRef::from(&*stream.tcp()).set_linger(Some(Duration::ZERO));
    }
    drop(stream);
}

/// What a request's handling leaves to do.
enum Outcome {
    Answer(Response),
    /// Already answered in full; the connection may go on.
    Answered,
    End(Ending),
}

fn serve(shared: &Shared, id: u64, stream: &mut Conn) -> Ending {
    let mut reader = RequestReader::new(shared.config.idle_timeout, shared.config.request_timeout);
    let Ok(local) = stream.tcp().local_addr() else {
        return Ending::Close;
    };
    loop {
        if shared.is_stopping() {
            return Ending::Close;
        }
        let req = match reader.read(stream) {
            Ok(Some(req)) => req,
            Ok(None) => return Ending::Close,
            Err(bad) => {
                let _ = Response::text(bad.status, bad.message).write_to(stream, true);
                http::lingering_close(stream.tcp());
                return Ending::Close;
            }
        };
        if shared.is_stopping() {
            return Ending::Close;
        }
        let close = !req.keep_alive;
        let outcome = if admin::is_admin(&req.target) {
            Outcome::Answer(admin::handle(shared, &req, local))
        } else {
            match shared.record_and_match_fault(&req, id) {
                None => Outcome::Answer(api::handle(shared, &req)),
                Some(action) => apply_fault(shared, stream, &req, action, close),
            }
        };
        match outcome {
            Outcome::Answer(response) => {
                if response.write_to(stream, close).is_err() || close {
                    return Ending::Close;
                }
            }
            Outcome::Answered if close => return Ending::Close,
            Outcome::Answered => {}
            Outcome::End(ending) => return ending,
        }
    }
}

fn apply_fault(
    shared: &Shared,
    stream: &mut Conn,
    req: &http::Request,
    action: FaultAction,
    close: bool,
) -> Outcome {
    match action {
        FaultAction::Respond { status, content_type, body, headers } => {
            let mut response = Response::new(status, content_type.as_deref(), body);
            response.extra_headers = headers;
            Outcome::Answer(response)
        }
        FaultAction::Delay { ms } => {
            if shared.sleep_unless_stopping(Duration::from_millis(ms)) {
                Outcome::Answer(api::handle(shared, req))
            } else {
                Outcome::End(Ending::Close)
            }
        }
        FaultAction::Drop => Outcome::End(Ending::Close),
        FaultAction::Reset => Outcome::End(Ending::Reset),
        FaultAction::Truncate { declared, sent } => {
            let mut out = http::head(200, Some("application/json"), declared, &[], true);
            out.extend_from_slice(&sent);
            let _ = stream.write_all(&out);
            Outcome::End(Ending::Close)
        }
        FaultAction::ResetMidAnswer { declared, sent } => {
            let mut out = http::head(200, Some("application/json"), declared, &[], true);
            out.extend_from_slice(&sent);
            let _ = stream.write_all(&out);
            Outcome::End(Ending::Reset)
        }
        FaultAction::Stall { after_ms, declared, sent, ms } => {
            if !shared.sleep_unless_stopping(Duration::from_millis(after_ms)) {
                return Outcome::End(Ending::Close);
            }
            let mut out = http::head(200, Some("application/json"), declared, &[], true);
            out.extend_from_slice(&sent);
            let _ = stream.write_all(&out);
            shared.sleep_unless_stopping(Duration::from_millis(ms));
            Outcome::End(Ending::Close)
        }
        FaultAction::OversizedUnframed { bytes } => {
            let _ = send_unframed(stream, bytes);
            Outcome::End(Ending::Close)
        }
        FaultAction::Redirect { status, location } => {
            let mut response = Response::new(status, None, Vec::new());
            response.extra_headers.push(("Location".to_owned(), location));
            Outcome::Answer(response)
        }
        FaultAction::Oversized { bytes } => match send_oversized(stream, bytes, close) {
            Ok(()) => Outcome::Answered,
            // The client gave up reading, as a careful client should.
            Err(_) => Outcome::End(Ending::Close),
        },
    }
}

/// A 200 whose body ends with the connection (no `Content-Length`), streamed in chunks.
fn send_unframed(stream: &mut impl Write, bytes: usize) -> std::io::Result<()> {
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")?;
    let chunk = vec![b'x'; (64 * 1024).min(bytes)];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        stream.write_all(&chunk[..n])?;
        left -= n;
    }
    Ok(())
}

/// Streams an oversized body in chunks so that even gigabytes cost no memory.
fn send_oversized(stream: &mut impl Write, bytes: usize, close: bool) -> std::io::Result<()> {
    const PREFIX: &[u8] = b"{\"padding\":\"";
    const SUFFIX: &[u8] = b"\"}";
    const CHUNK: usize = 64 * 1024;
    stream.write_all(&http::head(200, Some("application/json"), bytes, &[], close))?;
    let framed = bytes >= PREFIX.len() + SUFFIX.len();
    let mut padding = bytes;
    if framed {
        stream.write_all(PREFIX)?;
        padding -= PREFIX.len() + SUFFIX.len();
    }
    let chunk = vec![b'x'; CHUNK.min(padding)];
    while padding > 0 {
        let n = padding.min(chunk.len());
        stream.write_all(&chunk[..n])?;
        padding -= n;
    }
    if framed {
        stream.write_all(SUFFIX)?;
    }
    Ok(())
}
