use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// A string that must never be printed: an OAuth or session token, a password.
///
/// `Debug` shows `<redacted>` and there is no `Display`, so a secret cannot reach a log line
/// by accident; read it on purpose with [`Secret::expose`]. Its memory is wiped when it is dropped.
///
/// ```
/// let s = tscb::Secret::new("hunter2");
/// assert_eq!(format!("{s:?}"), "<redacted>");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself. Every call site is a place where the value can leak: keep them few.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The value is overwritten with zeros before its memory is freed, so that a token or password
/// does not linger in freed memory (a core dump, a swap file, the next allocation).
impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

/// `parts` joined in one string that is wiped when dropped, allocated once at its final size, so
/// that no reallocation leaves a partial copy of a secret behind in freed memory.
/// The base64 of `user:password`, as HTTP Basic authentication sends it (after `Basic `); it and
/// the joined text it was made from are wiped when dropped.
pub(crate) fn basic_credentials(user: &str, password: &str) -> Zeroizing<String> {
    use base64::Engine as _;
    let pair = joined(&[user, ":", password]);
    // `encode` allocates once, at the exact size.
    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()))
}

pub(crate) fn joined(parts: &[&str]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        out.push_str(part);
    }
    out
}

/// Replaces each occurrence of any of `secrets` in `text` with `<redacted>`, in every form a
/// server may echo it: as it is, JSON-escaped (`\"`, `\\`, `\/`, `\uXXXX` in either case,
/// surrogate pairs, any mix of these, and escaped again inside a quoted string), and, for a
/// secret that itself looks escaped, as JSON would decode it.
///
/// Servers and proxies sometimes echo request data back in error bodies; those texts become our
/// error messages, so they pass through here first. A secret of eight characters or more is
/// replaced wherever it stands; a shorter one only where it stands alone (not touching a letter
/// or digit), so that a secret such as `s` does not mangle every word with an `s` in it.
///
/// Rather than listing every escaped variant of every secret (their number grows with each
/// character that can be written several ways), one matcher accepts any escaping per character.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = redact_one(&out, secret);
        // A secret with backslashes in it, echoed unescaped inside a JSON string, reaches us
        // decoded: `a\\b` as `a\b`.
        if secret.contains('\\') {
            let decoded = serde_json::from_str::<String>(&format!("\"{secret}\"")).ok();
            if let Some(decoded) = decoded.filter(|d| !d.is_empty() && d != secret) {
                out = redact_one(&out, &decoded);
            }
        }
    }
    out
}

fn redact_one(text: &str, secret: &str) -> String {
    let bytes = text.as_bytes();
    let first = secret.as_bytes()[0];
    let long = secret.chars().count() >= 8;
    let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        let candidate = bytes[at] == first || bytes[at] == b'\\';
        let end = if candidate { match_at(bytes, at, secret) } else { None };
        match end {
            Some(end)
                if long
                    || (bounded(text[..at].chars().next_back()) && bounded(text[end..].chars().next())) =>
            {
                out.push_str("<redacted>");
                at = end;
            }
            _ => {
                // `at` is always on a character boundary: matches end on one.
                let c = text[at..].chars().next().unwrap_or_default();
                out.push(c);
                at += c.len_utf8();
            }
        }
    }
    out
}

/// The end of the longest occurrence of `secret` that starts at `start`, each character as
/// itself or escaped (see [`redact`]). The set of positions reachable after each character is
/// kept, so that a run of backslashes can be shared out between characters in every way.
fn match_at(text: &[u8], start: usize, secret: &str) -> Option<usize> {
    let mut ends = vec![start];
    let mut next = Vec::new();
    for c in secret.chars() {
        next.clear();
        for &at in &ends {
            char_forms(text, at, c, &mut next);
        }
        next.sort_unstable();
        next.dedup();
        if next.is_empty() {
            return None;
        }
        std::mem::swap(&mut ends, &mut next);
    }
    ends.last().copied()
}

