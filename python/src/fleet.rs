//! `tscb.plan(client, desired)` and `Plan.apply()`: the desired state from plain Python dicts
//! and lists in core's schema, the work done by core's `tscb::fleet` without the GIL, and immutable results
//! that hold no password.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::client::{guarded, Client};
use crate::errors::to_py;
use crate::py_repr;
use tscb::fleet::{self, Action, ApplyOptions, PlanOptions, Status};

/// The desired state, in the schema of core's `tscb::fleet::FleetSpec` (the keys of the
/// `tscb` command's fleet file): through `json.dumps` into that one serde type, so that no schema
/// is written here. A wrong shape is a `TypeError`; a wrong value, core's error.
fn desired_from(py: Python<'_>, desired: &Bound<'_, PyAny>) -> PyResult<fleet::Desired> {
    let json: String = py.import("json")?.call_method1("dumps", (desired,))?.extract()?;
    let spec: fleet::FleetSpec =
        serde_json::from_str(&json).map_err(|e| PyTypeError::new_err(format!("desired: {e}")))?;
    // The port is checked by `Plan::compute`, as the client's `check_callback_port` says.
    spec.resolve(&|name| std::env::var_os(name), false).map_err(|e| to_py(py, &e.error))
}

/// Plans what `Plan.apply()` would do: validates `desired` (nothing is sent when a value is
/// wrong), signs in once and lists every account.
#[pyfunction]
#[pyo3(signature = (client, desired, *, prune=false, concurrency=None, max_rate=None))]
pub(crate) fn plan(
    py: Python<'_>,
    client: Py<Client>,
    desired: &Bound<'_, PyAny>,
    prune: bool,
    concurrency: Option<usize>,
    max_rate: Option<f64>,
) -> PyResult<Plan> {
    // None: core's default (tscb.fleet's DEFAULT_CONCURRENCY), never restated here.
    let concurrency = concurrency.unwrap_or(fleet::DEFAULT_CONCURRENCY);
    let desired = desired_from(py, desired)?;
    let rust_client = client.get().client().map_err(|e| to_py(py, &e))?;
    let options = PlanOptions { prune, concurrency, max_rate };
    let plan = py
        .detach(|| guarded(|| fleet::Plan::compute(&rust_client, &desired, &options)))
        .map_err(|e| to_py(py, &e))?;
    let changes: Vec<Change> = plan.changes().iter().map(Change::from).collect();
    let failures: Vec<Outcome> =
        plan.failures().iter().map(|f| Outcome::failed(f.account.clone(), None, None, &f.error)).collect();
    Ok(Plan {
        changes: PyTuple::new(py, changes)?.unbind(),
        failures: PyTuple::new(py, failures)?.unbind(),
        has_changes: plan.has_changes(),
        client,
        plan,
    })
}

/// What `apply()` would do, per account and service.
#[pyclass(module = "tscb", frozen)]
pub struct Plan {
    plan: fleet::Plan,
    client: Py<Client>,
    /// Every listener looked at, with its action (unchanged ones too), as `Change`s.
    #[pyo3(get)]
    changes: Py<PyTuple>,
    /// The accounts whose listing failed, as failed `Outcome`s.
    #[pyo3(get)]
    failures: Py<PyTuple>,
    /// Whether `apply()` would send anything.
    #[pyo3(get)]
    has_changes: bool,
}

#[pymethods]
impl Plan {
    /// Carries out the plan with the client it was computed with: one change's failure does not
    /// stop the others; an authentication failure stops the run.
    #[pyo3(signature = (*, concurrency=None, max_rate=None))]
    fn apply(
        &self,
        py: Python<'_>,
        concurrency: Option<usize>,
        max_rate: Option<f64>,
    ) -> PyResult<ApplyReport> {
        let concurrency = concurrency.unwrap_or(fleet::DEFAULT_CONCURRENCY);
        let client = self.client.get().client().map_err(|e| to_py(py, &e))?;
        let options = ApplyOptions { concurrency, max_rate };
        let report =
            py.detach(|| guarded(|| self.plan.apply(&client, &options))).map_err(|e| to_py(py, &e))?;
        let outcomes: Vec<Outcome> = report.outcomes.iter().map(Outcome::from).collect();
        Ok(ApplyReport {
            created: report.created(),
            updated: report.updated(),
            deleted: report.deleted(),
            unchanged: report.unchanged(),
            failed: report.failed(),
            not_run: report.not_run(),
            elapsed: report.elapsed.as_secs_f64(),
            outcomes: PyTuple::new(py, outcomes)?.unbind(),
        })
    }

    fn __repr__(&self) -> String {
        let count = |a| self.plan.count(a);
        format!(
            "Plan(create={}, update={}, delete={}, unchanged={}, failed={})",
            count(Action::Create),
            count(Action::Update),
            count(Action::Delete),
            count(Action::Unchanged),
            self.plan.failures().len()
        )
    }
}

