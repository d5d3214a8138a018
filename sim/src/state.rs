//! Everything the simulator remembers: tokens, sessions, accounts, registrations, the request
//! log and the faults in force. One `Mutex` guards it all; nobody holds it across socket I/O.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use crate::config::SimConfig;
use crate::fault::FaultList;
use crate::random;
use crate::record::RequestLog;

/// One callback listener registration, as stored by the simulator.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    /// The billing account the listener is registered for.
    pub account_name: String,
    /// The callback service name (`name` in the request body).
    pub service_name: String,
    /// The listener's URL.
    pub url: String,
    /// The optional `username` echoed in callbacks.
    pub username: Option<String>,
    /// The optional `password` echoed in callbacks; `Debug` prints `<redacted>` instead.
    pub password: Option<String>,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("account_name", &self.account_name)
            .field("service_name", &self.service_name)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Registration {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "accountName": self.account_name,
            "serviceName": self.service_name,
            "url": self.url,
            "username": self.username.as_deref().unwrap_or(""),
            "password": self.password.as_deref().unwrap_or(""),
        })
    }
}

/// Why a session token was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SessionProblem {
    Unknown,
    Expired,
}

struct Session {
    last_used: Instant,
    /// Kept rather than deleted so that an expired token keeps answering `Expired`, not `Invalid`.
    expired: bool,
}

/// A bound from [`SimConfig`] was reached; nothing was stored.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct AtLimit(pub(crate) usize);

pub(crate) struct State {
    pub(crate) requests: RequestLog,
    pub(crate) faults: FaultList,
    /// Issued access tokens and when each stops being accepted.
    tokens: HashMap<String, Instant>,
    last_token: Option<String>,
    sessions: HashMap<String, Session>,
    accounts: HashSet<String>,
    /// Per account, in registration order.
    registrations: HashMap<String, Vec<Registration>>,
    registration_count: usize,
    max_sessions: usize,
    /// Shared with the delivery threads, which outlive the admin request that started them.
    pub(crate) deliveries: std::sync::Arc<crate::deliveries::Deliveries>,
    max_registrations: usize,
}

impl State {
    pub(crate) fn new(config: &SimConfig, now: Instant) -> State {
        let mut sessions = HashMap::new();
        sessions.insert(config.session_token.clone(), Session { last_used: now, expired: false });
        State {
            requests: RequestLog::new(config.max_recorded_requests, config.max_recorded_body_bytes),
            faults: FaultList::default(),
            tokens: HashMap::new(),
            last_token: None,
            sessions,
            accounts: config.accounts.iter().cloned().collect(),
            registrations: HashMap::new(),
            registration_count: 0,
            max_sessions: config.max_sessions,
            max_registrations: config.max_registrations,
            deliveries: Default::default(),
        }
    }

