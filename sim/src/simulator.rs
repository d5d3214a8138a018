//! The handle tests hold: starts the server, inspects and steers it, stops it on drop.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::config::SimConfig;
use crate::fault::Fault;
use crate::random;
use crate::record::RecordedRequest;
use crate::server;
use crate::shared::Shared;
use crate::state::Registration;

/// A running simulator. Dropping it (or calling [`Simulator::shutdown`]) stops it.
///
/// The handle is `Send + Sync`: tests may share it between threads.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept_thread: Option<JoinHandle<()>>,
    /// The throw-away CA's certificate, when serving HTTPS.
    ca_pem: Option<String>,
    /// Where [`Simulator::save_ca`] wrote it, for the banner.
    ca_file: std::sync::OnceLock<std::path::PathBuf>,
}

/// Starts a [`Simulator`] with settings beyond [`Simulator::start_with`]'s: HTTPS, say.
///
/// ```
/// let sim = tscb_sim::Simulator::builder().tls(true).start()?;
/// assert!(sim.base_url().starts_with("https://127.0.0.1:"));
/// assert!(sim.ca_pem().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    config: SimConfig,
    listen: String,
    tls: bool,
    expired_certificate: bool,
}

impl SimulatorBuilder {
    /// The configuration (default [`SimConfig::default`]).
    pub fn config(mut self, config: SimConfig) -> Self {
        self.config = config;
        self
    }

    /// The address to listen on (default `"127.0.0.1:0"`, a free port).
    pub fn listen(mut self, addr: impl Into<String>) -> Self {
        self.listen = addr.into();
        self
    }

    /// Serves HTTPS, with a certificate for [`crate::CERTIFICATE_NAMES`] signed by a CA made
    /// for this run ([`Simulator::ca_pem`]).
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// With [`SimulatorBuilder::tls`], serves a certificate that expired in 2021, to see what a
    /// client says about one.
    pub fn expired_certificate(mut self, expired: bool) -> Self {
        self.expired_certificate = expired;
        self
    }

    /// Starts the simulator. A listening address that is not loopback is refused as by
    /// [`Simulator::start_with`].
    pub fn start(self) -> io::Result<Simulator> {
        let identity = if self.tls { Some(crate::tls::identity(self.expired_certificate)?) } else { None };
        let addrs: Vec<SocketAddr> = self.listen.as_str().to_socket_addrs()?.collect();
        if !self.config.allow_remote && addrs.iter().any(|a| !a.ip().is_loopback()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to listen on {}, which is not a loopback address: the simulator \
                     accepts published test credentials and anyone who reaches its admin API can \
                     inject faults. Pass --allow-remote (SimConfig::allow_remote) to listen there; \
                     the admin API then needs the admin token printed at start",
                    self.listen
                ),
            ));
        }
        let listener = TcpListener::bind(&addrs[..])?;
        let addr = listener.local_addr()?;
        let admin_token = if addr.ip().is_loopback() { None } else { Some(random::secret_hex64()?) };
        let mut shared = Shared::new(self.config, admin_token);
        shared.tls = identity.as_ref().map(|i| Arc::clone(&i.config));
        let shared = Arc::new(shared);
        let for_thread = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name("tscb-sim-accept".to_owned())
            .spawn(move || server::accept_loop(for_thread, listener))?;
        Ok(Simulator {
            shared,
            addr,
            accept_thread: Some(accept_thread),
            ca_pem: identity.map(|i| i.ca_pem),
            ca_file: Default::default(),
        })
    }
}

impl Simulator {
    /// Starts a simulator with [`SimConfig::default`] on a free port of 127.0.0.1.
    pub fn start() -> io::Result<Simulator> {
        Simulator::start_with(SimConfig::default(), "127.0.0.1:0")
    }

    /// Starts a simulator with `config`, listening on `addr` (e.g. `"127.0.0.1:0"` for a free
    /// port).
    ///
    /// An address that is not loopback (`0.0.0.0` included) is refused with
    /// [`io::ErrorKind::InvalidInput`] unless [`SimConfig::allow_remote`] is set; the simulator
    /// then makes an [admin token](Simulator::admin_token).
    pub fn start_with(config: SimConfig, addr: &str) -> io::Result<Simulator> {
        Simulator::builder().config(config).listen(addr).start()
    }

