//! `make bench`: the cost of one register call through `tscb` against a bare reqwest blocking
//! client that builds the identical request by hand, side by side in one run, over keep-alive on
//! loopback against the same simulator. Batches alternate so that machine noise hits both alike;
//! the result is the ratio of the median batch times. Both requests carry a per-request timeout,
//! the only way reqwest's blocking client bounds a whole call.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use tscb::{CallbackRegistration, Client};
use tscb_sim::Simulator;

const ACCOUNT: &str = "TestAccount-2";
const LISTENER: &str = "https://listener.example.com/thingspace";

fn main() {
    let calls: usize = std::env::var("TSCB_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let rounds: usize = std::env::var("TSCB_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(21);

    let sim = Simulator::start().expect("simulator");
    let base = sim.base_url();
    let bearer = sim.config().bearer_token.clone();
    let session = sim.config().session_token.clone();

    let client = Client::builder()
        .base_url(&base)
        .bearer_token(bearer.clone())
        .session_token(session.clone())
        .build()
        .expect("tscb client");
    let registration =
        CallbackRegistration::new("CarrierService", LISTENER).with_username("fleet-7").with_password("pw");
    let tscb_call = || {
        let ack = client.register_callback(ACCOUNT, &registration).expect("tscb register");
        assert_eq!(ack.service_name, "CarrierService");
    };

    // The bare client needs a process-wide TLS provider; tscb brings its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bare = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .build()
        .expect("bare client");
    let url = format!("{base}/m2m/v1/callbacks/{ACCOUNT}");
    let body =
        format!(r#"{{"name":"CarrierService","url":"{LISTENER}","username":"fleet-7","password":"pw"}}"#);
    let bare_call = || {
        let response = bare
            .post(&url)
            .header(AUTHORIZATION, format!("Bearer {bearer}"))
            .header("VZ-M2M-Token", &session)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, "bare-reqwest")
            // The same guarantee as tscb's: one deadline for the whole call. Without a
            // per-request timeout reqwest's blocking client restarts its timeout for every read
            // of the body, so a stalling server could hold a call for twice as long; the
            // per-request timer costs ~10 us a call, which tscb pays too.
            .timeout(Duration::from_secs(30))
            .body(body.clone())
            .send()
            .expect("bare register");
        assert!(response.status().is_success());
        let bytes = response.bytes().expect("bare body");
        assert!(!bytes.is_empty());
    };

    // Warm up both: connections, allocator, simulator state.
    for _ in 0..calls {
        tscb_call();
        bare_call();
    }
    let batch = |f: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..calls {
            f();
        }
        started.elapsed()
    };
    let mut tscb_times = Vec::new();
    let mut bare_times = Vec::new();
    for round in 0..rounds {
        // Alternate which goes first, so neither always meets a warmer or colder machine.
        if round % 2 == 0 {
            tscb_times.push(batch(&tscb_call));
            bare_times.push(batch(&bare_call));
        } else {
            bare_times.push(batch(&bare_call));
            tscb_times.push(batch(&tscb_call));
        }
    }
    let us_per_call = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
    tscb_times.sort();
    bare_times.sort();
    let median = |times: &[Duration]| us_per_call(times[times.len() / 2]);
    let (tscb_us, bare_us) = (median(&tscb_times), median(&bare_times));
    let (tscb_best, bare_best) = (us_per_call(tscb_times[0]), us_per_call(bare_times[0]));
    println!("register_callback over keep-alive loopback: {rounds} alternating rounds of {calls} calls each");
    println!("  tscb:         {tscb_us:8.1} us/call (median round), {tscb_best:8.1} (best round)");
    println!("  bare reqwest: {bare_us:8.1} us/call (median round), {bare_best:8.1} (best round)");
    println!(
        "  ratio tscb/bare: {:.3} median, {:.3} best (target <= 1.10)",
        tscb_us / bare_us,
        tscb_best / bare_best
    );
}
