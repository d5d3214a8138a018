//! C strings made from Rust text: NUL replaced rather than refused, and a secret's string wiped
//! when it is dropped.

use std::ffi::CString;

/// A C string from Rust text. Text from a server may hold NUL, which C cannot: it becomes U+FFFD.
/// (`CString::new` allocates once, at the final size; the replaced copy of a text with NUL is
/// wiped, as the text may be a callback password.)
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text).unwrap_or_else(|_| {
        CString::new(zeroize::Zeroizing::new(text.replace('\0', "\u{FFFD}")).as_bytes()).unwrap_or_default()
    })
}

/// A C string holding a secret (a callback password): its bytes are wiped when it is dropped,
/// so whatever holds one cannot forget to wipe it, as core's `Secret` wipes its text.
pub(crate) struct SecretCString(Option<CString>);

impl SecretCString {
    /// Built in one buffer of the final size: `CString::new` would grow its copy by one byte
    /// for the NUL, and that reallocation can leave an unwiped copy in the freed block.
    pub(crate) fn new(text: &str) -> Self {
        let nuls = text.bytes().filter(|&b| b == 0).count();
        let mut bytes = Vec::with_capacity(text.len() + 2 * nuls + 1);
        for c in text.chars() {
            let c = if c == '\0' { '\u{FFFD}' } else { c };
            bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        bytes.push(0);
        SecretCString(CString::from_vec_with_nul(bytes).ok())
    }

    pub(crate) fn as_c_str(&self) -> &std::ffi::CStr {
        self.0.as_deref().unwrap_or_default()
    }
}

impl Drop for SecretCString {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        // The bytes are moved out of the CString (its buffer, not a copy) and wiped.
        if let Some(text) = self.0.take() {
            text.into_bytes_with_nul().zeroize();
        }
    }
}