    /// A builder for more settings (HTTPS); its defaults are those of [`Simulator::start`].
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder {
            config: SimConfig::default(),
            listen: "127.0.0.1:0".to_owned(),
            tls: false,
            expired_certificate: false,
        }
    }

    /// The base URL to give a client, e.g. `"http://127.0.0.1:41234/api"` (`https://` when
    /// serving HTTPS). When listening on an unspecified address (`0.0.0.0`, `::`), it names the
    /// loopback address instead.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/api", reachable(self.addr))
    }

    /// The PEM certificate of the CA that signed the server's certificate, when serving HTTPS:
    /// give it to a client as a CA to trust. A new CA is made for every simulator.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token that admin requests must carry as `Authorization: Bearer <token>`: `None` on a
    /// loopback address, where none is needed; a fresh random value when listening beyond it.
    pub fn admin_token(&self) -> Option<&str> {
        self.shared.admin_token.as_deref()
    }

    /// Writes what a user needs to reach the simulator, as `tscb-sim` and `tscb sim` print it
    /// at start. The first line, `listening on http://HOST:PORT/api` with the address really
    /// listened on, is written and flushed alone, because whoever started the simulator may
    /// wait for it to learn the port. Then come the admin token (only when there is one), the
    /// test credentials (published values, so that tests in C and Python read them here
    /// instead of writing them again) and the accounts. Each line after the first is
    /// `label: value`; the labels are an interface (tests/sim.sh, tests/c/sim_admin.h and
    /// python/tests/conftest.py read them, and sim/tests/binary.rs holds them to the `SIM_*`
    /// constants), and `accounts:` is always the last line, so a reader knows when it has all.
    pub fn write_banner(&self, out: &mut dyn Write) -> io::Result<()> {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        writeln!(out, "listening on {scheme}://{}/api", self.addr)?;
        out.flush()?;
        if let Some(path) = self.ca_file.get() {
            writeln!(out, "ca file: {} (trust it: --ca-file, THINGSPACE_CA_FILE, ca_file)", path.display())?;
        }
        if self.addr.ip().is_unspecified() {
            writeln!(out, "from this machine: {}", self.base_url())?;
        }
        if let Some(token) = self.admin_token() {
            writeln!(out, "admin token: {token}")?;
        }
        let config = self.config();
        writeln!(out, "bearer token: {}", config.bearer_token)?;
        writeln!(out, "session token: {}", config.session_token)?;
        writeln!(out, "client id: {}", config.client_id)?;
        writeln!(out, "client secret: {}", config.client_secret)?;
        writeln!(out, "login username: {}", config.username)?;
        writeln!(out, "login password: {}", config.password)?;
        writeln!(out, "accounts: {}", config.accounts.join(", "))?;
        out.flush()
    }

    /// Writes [`Simulator::ca_pem`] to `path` (default: `tscb-sim-ca-PORT.pem` in the temporary
    /// directory) for clients in other processes, and names the file in the
    /// [banner](Simulator::write_banner). `Ok(None)` when not serving HTTPS.
    pub fn save_ca(&self, path: Option<&std::path::Path>) -> io::Result<Option<std::path::PathBuf>> {
        let Some(pem) = &self.ca_pem else { return Ok(None) };
        let path = path
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| std::env::temp_dir().join(format!("tscb-sim-ca-{}.pem", self.addr.port())));
        std::fs::write(&path, pem)?;
        let _ = self.ca_file.set(path.clone());
        Ok(Some(path))
    }

    /// The configuration the simulator was started with (accounts added later are not in it).
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// Makes `name` an existing billing account.
    pub fn add_account(&self, name: &str) {
        self.shared.lock_state().add_account(name);
    }

    /// Adds a fault after the ones already in force.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock_state().faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.lock_state().faults.clear();
    }

    /// Every well-formed non-admin request received so far, in arrival order, including those a
    /// fault answered. Requests refused before they were fully read (400, 413, 431, 501) are
    /// not recorded.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock_state().requests.to_vec()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock_state().requests.clear();
    }

    /// The callback registrations of `account`, in registration order (a re-registration of a
    /// service replaces the old one and counts as the newest).
    pub fn registrations(&self, account: &str) -> Vec<Registration> {
        self.shared.lock_state().registrations(account)
    }

    /// Makes every existing session, the configured one included, answer
    /// `SessionToken.Expired` from now on. Sessions created later are unaffected.
    pub fn expire_sessions(&self) {
        self.shared.lock_state().expire_sessions();
    }

    /// Delivers a callback message as ThingSpace would: to the URL registered for
    /// `delivery.account` and `delivery.service` (plain HTTP to a loopback address only), with
    /// the registered username and password in it, resent with a higher `callbackCount` until a
    /// 2xx or the attempts run out. Returns the delivery's id at once; the attempts go on in a
    /// thread and appear in [`Simulator::deliveries`]. The error says why nothing was sent.
    pub fn deliver(&self, delivery: crate::Delivery) -> Result<u64, String> {
        crate::deliver::start_for(&self.shared, delivery).map_err(|(_, why)| why)
    }

    /// Every delivery attempt so far (the newest 1000), oldest first.
    pub fn deliveries(&self) -> Vec<crate::DeliveryAttempt> {
        let deliveries = std::sync::Arc::clone(&self.shared.lock_state().deliveries);
        deliveries.attempts()
    }

    /// Stops the simulator; the same as dropping it.
    pub fn shutdown(self) {}
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shared.begin_stop();
        self.shared.lock_state().deliveries.stop();
        if let Some(accept_thread) = self.accept_thread.take() {
            // A blocking accept() cannot be interrupted portably, so connect to wake it. Should
            // that fail, the thread is left detached: it exits at its next accept.
            let woken = TcpStream::connect_timeout(&reachable(self.addr), Duration::from_secs(1));
            if woken.is_ok() {
                let _ = accept_thread.join();
            }
        }
        self.shared.stop_connections();
    }
}

/// The address a local client uses to reach a listener bound to `addr`.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Simulator>();
    }

    #[test]
    fn unspecified_addresses_map_to_loopback() {
        let v4: SocketAddr = "0.0.0.0:80".parse().unwrap();
        assert_eq!(reachable(v4).to_string(), "127.0.0.1:80");
        let v6: SocketAddr = "[::]:80".parse().unwrap();
        assert_eq!(reachable(v6).to_string(), "[::1]:80");
        let fixed: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert_eq!(reachable(fixed), fixed);
    }
}
