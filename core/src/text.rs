//! Making untrusted text safe to show: control characters out, length capped, `"password"`
//! values masked. (Redacting our own secrets is in [`crate::secret`].)

/// A short, printable excerpt: control characters become spaces and the length is capped, so a
/// hostile body cannot flood a log or play tricks with a terminal.
pub(crate) fn excerpt(text: &str) -> String {
    clean(text, 200)
}

/// `text` with control characters as spaces, cut to `max_chars` (with `…` when cut).
pub(crate) fn clean(text: &str, max_chars: usize) -> String {
    let mut out: String =
        text.chars().take(max_chars).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// Replaces the value of every `"password": "…"` in (possibly truncated) JSON text with
/// `<redacted>`.
pub(crate) fn mask_password_values(text: &str) -> String {
    const KEY: &str = "\"password\"";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (before, after_key) = rest.split_at(at + KEY.len());
        out.push_str(before);
        let value = after_key.trim_start();
        let Some(value) = value.strip_prefix(':').map(str::trim_start) else {
            rest = after_key;
            continue;
        };
        let Some(inner) = value.strip_prefix('"') else {
            rest = after_key;
            continue;
        };
        // The value ends at the first quote that is not escaped (or with the text).
        let mut end = inner.len();
        let mut escaped = false;
        for (i, c) in inner.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = i;
                    break;
                }
                _ => escaped = false,
            }
        }
        out.push_str(&after_key[..after_key.len() - value.len()]);
        out.push_str("\"<redacted>");
        rest = &inner[end..];
    }
    out.push_str(rest);
    out
}

/// An error and its causes on one line, without repeats (hyper and reqwest often repeat
/// their source's text).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_values_are_masked_even_in_broken_json() {
        assert_eq!(
            mask_password_values(r#"[{"url":"u","password":"hun\"ter2","x":1},{"password" : "p2"}]"#),
            r#"[{"url":"u","password":"<redacted>","x":1},{"password" : "<redacted>"}]"#
        );
        assert_eq!(mask_password_values(r#"{"password":"trunc"#), r#"{"password":"<redacted>"#);
        assert_eq!(
            mask_password_values(r#"{"password":null,"b":"password"}"#),
            r#"{"password":null,"b":"password"}"#
        );
    }

    #[test]
    fn excerpt_caps_and_cleans() {
        let long = "a\u{1b}[2J".to_owned() + &"x".repeat(500);
        let e = excerpt(&long);
        assert!(e.starts_with("a [2J"));
        assert!(e.ends_with('…'));
        assert_eq!(e.chars().count(), 201);
    }
}
