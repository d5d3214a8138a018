//! Secrets and keeping them out of what we say: [`Secret`] (never printed, wiped when dropped),
//! the helpers that build header texts without leaving copies, and [`Redactor`] with the one
//! matcher that finds a secret's echoes (escaped, cut short, case-changed, base64). About 400
//! lines: the matcher and its tests belong together.

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

/// The fewest characters of a secret's start that are masked where they stand alone: a server
/// that cuts an echo short (`token S3cr3tTok… is invalid`) still shows no more than seven.
const PREFIX_CHARS: usize = 8;

/// The most positions [`match_at`] keeps after a character, and the most backslashes one
/// backslash may be written as: enough for escaping five times over, and a bound on the work
/// that a body of nothing but backslashes can cause (else quadratic in its length).
const MAX_STATES: usize = 32;

/// Replaces each occurrence of any of `secrets` in `text` with `<redacted>`, in every form a
/// server may echo it: as it is, JSON-escaped (`\"`, `\\`, `\/`, `\uXXXX` in either case,
/// surrogate pairs, any mix of these, and escaped again inside a quoted string), upper- or
/// lower-cased, cut short after eight characters or more, as base64 (standard or URL-safe, with
/// or without padding), and, for a secret that itself looks escaped, as JSON would decode it.
///
/// Servers and proxies sometimes echo request data back in error bodies; those texts become our
/// error messages, so they pass through here first. A secret of eight characters or more (and
/// any start of it that long) is replaced wherever it stands; a shorter one only whole and where
/// it stands alone (not touching a letter or digit), so that a secret such as `s` does not
/// mangle every word with an `s` in it. Secrets are random, so eight characters of one in an
/// ordinary message are not to be expected.
///
/// Rather than listing every escaped variant of every secret (their number grows with each
/// character that can be written several ways), one matcher accepts any escaping and either case
/// per character. Each secret costs a few passes over the text, each pass linear but for the
/// characters where a secret could start; this runs on error paths only, over a capped head.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let long = secret.chars().count() >= PREFIX_CHARS;
        out = redact_one(&out, secret, long.then_some(PREFIX_CHARS), false);
        // A secret with backslashes in it, echoed unescaped inside a JSON string (whole or cut
        // short), reaches us decoded: `a\\b` as `a\b`. Its start counts as the decoded form
        // of the secret's first eight characters, however short.
        if secret.contains('\\') {
            let (decoded, start) = json_decoded(secret);
            if decoded.as_str() != *secret {
                out = redact_one(&out, &decoded, long.then_some(start), false);
            }
        }
        let standard = Zeroizing::new(STANDARD_NO_PAD.encode(secret.as_bytes()));
        let prefix = (standard.len() >= PREFIX_CHARS).then_some(PREFIX_CHARS);
        out = redact_one(&out, &standard, prefix, true);
        let url_safe = Zeroizing::new(URL_SAFE_NO_PAD.encode(secret.as_bytes()));
        if url_safe != standard {
            out = redact_one(&out, &url_safe, prefix, true);
        }
    }
    out
}

/// The secrets of one call, to keep out of whatever its answer or failure makes us say: the
/// client's long-lived ones (client secret, login password, proxy credentials), the tokens the
/// call sent and its own (a callback password). Made by the client for each call and handed to
/// the transport and the decoders, which know no client.
#[derive(Default)]
pub(crate) struct Redactor<'a> {
    secrets: Vec<&'a str>,
}

impl<'a> Redactor<'a> {
    pub(crate) fn new(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        Redactor { secrets: secrets.into_iter().collect() }
    }

    /// `text` with every form of each secret replaced (see [`redact`]).
    pub(crate) fn redact(&self, text: &str) -> String {
        redact(text, &self.secrets)
    }
}