/// One account's listener of one service and what `apply()` does to it. Holds no password.
#[pyclass(module = "tscb", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub struct Change {
    /// The account name.
    #[pyo3(get)]
    account: String,
    /// The service name.
    #[pyo3(get)]
    service: String,
    /// "create", "update", "delete" or "unchanged".
    #[pyo3(get)]
    action: &'static str,
    differences: Vec<&'static str>,
    /// The URL to register (create, update, unchanged), else None.
    #[pyo3(get)]
    url: Option<String>,
    /// The username to register, else None.
    #[pyo3(get)]
    username: Option<String>,
    /// The URL registered now (update, delete, unchanged), else None.
    #[pyo3(get)]
    current_url: Option<String>,
}

impl From<&fleet::Change> for Change {
    fn from(c: &fleet::Change) -> Self {
        Change {
            account: c.account.clone(),
            service: c.service.clone(),
            action: c.action.as_str(),
            differences: c.differences.clone(),
            url: c.desired.as_ref().map(|d| d.url().to_owned()),
            username: c.desired.as_ref().and_then(|d| d.username().map(str::to_owned)),
            current_url: c.current.as_ref().map(|r| r.url.clone()),
        }
    }
}

#[pymethods]
impl Change {
    /// For an update, what differs: some of "url", "username", "password" (a tuple).
    #[getter]
    fn differences<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.differences)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Change(account={}, service={}, action={}, differences={})",
            py_repr(py, self.account.as_str())?,
            py_repr(py, self.service.as_str())?,
            py_repr(py, self.action)?,
            py_repr(py, self.differences(py)?)?
        ))
    }
}

/// What happened to one change (or to an account whose listing failed: then `service` and
/// `action` are None).
#[pyclass(module = "tscb", frozen, eq, hash, get_all)]
#[derive(PartialEq, Eq, Hash)]
pub struct Outcome {
    /// The account name.
    account: String,
    /// The service name, or None.
    service: Option<String>,
    /// The planned action, or None.
    action: Option<&'static str>,
    /// "done", "replaced" (deregistered, then registered), "failed" or "not_run".
    status: &'static str,
    /// For "replaced": the code with which the service refused a second register.
    refused_with: Option<String>,
    /// For "failed": the error's code, message and HTTP status.
    error_code: Option<String>,
    error_message: Option<String>,
    http_status: Option<u16>,
}

impl Outcome {
    fn failed(account: String, service: Option<String>, action: Option<Action>, e: &tscb::Error) -> Self {
        Outcome {
            account,
            service,
            action: action.map(Action::as_str),
            status: "failed",
            refused_with: None,
            error_code: Some(e.error_code().to_owned()),
            error_message: Some(e.error_message().to_owned()),
            http_status: e.http_status(),
        }
    }
}

impl From<&fleet::Outcome> for Outcome {
    fn from(o: &fleet::Outcome) -> Self {
        if let Status::Failed(e) = &o.status {
            return Outcome::failed(o.account.clone(), o.service.clone(), o.action, e);
        }
        let (status, refused_with) = (o.status.as_str(), o.status.refused_with().map(str::to_owned));
        Outcome {
            account: o.account.clone(),
            service: o.service.clone(),
            action: o.action.map(Action::as_str),
            status,
            refused_with,
            error_code: None,
            error_message: None,
            http_status: None,
        }
    }
}

#[pymethods]
impl Outcome {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let error = match &self.error_code {
            Some(code) => format!(", error_code={}", py_repr(py, code.as_str())?),
            None => String::new(),
        };
        Ok(format!(
            "Outcome(account={}, service={}, action={}, status={}{error})",
            py_repr(py, self.account.as_str())?,
            py_repr(py, self.service.as_deref())?,
            py_repr(py, self.action)?,
            py_repr(py, self.status)?
        ))
    }
}

/// Every outcome of `Plan.apply()`, the counts, and the seconds it took.
#[pyclass(module = "tscb", frozen, get_all)]
pub struct ApplyReport {
    /// One `Outcome` per change, then one per account whose listing failed.
    outcomes: Py<PyTuple>,
    created: usize,
    updated: usize,
    deleted: usize,
    unchanged: usize,
    failed: usize,
    not_run: usize,
    /// Seconds from the first request to the last answer.
    elapsed: f64,
}

#[pymethods]
impl ApplyReport {
    fn __repr__(&self) -> String {
        format!(
            "ApplyReport(created={}, updated={}, deleted={}, unchanged={}, failed={}, not_run={}, elapsed={:.3})",
            self.created, self.updated, self.deleted, self.unchanged, self.failed, self.not_run, self.elapsed
        )
    }
}
