//! The blocking [`Client`]: the [`crate::AsyncClient`]'s calls, driven on the caller's thread.
//! [`engine`] holds the runtimes and connection pools it drives them on; the async client knows
//! nothing of them (the dependency runs one way, as reqwest's `blocking` wraps its async client).

mod client;
mod engine;

pub use client::Client;