/// `secret` as JSON decodes the escapes in it (leniently: what is no escape stays as it is),
/// and how many characters the decoded form of its first [`PREFIX_CHARS`] characters has.
fn json_decoded(secret: &str) -> (Zeroizing<String>, usize) {
    let mut out = Zeroizing::new(String::with_capacity(secret.len()));
    let mut start = 0;
    let mut rest = secret;
    let mut used = 0;
    while let Some(c) = rest.chars().next() {
        let (decoded, len) = match (c, rest.as_bytes().get(1)) {
            ('\\', Some(&b @ (b'"' | b'\\' | b'/'))) => (b as char, 2),
            ('\\', Some(b'n')) => ('\n', 2),
            ('\\', Some(b'r')) => ('\r', 2),
            ('\\', Some(b't')) => ('\t', 2),
            ('\\', Some(b'b')) => ('\u{8}', 2),
            ('\\', Some(b'f')) => ('\u{c}', 2),
            ('\\', Some(b'u')) => match unit_at(&rest.as_bytes()[1..]).and_then(|u| char::from_u32(u.into()))
            {
                Some(d) => (d, 6),
                None => (c, 1),
            },
            _ => (c, c.len_utf8()),
        };
        if used < PREFIX_CHARS {
            start += 1;
        }
        used += rest[..len].chars().count();
        out.push(decoded);
        rest = &rest[len..];
    }
    (out, start)
}

/// One form of one secret out of `text`. With `prefix`, any start of it that many characters or
/// longer is replaced wherever it stands; without, only the whole, where it stands alone.
/// `base64` takes the padding after it along.
fn redact_one(text: &str, secret: &str, prefix: Option<usize>, base64: bool) -> String {
    let bytes = text.as_bytes();
    let Some(first) = secret.chars().next() else { return text.to_owned() };
    let long = prefix.is_some();
    let shortest = prefix.unwrap_or_else(|| secret.chars().count()).max(1);
    let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        // `at` is always on a character boundary: matches end on one.
        let c = text[at..].chars().next().unwrap_or_default();
        let candidate = c == '\\' || same_letter(c, first);
        let end = if candidate { match_at(bytes, at, secret, shortest) } else { None };
        match end {
            Some(end)
                if long
                    || (bounded(text[..at].chars().next_back()) && bounded(text[end..].chars().next())) =>
            {
                out.push_str("<redacted>");
                at = end;
                if base64 {
                    at += bytes[at..].iter().take(2).take_while(|&&b| b == b'=').count();
                }
            }
            _ => {
                out.push(c);
                at += c.len_utf8();
            }
        }
    }
    out
}

/// Whether `a` and `b` are the same character but perhaps for case.
fn same_letter(a: char, b: char) -> bool {
    if a.is_ascii() || b.is_ascii() {
        return a.eq_ignore_ascii_case(&b);
    }
    // Both ways: `ς` and `σ` differ in lower case, not in upper.
    a == b || a.to_lowercase().eq(b.to_lowercase()) || a.to_uppercase().eq(b.to_uppercase())
}

/// The end of the longest occurrence of the first `shortest` or more characters of `secret`
/// that starts at `start`, each character as itself (in either case) or escaped (see
/// [`redact`]). The set of positions reachable after each character is kept, so that a run of
/// backslashes can be shared out between characters in every way.
fn match_at(text: &[u8], start: usize, secret: &str, shortest: usize) -> Option<usize> {
    let mut ends = vec![start];
    let mut next = Vec::new();
    for (matched, c) in secret.chars().enumerate() {
        next.clear();
        for &at in &ends {
            char_forms(text, at, c, &mut next);
        }
        next.sort_unstable();
        next.dedup();
        // Only a run of backslashes makes many; the longest matches are kept.
        if next.len() > MAX_STATES {
            next.drain(..next.len() - MAX_STATES);
        }
        if next.is_empty() {
            return (matched >= shortest).then(|| ends.last().copied()).flatten();
        }
        std::mem::swap(&mut ends, &mut next);
    }
    ends.last().copied()
}

