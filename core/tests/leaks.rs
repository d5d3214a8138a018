//! A property: whatever a server answers, no secret that the client holds (or that an answer has
//! just handed it) shows in an error's `Display`, `Debug` or `to_json`, in its raw, JSON-escaped
//! or `\uXXXX`-escaped form, in either case, as base64, nor any start of it eight characters or
//! longer.
//!
//! Each case signs in with random credentials against a simulator whose token and login answers
//! are injected (so the bearer and session tokens are random too), then makes one endpoint answer
//! a random body that echoes the secrets of that request in a random form (escaped, cut short,
//! upper- or lower-cased, base64): the three error shapes, HTML, truncated JSON, and 2xx garbage
//! that carries a fresh token.

mod common;

use std::time::Duration;

use proptest::prelude::*;
use tscb::{CallbackRegistration, Client, Error, RetryPolicy};
use tscb_sim::{Fault, FaultAction, Simulator};

const CLIENT_ID: &str = "tscb-prop-id";

/// The endpoint that answers with the echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Token,
    Login,
    Register,
    List,
    Deregister,
    Logout,
}

#[derive(Debug, Clone)]
struct Case {
    client_secret: String,
    login_password: String,
    callback_password: String,
    bearer: String,
    session: String,
    /// A token in a 2xx answer that the client does not take (the answer is garbage).
    fresh: String,
    endpoint: Endpoint,
    shape: usize,
    status: u16,
    /// How each echoed secret is escaped (see `escape`), one per secret.
    forms: Vec<usize>,
    /// Where an echo cut short is cut (see `escape`), one per secret.
    cuts: Vec<usize>,
}

/// Visible ASCII, as a token must be, with quotes, backslashes and slashes more often.
fn token() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        4 => proptest::char::range('!', '~'),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('/'),
    ];
    proptest::collection::vec(c, 8..24).prop_map(|v| v.into_iter().collect())
}

/// Any text without control characters, as passwords and the client secret may be.
fn text(max: usize) -> impl Strategy<Value = String> {
    let c = prop_oneof![
        3 => proptest::char::range(' ', '~'),
        1 => Just('"'),
        1 => Just('\\'),
        2 => any::<char>().prop_filter("no control characters", |c| !c.is_control()),
    ];
    proptest::collection::vec(c, 8..max).prop_map(|v| v.into_iter().collect())
}

fn case() -> impl Strategy<Value = Case> {
    let endpoint = prop_oneof![
        Just(Endpoint::Token),
        Just(Endpoint::Login),
        Just(Endpoint::Register),
        Just(Endpoint::List),
        Just(Endpoint::Deregister),
        Just(Endpoint::Logout),
    ];
    let status = proptest::sample::select(vec![200u16, 400, 401, 403, 404, 500, 502, 503]);
    (
        (text(30), text(30), text(40), token(), token(), token()),
        (
            endpoint,
            0..SHAPES,
            status,
            proptest::collection::vec(0..FORMS, 6),
            proptest::collection::vec(0..64usize, 6),
        ),
    )
        .prop_map(
            |(
                (client_secret, login_password, callback_password, bearer, session, fresh),
                (endpoint, shape, status, forms, cuts),
            )| Case {
                client_secret,
                login_password,
                callback_password,
                bearer,
                session,
                fresh,
                endpoint,
                shape,
                status,
                forms,
                cuts,
            },
        )
}

/// JSON's own escaping (quote, backslash, control characters), as serde_json writes it.
fn json(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

/// Every character as `\uXXXX` (surrogate pairs beyond the BMP).
fn u_escaped(s: &str, upper: bool) -> String {
    let mut out = String::new();
    for unit in s.encode_utf16() {
        out.push_str(&if upper { format!("\\u{unit:04X}") } else { format!("\\u{unit:04x}") });
    }
    out
}

/// JSON as some servers write it: `/` escaped too, everything beyond ASCII as `\uXXXX`.
fn json_ascii(s: &str) -> String {
    let mut out = String::new();
    for c in json(s).chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&u_escaped(&c.to_string(), false)),
        }
    }
    out
}

