//! The rules every input passes before a request is built. Each rule has its own code, so a
//! caller can tell exactly what to fix; no rejected value that may be secret is echoed back.

use std::net::IpAddr;

use reqwest::Url;

use crate::codes;
use crate::error::{Error, Result};

/// Callback ports ThingSpace calls (its documentation's list; Verizon may change it, so the check
/// can be turned off with [`crate::ClientBuilder::check_callback_port`]).
pub const CALLBACK_PORTS: &[(u16, u16)] =
    &[(80, 80), (443, 443), (9001, 9006), (50551, 50559), (28200, 28220)];

/// The most characters ThingSpace takes in a callback username or password.
pub const MAX_CREDENTIAL_CHARS: usize = 40;

pub(crate) fn account_name(account: &str) -> Result<()> {
    if account.is_empty() {
        return Err(Error::invalid(codes::ACCOUNT_NAME_EMPTY, "the account name is empty"));
    }
    if account.chars().any(char::is_control) {
        return Err(Error::invalid(
            codes::ACCOUNT_NAME_INVALID_CHARACTER,
            "the account name contains a control character",
        ));
    }
    // URL parsers treat `.`, `..` and their percent-encoded forms as dot-segments and remove
    // them, so no encoding keeps these as one path segment.
    if account == "." || account == ".." {
        return Err(Error::invalid(
            codes::ACCOUNT_NAME_DOT_SEGMENT,
            format!("the account name {account:?} is not a valid account name"),
        ));
    }
    Ok(())
}

pub(crate) fn service_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(codes::SERVICE_NAME_EMPTY, "the service name is empty"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::invalid(
            codes::SERVICE_NAME_INVALID_CHARACTER,
            format!(
                "the service name {:?} may contain only ASCII letters and digits",
                name.escape_debug().to_string()
            ),
        ));
    }
    Ok(())
}

/// The callback URL's own rules (all but the port, which depends on the client's
/// `check_callback_port`: see [`callback_port`]); returns its port, for that check.
pub(crate) fn callback_url(url: &str) -> Result<u16> {
    // A user part, query or fragment may carry a password or a listener's token: never repeated.
    let shown = shown_url(url);
    // The URL is sent exactly as given, so anything a parser would silently trim or drop is an
    // error rather than a surprise at ThingSpace.
    if url.trim() != url || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid(
            codes::CALLBACK_URL_MALFORMED,
            format!("the callback URL \"{shown}\" contains white space or a control character"),
        ));
    }
    let parsed = Url::parse(url).map_err(|e| {
        Error::invalid(
            codes::CALLBACK_URL_MALFORMED,
            format!("the callback URL \"{shown}\" is not an absolute URL: {e}"),
        )
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid(
            codes::CALLBACK_URL_CREDENTIALS,
            "the callback URL must not contain a user name or password (ThingSpace would show them \
             in listings; use the registration's username and password instead)",
        ));
    }
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid(
            codes::CALLBACK_URL_SCHEME,
            format!("the callback URL \"{shown}\" must start with http:// or https://"),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(
            codes::CALLBACK_URL_HOST,
            format!("the callback URL \"{shown}\" has no host"),
        ));
    }
    // `port_or_known_default` is always Some for http and https.
    Ok(parsed.port_or_known_default().unwrap_or(0))
}

/// Whether ThingSpace calls `port` (see [`CALLBACK_PORTS`]).
pub(crate) fn callback_port(port: u16) -> Result<()> {
    if !CALLBACK_PORTS.iter().any(|&(lo, hi)| (lo..=hi).contains(&port)) {
        return Err(Error::invalid(
            codes::CALLBACK_URL_PORT,
            format!(
                "the callback URL's port {port} is not one ThingSpace calls \
                 (80, 443, 9001-9006, 50551-50559, 28200-28220)"
            ),
        ));
    }
    Ok(())
}

pub(crate) fn username(value: &str) -> Result<()> {
    credential(value, "username", codes::USERNAME_TOO_LONG, codes::USERNAME_INVALID_CHARACTER)
}

pub(crate) fn password(value: &str) -> Result<()> {
    credential(value, "password", codes::PASSWORD_TOO_LONG, codes::PASSWORD_INVALID_CHARACTER)
}

fn credential(value: &str, what: &str, too_long: &'static str, bad_char: &'static str) -> Result<()> {
    let chars = value.chars().count();
    if chars > MAX_CREDENTIAL_CHARS {
        return Err(Error::invalid(
            too_long,
            format!("the callback {what} has {chars} characters; at most {MAX_CREDENTIAL_CHARS} are allowed"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(bad_char, format!("the callback {what} contains a control character")));
    }
    Ok(())
}

/// Tokens go into headers verbatim: only visible ASCII is allowed, so that no CR/LF (header
/// injection) or other byte a server might reject can get in.
pub(crate) fn token(value: &str, what: &str, missing: &'static str, bad_char: &'static str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(missing, format!("the {what} is empty")));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            bad_char,
            format!("the {what} contains a character that cannot go into an HTTP header"),
        ));
    }
    Ok(())
}

