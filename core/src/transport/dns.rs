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
//! The configuration is the system's: `/etc/hosts` first (for both address families, so a name
//! there is never sent to a name server; `localhost` is answered without asking anyone), then
//! the name servers, search domains and options of `/etc/resolv.conf`, both re-read when they
//! change. Without a readable `/etc/resolv.conf` the name server is 127.0.0.1, as for the C
//! library. Other
//! sources that `nsswitch.conf` may name (LDAP, mDNS) are not consulted. The async client keeps
//! reqwest's default (the system's resolver on tokio's blocking pool), which async programs
//! expect and whose futures are dropped at the deadline all the same.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::op::Query;
use hickory_resolver::proto::rr::{Name, RecordType};
use hickory_resolver::{Hosts, TokioResolver};

const RESOLV_CONF: &str = "/etc/resolv.conf";
const HOSTS: &str = "/etc/hosts";

/// One per connection pool (so per runtime): the resolver's own tasks run on the runtime whose
/// call made the lookup, and are driven by that call.
pub(crate) struct ThreadFreeResolver {
    /// Asks only this name server (tests point it at one on loopback).
    name_server: Option<SocketAddr>,
    /// Built at the first lookup from the system's files, and again whenever they change (as the
    /// C library reloads them): a long-lived client follows a new network's name servers.
    built: Mutex<Option<Built>>,
}

#[derive(Clone)]
struct Built {
    resolver: TokioResolver,
    hosts: Arc<Hosts>,
    stamp: Stamp,
}

/// Which versions of the two files a resolver was built from: inode, size and modification time
/// of each (`None`: missing or unreadable).
#[derive(Clone, PartialEq, Eq)]
struct Stamp([Option<(u64, u64, SystemTime)>; 2]);

impl Stamp {
    fn now() -> Stamp {
        let of = |path: &str| {
            let meta = std::fs::metadata(path).ok()?;
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&meta);
            #[cfg(not(unix))]
            let inode = 0;
            Some((inode, meta.len(), meta.modified().ok()?))
        };
        Stamp([of(RESOLV_CONF), of(HOSTS)])
    }
}

impl ThreadFreeResolver {
    pub(crate) fn new(name_server: Option<SocketAddr>) -> ThreadFreeResolver {
        ThreadFreeResolver { name_server, built: Mutex::new(None) }
    }

    /// The resolver for the files as they are now (a `stat` of each: lookups happen only for new
    /// connections).
    fn current(&self) -> Result<Built, hickory_resolver::net::NetError> {
        let stamp = Stamp::now();
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = built.as_ref().filter(|b| b.stamp == stamp) {
            return Ok(current.clone());
        }
        let fresh = Built {
            resolver: self.build()?,
            hosts: Arc::new(Hosts::from_system().unwrap_or_default()),
            stamp,
        };
        *built = Some(fresh.clone());
        Ok(fresh)
    }

    fn build(&self) -> Result<TokioResolver, hickory_resolver::net::NetError> {
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
        builder.build()
    }
}

/// The addresses `/etc/hosts` gives `name`, IPv4 first, if it names it at all. Consulted before
/// any name server, for both families, as the C library's `files` source is: a name there is
/// never sent to DNS, neither for the family it lacks nor under a search domain.
fn from_hosts(hosts: &Hosts, name: &str) -> Option<Vec<IpAddr>> {
    let name = Name::from_str(name).ok()?;
    let mut addrs = Vec::new();
    for family in [RecordType::A, RecordType::AAAA] {
        if let Some(found) = hosts.lookup_static_host(&Query::query(name.clone(), family)) {
            addrs.extend(found.answers().iter().filter_map(|record| record.data.ip_addr()));
        }
    }
    (!addrs.is_empty()).then_some(addrs)
}

/// The addresses of `name`: from `/etc/hosts`, else from the name servers.
async fn lookup(built: Built, name: &str) -> Result<Vec<IpAddr>, hickory_resolver::net::NetError> {
    if let Some(addrs) = from_hosts(&built.hosts, name) {
        return Ok(addrs);
    }
    Ok(built.resolver.lookup_ip(name).await?.iter().collect())
}

/// The first address of `name`, looked up as [`ThreadFreeResolver`] does (with the system's
/// configuration); `None` when it has none or the lookup fails. For a one-off connection outside
/// reqwest; the caller bounds the time.
pub(crate) async fn lookup_first(name: &str) -> Option<IpAddr> {
    let built = ThreadFreeResolver::new(None).current().ok()?;
    lookup(built, name).await.ok()?.into_iter().next()
}

impl reqwest::dns::Resolve for ThreadFreeResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let built = self.current();
        Box::pin(async move {
            let addrs = lookup(built?, name.as_str()).await.map_err(|e| LookupError::new(&name, e))?;
            // Port 0: reqwest puts the URL's port in.
            let addrs: Vec<SocketAddr> = addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Hosts {
        let mut hosts = Hosts::default();
        hosts.read_hosts_conf(text.as_bytes()).unwrap();
        hosts
    }

    #[test]
    fn a_name_in_the_hosts_file_gets_its_addresses_of_both_families_ipv4_first() {
        let hosts = hosts("10.0.0.7 proxy.corp proxy\n::1 both.corp\n10.0.0.8 both.corp\n");
        let v4: IpAddr = "10.0.0.7".parse().unwrap();
        assert_eq!(from_hosts(&hosts, "proxy.corp"), Some(vec![v4]));
        assert_eq!(from_hosts(&hosts, "PROXY.Corp"), Some(vec![v4]));
        assert_eq!(from_hosts(&hosts, "proxy"), Some(vec![v4]));
        let both: Vec<IpAddr> = vec!["10.0.0.8".parse().unwrap(), "::1".parse().unwrap()];
        assert_eq!(from_hosts(&hosts, "both.corp"), Some(both));
        assert_eq!(from_hosts(&hosts, "elsewhere.corp"), None);
    }

    /// A name the hosts file has, for IPv4 only, while the name servers do not answer (a site
    /// without DNS): answered at once, with no question for the other family left waiting.
    #[test]
    fn the_hosts_file_answers_without_waiting_for_silent_name_servers() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let resolver = ThreadFreeResolver::new(Some(silent.local_addr().unwrap()));
        let built = Built {
            resolver: resolver.build().unwrap(),
            hosts: Arc::new(hosts("10.0.0.7 proxy.corp\n")),
            stamp: Stamp::now(),
        };
        let started = std::time::Instant::now();
        let addrs = runtime
            .block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(3), lookup(built, "proxy.corp")).await
            })
            .expect("answered from the hosts file, not after the name servers' timeout")
            .unwrap();
        assert_eq!(addrs, vec!["10.0.0.7".parse::<IpAddr>().unwrap()]);
        assert!(started.elapsed() < std::time::Duration::from_millis(500), "{:?}", started.elapsed());
        let mut buf = [0u8; 512];
        silent.set_nonblocking(true).unwrap();
        assert!(silent.recv_from(&mut buf).is_err(), "a question went to the name server");
    }
}
