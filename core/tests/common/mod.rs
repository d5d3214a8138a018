#![allow(dead_code)]

use std::time::Duration;

use tscb::{Client, ClientBuilder};
use tscb_sim::Simulator;

pub const ACCOUNT: &str = "TestAccount-2";
pub const LISTENER: &str = "https://listener.example.com/thingspace";

pub fn builder(sim: &Simulator) -> ClientBuilder {
    Client::builder()
        .base_url(sim.base_url())
        .bearer_token(sim.config().bearer_token.clone())
        .session_token(sim.config().session_token.clone())
        .timeout(Duration::from_secs(10))
}

pub fn client(sim: &Simulator) -> Client {
    builder(sim).build().expect("client builds")
}

pub fn sim() -> Simulator {
    Simulator::start().expect("simulator starts")
}
