"""Every method's success path, and the exact request it sends."""

from __future__ import annotations

import json
import uuid

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, SIM_CREDENTIALS, Sim


def fresh_account(sim: Sim) -> str:
    name = f"Py-{uuid.uuid4().hex[:12]}"
    sim.admin("POST", "/__admin/accounts", {"name": name})
    return name


def test_register_sends_the_documented_request(sim: Sim, client: tscb.Client) -> None:
    ack = client.register_callback(ACCOUNT, "CarrierService", LISTENER, username="fleet-7", password="echo-pw")
    assert ack.account_name == ACCOUNT
    assert ack.service_name == "CarrierService"
    [request] = sim.requests()
    assert request["method"] == "POST"
    assert request["path"] == "/api/m2m/v1/callbacks/TestAccount-2"
    headers = {name: value for name, value in request["headers"]}
    assert headers["authorization"] == f"Bearer {SIM_CREDENTIALS['bearer token']}"
    assert headers["vz-m2m-token"] == SIM_CREDENTIALS["session token"]
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"] == f"tscb/{tscb.__version__}"
    assert json.loads(request["body"]) == {
        "name": "CarrierService",
        "url": LISTENER,
        "username": "fleet-7",
        "password": "echo-pw",
    }


def test_unset_optional_fields_are_left_out(sim: Sim, client: tscb.Client) -> None:
    client.register_callback(ACCOUNT, "DeviceUsage", "http://203.0.113.9:50559/cb")
    assert json.loads(sim.requests()[0]["body"]) == {"name": "DeviceUsage", "url": "http://203.0.113.9:50559/cb"}


def test_list_and_deregister(sim: Sim, client: tscb.Client) -> None:
    account = fresh_account(sim)
    assert client.list_callbacks(account) == []
    client.register_callback(account, "CarrierService", LISTENER, username="u", password="p")
    client.register_callback(account, "DeviceUsage", "https://other.example.com/x")
    listed = client.list_callbacks(account)
    assert isinstance(listed, list)
    by_service = {cb.service_name: cb for cb in listed}
    assert set(by_service) == {"CarrierService", "DeviceUsage"}
    carrier = by_service["CarrierService"]
    assert (carrier.account_name, carrier.url, carrier.username, carrier.password) == (account, LISTENER, "u", "p")
    usage = by_service["DeviceUsage"]
    assert (usage.username, usage.password) == (None, None)

    ack = client.deregister_callback(account, "CarrierService")
    assert (ack.account_name, ack.service_name) == (account, "CarrierService")
    assert sim.requests()[-1]["method"] == "DELETE"
    assert sim.requests()[-1]["path"] == f"/api/m2m/v1/callbacks/{account}/name/CarrierService"
    assert [cb.service_name for cb in client.list_callbacks(account)] == ["DeviceUsage"]


def test_account_names_stay_one_path_segment(sim: Sim, client: tscb.Client) -> None:
    account = "a/b?c#d%e f"
    sim.admin("POST", "/__admin/accounts", {"name": account})
    ack = client.register_callback(account, "CarrierService", LISTENER)
    assert ack.account_name == account
    assert sim.requests()[-1]["path"] == "/api/m2m/v1/callbacks/a%2Fb%3Fc%23d%25e%20f"


def test_results_are_immutable_values(client: tscb.Client) -> None:
    a = client.register_callback(ACCOUNT, "CarrierService", LISTENER)
    b = client.register_callback(ACCOUNT, "CarrierService", LISTENER)
    assert a == b and hash(a) == hash(b)
    assert a != client.register_callback(ACCOUNT, "DeviceUsage", LISTENER)
    assert repr(a) == "CallbackAck(account_name='TestAccount-2', service_name='CarrierService')"
    with pytest.raises(AttributeError):
        a.account_name = "other"  # type: ignore[misc]
    [listed, *_] = client.list_callbacks(ACCOUNT)
    with pytest.raises(AttributeError):
        listed.password = "x"  # type: ignore[misc]


def test_close_and_context_manager(sim: Sim) -> None:
    with sim.client() as client:
        client.list_callbacks(ACCOUNT)
    assert "closed=True" in repr(client)
    with pytest.raises(tscb.InvalidInputError) as info:
        client.list_callbacks(ACCOUNT)
    assert info.value.error_code == "Tscb.INPUT_INVALID.Client.Closed"
    client.close()  # closing twice is harmless


def test_module_surface() -> None:
    assert "CarrierService" in tscb.SERVICE_NAMES
    assert isinstance(tscb.SERVICE_NAMES, tuple)
    assert "Tscb.INPUT_INVALID.Password.TooLong" in tscb.ERROR_CODES
    assert tscb.__version__.count(".") == 2
    for name in tscb.__all__:
        assert hasattr(tscb, name), name
    assert tscb.Client.__module__ == "tscb"
    assert tscb.TscbError.__module__ == "tscb"
