//! [`CallbackVerifier`]: is this message from ThingSpace, for us? The source address and the
//! echoed username and password are all ThingSpace offers (it sends no signature).

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use subtle::{Choice, ConstantTimeEq};

use super::message::CallbackMessage;
use crate::codes;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The addresses ThingSpace's callbacks come from, as Verizon documents them (the list is
/// "changing": keep it configurable). Older pages list only the last two; only the first six
/// were seen in practice.
pub const VERIZON_CALLBACK_SOURCES: &[&str] = &[
    "3.87.163.45",
    "3.91.119.203",
    "54.197.62.209",
    "35.165.205.14",
    "54.200.43.232",
    "34.216.81.234",
    "137.117.33.109",
    "168.62.173.153",
];

/// How long the previous password is accepted after a rotation unless told otherwise: 15
/// minutes (ThingSpace was seen sending the old one for 9 to 14 minutes after a
/// re-registration).
pub const DEFAULT_PREVIOUS_PASSWORD_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A previous password's window given in seconds (as Python and configuration files give it):
/// zero accepts the previous password never; negative, NaN or infinite values are
/// [`codes::TIMEOUT_INVALID`]. The one place that rule lives, so that no binding keeps its own.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(tscb::previous_password_window_from_secs(0.0).unwrap(), Duration::ZERO);
/// let err = tscb::previous_password_window_from_secs(-1.0).unwrap_err();
/// assert_eq!(err.error_code(), tscb::codes::TIMEOUT_INVALID);
/// ```
pub fn previous_password_window_from_secs(seconds: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        Error::invalid(
            codes::TIMEOUT_INVALID,
            format!(
                "a previous password's window must be a finite number of seconds, 0 or more, not {seconds}"
            ),
        )
    })
}

type Digest = [u8; 32];

fn digest(text: &str) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref());
    out
}

/// Which sources are allowed.
#[derive(Clone, PartialEq, Eq)]
enum Sources {
    /// [`VERIZON_CALLBACK_SOURCES`], until the first [`CallbackVerifier::allow_source`].
    Verizon(Vec<IpNet>),
    /// Only these (possibly none).
    Listed(Vec<IpNet>),
    Any,
}

/// Checks that a callback message comes from an allowed address and carries the expected
/// username and password.
///
/// By default: the sources are [`VERIZON_CALLBACK_SOURCES`], and neither username nor password
/// is checked (set them with [`CallbackVerifier::set_username`] and
/// [`CallbackVerifier::set_password`]). The verifier keeps only SHA-256 digests of the
/// passwords, and compares digests in constant time. `Debug` shows no password.
///
/// ```
/// use std::net::IpAddr;
/// let mut verifier = tscb::CallbackVerifier::new();
/// verifier.set_username("fleet-7").set_password("listener-pw");
/// verifier.allow_source("10.20.0.0/16")?; // replaces the default list
///
/// let body = br#"{"username":"fleet-7","password":"listener-pw","requestId":"r-1","status":"Success"}"#;
/// let from: IpAddr = "10.20.3.4".parse().unwrap();
/// let msg = verifier.verify(from, body)?;
/// assert_eq!(msg.request_id(), Some("r-1"));
///
/// let err = verifier.verify("192.0.2.1".parse().unwrap(), body).unwrap_err();
/// assert_eq!(err.error_code(), tscb::codes::CALLBACK_REJECTED_SOURCE);
/// assert_eq!(tscb::callback_answer_status(&err), 403);
/// # Ok::<(), tscb::Error>(())
/// ```
#[derive(Clone)]
pub struct CallbackVerifier {
    username: Option<Digest>,
    password: Option<Digest>,
    previous_password: Option<(Digest, Instant)>,
    sources: Sources,
}

impl Default for CallbackVerifier {
    fn default() -> Self {
        CallbackVerifier::new()
    }
}

impl CallbackVerifier {
    /// A verifier that allows [`VERIZON_CALLBACK_SOURCES`] and checks no credentials.
    pub fn new() -> Self {
        let verizon = VERIZON_CALLBACK_SOURCES.iter().filter_map(|s| parse_rule(s).ok()).collect();
        CallbackVerifier {
            username: None,
            password: None,
            previous_password: None,
            sources: Sources::Verizon(verizon),
        }
    }

