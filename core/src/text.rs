//! Making untrusted text safe to show: control characters out, length capped, the values of
//! keys that hold secrets (`"password"`, `"access_token"`, …) masked. (Redacting our own secrets is in [`crate::secret`].)

/// A short, printable excerpt: control characters become spaces and the length is capped, so a
/// hostile body cannot flood a log or play tricks with a terminal.
pub(crate) fn excerpt(text: &str) -> String {
    clean(text, 200)
}

/// Characters that change what a terminal shows beyond themselves: controls (an escape sequence
/// can recolour or rewrite the screen, a newline forge a line), zero-width ones and those that
/// reorder text (bidi overrides and isolates, which can make a message read other than it is).
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` as a terminal may show it: the characters that `is_invisible` names written escaped,
/// as `\u{1b}`, rather than blanked as `clean` does, so that a person sees exactly what the
/// service sent. For printing text from the service (`tscb`'s output); JSON output needs none of it.
pub fn escape_invisible(text: &str) -> String {
    text.chars()
        .map(|c| if is_invisible(c) { c.escape_unicode().to_string() } else { c.to_string() })
        .collect()
}

/// `text` with [invisible](is_invisible) characters as spaces, cut to `max_chars` (with `…` when
/// cut).
pub(crate) fn clean(text: &str, max_chars: usize) -> String {
    let mut out: String =
        text.chars().take(max_chars).map(|c| if is_invisible(c) { ' ' } else { c }).collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// The JSON keys whose string values are secrets: a list answer's callback passwords, and the
/// tokens of a sign-in answer that could not be used (one with trailing bytes, say), which no
/// redaction knows yet. Compared ASCII case-insensitively.
const SECRET_KEYS: &[&str] =
    &["password", "access_token", "refresh_token", "id_token", "sessionToken", "client_secret"];

/// The position of the next `"key"` of [`SECRET_KEYS`] in `text`, and its length with the quotes.
fn next_secret_key(text: &str) -> Option<(usize, usize)> {
    text.match_indices('"').find_map(|(at, _)| {
        let rest = &text[at + 1..];
        SECRET_KEYS.iter().find_map(|key| {
            let named = rest.get(..key.len()).is_some_and(|k| k.eq_ignore_ascii_case(key));
            (named && rest[key.len()..].starts_with('"')).then_some((at, key.len() + 2))
        })
    })
}

/// Replaces the string value of every secret key (see [`SECRET_KEYS`]) in (possibly truncated
/// or otherwise broken) JSON text with `<redacted>`.
pub(crate) fn mask_secret_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, key_len)) = next_secret_key(rest) {
        let (before, after_key) = rest.split_at(at + key_len);
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
    fn token_values_are_masked_too() {
        assert_eq!(
            mask_secret_values(r#"{"access_token":"T1","expires_in":3600}x"#),
            r#"{"access_token":"<redacted>","expires_in":3600}x"#
        );
        assert_eq!(
            mask_secret_values(r#"[{"sessionToken": "T2"}, {"Refresh_Token":"T3","id_token":"T4"#),
            r#"[{"sessionToken": "<redacted>"}, {"Refresh_Token":"<redacted>","id_token":"<redacted>"#
        );
        assert_eq!(
            mask_secret_values(r#"{"passwords":"x","token":"y"}"#),
            r#"{"passwords":"x","token":"y"}"#
        );
    }

    #[test]
    fn password_values_are_masked_even_in_broken_json() {
        assert_eq!(
            mask_secret_values(r#"[{"url":"u","password":"hun\"ter2","x":1},{"password" : "p2"}]"#),
            r#"[{"url":"u","password":"<redacted>","x":1},{"password" : "<redacted>"}]"#
        );
        assert_eq!(mask_secret_values(r#"{"password":"trunc"#), r#"{"password":"<redacted>"#);
        assert_eq!(
            mask_secret_values(r#"{"password":null,"b":"password"}"#),
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
        // A right-to-left override and a zero-width space from a hostile answer.
        assert_eq!(excerpt("ok\u{202e}gnp.exe\u{200b}!"), "ok gnp.exe !");
    }
}
