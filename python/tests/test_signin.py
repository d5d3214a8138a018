"""Signing in with credentials: a session expiring mid-run is renewed transparently; a bad
password fails with one login request and a clear AuthError."""

from __future__ import annotations

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, Sim, count, signing_in


def test_a_session_expiring_mid_run_is_renewed(fresh_sim: Sim) -> None:
    sim = fresh_sim
    with signing_in(sim.base_url) as client:
        client.list_callbacks(ACCOUNT)
        assert (count(sim, "/oauth2/token"), count(sim, "/session/login")) == (1, 1)
        sim.admin("POST", "/__admin/expire-sessions")
        ack = client.register_callback(ACCOUNT, "CarrierService", LISTENER)
        assert ack.service_name == "CarrierService"
        assert count(sim, "/session/login") == 2
        client.logout()
        assert count(sim, "/session/logout") == 1
        client.deregister_callback(ACCOUNT, "CarrierService")
        assert count(sim, "/session/login") == 3


def test_a_bad_password_sends_one_login_and_raises_auth_error(sim: Sim) -> None:
    with signing_in(sim.base_url, password="wrong-password") as client:
        for _ in range(3):
            with pytest.raises(tscb.AuthError) as info:
                client.list_callbacks(ACCOUNT)
            assert info.value.error_code == "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized"
            assert info.value.http_status == 400
            assert "wrong-password" not in str(info.value)
        with pytest.raises(tscb.AuthError):
            client.login()
    assert count(sim, "/session/login") == 1


def test_retry_settings_reach_the_client(sim: Sim) -> None:
    sim.fault("respond", times=1, method="POST", status=503)
    with sim.client(max_retries=1, retry_register_when_busy=True) as client:
        client.register_callback(ACCOUNT, "CarrierService", LISTENER)
    assert len(sim.requests()) == 2
    sim.reset()
    sim.fault("respond", status=503, method="GET")
    with sim.client(max_retries=0) as client:
        with pytest.raises(tscb.ApiError):
            client.list_callbacks(ACCOUNT)
    assert len(sim.requests()) == 1


def test_login_checks_credentials_up_front(sim: Sim) -> None:
    with signing_in(sim.base_url) as client:
        client.login()
        assert count(sim, "/session/login") == 1


def test_half_given_credentials_are_invalid_input() -> None:
    with pytest.raises(tscb.InvalidInputError) as info:
        tscb.Client(client_id="id", login_username="u", login_password="p")
    assert info.value.error_code == "Tscb.INPUT_INVALID.ClientSecret.Invalid"
    with pytest.raises(tscb.InvalidInputError) as info:
        tscb.Client(bearer_token="b", login_username="u")
    assert info.value.error_code == "Tscb.INPUT_INVALID.LoginPassword.Invalid"


def test_credentials_never_show_in_repr(sim: Sim) -> None:
    client = tscb.Client(
        client_id="id", client_secret="CLIENT-SECRET-9", login_username="u", login_password="LOGIN-PW-8", base_url=sim.base_url
    )
    assert "CLIENT-SECRET-9" not in repr(client) and "LOGIN-PW-8" not in repr(client)
