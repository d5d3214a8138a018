//! Many accounts at once: the callback listeners every account should have, compared with what
//! each has ([`Plan::compute`]), then made so ([`Plan::apply`]), like `terraform plan`/`apply`.
//!
//! ```
//! use tscb::fleet::{ApplyOptions, Desired, DesiredAccount, Plan, PlanOptions};
//! use tscb::{services, CallbackRegistration, Client};
//! # let sim = tscb_sim::Simulator::start().unwrap();
//! let client = Client::builder()
//!     .base_url(sim.base_url())
//!     .credentials(tscb_sim::SIM_CLIENT_ID, tscb_sim::SIM_CLIENT_SECRET, tscb_sim::SIM_USERNAME, tscb_sim::SIM_PASSWORD)
//!     .build()?;
//! let listener = "https://listener.example.com/thingspace";
//! let desired = Desired::new(vec![
//!     DesiredAccount::new("TestAccount-1", vec![
//!         CallbackRegistration::new(services::CARRIER_SERVICE, listener)?,
//!         CallbackRegistration::new("DeviceUsage", listener)?.with_username("fleet")?,
//!     ]),
//!     DesiredAccount::new("TestAccount-2", vec![CallbackRegistration::new(services::CARRIER_SERVICE, listener)?]),
//! ]);
//! let plan = Plan::compute(&client, &desired, &PlanOptions::default())?;
//! assert_eq!(plan.changes().len(), 3);
//! let report = plan.apply(&client, &ApplyOptions::default())?;
//! assert_eq!((report.created(), report.failed()), (3, 0));
//! // A second plan finds nothing to do.
//! assert!(!Plan::compute(&client, &desired, &PlanOptions::default())?.has_changes());
//! # Ok::<(), tscb::Error>(())
//! ```
//!
//! One client serves every worker: it signs in once, before the first worker starts (one token
//! request and one login), and an authentication failure stops the run at once, so a refused
//! login is never sent once per worker. A busy answer (429 or 503) that reaches the fleet makes
//! every worker wait for its `Retry-After` (1 s when it gives none) before sending anything, and
//! the request is sent again, at most five times. (A busy list or deregister is first retried by
//! the client itself, see [`crate::RetryPolicy`]; that wait is its worker's alone.) One
//! account's failure does not stop the others: it is recorded and the run goes on.

mod apply;
mod plan;
mod spec;
mod workers;

pub use apply::{ApplyOptions, ApplyReport, Outcome, Status};
pub use plan::{
    AccountFailure, Action, Change, Desired, DesiredAccount, Plan, PlanOptions, DEFAULT_CONCURRENCY,
};
pub use spec::{AccountSpec, FleetSpec, SpecDefaults, SpecError, SpecField};
