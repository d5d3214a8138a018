//! Which proxy, if any, the client goes through, and what a proxy's refusal means.
//!
//! A client only ever talks to one host (its base URL; redirects are not followed), so the
//! choice is made once, when the client is built, rather than per request: that lets an error
//! name the proxy (without its credentials) and lets a bad proxy URL fail `build()`.
//!
//! From the environment, as curl does for an `https` URL: `https_proxy` / `HTTPS_PROXY`, else
//! `all_proxy` / `ALL_PROXY`; `no_proxy` / `NO_PROXY` lists hosts (`*`, names that also match
//! their subdomains, IP addresses and CIDR ranges) to reach directly. An explicit setting
//! ([`ProxySetting::Url`] or [`ProxySetting::Off`]) wins over the environment. Plain `http` never
//! takes a proxy from the environment, and plain `http` to loopback (the simulator) never goes
//! through a proxy at all.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::codes;
use crate::config::ProxySetting;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::validate::is_loopback;

impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::Environment => f.write_str("Environment"),
            ProxySetting::Off => f.write_str("Off"),
            ProxySetting::Url(url) => {
                let shown = parse(url.expose()).map(|u| shown(&u)).unwrap_or_else(|| "<unparsed>".to_owned());
                f.debug_tuple("Url").field(&shown).finish()
            }
        }
    }
}

/// The proxy a client goes through.
pub(crate) struct Proxy {
    /// For reqwest, credentials included (sent as `Proxy-Authorization`).
    pub(crate) url: Url,
    /// For messages: scheme, host and port only.
    pub(crate) shown: String,
    pub(crate) has_credentials: bool,
    /// The user name and password, to keep out of messages.
    pub(crate) secrets: Vec<Secret>,
}

/// `http://host:3128` and, as curl allows, `host:3128` (meaning `http`).
fn parse(text: &str) -> Option<Url> {
    let text = text.trim();
    let url = if text.contains("://") { Url::parse(text) } else { Url::parse(&format!("http://{text}")) };
    url.ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
}

fn shown(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

fn env(names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|name| match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Some((*name, value)),
        _ => None,
    })
}

/// The proxy for requests to `base`, or `None` to connect directly.
pub(crate) fn resolve(setting: &ProxySetting, base: &Url) -> Result<Option<Proxy>> {
    if base.scheme() == "http" && is_loopback(base) {
        return Ok(None);
    }
    let (source, text) = match setting {
        ProxySetting::Off => return Ok(None),
        ProxySetting::Url(url) if url.expose().trim().is_empty() => return Ok(None),
        ProxySetting::Url(url) => ("the proxy setting", url.expose().to_owned()),
        // A plain-text request must not be handed to a proxy from the environment.
        ProxySetting::Environment if base.scheme() != "https" => return Ok(None),
        ProxySetting::Environment => {
            let Some((name, value)) = env(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]) else {
                return Ok(None);
            };
            let no_proxy =
                std::env::var("no_proxy").or_else(|_| std::env::var("NO_PROXY")).unwrap_or_default();
            if base.host().is_some_and(|host| no_proxy_matches(&no_proxy, &host)) {
                return Ok(None);
            }
            (name, value)
        }
    };
    let url = parse(&text).ok_or_else(|| {
            // Never the URL itself: it may carry a password.
            Error::invalid(
                codes::PROXY_INVALID,
                format!("the proxy URL from {source} is not an http:// or https:// URL with a host (socks proxies are not supported)"),
            )
        })?;
    let secrets = [url.username(), url.password().unwrap_or_default()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .flat_map(|s| {
            // Both forms: as written in the URL and as decoded.
            let decoded = percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            [Secret::new(s), Secret::new(decoded)]
        })
        .collect::<Vec<_>>();
    Ok(Some(Proxy { shown: shown(&url), has_credentials: !secrets.is_empty(), secrets, url }))
}

/// Whether `host` is in a curl-style `NO_PROXY` list.
fn no_proxy_matches(list: &str, host: &url::Host<&str>) -> bool {
    let ip: Option<IpAddr> = match host {
        url::Host::Ipv4(ip) => Some((*ip).into()),
        url::Host::Ipv6(ip) => Some((*ip).into()),
        url::Host::Domain(_) => None,
    };
    let name = match host {
        url::Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        _ => String::new(),
    };
    list.split([',', ' ', '\t']).map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches('.').trim_start_matches('[').trim_end_matches(']');
        if let Some(ip) = ip {
            return match entry.split_once('/') {
                Some((net, bits)) => match (net.parse::<IpAddr>(), bits.parse::<u32>()) {
                    (Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
                    _ => false,
                },
                None => entry.parse::<IpAddr>().is_ok_and(|e| e == ip),
            };
        }
        let entry = entry.trim_end_matches('.').to_ascii_lowercase();
        name == entry || name.strip_suffix(&entry).is_some_and(|rest| rest.ends_with('.'))
    })
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Why a request through `proxy` failed, in words, when the failure was the proxy's; `chain`
/// is the error's text (hyper does not export its tunnel error type, so its words are matched).
/// `time_left` is what is left of the call: asking a refusing proxy for its status takes at most
/// half of that, and never more than 2 s.
pub(crate) async fn describe_failure(
    proxy: &Proxy,
    target: &str,
    chain: &str,
    time_left: Duration,
) -> String {
    let via = &proxy.shown;
    if chain.contains("proxy authorization required") {
        let advice = if proxy.has_credentials {
            "it refused the user name and password in the proxy URL"
        } else {
            "give them in the proxy URL (http://user:password@host:port)"
        };
        format!("the proxy {via} asked for credentials (HTTP 407 Proxy Authentication Required); {advice}")
    } else if chain.contains("tunnel error: unsuccessful") {
        let wait = PROBE_WAIT.min(time_left / 2);
        match tokio::time::timeout(wait, refusal_status(proxy, target)).await.ok().flatten() {
            Some(status) => format!(
                "the proxy {via} refused to open a tunnel to {target} (its answer to CONNECT: HTTP {status})"
            ),
            None => format!(
                "the proxy {via} refused to open a tunnel to {target} (its answer to CONNECT was an \
                 error status, not 200)"
            ),
        }
    } else if chain.contains("tunnel error: unexpected end of file") {
        format!("the proxy {via} closed the connection instead of answering CONNECT for {target}")
    } else {
        format!("could not connect to the proxy {via}: {chain}")
    }
}

