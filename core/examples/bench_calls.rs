//! One round of `register_callback` calls through the Rust API: prints the mean microseconds per
//! call. `bench/run.sh` alternates it with the same round through the C ABI
//! (`bench/bench_register.c`) against one tscb-sim, and reports the ratio.

use std::time::Instant;

use tscb::{CallbackRegistration, Client};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base_url, calls] = args.as_slice() else {
        return Err("usage: bench_calls BASE_URL CALLS".into());
    };
    let calls: u32 = calls.parse()?;
    let client = Client::builder()
        .base_url(base_url)
        .bearer_token("sim-bearer-token")
        .session_token("sim-session-token")
        .build()?;
    let call = || {
        // The same work as the C side: build the registration from strings on every call.
        let reg = CallbackRegistration::new("CarrierService", "https://listener.example.com/thingspace")
            .with_username("fleet-7")
            .with_password("pw");
        client.register_callback("TestAccount-2", &reg).map(|_| ())
    };
    for _ in 0..calls / 4 {
        call()?;
    }
    let started = Instant::now();
    for _ in 0..calls {
        call()?;
    }
    println!("{:.3}", started.elapsed().as_secs_f64() * 1e6 / f64::from(calls));
    Ok(())
}
