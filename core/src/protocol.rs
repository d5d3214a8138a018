//! The API's requests and answers as values, with no I/O: what each call sends (method, path,
//! body) and how each answer is read ([`decode`]). Decoding and error mapping are tested from
//! bytes, without a client or a server.

pub(crate) mod decode;
