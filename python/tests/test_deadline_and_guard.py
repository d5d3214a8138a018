"""One deadline per call (`call_timeout=`), and refused logins remembered across clients in a
login guard file (`login_guard_file=`): each option reaches the client and each outcome its
exception. How long a call takes and what the guard file looks like on disk are core's experiments
(core/tests/deadline.rs, core/tests/guard.rs), not repeated here."""

from __future__ import annotations

from pathlib import Path

import pytest

import tscb
from conftest import ACCOUNT, Sim, count, signing_in


def test_call_timeout_reaches_the_client(fresh_sim: Sim) -> None:
    # A sign-in slower than the call may take, but not slower than one request may: only the
    # call timeout can end it, so a TimeoutError shows the option arrived.
    sim = fresh_sim
    sim.fault("delay", ms=5000, times=1, path_contains="/oauth2/token")
    with signing_in(sim.base_url, call_timeout=1.0) as client:
        with pytest.raises(tscb.TimeoutError) as caught:
            client.list_callbacks(ACCOUNT)
    assert caught.value.error_code == "Tscb.REQUEST_FAILED.Timeout"


def test_a_retry_after_longer_than_what_is_left_is_the_services_error(sim: Sim) -> None:
    # Waiting would have ended in a TimeoutError at the deadline: the 503 itself is the answer.
    sim.fault("respond", status=503, times=1, path_contains="/callbacks/", headers={"Retry-After": "5"})
    with sim.client(call_timeout=2.0) as client:
        with pytest.raises(tscb.ApiError) as caught:
            client.list_callbacks(ACCOUNT)
    assert caught.value.http_status == 503
    assert count(sim, "/callbacks/" + ACCOUNT) == 1


def test_call_timeout_is_checked() -> None:
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(tscb.InvalidInputError):
            tscb.Client(bearer_token="b", session_token="s", call_timeout=bad)


def test_a_refused_login_is_not_sent_again_by_a_new_client(sim: Sim, tmp_path: Path) -> None:
    guard = tmp_path / "state" / "refused-logins"
    with signing_in(sim.base_url, "wrong-password", login_guard_file=guard) as client:
        with pytest.raises(tscb.AuthError) as first:
            client.login()
        assert first.value.error_code == "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized"
    with signing_in(sim.base_url, "wrong-password", login_guard_file=str(guard)) as client:
        with pytest.raises(tscb.AuthError) as again:
            client.login()
        assert again.value.error_code == "Tscb.REQUEST_FAILED.LoginBlocked"
        assert "wrong-password" not in str(again.value)
        assert client.login_guard_warning() is None
    assert count(sim, "/session/login") == 1
    # Other credentials are not blocked.
    with signing_in(sim.base_url, login_guard_file=guard) as client:
        client.login()


def test_a_corrupt_guard_file_is_reported_once_and_never_stops_a_login(sim: Sim, tmp_path: Path) -> None:
    guard = tmp_path / "refused-logins"
    guard.write_text("not a guard file\n")
    with signing_in(sim.base_url, login_guard_file=guard) as client:
        client.login()
        warning = client.login_guard_warning()
        assert warning is not None and "not in the expected form" in warning
        assert client.login_guard_warning() is None


def test_ignore_login_guard_sends_a_refused_login_again(sim: Sim, tmp_path: Path) -> None:
    guard = tmp_path / "refused-logins"
    with signing_in(sim.base_url, "wrong-password", login_guard_file=guard) as client:
        with pytest.raises(tscb.AuthError):
            client.login()
    with signing_in(sim.base_url, "wrong-password", login_guard_file=guard) as client:
        with pytest.raises(tscb.AuthError) as blocked:
            client.login()
        assert blocked.value.error_code == "Tscb.REQUEST_FAILED.LoginBlocked"
        assert "ignore_login_guard" in str(blocked.value) and "--" not in str(blocked.value)
    with signing_in(sim.base_url, "wrong-password", login_guard_file=guard, ignore_login_guard=True) as client:
        with pytest.raises(tscb.AuthError) as sent:
            client.login()
        assert sent.value.error_code == "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized"
    assert count(sim, "/session/login") == 2