const FORMS: usize = 16;

/// The secret as a server might echo it; `cut` chooses where an echo cut short ends (after eight
/// characters or more).
fn escape(s: &str, form: usize, cut: usize) -> String {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let chars = s.chars().count();
    let start: String = s.chars().take(8 + cut % (chars - 7)).collect();
    match form {
        0 => s.to_owned(),
        1 => json(s),
        2 => json_ascii(s),
        3 => u_escaped(s, false),
        4 => u_escaped(s, true),
        // Quoted inside a string that was then put into JSON again (a message quoting a body).
        5 => json(&json(s)),
        // Cut short, as a log line or a message that quotes only the start does.
        6 => format!("{start}…"),
        7 => format!("{}...", json(&start)),
        8 => s.to_uppercase(),
        9 => s.to_lowercase(),
        10 => json(&s.to_uppercase()),
        11 => STANDARD.encode(s),
        12 => STANDARD_NO_PAD.encode(s),
        13 => URL_SAFE.encode(s),
        14 => URL_SAFE_NO_PAD.encode(s),
        // Mixed: every other character \u-escaped.
        _ => s
            .chars()
            .enumerate()
            .map(|(i, c)| if i % 2 == 0 { json(&c.to_string()) } else { u_escaped(&c.to_string(), false) })
            .collect(),
    }
}

/// The forms that must never be shown, compared case-insensitively: the whole secret and its
/// first eight characters, each as it is and escaped, and its base64.
fn forbidden(s: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let start: String = s.chars().take(8).collect();
    let mut forms = Vec::new();
    for s in [s, start.as_str()] {
        forms.extend([s.to_owned(), json(s), json_ascii(s), u_escaped(s, false)]);
    }
    forms.extend([STANDARD_NO_PAD.encode(s), URL_SAFE_NO_PAD.encode(s)]);
    forms.into_iter().map(|f| f.to_lowercase()).collect()
}

const SHAPES: usize = 11;

