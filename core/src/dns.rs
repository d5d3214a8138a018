//! Looking host names up for the blocking client without a thread, and within the call's
//! deadline.
//!
//! The system's resolver (`getaddrinfo`) blocks its thread until it is done, up to its own
//! timeouts times its attempts times the name servers (tens of seconds when the name servers do
//! not answer), and nothing can cut it short. reqwest's default runs it on a thread of tokio's
//! blocking pool, which the blocking client must not start (C and Python hosts do not expect a
//! library's threads), and on the caller's thread it would outlast the call timeout. So the
//! blocking client asks the name servers itself, with hickory's DNS stub resolver, as a future
//! on the runtime of the call that needs the address: no thread, and dropped with the call when
//! its deadline passes.
//!
//! The configuration is the system's: the name servers, search domains and options of
//! `/etc/resolv.conf`, and `/etc/hosts` (`localhost` is answered without asking anyone). Without
//! a readable `/etc/resolv.conf` the name server is 127.0.0.1, as for the C library. Other
//! sources that `nsswitch.conf` may name (LDAP, mDNS) are not consulted. The async client keeps
//! reqwest's default (the system's resolver on tokio's blocking pool), which async programs
//! expect and whose futures are dropped at the deadline all the same.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::OnceLock;

use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;

/// One per connection pool (so per runtime): the resolver's own tasks run on the runtime whose
/// call made the lookup, and are driven by that call.
pub(crate) struct ThreadFreeResolver {
    /// Asks only this name server (tests point it at one on loopback).
    name_server: Option<SocketAddr>,
    /// Built on the first lookup, which reads the system's configuration.
    resolver: OnceLock<TokioResolver>,
}

impl ThreadFreeResolver {
    pub(crate) fn new(name_server: Option<SocketAddr>) -> ThreadFreeResolver {
        ThreadFreeResolver { name_server, resolver: OnceLock::new() }
    }

    fn resolver(&self) -> Result<TokioResolver, hickory_resolver::net::NetError> {
        if let Some(resolver) = self.resolver.get() {
            return Ok(resolver.clone());
        }
        let provider = TokioRuntimeProvider::default();
        let mut builder = match self.name_server {
            Some(server) => {
                let mut config = NameServerConfig::udp(server.ip());
                for connection in &mut config.connections {
                    connection.port = server.port();
                }
                TokioResolver::builder_with_config(ResolverConfig::from_name_servers(vec![config]), provider)
            }
            None => TokioResolver::builder_tokio().unwrap_or_else(|_| {
                // No readable /etc/resolv.conf: the C library's default.
                let local = NameServerConfig::udp_and_tcp(IpAddr::V4(Ipv4Addr::LOCALHOST));
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![local]),
                    TokioRuntimeProvider::default(),
                )
            }),
        };
        // Both families, IPv4 first; hyper tries the next address when one fails to connect.
        builder.options_mut().ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        let resolver = builder.build()?;
        Ok(self.resolver.get_or_init(|| resolver).clone())
    }
}

/// The first address of `name`, looked up as [`ThreadFreeResolver`] does (with the system's
/// configuration); `None` when it has none or the lookup fails. For a one-off connection outside
/// reqwest; the caller bounds the time.
pub(crate) async fn lookup_first(name: &str) -> Option<IpAddr> {
    let resolver = ThreadFreeResolver::new(None).resolver().ok()?;
    resolver.lookup_ip(name).await.ok()?.iter().next()
}

impl reqwest::dns::Resolve for ThreadFreeResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.resolver();
        Box::pin(async move {
            let lookup = resolver?.lookup_ip(name.as_str()).await.map_err(|e| LookupError::new(&name, e))?;
            // Port 0: reqwest puts the URL's port in.
            let addrs: Vec<SocketAddr> = lookup.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A failed lookup, in words a user can act on (hickory's own name the query's internals).
#[derive(Debug)]
struct LookupError(String);

impl LookupError {
    fn new(name: &reqwest::dns::Name, e: hickory_resolver::net::NetError) -> LookupError {
        let name = name.as_str();
        LookupError(if e.is_nx_domain() {
            format!("could not look up {name}: no such host")
        } else if e.is_no_records_found() {
            format!("could not look up {name}: the name servers have no address for it")
        } else if matches!(e, hickory_resolver::net::NetError::Timeout) {
            format!("could not look up {name}: the name servers did not answer")
        } else {
            format!("could not look up {name}: {e}")
        })
    }
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LookupError {}