/// Pushes where `c` ends if it is written at `at`, in each form that matches.
fn char_forms(text: &[u8], at: usize, c: char, out: &mut Vec<usize>) {
    let rest = &text[at..];
    // Positions are always character boundaries of the text, which was a `str`.
    let head = &rest[..rest.len().min(4)];
    let head = std::str::from_utf8(head)
        .unwrap_or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default());
    if let Some(t) = head.chars().next().filter(|&t| same_letter(c, t)) {
        out.push(at + t.len_utf8());
    }
    if !c.is_ascii() {
        // A letter whose other case is several characters: `ß` upper-cased is `SS`.
        for other in [c.to_uppercase().collect::<String>(), c.to_lowercase().collect()] {
            if other.chars().nth(1).is_some() && rest.starts_with(other.as_bytes()) {
                out.push(at + other.len());
            }
        }
    }
    let run = rest.iter().take_while(|&&b| b == b'\\').count();
    if run == 0 {
        return;
    }
    if c == '\\' {
        // One backslash, escaped any number of times: some of the run.
        out.extend((2..=run.min(MAX_STATES)).map(|n| at + n));
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
    let Some(first) = unit_at(after) else { return };
    let mut end = at + run + 5;
    if let Some(&low) = units.get(1) {
        if first != units[0] {
            return;
        }
        let rest = &text[end..];
        let run = rest.iter().take_while(|&&b| b == b'\\').count();
        if run == 0 || unit_at(&rest[run..]) != Some(low) {
            return;
        }
        end += run + 5;
    } else if !char::from_u32(first.into()).is_some_and(|t| same_letter(c, t)) {
        return;
    }
    out.push(end);
}

/// The code unit that `uXXXX` at the start of `text` spells (hex in either case).
fn unit_at(text: &[u8]) -> Option<u16> {
    let hex = text.get(..5)?.strip_prefix(b"u")?;
    let hex = std::str::from_utf8(hex).ok()?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(hex, 16).ok()
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

    #[test]
    fn cut_short_and_case_changed_echoes_are_redacted() {
        let secret = "S3cr3tT0kenValue";
        for echo in
            ["S3cr3tT0…", "S3cr3tT0ken", "s3cr3tt0kenvalue", "S3CR3TT0KENVALUE", "s3CR3t\\u0054\\u00300k"]
        {
            let shown = redact(&format!("token Bearer{echo} is invalid"), &[secret]);
            assert!(shown.starts_with("token Bearer<redacted>"), "{echo}: {shown}");
            assert!(!shown.to_lowercase().contains("s3cr3t"), "{echo}: {shown}");
        }
        // Seven characters are not enough to tell a secret's start from a word.
        assert_eq!(redact("token S3cr3tT… is invalid", &[secret]), "token S3cr3tT… is invalid");
        // Ordinary words stay: nothing in them starts like a random secret.
        let text = "error sending request for url (https://127.0.0.1/api/m2m/v1/session/login)";
        assert_eq!(redact(text, &[secret, "Zq8#pW!x2Lm", "hunter2"]), text);
        // Non-ASCII letters in either case.
        assert_eq!(redact("[PÄSSWÖRTER]", &["pässwörter"]), "[<redacted>]");
        assert_eq!(redact("[STRASSE-1234]", &["straße-1234"]), "[<redacted>]");
        assert_eq!(redact("[ΟΔΟΣ-1234]", &["οδος-1234"]), "[<redacted>]");
        assert_eq!(redact("[οδος-1234]", &["ΟΔΟΣ-1234"]), "[<redacted>]");
    }

    #[test]
    fn a_backslash_escaped_five_times_over_is_still_matched() {
        let echo = format!("[a{}b-secret-x]", "\\".repeat(32));
        assert_eq!(redact(&echo, &["a\\b-secret-x"]), "[<redacted>]");
        // A body of nothing but backslashes against a secret of them is no work to speak of
        // (it took seconds when every way of sharing out the run was kept).
        let _ = redact(&"\\".repeat(4096), &[&"\\".repeat(30)]);
    }

    #[test]
    fn base64_forms_are_redacted() {
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
        use base64::Engine as _;
        let secret = "a?>secret~~";
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            let echo = engine.encode(secret);
            assert_eq!(redact(&format!("[{echo}]"), &[secret]), "[<redacted>]", "{echo}");
        }
        assert!(STANDARD.encode(secret).contains(['+', '/']), "the test covers both alphabets");
    }
}
