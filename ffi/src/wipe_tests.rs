//! The callback passwords C receives are wiped when their object is freed: an allocator that
//! looks into every block freed while a `*_free` runs finds no copy of the password.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::{
    tscb_callback_list, tscb_callback_list_free, tscb_callback_list_password, tscb_callback_message,
    tscb_callback_message_free, tscb_callback_message_parse, tscb_callback_message_password, TSCB_OK,
};

/// A password no other test uses, so that finding it can only mean one of ours was not wiped.
const PASSWORD: &str = "wipe-me-Q7x9-callback-pw";

static WATCHING: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);
/// One watched free at a time (tests run in parallel).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

struct Inspecting;

// SAFETY: every call is passed to `System` unchanged; `dealloc` only reads the block first.
unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::SeqCst) {
            let block = std::slice::from_raw_parts(ptr, layout.size());
            // All but the first byte, which dropping a `CString` sets to 0 (not a wipe).
            let rest = &PASSWORD.as_bytes()[1..];
            if block.windows(rest.len()).any(|w| w == rest) {
                FOUND.fetch_add(1, Ordering::SeqCst);
            }
        }
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Inspecting = Inspecting;

/// How many freed blocks still held the password while `free` ran.
fn unwiped_blocks(free: impl FnOnce()) -> usize {
    FOUND.store(0, Ordering::SeqCst);
    WATCHING.store(true, Ordering::SeqCst);
    free();
    WATCHING.store(false, Ordering::SeqCst);
    FOUND.load(Ordering::SeqCst)
}

unsafe fn text(ptr: *const std::ffi::c_char) -> String {
    std::ffi::CStr::from_ptr(ptr).to_str().unwrap().to_owned()
}

#[test]
fn a_callback_message_password_is_wiped_when_the_message_is_freed() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let body =
        format!(r#"{{"username":"fleet-7","password":"{PASSWORD}","requestId":"r-1","status":"Success"}}"#);
    for read_password in [true, false] {
        let mut message: *mut tscb_callback_message = std::ptr::null_mut();
        unsafe {
            let r =
                tscb_callback_message_parse(body.as_ptr(), body.len(), &mut message, std::ptr::null_mut());
            assert_eq!(r, TSCB_OK);
            if read_password {
                assert_eq!(text(tscb_callback_message_password(message)), PASSWORD);
            }
        }
        let found = unwiped_blocks(|| unsafe { tscb_callback_message_free(message) });
        assert_eq!(found, 0, "freed blocks still held the password (password read: {read_password})");
    }
}

#[test]
fn a_callback_list_password_is_wiped_when_the_list_is_freed() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let listed = serde_json::from_str(&format!(
        r#"[{{"accountName":"0000123456-00001","serviceName":"CarrierService",
             "url":"https://listener.example.com/cb","username":"fleet-7","password":"{PASSWORD}"}}]"#
    ))
    .unwrap();
    let list: *mut tscb_callback_list = crate::calls::list_to_c(listed);
    unsafe { assert_eq!(text(tscb_callback_list_password(list, 0)), PASSWORD) };
    let found = unwiped_blocks(|| unsafe { tscb_callback_list_free(list) });
    assert_eq!(found, 0, "freed blocks still held the password");
}
