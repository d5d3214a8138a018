//! Unpredictable-enough token values without a random-number crate: std's `RandomState` is
//! seeded from the OS per thread and perturbed per instance, and SipHash mixes in a counter.
//! Good for test tokens; not for real secrets, which come from [`secret_hex64`].

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

fn next_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

fn random_hex(len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        out.push_str(&format!("{:016x}", next_u64()));
    }
    out.truncate(len);
    out
}

/// 32 hex digits, like ThingSpace access tokens.
pub(crate) fn hex32() -> String {
    random_hex(32)
}

/// A GUID-shaped value (8-4-4-4-12 hex digits), like ThingSpace session tokens.
pub(crate) fn uuid_like() -> String {
    let hex = random_hex(32);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// 256 bits from the operating system's random source, as 64 hex digits: the admin token.
pub(crate) fn secret_hex64() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_uniqueness() {
        let a = hex32();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, hex32());
        let u = uuid_like();
        let lens: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(lens, [8, 4, 4, 4, 12]);
        let s = secret_hex64().unwrap();
        assert_eq!(s.len(), 64);
        assert!(s.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(s, secret_hex64().unwrap());
    }
}