/// Pushes where `c` ends if it is written at `at`, in each form that matches.
fn char_forms(text: &[u8], at: usize, c: char, out: &mut Vec<usize>) {
    let rest = &text[at..];
    let mut buf = [0u8; 4];
    let raw = c.encode_utf8(&mut buf).as_bytes();
    if rest.starts_with(raw) {
        out.push(at + raw.len());
    }
    let run = rest.iter().take_while(|&&b| b == b'\\').count();
    if run == 0 {
        return;
    }
    if c == '\\' {
        // One backslash, escaped any number of times: some of the run.
        out.extend((2..=run).map(|n| at + n));
    }
    let after = &rest[run..];
    let short = match c {
        '"' | '/' => Some(c as u8),
        '\n' => Some(b'n'),
        '\r' => Some(b'r'),
        '\t' => Some(b't'),
        '\u{8}' => Some(b'b'),
        '\u{c}' => Some(b'f'),
        _ => None,
    };
    if short.is_some_and(|s| after.first() == Some(&s)) {
        out.push(at + run + 1);
    }
    let mut units = [0u16; 2];
    let units = c.encode_utf16(&mut units);
    let Some(first) = unit_at(after, units[0]) else { return };
    let mut end = at + run + first;
    if let Some(&low) = units.get(1) {
        let rest = &text[end..];
        let run = rest.iter().take_while(|&&b| b == b'\\').count();
        let Some(second) = (run > 0).then(|| unit_at(&rest[run..], low)).flatten() else { return };
        end += run + second;
    }
    out.push(end);
}

/// The length of `uXXXX` at the start of `text` if it spells `unit` (hex in either case).
fn unit_at(text: &[u8], unit: u16) -> Option<usize> {
    let hex = text.get(..5)?.strip_prefix(b"u")?;
    let hex = std::str::from_utf8(hex).ok()?;
    (hex.bytes().all(|b| b.is_ascii_hexdigit()) && u16::from_str_radix(hex, 16).ok()? == unit).then_some(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_occurrences_are_redacted() {
        assert_eq!(redact("token abc-123 here", &["abc-123"]), "token <redacted> here");
        assert_eq!(redact("\"abc\",abc", &["abc"]), "\"<redacted>\",<redacted>");
        assert_eq!(redact("Bearer abc", &["abc"]), "Bearer <redacted>");
    }

    #[test]
    fn short_secrets_do_not_mangle_words() {
        assert_eq!(
            redact("error sending request (os error 111)", &["s"]),
            "error sending request (os error 111)"
        );
        assert_eq!(redact("session s expired", &["s"]), "session <redacted> expired");
        assert_eq!(redact("xabcx abc", &["abc", ""]), "xabcx <redacted>");
        assert_eq!(redact("xlongsecretx", &["longsecret"]), "x<redacted>x");
    }

    #[test]
    fn escaped_forms_are_redacted() {
        let secret = r#"pa"ss\wörd/𝄞x"#;
        for echo in [
            r#"pa"ss\wörd/𝄞x"#,
            r#"pa\"ss\\wörd/𝄞x"#,
            r#"pa\"ss\\w\u00f6rd\/\ud834\udd1ex"#,
            r#"\u0070\u0061\u0022\u0073\u0073\u005C\u0077\u00F6\u0072\u0064\u002f\uD834\uDD1E\u0078"#,
            r#"pa\\\"ss\\\\wörd/𝄞x"#,
            r#"pa\\u0022ss\\\\wörd/𝄞x"#,
        ] {
            assert_eq!(redact(&format!("[{echo}]"), &[secret]), "[<redacted>]", "{echo}");
        }
        // Echoed unescaped into JSON, then decoded.
        assert_eq!(redact("x a\\tokenvalue x", &["a\\\\tokenvalue"]), "x <redacted> x");
        // Short secrets: escaped forms, but still only standing alone.
        assert_eq!(redact(r#"say \"ab\" now"#, &["\"ab\""]), "say <redacted> now");
        assert_eq!(redact(r#"x\u0061"#, &["a"]), r#"x\u0061"#);
    }
}
