//! `make demo`: the main job, end to end, against the simulator started in this process.
//!
//! Registers a callback listener, lists it, shows two rejected registrations (one caught by the
//! library before anything is sent, one refused by the service), removes the listener, and
//! prints what went over the wire.

use tscb::{services, CallbackRegistration, Client};
use tscb_sim::Simulator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::start()?;
    println!("ThingSpace simulator listening on {}", sim.base_url());

    let client = Client::builder()
        .base_url(sim.base_url())
        .bearer_token(sim.config().bearer_token.clone())
        .session_token(sim.config().session_token.clone())
        .build()?;

    let account = "TestAccount-2";
    let registration =
        CallbackRegistration::new(services::CARRIER_SERVICE, "https://listener.example.com/thingspace")?
            .with_username("fleet-7")?
            .with_password("echoed-back-to-the-listener")?;

    println!("\n1. Register a CarrierService listener for {account}");
    let ack = client.register_callback(account, &registration)?;
    println!("   registered: account {}, service {}", ack.account_name, ack.service_name);
    let sent = sim.requests().pop().ok_or("the simulator saw no request")?;
    println!("   on the wire: {} {}", sent.method, sent.path);
    for (name, value) in &sent.headers {
        let shown = match name.as_str() {
            "authorization" | "vz-m2m-token" => "<redacted>",
            _ => value.as_str(),
        };
        println!("     {name}: {shown}");
    }
    // The body carries the callback password: show where it goes, not what it is.
    let password = registration.password().map(|p| p.expose()).unwrap_or_default();
    let body = String::from_utf8_lossy(&sent.body).replace(password, "<redacted>");
    println!("     body: {body}");

    println!("\n2. List the listeners of {account}");
    for cb in client.list_callbacks(account)? {
        let password = if cb.password.is_some() { "set" } else { "none" };
        let username = cb.username.as_deref().unwrap_or("none");
        println!("   {} -> {} (username {username}, password {password})", cb.service_name, cb.url);
    }

    println!("\n3. A registration the library rejects before sending anything");
    let bad_port =
        CallbackRegistration::new(services::CARRIER_SERVICE, "https://listener.example.com:8443/cb")?;
    let before = sim.requests().len();
    let err = client.register_callback(account, &bad_port).unwrap_err();
    println!("   {}", err.to_json());
    println!("   kind {}, requests sent: {}", err.kind(), sim.requests().len() - before);

    println!("\n4. A registration the service refuses");
    let err = client.register_callback("NoSuchAccount", &registration).unwrap_err();
    println!("   HTTP {}: {}", err.http_status().unwrap_or(0), err.to_json());
    println!("   kind {}", err.kind());

    println!("\n5. Deregister the listener");
    let ack = client.deregister_callback(account, services::CARRIER_SERVICE)?;
    println!("   deregistered: account {}, service {}", ack.account_name, ack.service_name);
    println!("   listeners left: {}", client.list_callbacks(account)?.len());
    Ok(())
}