fn body(case: &Case, echo: &str) -> (u16, String) {
    let fresh = json(&case.fresh);
    let status = case.status;
    match case.shape {
        0 => (status, format!(r#"{{"errorCode":"X.REQUEST_FAILED.Echo","errorMessage":"{echo}"}}"#)),
        1 => (status, format!(r#"{{"errorCode":"{echo}","errorMessage":"m"}}"#)),
        2 => (
            status,
            format!(
                r#"{{"fault":{{"code":900901,"message":"Invalid Credentials","description":"{echo}"}}}}"#
            ),
        ),
        3 => (status, format!(r#"{{"fault":{{"message":"{echo}","description":"{echo}"}}}}"#)),
        4 => (status, format!(r#"{{"error":"invalid_request","error_description":"{echo}"}}"#)),
        5 => (status, format!(r#"{{"error":"{echo}"}}"#)),
        6 => (status, format!("<html><body><h1>Error</h1><pre>{echo}</pre></body></html>")),
        7 => (status, format!(r#"{{"errorCode":"X.REQUEST_FAILED.Echo","errorMessage":"{echo}"#)),
        // 2xx garbage: trailing bytes, a BOM, a wrong type.
        shape => {
            let good = match case.endpoint {
                Endpoint::Token => {
                    format!(
                        r#"{{"access_token":"{fresh}","refresh_token":"{fresh}","note":"{echo}","expires_in":3600}}"#
                    )
                }
                Endpoint::Login => format!(r#"{{"sessionToken":"{fresh}","note":"{echo}"}}"#),
                Endpoint::List => format!(
                    r#"[{{"accountName":"A","serviceName":"S","url":"{echo}","password":"{fresh}"}}]"#
                ),
                _ => format!(r#"{{"accountName":"{echo}","serviceName":"CarrierService"}}"#),
            };
            let body = match shape {
                8 => format!("{good}x"),
                9 => format!("\u{feff}{good}"),
                _ => format!("[{good}]"),
            };
            (200, body)
        }
    }
}

fn respond(status: u16, body: String) -> FaultAction {
    FaultAction::Respond {
        status,
        content_type: Some("application/json".into()),
        body: body.into_bytes(),
        headers: Vec::new(),
    }
}

fn basic(case: &Case) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{}", case.client_secret))
}

/// Runs the case; returns the error (if the call failed) and every secret that must not show.
fn run(case: &Case) -> (Option<Error>, Vec<String>) {
    let sim = Simulator::start().unwrap();
    let long_lived = [case.client_secret.clone(), case.login_password.clone()];
    let mut held: Vec<String> = long_lived.to_vec();
    match case.endpoint {
        Endpoint::Token => held.push(basic(case)),
        Endpoint::Login => held.push(case.bearer.clone()),
        Endpoint::Register => {
            held.extend([case.bearer.clone(), case.session.clone(), case.callback_password.clone()])
        }
        _ => held.extend([case.bearer.clone(), case.session.clone()]),
    }
    let echo: Vec<String> = held
        .iter()
        .zip(case.forms.iter().zip(&case.cuts))
        .map(|(secret, (&form, &cut))| format!("secret={}", escape(secret, form, cut)))
        .collect();
    let (status, body) = body(case, &echo.join(" "));
    let (method, path) = match case.endpoint {
        Endpoint::Token => ("POST", "/oauth2/token"),
        Endpoint::Login => ("POST", "/session/login"),
        Endpoint::Register => ("POST", "/callbacks/"),
        Endpoint::List => ("GET", "/callbacks/"),
        Endpoint::Deregister => ("DELETE", "/callbacks/"),
        Endpoint::Logout => ("POST", "/session/logout"),
    };
    if case.endpoint == Endpoint::Logout {
        // Signed in first, so that logout has a session to end.
        sim.inject(
            Fault::new(respond(200, format!(r#"{{"sessionToken":"{}"}}"#, json(&case.session))))
                .path_contains("/session/login")
                .times(1),
        );
    }
    sim.inject(Fault::new(respond(status, body)).method(method).path_contains(path));
    sim.inject(
        Fault::new(respond(200, format!(r#"{{"access_token":"{}","expires_in":3600}}"#, json(&case.bearer))))
            .path_contains("/oauth2/token"),
    );
    sim.inject(
        Fault::new(respond(200, format!(r#"{{"sessionToken":"{}"}}"#, json(&case.session))))
            .path_contains("/session/login"),
    );
    let client = Client::builder()
        .base_url(sim.base_url())
        .credentials(CLIENT_ID, case.client_secret.as_str(), "tscb-prop-user", case.login_password.as_str())
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let account = common::ACCOUNT;
    let outcome = match case.endpoint {
        Endpoint::Token | Endpoint::Login => client.login().err(),
        Endpoint::Register => {
            let reg = CallbackRegistration::new("CarrierService", common::LISTENER)
                .unwrap()
                .with_password(case.callback_password.as_str())
                .unwrap();
            client.register_callback(account, &reg).err()
        }
        Endpoint::List => client.list_callbacks(account).err(),
        Endpoint::Deregister => client.deregister_callback(account, "CarrierService").err(),
        Endpoint::Logout => {
            client.login().unwrap();
            client.logout().err()
        }
    };
    let mut secrets = held;
    secrets.push(case.fresh.clone());
    if case.endpoint == Endpoint::Login {
        secrets.push(case.session.clone());
    }
    (outcome, secrets)
}

fn shown(error: &Error) -> Vec<String> {
    let mut texts = vec![error.to_string(), format!("{error:?}"), error.to_json()];
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        texts.push(format!("{s} {s:?}"));
        source = s.source();
    }
    texts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_echoed_secret_is_ever_shown(case in case()) {
        let (error, secrets) = run(&case);
        if let Some(error) = error {
            prop_assert!(!error.error_code().trim().is_empty(), "an empty code: {error:?}");
            for text in shown(&error) {
                let text = text.to_lowercase();
                for secret in &secrets {
                    for form in forbidden(secret) {
                        prop_assert!(!text.contains(&form), "{form:?} shown in {text} for {case:?}");
                    }
                }
            }
        }
    }
}
