//! Secrets are wiped before their memory is freed. An allocator that looks at every block freed
//! on the test's own thread, while it watches, counts the blocks that still hold a secret.
//!
//! Only the calling thread is watched. The blocking client runs reqwest on the calling thread,
//! so this covers the request body that tscb hands to reqwest too (wiped when reqwest drops it).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use tscb::{CallbackRegistration, Client, RetryPolicy};
use tscb_sim::{Fault, FaultAction, Simulator};

struct Watching;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
}

static FOUND: AtomicUsize = AtomicUsize::new(0);

const CANARIES: &[&[u8]] =
    &[b"WIPE-CANARY-client-secret", b"WIPE-CANARY-login-pw", b"WIPE-CANARY-callback-pw"];

// SAFETY: every call is passed on to the system allocator unchanged; `dealloc` only reads the
// block it is handed before passing it on.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.try_with(Cell::get).unwrap_or(false) {
            let block = std::slice::from_raw_parts(ptr, layout.size());
            if CANARIES.iter().any(|c| block.windows(c.len()).any(|w| w == *c)) {
                FOUND.fetch_add(1, Ordering::SeqCst);
            }
        }
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

fn respond(body: &str) -> FaultAction {
    FaultAction::json(200, body.as_bytes().to_vec())
}

#[test]
fn no_freed_block_holds_a_password_or_the_client_secret() {
    let sim = Simulator::start().unwrap();
    sim.inject(
        Fault::new(respond(r#"{"access_token":"tok-1","expires_in":3600}"#)).path_contains("/oauth2/token"),
    );
    sim.inject(Fault::new(respond(r#"{"sessionToken":"ses-1"}"#)).path_contains("/session/login"));
    WATCHING.with(|w| w.set(true));
    {
        let client = Client::builder()
            .base_url(sim.base_url())
            .credentials("id", "WIPE-CANARY-client-secret", "user", "WIPE-CANARY-login-pw")
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        client.login().unwrap();
        let reg = CallbackRegistration::new("CarrierService", common::LISTENER)
            .unwrap()
            .with_password("WIPE-CANARY-callback-pw")
            .unwrap();
        let _ = client.register_callback(common::ACCOUNT, &reg);
        drop(reg);
        drop(client);
    }
    WATCHING.with(|w| w.set(false));
    assert_eq!(FOUND.load(Ordering::SeqCst), 0, "freed blocks still held a secret");
}
