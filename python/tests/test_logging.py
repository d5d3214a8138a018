"""The library's records reach `logging` under the logger `tscb`, and never hold a secret."""

from __future__ import annotations

import logging

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, Sim, signing_in, sim_secrets

CALLBACK_PASSWORD = "echo-pw-5678"


def assert_records_of_a_call(caplog: pytest.LogCaptureFixture, account: str) -> None:
    """The records of a sign-in, a register, a list answered 503 then retried and a deregister
    on `account`: the sign-in and the retry at INFO, each request at DEBUG, no secret anywhere.
    The blocking and the async client's tests both hold their records to this."""
    records = [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    assert ("tscb", "INFO", "fetching an OAuth token") in records
    assert ("tscb", "INFO", "logging in (session login)") in records
    messages = [m for _, _, m in records]
    assert any(m.startswith(f"POST /api/m2m/v1/callbacks/{account} -> 200 in ") for m in messages), messages
    assert any(m.startswith(f"GET /api/m2m/v1/callbacks/{account} -> 503 ") for m in messages), messages
    retrying = f"retrying GET /api/m2m/v1/callbacks/{account} in "
    assert any(level == "INFO" and m.startswith(retrying) for _, level, m in records), records
    for _, _, message in records:
        for secret in [*sim_secrets(), CALLBACK_PASSWORD]:
            assert secret not in message


def test_requests_at_debug_and_decisions_at_info(sim: Sim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tscb")
    client = signing_in(sim.base_url)
    client.register_callback(ACCOUNT, "CarrierService", LISTENER, password=CALLBACK_PASSWORD)
    sim.fault("respond", status=503, times=1, method="GET")
    client.list_callbacks(ACCOUNT)
    client.deregister_callback(ACCOUNT, "CarrierService")
    assert_records_of_a_call(caplog, ACCOUNT)


def test_nothing_below_the_level_and_a_warning_for_a_login_not_sent(
    sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tscb")
    client = signing_in(sim.base_url, password="wrong-password-7")
    with pytest.raises(tscb.AuthError):
        client.login()
    with pytest.raises(tscb.AuthError):
        client.login()
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "tscb"]
    assert records and all(level == "WARNING" for level, _ in records), records
    assert records[0][1].startswith("login not sent (")
    assert all("wrong-password-7" not in m for _, m in records)
