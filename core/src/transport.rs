//! Getting bytes to ThingSpace and back: TLS, the proxy, host name lookups, the HTTP client's
//! recipe and [`send`] (one request with its deadline, body limit, redirect refusal and retries).
//! Nothing here knows the API's calls or tokens: a request arrives with its headers and the
//! secrets to keep out of errors (a [`crate::secret::Redactor`]).

pub(crate) mod dns;
pub(crate) mod http;
pub(crate) mod proxy;
pub(crate) mod send;
pub(crate) mod tls;
