//! libtscb: the C ABI of the `tscb` crate. It only translates: validation, encoding, error
//! codes and everything else live in `tscb` (core/). The header, `include/tscb.h`, is generated
//! from this crate by cbindgen (`make header`).
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // each function's doc comment states its pointer contract

mod boundary;
mod callback;
mod calls;
mod client;
mod constants;
mod error;
mod failure;
mod logging;
mod result;
mod strings;
#[cfg(test)]
mod wipe_tests;

pub use callback::*;
pub use calls::*;
pub use client::*;
pub use constants::*;
pub use error::*;
pub use failure::*;
pub use logging::*;
pub use result::*;

/// The library's version, e.g. "0.1.0". Static; never NULL, never to be freed.
#[no_mangle]
pub extern "C" fn tscb_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