    /// Expects this username in every message (the one registered; `""` if none was).
    pub fn set_username(&mut self, username: &str) -> &mut Self {
        self.username = Some(digest(username));
        self
    }

    /// Expects this password in every message (the one registered; `""` if none was). A
    /// message without a `password` field counts as `""`.
    pub fn set_password(&mut self, password: impl Into<Secret>) -> &mut Self {
        self.password = Some(digest(password.into().expose()));
        self
    }

    /// Also accepts `password`, the one registered before the current one, for `valid_for`
    /// from now ([`DEFAULT_PREVIOUS_PASSWORD_WINDOW`] is what ThingSpace was seen to need).
    /// Call it when you re-register with a new password. Has an effect only together with
    /// [`CallbackVerifier::set_password`]; a zero `valid_for` accepts it never.
    pub fn set_previous_password(&mut self, password: impl Into<Secret>, valid_for: Duration) -> &mut Self {
        // Instant + a huge duration can overflow: treat such windows as "for as long as we run".
        let now = Instant::now();
        let until = now.checked_add(valid_for).unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600));
        self.previous_password = Some((digest(password.into().expose()), until));
        self
    }

    /// Allows messages from `source`: an IPv4 or IPv6 address (`192.0.2.7`, `2001:db8::7`) or
    /// CIDR block (`10.20.0.0/16`, `2001:db8::/48`). The first call replaces the default list
    /// ([`VERIZON_CALLBACK_SOURCES`]); later calls add to it (re-add the Verizon addresses from
    /// that constant to keep them). Has no effect after [`CallbackVerifier::allow_any_source`].
    /// An IPv4-mapped IPv6 rule (`::ffff:192.0.2.7`) is the same as its IPv4 form.
    ///
    /// A source that is neither is an error of kind `invalid_input`
    /// ([`codes::SOURCE_ADDRESS_MALFORMED`]), and the verifier is unchanged.
    pub fn allow_source(&mut self, source: &str) -> Result<&mut Self> {
        let rule = parse_rule(source)?;
        match &mut self.sources {
            Sources::Verizon(_) => self.sources = Sources::Listed(vec![rule]),
            Sources::Listed(rules) => rules.push(rule),
            Sources::Any => {}
        }
        Ok(self)
    }

    /// Allows exactly `sources` (addresses or CIDR blocks, as for
    /// [`CallbackVerifier::allow_source`]), replacing whatever was allowed. An empty list allows
    /// no source. All or nothing: on an error the verifier is unchanged.
    pub fn set_allowed_sources<I, S>(&mut self, sources: I) -> Result<&mut Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let rules = sources.into_iter().map(|s| parse_rule(s.as_ref())).collect::<Result<Vec<_>>>()?;
        self.sources = Sources::Listed(rules);
        Ok(self)
    }

    /// Allows every source address: for a listener behind a proxy that checks sources itself,
    /// or for tests. Later [`CallbackVerifier::allow_source`] calls change nothing.
    pub fn allow_any_source(&mut self) -> &mut Self {
        self.sources = Sources::Any;
        self
    }

    /// Whether `source` is allowed, without building an error: what a listener asks for each
    /// accepted connection, before it spends anything on it (a slot, a TLS handshake). An
    /// IPv4-mapped IPv6 address is checked as the IPv4 address, as in
    /// [`CallbackVerifier::check_source`].
    pub fn is_source_allowed(&self, source: IpAddr) -> bool {
        let source = source.to_canonical();
        match &self.sources {
            Sources::Any => true,
            Sources::Verizon(rules) | Sources::Listed(rules) => {
                rules.iter().any(|rule| rule.contains(&source))
            }
        }
    }

    /// Checks only the source address: a listener can call it before reading the body. An
    /// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports) is checked
    /// as the IPv4 address. Fails with [`codes::CALLBACK_REJECTED_SOURCE`].
    pub fn check_source(&self, source: IpAddr) -> Result<()> {
        let source = source.to_canonical();
        let rules = match &self.sources {
            Sources::Any => return Ok(()),
            Sources::Verizon(rules) | Sources::Listed(rules) => rules,
        };
        if rules.iter().any(|rule| rule.contains(&source)) {
            return Ok(());
        }
        let allowed = match &self.sources {
            Sources::Verizon(_) => "Verizon's documented callback addresses".to_owned(),
            _ if rules.is_empty() => "none".to_owned(),
            _ => rules.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", "),
        };
        Err(rejected(
            codes::CALLBACK_REJECTED_SOURCE,
            format!("{source} is not an allowed callback source (allowed: {allowed})"),
        ))
    }

    /// Checks only the username and password of a parsed message, in constant time. Fails with
    /// [`codes::CALLBACK_REJECTED_CREDENTIALS`]; the message says which of the two did not
    /// match, never what either is.
    pub fn check_credentials(&self, message: &CallbackMessage) -> Result<()> {
        self.check_credentials_at(message, Instant::now())
    }

    fn check_credentials_at(&self, message: &CallbackMessage, now: Instant) -> Result<()> {
        let refuse = |why: &str| Err(rejected(codes::CALLBACK_REJECTED_CREDENTIALS, why.to_owned()));
        if let Some(expected) = &self.username {
            if !bool::from(digest(message.username().unwrap_or("")).ct_eq(expected)) {
                return refuse("the callback's username is not the expected one");
            }
        }
        let Some(expected) = &self.password else { return Ok(()) };
        let received = digest(message.password().map_or("", Secret::expose));
        let current = received.ct_eq(expected);
        // Both comparisons always run, so the time taken does not say which password matched.
        let (previous, until) = match &self.previous_password {
            Some((digest, until)) => (received.ct_eq(digest), Some(*until)),
            None => (Choice::from(0), None),
        };
        let in_window = until.is_some_and(|until| now < until);
        if bool::from(current) || (bool::from(previous) && in_window) {
            Ok(())
        } else if bool::from(previous) {
            refuse("the callback's password is the previous one, whose window has ended")
        } else {
            refuse("the callback's password is not the expected one")
        }
    }

    /// Checks the source, then reads the body ([`CallbackMessage::parse`]), then checks the
    /// username and password: the first failure is the error, of kind `callback_rejected`
    /// (answer 403 or 401) or `callback_invalid` (400 or 413); see
    /// [`crate::callback_answer_status`]. No error message holds a password.
    pub fn verify(&self, source: IpAddr, body: &[u8]) -> Result<CallbackMessage> {
        self.check_source(source)?;
        let message = CallbackMessage::parse(body)?;
        self.check_credentials(&message)?;
        Ok(message)
    }

    /// [`CallbackVerifier::verify`] with the source given as text, as the C and Python bindings
    /// and many HTTP servers have it (`"203.0.113.9"`, `"::ffff:203.0.113.9"`). Text that is
    /// not an IP address is an error of kind `invalid_input` ([`codes::SOURCE_ADDRESS_MALFORMED`]).
    pub fn verify_from(&self, source: &str, body: &[u8]) -> Result<CallbackMessage> {
        self.verify(source_address(source)?, body)
    }

    /// [`CallbackVerifier::check_source`] with the source given as text, as for
    /// [`CallbackVerifier::verify_from`].
    pub fn check_source_from(&self, source: &str) -> Result<()> {
        self.check_source(source_address(source)?)
    }
}

