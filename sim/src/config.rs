//! The simulator's fixed test credentials, timing and limits.

use std::fmt;
use std::time::Duration;

/// The OAuth client id the simulator accepts by default ([`SimConfig::client_id`]).
pub const SIM_CLIENT_ID: &str = "sim-client-id";
/// The OAuth client secret it accepts by default.
pub const SIM_CLIENT_SECRET: &str = "sim-client-secret";
/// The session login's username it accepts by default.
pub const SIM_USERNAME: &str = "sim-user";
/// The session login's password it accepts by default.
pub const SIM_PASSWORD: &str = "sim-password";
/// Its pre-issued bearer token by default.
pub const SIM_BEARER_TOKEN: &str = "sim-bearer-token";
/// Its pre-made session token by default.
pub const SIM_SESSION_TOKEN: &str = "sim-session-token";

/// Credentials, accounts, timeouts and limits a [`Simulator`](crate::Simulator) starts with.
///
/// Every field has a fixed test value (see [`SimConfig::default`]) so that tests in any language
/// can hard-code them. `Debug` prints `<redacted>` in place of the secret and the tokens.
#[derive(Clone)]
pub struct SimConfig {
    /// OAuth client id accepted by the token endpoint. Default [`SIM_CLIENT_ID`].
    pub client_id: String,
    /// OAuth client secret accepted by the token endpoint. Default [`SIM_CLIENT_SECRET`].
    pub client_secret: String,
    /// Connectivity-management login name for `session/login`. Default [`SIM_USERNAME`].
    pub username: String,
    /// Connectivity-management password for `session/login`. Default [`SIM_PASSWORD`].
    pub password: String,
    /// A pre-issued bearer token that never expires, like the test token of ThingSpace's own
    /// simulator. Default [`SIM_BEARER_TOKEN`].
    pub bearer_token: String,
    /// A pre-made session token, valid from start-up and subject to idle expiry like any other
    /// session. Default [`SIM_SESSION_TOKEN`].
    pub session_token: String,
    /// How long a session may go unused before it answers `SessionToken.Expired`.
    /// Default 20 minutes, as documented for ThingSpace.
    pub session_idle_timeout: Duration,
    /// Lifetime of the tokens the token endpoint issues. Default one hour, as documented.
    pub token_lifetime: Duration,
    /// Billing accounts that exist from start-up.
    /// Default `["TestAccount-1", "TestAccount-2", "0000123456-00001"]`.
    pub accounts: Vec<String>,
    /// Whether [`Simulator::start_with`](crate::Simulator::start_with) may listen on an address
    /// that is not loopback. When it does, the admin endpoints require
    /// [`Simulator::admin_token`](crate::Simulator::admin_token). Default `false`: a simulator
    /// accepts fixed, published credentials and records what it receives, so reaching it from
    /// other machines must be a deliberate choice.
    pub allow_remote: bool,
    /// How many requests the log keeps; older ones are forgotten first. Default 10 000.
    pub max_recorded_requests: usize,
    /// How many body bytes the log keeps in all; older requests are forgotten first.
    /// Default 64 MiB.
    pub max_recorded_body_bytes: usize,
    /// How many sessions may exist at once; a login beyond it answers
    /// `Simulator.LIMIT.Sessions` (expired and idle sessions are dropped first). Default 10 000.
    pub max_sessions: usize,
    /// How many callback registrations may exist at once, over all accounts; a new one beyond it
    /// answers `Simulator.LIMIT.Registrations`. Default 10 000.
    pub max_registrations: usize,
    /// How many connections may be open at once; one more is answered 503 and closed.
    /// Default 256.
    pub max_connections: usize,
    /// How long a connection may stay silent between requests before it is closed. Default 30 s.
    pub idle_timeout: Duration,
    /// How long a request may take to arrive in full, from its first byte; a slower one is
    /// answered 408 and the connection closed. Default 10 s.
    pub request_timeout: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            client_id: SIM_CLIENT_ID.to_owned(),
            client_secret: SIM_CLIENT_SECRET.to_owned(),
            username: SIM_USERNAME.to_owned(),
            password: SIM_PASSWORD.to_owned(),
            bearer_token: SIM_BEARER_TOKEN.to_owned(),
            session_token: SIM_SESSION_TOKEN.to_owned(),
            session_idle_timeout: Duration::from_secs(20 * 60),
            token_lifetime: Duration::from_secs(3600),
            accounts: vec![
                "TestAccount-1".to_owned(),
                "TestAccount-2".to_owned(),
                "0000123456-00001".to_owned(),
            ],
            allow_remote: false,
            max_recorded_requests: 10_000,
            max_recorded_body_bytes: 64 << 20,
            max_sessions: 10_000,
            max_registrations: 10_000,
            max_connections: 256,
            idle_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const REDACTED: &str = "<redacted>";
        f.debug_struct("SimConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &REDACTED)
            .field("username", &self.username)
            .field("password", &REDACTED)
            .field("bearer_token", &REDACTED)
            .field("session_token", &REDACTED)
            .field("session_idle_timeout", &self.session_idle_timeout)
            .field("token_lifetime", &self.token_lifetime)
            .field("accounts", &self.accounts)
            .field("allow_remote", &self.allow_remote)
            .field("max_recorded_requests", &self.max_recorded_requests)
            .field("max_recorded_body_bytes", &self.max_recorded_body_bytes)
            .field("max_sessions", &self.max_sessions)
            .field("max_registrations", &self.max_registrations)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let text = format!("{:?}", SimConfig::default());
        for secret in [SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_BEARER_TOKEN, SIM_SESSION_TOKEN] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        assert!(text.contains(SIM_CLIENT_ID));
        assert!(text.contains("<redacted>"));
    }
}
