//! The async client for tokio users: the same calls as the blocking client, sharing its logic;
//! and the blocking client's refusal to run inside a tokio runtime.

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{count, with_credentials, ACCOUNT, LISTENER};
use tscb::{codes, AsyncClient, CallbackRegistration, Client, ErrorKind};
use tscb_sim::{Fault, FaultAction, Simulator};

fn fixed(sim: &Simulator) -> AsyncClient {
    common::builder(sim).build_async().expect("async client builds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_list_and_deregister() {
    let sim = common::sim();
    let client = fixed(&sim);
    let reg = CallbackRegistration::new("CarrierService", LISTENER)
        .unwrap()
        .with_username("u")
        .unwrap()
        .with_password("p")
        .unwrap();
    let ack = client.register_callback(ACCOUNT, &reg).await.unwrap();
    assert_eq!(ack.service_name, "CarrierService");
    let listed = client.list_callbacks(ACCOUNT).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].url, LISTENER);
    client.deregister_callback(ACCOUNT, "CarrierService").await.unwrap();
    assert!(client.list_callbacks(ACCOUNT).await.unwrap().is_empty());
    assert!(sim.registrations(ACCOUNT).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_sign_in() {
    let sim = common::sim();
    let client = with_credentials(&sim).build_async().unwrap();
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            // Spawned: the futures are Send.
            tokio::spawn(async move { client.list_callbacks(ACCOUNT).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(count(&sim, "/oauth2/token"), 1);
    assert_eq!(count(&sim, "/session/login"), 1);
    client.logout().await.unwrap();
    assert_eq!(count(&sim, "/session/logout"), 1);
    // Logged out: the next call logs in again.
    client.list_callbacks(ACCOUNT).await.unwrap();
    assert_eq!(count(&sim, "/session/login"), 2);
}

#[tokio::test]
async fn errors_are_the_same_as_the_blocking_clients() {
    let sim = common::sim();
    let client = fixed(&sim);
    let err = client.list_callbacks("").await.unwrap_err();
    assert_eq!(err.error_code(), codes::ACCOUNT_NAME_EMPTY);
    let wrong = with_credentials(&sim).login(tscb::Login::new("nobody", "wrong")).build_async().unwrap();
    let err = wrong.login().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    // The call timeout holds on the caller's runtime too.
    sim.inject(Fault::new(FaultAction::Delay { ms: 5_000 }));
    let slow = common::builder(&sim).call_timeout(Duration::from_millis(300)).build_async().unwrap();
    let err = slow.list_callbacks(ACCOUNT).await.unwrap_err();
    assert_eq!(err.error_code(), codes::TIMEOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_given_up_by_its_caller_is_left_to_the_next_call() {
    let sim = common::sim();
    sim.inject(Fault::new(FaultAction::Delay { ms: 1_000 }).path_contains("/oauth2/token").times(1));
    let client = with_credentials(&sim).build_async().unwrap();
    let first = tokio::spawn({
        let client = client.clone();
        async move { tokio::time::timeout(Duration::from_millis(200), client.login()).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Waits for the first call's sign-in; when that is dropped, signs in itself.
    let second = tokio::spawn({
        let client = client.clone();
        async move { client.list_callbacks(ACCOUNT).await }
    });
    assert!(first.await.unwrap().is_err(), "the first call gave up");
    second.await.unwrap().expect("the waiting call signed in itself");
}

#[tokio::test]
async fn the_blocking_client_refuses_to_run_inside_a_runtime() {
    let sim = common::sim();
    let client: Client = common::client(&sim);
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.error_code(), codes::INSIDE_ASYNC_RUNTIME);
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("tscb::AsyncClient"), "{err}");
    assert!(sim.requests().is_empty(), "nothing was sent");
    // Dropping it here is fine too.
    drop(client);
}

#[test]
fn the_async_client_outside_a_runtime_says_so() {
    let sim = common::sim();
    let client = fixed(&sim);
    let mut call = pin!(client.list_callbacks(ACCOUNT));
    let Poll::Ready(result) = call.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("the call should fail at once");
    };
    assert_eq!(result.unwrap_err().error_code(), codes::NO_ASYNC_RUNTIME);
    // The blocking client is the one for this thread.
    common::client(&sim).list_callbacks(ACCOUNT).unwrap();
}