impl fmt::Debug for CallbackVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "<redacted>" } else { "None" };
        let sources = match &self.sources {
            Sources::Verizon(_) => "Verizon".to_owned(),
            Sources::Any => "any".to_owned(),
            Sources::Listed(rules) => format!("{rules:?}"),
        };
        f.debug_struct("CallbackVerifier")
            .field("username", &format_args!("{}", set(self.username.is_some())))
            .field("password", &format_args!("{}", set(self.password.is_some())))
            .field("previous_password", &format_args!("{}", set(self.previous_password.is_some())))
            .field("sources", &format_args!("{sources}"))
            .finish()
    }
}

fn source_address(text: &str) -> Result<IpAddr> {
    text.trim().parse::<IpAddr>().map_err(|_| {
        Error::invalid(codes::SOURCE_ADDRESS_MALFORMED, "the callback's source is not an IP address")
    })
}

/// An allowed source: an address (a /32 or /128 block) or a CIDR block, with an IPv4-mapped
/// IPv6 block turned into its IPv4 form so that it matches what [`IpAddr::to_canonical`] gives.
fn parse_rule(text: &str) -> Result<IpNet> {
    let text = text.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => text.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
            Error::invalid(
                codes::SOURCE_ADDRESS_MALFORMED,
                format!("allowed source {text:?} is not an IP address or CIDR block"),
            )
        })?,
    };
    if let IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.addr().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            if let Ok(mapped) = ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96) {
                return Ok(IpNet::V4(mapped.trunc()));
            }
        }
    }
    Ok(net.trunc())
}

