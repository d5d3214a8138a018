//! The signals that stop a long-running command (`tscb sim`, `tscb listen`): SIGINT (Ctrl-C, or
//! `kill -INT`) and SIGTERM. Handling them, rather than dying of them, lets the command finish
//! cleanly, and takes SIGINT back from a shell that started the command in the background of a
//! script (which makes a background job ignore it).

use std::task::{Context, Poll};

use tokio::signal::unix::{signal, Signal, SignalKind};

pub struct Stop {
    interrupt: Signal,
    terminate: Signal,
}

impl Stop {
    /// Installs the handlers; needs a tokio runtime with I/O. Install before telling anyone the
    /// command is ready, so that a stop sent right after is not missed.
    pub fn install() -> Result<Stop, String> {
        let failed = |e: std::io::Error| format!("could not install the signal handlers: {e}");
        Ok(Stop {
            interrupt: signal(SignalKind::interrupt()).map_err(failed)?,
            terminate: signal(SignalKind::terminate()).map_err(failed)?,
        })
    }

    /// Ready once either signal has come.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.interrupt.poll_recv(cx).is_ready() || self.terminate.poll_recv(cx).is_ready() {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}
