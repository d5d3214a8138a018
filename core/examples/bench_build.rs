//! What building a client costs with the platform's certificate verifier, with and without an
//! extra CA (`ca_file`), measured side by side: alternating rounds of `BUILDS` builds each, the
//! median of each side and their ratio (this machine is shared and noisy, so only the ratio and
//! the order of magnitude mean anything). `make bench` runs it; by hand:
//! `cargo run --release -p tscb --example bench_build [ROUNDS] [BUILDS]`.

use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let rounds = args.next().unwrap_or(11);
    let builds = args.next().unwrap_or(20);
    // A CA no system trusts, like a corporate proxy's: the simulator's throw-away one.
    let sim = tscb_sim::Simulator::builder().tls(true).start().expect("simulator starts");
    let ca = std::env::temp_dir().join(format!("tscb-bench-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, sim.ca_pem().unwrap()).unwrap();
    let base = || tscb::Client::builder().bearer_token("t").session_token("s").no_proxy();

    let (mut plain, mut with_ca) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which side goes first, so that neither always runs on a warmer cache.
        for side in if round % 2 == 0 { [false, true] } else { [true, false] } {
            let start = Instant::now();
            for _ in 0..builds {
                let builder = if side { base().add_ca_file(&ca) } else { base() };
                std::hint::black_box(builder.build().expect("builds"));
            }
            let ms = start.elapsed().as_secs_f64() * 1000.0 / builds as f64;
            if side {
                with_ca.push(ms)
            } else {
                plain.push(ms)
            }
        }
    }
    let _ = std::fs::remove_file(&ca);
    let (p, c) = (median(plain), median(with_ca));
    println!("client build, platform verifier:            {p:.2} ms (median of {rounds} rounds x {builds})");
    println!("client build, platform verifier + ca_file:  {c:.2} ms");
    println!("ratio with/without the extra CA:            {:.3}", c / p);
}