pub(crate) fn user_agent(value: &str) -> Result<()> {
    if value.is_empty() || !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(Error::invalid(
            codes::USER_AGENT_INVALID_CHARACTER,
            "the user agent must be non-empty printable ASCII",
        ));
    }
    Ok(())
}

/// Parses the base URL. Tokens travel in its requests' headers, so it must be `https`, or plain
/// `http` only to a loopback host (the simulator) unless the caller explicitly allows otherwise.
pub(crate) fn base_url(value: &str, allow_insecure_http: bool) -> Result<Url> {
    let shown = shown_url(value);
    let malformed =
        |why: &str| Error::invalid(codes::BASE_URL_MALFORMED, format!("the base URL \"{shown}\" {why}"));
    if value.trim() != value || value.chars().any(char::is_control) {
        return Err(malformed("contains white space or a control character"));
    }
    let url = Url::parse(value).map_err(|e| malformed(&format!("is not an absolute URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        // Do not echo it: the user part may hold a password.
        return Err(Error::invalid(
            codes::BASE_URL_MALFORMED,
            "the base URL must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(malformed("must not have a query or fragment"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(malformed("has no host"));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(Error::invalid(
                codes::BASE_URL_INSECURE,
                format!(
                    "the base URL \"{shown}\" is plain http to a host that is not loopback; \
                     tokens would cross the network unencrypted (use https)"
                ),
            ))
        }
        _ => return Err(malformed("must start with https://")),
    }
    Ok(url)
}

/// A URL as an error message may show it: without the user name and password, the query and the
/// fragment (any of which may hold a secret: `https://u:pw@host`, `?key=…`), escaped. Works on
/// the text, because a URL that is refused may not parse.
fn shown_url(value: &str) -> String {
    let mut shown = value;
    let mut cut = "";
    if let Some(at) = shown.find(['?', '#']) {
        shown = &shown[..at];
        cut = "…";
    }
    let (scheme, rest) = match shown.find("://") {
        Some(at) => shown.split_at(at + 3),
        None => ("", shown),
    };
    // The user part ends at the last '@' of the authority (a password may contain '@' too).
    let authority_end = rest.find(['/', '\\']).unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => format!("…@{}", &rest[at + 1..]),
        // Without "://" there is no telling where a user part ends: hide all before an '@'.
        None if scheme.is_empty() && rest.contains('@') => {
            format!("…@{}", &rest[rest.rfind('@').map_or(0, |at| at + 1)..])
        }
        None => rest.to_owned(),
    };
    format!("{scheme}{rest}{cut}").escape_debug().to_string()
}

/// A timeout given in seconds (as Python and configuration files give it) as a [`Duration`](std::time::Duration):
/// zero is [`codes::TIMEOUT_ZERO`]; negative, NaN, infinite or absurdly large values are
/// [`codes::TIMEOUT_INVALID`].
///
/// ```
/// assert_eq!(tscb::timeout_from_secs(1.5).unwrap(), std::time::Duration::from_millis(1500));
/// assert_eq!(tscb::timeout_from_secs(-1.0).unwrap_err().error_code(), tscb::codes::TIMEOUT_INVALID);
/// ```
pub fn timeout_from_secs(seconds: f64) -> Result<std::time::Duration> {
    let duration = std::time::Duration::try_from_secs_f64(seconds).map_err(|_| {
        Error::invalid(
            codes::TIMEOUT_INVALID,
            format!("a timeout must be a positive, finite number of seconds, not {seconds}"),
        )
    })?;
    timeout(duration)?;
    Ok(duration)
}

/// The longest timeout accepted: a day. Longer ones are surely mistakes, and deadlines
/// computed from them could overflow.
pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

