//! One round of `register_callback` calls through the Rust API: prints the mean microseconds per
//! call. `bench/run.sh` alternates it with the same round through the C ABI
//! (`bench/bench_register.c`) against one tscb-sim, and reports the ratio; `bench/python`
//! alternates it (with `plain`: no callback user name or password, the request the Python
//! clients there send) with the Python clients' rounds.

use std::time::Instant;

use tscb::{CallbackRegistration, Client};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (base_url, calls, plain) = match args.as_slice() {
        [_, base_url, calls] => (base_url, calls, false),
        [_, base_url, calls, plain] if plain == "plain" => (base_url, calls, true),
        _ => return Err("usage: bench_calls BASE_URL CALLS [plain]".into()),
    };
    let calls: u32 = calls.parse()?;
    let client = Client::builder()
        .base_url(base_url)
        .bearer_token(tscb_sim::SIM_BEARER_TOKEN)
        .session_token(tscb_sim::SIM_SESSION_TOKEN)
        .build()?;
    let call = || {
        // The same work as the C side: build the registration from strings on every call.
        let reg = CallbackRegistration::new("CarrierService", "https://listener.example.com/thingspace")?;
        let reg = if plain { reg } else { reg.with_username("fleet-7")?.with_password("pw")? };
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
