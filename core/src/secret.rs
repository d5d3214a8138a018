use std::fmt;

/// A string that must never be printed: an OAuth or session token, a password.
///
/// `Debug` shows `<redacted>` and there is no `Display`, so a secret cannot reach a log line
/// by accident; read it on purpose with [`Secret::expose`].
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

/// Replaces each occurrence of any of `secrets` in `text` with `<redacted>`.
///
/// Servers and proxies sometimes echo request data back in error bodies; those texts become our
/// error messages, so they pass through here first. A secret of eight characters or more is
/// replaced wherever it stands; a shorter one only where it stands alone (not touching a letter
/// or digit), so that a secret such as `s` does not mangle every word with an `s` in it.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if !out.contains(secret) {
            continue;
        }
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(secret) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + secret.len()..].chars().next();
            let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
            result.push_str(&rest[..at]);
            if secret.chars().count() >= 8 || (bounded(before) && bounded(after)) {
                result.push_str("<redacted>");
            } else {
                result.push_str(secret);
            }
            rest = &rest[at + secret.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

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
}
