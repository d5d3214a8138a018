//! The recipe of the reqwest client that sends every request: TLS, fixed headers, timeouts,
//! redirects refused, the proxy and the resolver. The blocking client builds one pool from it for
//! each runtime it drives; the async client builds one.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::error::{setup_error, Result};
use crate::transport::dns::ThreadFreeResolver;
use crate::transport::proxy::Proxy;

/// What it takes to build one more reqwest client (its own connection pool) like the first: the
/// blocking client builds one for each runtime it drives, since a connection belongs to the
/// runtime whose I/O driver opened it.
pub(crate) struct HttpRecipe {
    pub(crate) tls: rustls::ClientConfig,
    pub(crate) headers: HeaderMap,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) lookups: Lookups,
    pub(crate) name_server: Option<std::net::SocketAddr>,
}

/// How host names are looked up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Lookups {
    /// As futures on the call's own runtime, with no thread (for the blocking client, which
    /// must start none; see [`crate::transport::dns`]).
    CallerThread,
    /// On tokio's blocking pool, as reqwest does by default (the async client).
    BlockingPool,
}

impl HttpRecipe {
    pub(crate) fn build(&self, proxy: Option<&Proxy>) -> Result<reqwest::Client> {
        let mut http = reqwest::Client::builder()
            .tls_backend_preconfigured(self.tls.clone())
            // Never follow a redirect: it would carry both tokens to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .tcp_nodelay(true)
            .default_headers(self.headers.clone());
        if self.lookups == Lookups::CallerThread {
            http = http.dns_resolver(Arc::new(ThreadFreeResolver::new(self.name_server)));
        }
        // The proxy was chosen when the client was built (environment included); reqwest must
        // not choose again.
        http = match proxy {
            Some(p) => {
                http.proxy(reqwest::Proxy::all(p.url.as_str()).map_err(|e| setup_error("the proxy", e))?)
            }
            None => http.no_proxy(),
        };
        http.build().map_err(|e| setup_error("the HTTP client", e))
    }
}