    /// Returns the access token to hand out and its remaining lifetime in whole seconds.
    /// ThingSpace hands out the same token again while it is still valid.
    pub(crate) fn issue_token(&mut self, lifetime: Duration, now: Instant) -> (String, u64) {
        if let Some(last) = &self.last_token {
            if let Some(&expiry) = self.tokens.get(last) {
                if expiry > now {
                    return (last.clone(), (expiry - now).as_secs());
                }
            }
        }
        self.tokens.retain(|_, expiry| *expiry > now);
        let token = random::hex32();
        // A lifetime too long to add to an Instant (from --token-lifetime) means "never expires".
        let expiry = now.checked_add(lifetime).unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600));
        self.tokens.insert(token.clone(), expiry);
        self.last_token = Some(token.clone());
        (token, lifetime.as_secs())
    }

    pub(crate) fn token_is_valid(&self, token: &str, now: Instant) -> bool {
        self.tokens.get(token).is_some_and(|expiry| *expiry > now)
    }

    /// A new session, unless `max_sessions` exist even after dropping the ones that can no
    /// longer be used (those then answer `Invalid` rather than `Expired`, a fair price at the cap).
    pub(crate) fn create_session(&mut self, idle_timeout: Duration, now: Instant) -> Result<String, AtLimit> {
        if self.sessions.len() >= self.max_sessions {
            self.sessions
                .retain(|_, s| !s.expired && now.saturating_duration_since(s.last_used) <= idle_timeout);
        }
        if self.sessions.len() >= self.max_sessions {
            return Err(AtLimit(self.max_sessions));
        }
        let token = random::uuid_like();
        self.sessions.insert(token.clone(), Session { last_used: now, expired: false });
        Ok(token)
    }

    /// Checks a session token and, when it is good, counts this as a use.
    pub(crate) fn use_session(
        &mut self,
        token: &str,
        idle_timeout: Duration,
        now: Instant,
    ) -> Result<(), SessionProblem> {
        let session = self.sessions.get_mut(token).ok_or(SessionProblem::Unknown)?;
        if session.expired || now.saturating_duration_since(session.last_used) > idle_timeout {
            session.expired = true;
            return Err(SessionProblem::Expired);
        }
        session.last_used = now;
        Ok(())
    }

    pub(crate) fn end_session(&mut self, token: &str) {
        self.sessions.remove(token);
    }

    pub(crate) fn expire_sessions(&mut self) {
        for session in self.sessions.values_mut() {
            session.expired = true;
        }
    }

    pub(crate) fn has_account(&self, account: &str) -> bool {
        self.accounts.contains(account)
    }

    pub(crate) fn add_account(&mut self, account: &str) {
        self.accounts.insert(account.to_owned());
    }

    /// Stores a registration; one per service per account, so a second one for the same service
    /// replaces the first (and moves to the end of the registration order). Only a new one
    /// counts against `max_registrations`.
    pub(crate) fn register(&mut self, registration: Registration) -> Result<(), AtLimit> {
        let list = self.registrations.entry(registration.account_name.clone()).or_default();
        let before = list.len();
        list.retain(|r| r.service_name != registration.service_name);
        if list.len() == before {
            if self.registration_count >= self.max_registrations {
                return Err(AtLimit(self.max_registrations));
            }
            self.registration_count += 1;
        }
        list.push(registration);
        Ok(())
    }

    /// Forgets every registration (`DELETE /__admin/registrations`), so that one test's
    /// listeners are not the next one's.
    pub(crate) fn clear_registrations(&mut self) {
        self.registrations.clear();
        self.registration_count = 0;
    }

    pub(crate) fn registrations(&self, account: &str) -> Vec<Registration> {
        self.registrations.get(account).cloned().unwrap_or_default()
    }

    /// Removes a registration; false when there was none.
    pub(crate) fn deregister(&mut self, account: &str, service: &str) -> bool {
        let Some(list) = self.registrations.get_mut(account) else {
            return false;
        };
        let before = list.len();
        list.retain(|r| r.service_name != service);
        let removed = before - list.len();
        self.registration_count -= removed;
        removed > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(service: &str, url: &str) -> Registration {
        Registration {
            account_name: "A".into(),
            service_name: service.into(),
            url: url.into(),
            username: None,
            password: Some("pw".into()),
        }
    }

    #[test]
    fn registration_debug_hides_password() {
        let text = format!("{:?}", registration("S", "http://x"));
        assert!(!text.contains("pw"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn token_is_reused_until_it_expires() {
        let now = Instant::now();
        let mut state = State::new(&SimConfig::default(), now);
        let lifetime = Duration::from_secs(10);
        let (first, secs) = state.issue_token(lifetime, now);
        assert_eq!(secs, 10);
        let (again, secs) = state.issue_token(lifetime, now + Duration::from_millis(4500));
        assert_eq!((again.as_str(), secs), (first.as_str(), 5));
        assert!(state.token_is_valid(&first, now + Duration::from_secs(9)));
        assert!(!state.token_is_valid(&first, now + lifetime));
        let (fresh, _) = state.issue_token(lifetime, now + lifetime);
        assert_ne!(fresh, first);
    }

    #[test]
    fn idle_session_expires_and_stays_expired() {
        let now = Instant::now();
        let mut state = State::new(&SimConfig::default(), now);
        let idle = Duration::from_secs(5);
        let token = state.create_session(idle, now).unwrap();
        assert_eq!(state.use_session(&token, idle, now + Duration::from_secs(4)), Ok(()));
        assert_eq!(state.use_session(&token, idle, now + Duration::from_secs(8)), Ok(()));
        assert_eq!(
            state.use_session(&token, idle, now + Duration::from_secs(14)),
            Err(SessionProblem::Expired)
        );
        assert_eq!(
            state.use_session(&token, idle, now + Duration::from_secs(14)),
            Err(SessionProblem::Expired)
        );
        assert_eq!(state.use_session("nope", idle, now), Err(SessionProblem::Unknown));
    }

    #[test]
    fn second_registration_for_a_service_replaces_the_first() {
        let mut state = State::new(&SimConfig::default(), Instant::now());
        state.register(registration("S", "http://one")).unwrap();
        state.register(registration("T", "http://two")).unwrap();
        state.register(registration("S", "http://three")).unwrap();
        let urls: Vec<_> = state.registrations("A").into_iter().map(|r| r.url).collect();
        assert_eq!(urls, ["http://two", "http://three"]);
        assert!(state.deregister("A", "S"));
        assert!(!state.deregister("A", "S"));
        assert!(!state.deregister("B", "S"));
    }

    #[test]
    fn sessions_are_capped_after_dropping_unusable_ones() {
        let now = Instant::now();
        let config = SimConfig { max_sessions: 3, ..SimConfig::default() };
        let mut state = State::new(&config, now);
        let idle = Duration::from_secs(5);
        let kept = state.create_session(idle, now).unwrap();
        state.create_session(idle, now).unwrap();
        assert_eq!(state.create_session(idle, now), Err(AtLimit(3)));
        // Later, only `kept` has been used recently: the idle ones make room.
        let later = now + Duration::from_secs(8);
        assert_eq!(state.use_session(&kept, idle, now + Duration::from_secs(4)), Ok(()));
        state.create_session(idle, later).unwrap();
        state.create_session(idle, later).unwrap();
        assert_eq!(state.use_session(&kept, idle, later), Ok(()));
        assert_eq!(state.create_session(idle, later), Err(AtLimit(3)));
    }

    #[test]
    fn registrations_are_capped_but_replacing_one_is_not_refused() {
        let config = SimConfig { max_registrations: 2, ..SimConfig::default() };
        let mut state = State::new(&config, Instant::now());
        state.register(registration("S", "http://one")).unwrap();
        state.register(registration("T", "http://two")).unwrap();
        assert_eq!(state.register(registration("U", "http://three")), Err(AtLimit(2)));
        state.register(registration("S", "http://four")).unwrap();
        assert!(state.deregister("A", "T"));
        state.register(registration("U", "http://five")).unwrap();
        let urls: Vec<_> = state.registrations("A").into_iter().map(|r| r.url).collect();
        assert_eq!(urls, ["http://four", "http://five"]);
    }
}