fn rejected(code: &'static str, message: String) -> Error {
    Error::CallbackRejected { code, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(password: &str) -> CallbackMessage {
        let body = format!(r#"{{"username":"u","password":"{password}","requestId":"r"}}"#);
        CallbackMessage::parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn previous_password_is_accepted_until_its_window_ends() {
        let mut v = CallbackVerifier::new();
        v.set_password("new-pw").set_previous_password("old-pw", Duration::from_secs(60));
        let now = Instant::now();
        assert!(v.check_credentials_at(&message("new-pw"), now).is_ok());
        assert!(v.check_credentials_at(&message("old-pw"), now).is_ok());
        let later = now + Duration::from_secs(61);
        let err = v.check_credentials_at(&message("old-pw"), later).unwrap_err();
        assert_eq!(err.error_code(), codes::CALLBACK_REJECTED_CREDENTIALS);
        assert!(err.error_message().contains("previous"));
        assert!(v.check_credentials_at(&message("new-pw"), later).is_ok());
        assert!(v.check_credentials_at(&message("other"), now).is_err());
    }

    #[test]
    fn is_source_allowed_agrees_with_check_source() {
        let mut listed = CallbackVerifier::new();
        listed.allow_source("10.20.0.0/16").unwrap();
        let mut any = CallbackVerifier::new();
        any.allow_any_source();
        let mut none = CallbackVerifier::new();
        none.set_allowed_sources(Vec::<&str>::new()).unwrap();
        for v in [CallbackVerifier::new(), listed, any, none] {
            for ip in [
                "10.20.3.4",
                "::ffff:10.20.3.4",
                "3.87.163.45",
                "::ffff:3.87.163.45",
                "192.0.2.1",
                "2001:db8::1",
            ] {
                let ip: IpAddr = ip.parse().unwrap();
                assert_eq!(v.is_source_allowed(ip), v.check_source(ip).is_ok(), "{v:?} {ip}");
            }
        }
        let mut listed = CallbackVerifier::new();
        listed.allow_source("10.20.0.0/16").unwrap();
        assert!(listed.is_source_allowed("::ffff:10.20.3.4".parse().unwrap()));
        assert!(!listed.is_source_allowed("3.87.163.45".parse().unwrap()));
        assert!(CallbackVerifier::new().is_source_allowed("3.87.163.45".parse().unwrap()));
    }

    #[test]
    fn mapped_rules_are_ipv4_rules() {
        assert_eq!(parse_rule("::ffff:192.0.2.0/120").unwrap(), "192.0.2.0/24".parse::<IpNet>().unwrap());
        assert_eq!(parse_rule("::ffff:192.0.2.7").unwrap(), "192.0.2.7/32".parse::<IpNet>().unwrap());
        assert_eq!(parse_rule(" 10.1.2.3/8 ").unwrap(), "10.0.0.0/8".parse::<IpNet>().unwrap());
        assert!(parse_rule("10.0.0.0/33").is_err());
        assert!(parse_rule("example.com").is_err());
        assert!(parse_rule("").is_err());
    }
}
