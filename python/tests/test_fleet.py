"""tscb.plan and Plan.apply: the desired state as plain dicts, one sign-in for every worker,
failures that stay with their account, results that hold no password, the GIL released."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

import tscb
from conftest import LISTENER, Sim, count, signing_in

OTHER = "https://other.example.com/thingspace"
LISTENER_PW = "fleet-SECRET-7c1d"


def accounts(sim: Sim, n: int) -> list[str]:
    """n new accounts with unique names (the simulator is shared between tests)."""
    prefix = uuid.uuid4().hex[:8]
    names = [f"{prefix}-{i:04}" for i in range(n)]
    for name in names:
        sim.admin("POST", "/__admin/accounts", {"name": name})
    return names


def both_services(names: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "defaults": {"url": LISTENER, "services": ["CarrierService", "DeviceUsage"], **extra},
        "account": [{"name": name} for name in names],
    }


def one_service(name: str, url: str) -> dict[str, Any]:
    return {"account": [{"name": name, "services": ["CarrierService"], "url": url}]}


def test_create_update_prune_then_nothing_to_do(
    sim: Sim, client: tscb.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    (one, two) = accounts(sim, 2)
    client.register_callback(one, "CarrierService", OTHER)
    client.register_callback(one, "SMSService", LISTENER)
    monkeypatch.setenv("TSCB_TEST_LISTENER_PW", LISTENER_PW)
    desired = {
        "defaults": {"url": LISTENER, "services": ["CarrierService"]},
        "account": [
            {"name": one, "password_env": "TSCB_TEST_LISTENER_PW"},
            {"name": two, "username": "fleet", "password_env": None},
        ],
    }
    plan = tscb.plan(client, desired, prune=True)
    assert [(c.account, c.service, c.action) for c in plan.changes] == [
        (one, "CarrierService", "update"),
        (one, "SMSService", "delete"),
        (two, "CarrierService", "create"),
    ]
    assert plan.changes[0].differences == ("url", "password")
    assert plan.changes[0].current_url == OTHER
    assert repr(plan.changes[0]) == (
        f"Change(account={one!r}, service='CarrierService', action='update', differences=('url', 'password'))"
    )
    assert plan.has_changes and plan.failures == ()
    report = plan.apply(concurrency=2)
    assert (report.created, report.updated, report.deleted, report.failed) == (1, 1, 1, 0)
    assert all(o.status == "done" for o in report.outcomes)
    for text in (repr(plan), repr(plan.changes), repr(report), repr(report.outcomes)):
        assert LISTENER_PW not in text
    listed = client.list_callbacks(one)
    assert [(c.service_name, c.password) for c in listed] == [("CarrierService", LISTENER_PW)]

    again = tscb.plan(client, desired, prune=True)
    assert not again.has_changes
    assert {c.action for c in again.changes} == {"unchanged"}
    sim.admin("DELETE", "/__admin/requests")
    assert again.apply().unchanged == 2
    assert sim.requests() == []


def test_one_token_request_and_one_login(fresh_sim: Sim) -> None:
    sim = fresh_sim
    names = accounts(sim, 12)
    with signing_in(sim.base_url) as client:
        report = tscb.plan(client, both_services(names), concurrency=8).apply(concurrency=8)
    assert report.created == 24
    assert (count(sim, "/oauth2/token"), count(sim, "/session/login")) == (1, 1)


def test_a_refused_login_is_sent_once(fresh_sim: Sim) -> None:
    sim = fresh_sim
    names = accounts(sim, 10)
    client = signing_in(sim.base_url, password="wrong")
    with pytest.raises(tscb.AuthError) as caught:
        tscb.plan(client, both_services(names), concurrency=8)
    assert caught.value.error_code == "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized"
    assert count(sim, "/session/login") == 1
    assert not any("/callbacks/" in r["path"] for r in sim.requests())


def test_one_failing_account_does_not_stop_the_others(sim: Sim, client: tscb.Client) -> None:
    names = accounts(sim, 3)
    desired = both_services(names)
    desired["account"].append({"name": "NoSuchAccount", "services": ["CarrierService"]})
    plan = tscb.plan(client, desired)
    assert [(f.account, f.status, f.error_code) for f in plan.failures] == [
        ("NoSuchAccount", "failed", "UnifiedWebService.REQUEST_FAILED.AccountNotFound")
    ]
    report = plan.apply()
    assert (report.created, report.failed) == (6, 1)
    assert report.outcomes[-1].http_status == 400


def test_bad_values_send_nothing_and_bad_shapes_are_type_errors(sim: Sim, client: tscb.Client) -> None:
    (name,) = accounts(sim, 1)
    sim.admin("DELETE", "/__admin/requests")
    with pytest.raises(tscb.InvalidInputError) as caught:
        tscb.plan(client, one_service(name, "https://x.example.com:8443/cb"))
    assert caught.value.error_code == "Tscb.INPUT_INVALID.CallbackUrl.Port"
    assert name in caught.value.error_message
    with pytest.raises(tscb.InvalidInputError) as caught:
        tscb.plan(client, {"account": [{"name": name, "services": [], "url": LISTENER}]}, concurrency=0)
    assert caught.value.error_code == "Tscb.INPUT_INVALID.Fleet.Option"
    # A missing url is a value the schema needs, refused by core as in a fleet file.
    with pytest.raises(tscb.InvalidInputError) as caught:
        tscb.plan(client, {"account": [{"name": name, "services": ["CarrierService"]}]})
    assert caught.value.error_code == "Tscb.INPUT_INVALID.Fleet.File"
    assert "no url" in caught.value.error_message
    bad_shapes: list[Any] = [
        [name],
        {name: "CarrierService"},
        {name: [{"service": "CarrierService", "url": LISTENER}]},
        {"account": [{"name": name, "services": "CarrierService", "url": LISTENER}]},
        {"account": [{"services": ["CarrierService"], "url": LISTENER}]},
        {"account": [{"name": name, "services": ["CarrierService"], "url": LISTENER, "pasword_env": "x"}]},
        {"account": [{"name": name, "services": ["CarrierService"], "url": 7}]},
        {"account": [{"name": name, "services": [("CarrierService", LISTENER)], "url": LISTENER}]},
    ]
    for shape in bad_shapes:
        with pytest.raises(TypeError):
            tscb.plan(client, shape)
    assert sim.requests() == []


def test_apply_releases_the_gil(sim: Sim, client: tscb.Client) -> None:
    names = accounts(sim, 4)
    plan = tscb.plan(client, both_services(names))
    sim.fault("delay", method="POST", path_contains="/callbacks/", ms=100)
    ticks = 0
    done = threading.Event()

    def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            done.wait(0.01)

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        report = plan.apply(concurrency=1)
    finally:
        done.set()
        thread.join()
    assert report.created == 8
    # Eight registers of 100 ms each: a thread blocked by the GIL would not have ticked at all.
    assert ticks >= 10


def test_applying_with_a_closed_client_fails_clearly(sim: Sim) -> None:
    (name,) = accounts(sim, 1)
    client = sim.client()
    plan = tscb.plan(client, one_service(name, LISTENER))
    client.close()
    with pytest.raises(tscb.InvalidInputError) as caught:
        plan.apply()
    assert caught.value.error_code == "Tscb.INPUT_INVALID.Client.Closed"