/// How long asking a refusing proxy for its status may take in all.
const PROBE_WAIT: Duration = Duration::from_secs(2);

/// The status line of a proxy's refusal to open a tunnel to `target` (e.g. `403 Forbidden`),
/// asked for again on a connection of our own, because hyper's tunnel error does not keep it.
/// Sends only what the refused CONNECT sent (the target, and the proxy's own credentials when
/// its URL has them), and only to a plain-http proxy; `None` when it cannot tell or the proxy
/// now says 200 (the tunnel is then closed unused). Async, on the call's runtime, with the host
/// name looked up as the blocking client does ([`crate::transport::dns`]): no thread is blocked, and the
/// caller bounds the whole of it.
async fn refusal_status(proxy: &Proxy, target: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if proxy.url.scheme() != "http" {
        return None;
    }
    let ip = match proxy.url.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(name) => crate::transport::dns::lookup_first(name).await?,
    };
    let mut stream = tokio::net::TcpStream::connect((ip, proxy.url.port_or_known_default()?)).await.ok()?;
    let mut request = zeroize::Zeroizing::new(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"));
    if proxy.has_credentials {
        let user = percent_encoding::percent_decode_str(proxy.url.username()).decode_utf8_lossy();
        let password = percent_encoding::percent_decode_str(proxy.url.password().unwrap_or_default())
            .decode_utf8_lossy();
        let basic = crate::secret::basic_credentials(&user, &password);
        request.push_str("Proxy-Authorization: Basic ");
        request.push_str(&basic);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    while !answer.windows(2).any(|w| w == b"\r\n") && answer.len() < 1024 {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    let line = String::from_utf8_lossy(&answer);
    let line = line.split("\r\n").next()?;
    let status = line.strip_prefix("HTTP/1.")?.get(2..)?.trim();
    let code: u16 = status.get(..3)?.parse().ok()?;
    if (200..300).contains(&code) {
        return None;
    }
    // A proxy's words: printable only, and short.
    Some(status.chars().take(80).map(|c| if c.is_control() { ' ' } else { c }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(text: &str) -> url::Host<String> {
        url::Host::parse(text).unwrap()
    }

    fn matches(list: &str, h: &str) -> bool {
        let h = host(h);
        let h = match &h {
            url::Host::Domain(d) => url::Host::Domain(d.as_str()),
            url::Host::Ipv4(ip) => url::Host::Ipv4(*ip),
            url::Host::Ipv6(ip) => url::Host::Ipv6(*ip),
        };
        no_proxy_matches(list, &h)
    }

    #[test]
    fn no_proxy_follows_curl() {
        assert!(matches("*", "thingspace.verizon.com"));
        assert!(matches("verizon.com", "thingspace.verizon.com"));
        assert!(matches(".verizon.com", "thingspace.verizon.com"));
        assert!(matches("example.org, verizon.com", "verizon.com"));
        assert!(!matches("izon.com", "thingspace.verizon.com"));
        assert!(!matches("", "thingspace.verizon.com"));
        assert!(matches("127.0.0.1", "127.0.0.1"));
        assert!(matches("127.0.0.0/8", "127.0.0.2"));
        assert!(!matches("10.0.0.0/8", "127.0.0.2"));
        assert!(matches("::1", "[::1]"));
        assert!(!matches("localhost", "127.0.0.1"));
    }

    #[test]
    fn proxy_urls_parse_as_curl_reads_them_and_never_show_credentials() {
        let base = Url::parse("https://thingspace.verizon.com/api").unwrap();
        let p = resolve(&ProxySetting::Url(Secret::new("http://alice:s3cret-pw@proxy.corp:3128")), &base)
            .unwrap()
            .unwrap();
        assert_eq!(p.shown, "http://proxy.corp:3128");
        assert!(p.has_credentials);
        let p = resolve(&ProxySetting::Url(Secret::new("proxy.corp:8080")), &base).unwrap().unwrap();
        assert_eq!(p.shown, "http://proxy.corp:8080");
        let setting = ProxySetting::Url(Secret::new("socks5://bob:hunter2@proxy:1080"));
        let e = resolve(&setting, &base).err().unwrap();
        assert_eq!(e.error_code(), codes::PROXY_INVALID);
        assert!(!e.to_string().contains("hunter2") && !e.to_string().contains("bob"), "{e}");
        let debug = format!("{:?}", ProxySetting::Url(Secret::new("http://alice:s3cret-pw@proxy.corp:3128")));
        assert!(!debug.contains("s3cret") && !debug.contains("alice"), "{debug}");
        assert!(resolve(&ProxySetting::Url(Secret::new("")), &base).unwrap().is_none());
        let loopback = Url::parse("http://127.0.0.1:9000/api").unwrap();
        assert!(resolve(&ProxySetting::Url(Secret::new("http://proxy:3128")), &loopback).unwrap().is_none());
    }
}