pub(crate) fn timeout(value: std::time::Duration) -> Result<()> {
    if value.is_zero() {
        return Err(Error::invalid(codes::TIMEOUT_ZERO, "a timeout must be longer than zero"));
    }
    if value > MAX_TIMEOUT {
        return Err(Error::invalid(
            codes::TIMEOUT_INVALID,
            format!("a timeout of {value:?} is longer than the most allowed, a day"),
        ));
    }
    Ok(())
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().error_code().to_owned()
    }

    /// The old two-argument rule, as the tests below were written against it.
    fn callback_url(url: &str, check_port: bool) -> Result<()> {
        let port = super::callback_url(url)?;
        if check_port {
            callback_port(port)?;
        }
        Ok(())
    }

    #[test]
    fn callback_ports() {
        for ok in [
            "https://a.example",
            "http://a.example",
            "https://a.example:443/x",
            "http://a.example:9001",
            "http://a.example:9006",
            "http://a.example:50551",
            "http://a.example:50559",
            "http://a.example:28200",
            "http://a.example:28220",
        ] {
            callback_url(ok, true).unwrap();
        }
        for bad in [
            "http://a.example:8080",
            "https://a.example:9000",
            "http://a.example:9007",
            "http://a.example:28221",
        ] {
            assert_eq!(code(callback_url(bad, true)), codes::CALLBACK_URL_PORT, "{bad}");
            callback_url(bad, false).unwrap();
        }
    }

    #[test]
    fn callback_url_shapes() {
        assert_eq!(code(callback_url("/relative", true)), codes::CALLBACK_URL_MALFORMED);
        assert_eq!(code(callback_url(" https://a.example", true)), codes::CALLBACK_URL_MALFORMED);
        assert_eq!(code(callback_url("https://a.example/\n", true)), codes::CALLBACK_URL_MALFORMED);
        assert_eq!(code(callback_url("ftp://a.example", true)), codes::CALLBACK_URL_SCHEME);
        assert_eq!(code(callback_url("mailto:x@a.example", true)), codes::CALLBACK_URL_SCHEME);
        assert_eq!(code(callback_url("http://", true)), codes::CALLBACK_URL_MALFORMED);
        let with_password = callback_url("https://u:pw-SECRET@a.example/cb", true).unwrap_err();
        assert_eq!(with_password.error_code(), codes::CALLBACK_URL_CREDENTIALS);
        assert!(!with_password.to_string().contains("pw-SECRET"));
        let malformed = callback_url("https://u:pw-SECRET@a.example/ x", true).unwrap_err();
        assert!(!malformed.to_string().contains("pw-SECRET"), "{malformed}");
        let malformed = callback_url("https://a.example/ x?token=tok-SECRET", true).unwrap_err();
        assert!(!malformed.to_string().contains("tok-SECRET"), "{malformed}");
    }

    #[test]
    fn credentials_count_characters_not_bytes() {
        username(&"é".repeat(40)).unwrap();
        assert_eq!(code(username(&"é".repeat(41))), codes::USERNAME_TOO_LONG);
        assert_eq!(code(password(&"x".repeat(41))), codes::PASSWORD_TOO_LONG);
        assert_eq!(code(password("a\tb")), codes::PASSWORD_INVALID_CHARACTER);
    }

    #[test]
    fn base_urls() {
        base_url("https://thingspace.verizon.com/api", false).unwrap();
        base_url("http://127.0.0.1:1234/api", false).unwrap();
        base_url("http://[::1]:1234/api", false).unwrap();
        base_url("http://localhost/api", false).unwrap();
        assert_eq!(code(base_url("http://10.0.0.1/api", false)), codes::BASE_URL_INSECURE);
        base_url("http://10.0.0.1/api", true).unwrap();
        assert_eq!(code(base_url("ftp://h/api", false)), codes::BASE_URL_MALFORMED);
        assert_eq!(code(base_url("https://u:pw@h/api", false)), codes::BASE_URL_MALFORMED);
        assert!(!base_url("https://u:pw@h/api", false).unwrap_err().to_string().contains("pw"));
        assert_eq!(code(base_url("https://h/api?x=1", false)), codes::BASE_URL_MALFORMED);
        assert_eq!(code(base_url("api", false)), codes::BASE_URL_MALFORMED);
    }

    #[test]
    fn a_refused_base_url_is_shown_without_user_query_or_fragment() {
        for (url, shown) in [
            ("https://u:TOPSECRET@gw.example:99999/api", "https://…@gw.example:99999/api"),
            ("https://u:TOPSECRET@gw.example/api ", "https://…@gw.example/api "),
            ("https://u:TOP@SECRET@gw.example/api\n", "https://…@gw.example/api\\n"),
            ("https://gw.example/api?key=TOPSECRET", "https://gw.example/api…"),
            ("http://10.0.0.1/api#TOPSECRET", "http://10.0.0.1/api…"),
            ("ftp://gw.example/api?key=TOPSECRET", "ftp://gw.example/api…"),
            ("u:TOPSECRET@gw.example/api", "…@gw.example/api"),
            ("https://gw.example:99999/a@b", "https://gw.example:99999/a@b"),
        ] {
            let err = base_url(url, false).unwrap_err();
            assert!(err.error_message().contains(&format!("\"{shown}\"")), "{url}: {err}");
            if !shown.contains("TOPSECRET") {
                assert!(!format!("{err} {err:?} {}", err.to_json()).contains("TOPSECRET"), "{err}");
            }
        }
    }
}
