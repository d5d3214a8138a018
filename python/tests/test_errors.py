"""Server and network failures raise the right class with the right attributes."""

from __future__ import annotations

import builtins
import socket

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, Sim


def register(client: tscb.Client) -> tscb.CallbackAck:
    return client.register_callback(ACCOUNT, "CarrierService", LISTENER)


def test_a_400_error_body_passes_through(sim: Sim, client: tscb.Client) -> None:
    sim.fault(
        "respond",
        times=1,
        status=400,
        content_type="application/json",
        body='{"errorCode":"UnifiedWebService.REQUEST_FAILED.UnexpectedError","errorMessage":"Something went wrong"}',
    )
    with pytest.raises(tscb.ApiError) as info:
        register(client)
    e = info.value
    assert e.error_code == "UnifiedWebService.REQUEST_FAILED.UnexpectedError"
    assert e.error_message == "Something went wrong"
    assert e.http_status == 400
    assert (e.field, e.sent) == (None, "yes")  # the service answered
    assert str(e) == "UnifiedWebService.REQUEST_FAILED.UnexpectedError: Something went wrong"
    assert isinstance(e, tscb.TscbError)


def test_the_simulators_own_error(client: tscb.Client) -> None:
    with pytest.raises(tscb.ApiError) as info:
        client.list_callbacks("NoSuchAccount")
    assert info.value.error_code == "UnifiedWebService.REQUEST_FAILED.AccountNotFound"
    assert info.value.http_status == 400


def test_a_401_gateway_fault_is_an_auth_error(sim: Sim) -> None:
    with sim.client(bearer_token="wrong-token") as client:
        with pytest.raises(tscb.AuthError) as info:
            register(client)
    assert info.value.error_code == "900901"
    assert info.value.http_status == 401
    assert info.value.error_message.startswith("Invalid Credentials")


def test_an_expired_session_is_an_auth_error(sim: Sim, client: tscb.Client) -> None:
    sim.fault(
        "respond",
        times=1,
        status=400,
        content_type="application/json",
        body='{"errorCode":"UnifiedWebService.REQUEST_FAILED.SessionToken.Expired","errorMessage":"expired"}',
    )
    with pytest.raises(tscb.AuthError) as info:
        register(client)
    assert info.value.error_code.endswith("SessionToken.Expired")


def test_a_500_html_page(sim: Sim, client: tscb.Client) -> None:
    sim.fault("respond", times=1, status=500, content_type="text/html", body="<html><h1>Internal Error</h1></html>")
    with pytest.raises(tscb.ApiError) as info:
        register(client)
    assert info.value.error_code == "Tscb.REQUEST_FAILED.HttpStatus"
    assert info.value.http_status == 500
    assert "<html><h1>Internal Error</h1></html>" in info.value.error_message


def test_an_empty_503(sim: Sim, client: tscb.Client) -> None:
    sim.fault("respond", times=1, status=503)
    with pytest.raises(tscb.ApiError) as info:
        register(client)
    assert info.value.error_code == "Tscb.REQUEST_FAILED.HttpStatus"
    assert info.value.http_status == 503


def test_a_200_that_is_not_the_documented_json(sim: Sim, client: tscb.Client) -> None:
    sim.fault("respond", times=1, status=200, content_type="text/html", body="<html>OK</html>")
    with pytest.raises(tscb.InvalidResponseError) as info:
        register(client)
    assert info.value.error_code == "Tscb.RESPONSE_INVALID.NotJson"
    assert info.value.http_status == 200


def test_a_redirect_is_not_followed(sim: Sim, client: tscb.Client) -> None:
    sim.fault("redirect", times=1, status=302, location="http://127.0.0.1:9/elsewhere")
    with pytest.raises(tscb.InvalidResponseError) as info:
        register(client)
    assert info.value.error_code == "Tscb.RESPONSE_INVALID.Redirect"
    assert info.value.http_status == 302


def test_a_reset_connection(sim: Sim, client: tscb.Client) -> None:
    sim.fault("reset", times=1)
    with pytest.raises(tscb.TransportError) as info:
        register(client)
    assert info.value.error_code == "Tscb.REQUEST_FAILED.Transport"
    assert info.value.http_status is None


def test_a_refused_connection() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = tscb.Client(bearer_token="b", session_token="s", base_url=f"http://127.0.0.1:{port}/api")
    with pytest.raises(tscb.TransportError) as info:
        client.list_callbacks(ACCOUNT)
    assert info.value.error_code == "Tscb.REQUEST_FAILED.Connect"
    assert info.value.http_status is None


def test_timeout_reaches_the_client_and_is_a_timeout_error(sim: Sim) -> None:
    # When it fires is core's to test (core/tests/errors.rs); here, that `timeout=` arrives and
    # what the caller catches.
    sim.fault("delay", times=1, ms=10_000)
    with sim.client(timeout=0.3) as client:
        with pytest.raises(tscb.TimeoutError) as info:
            register(client)
    assert isinstance(info.value, builtins.TimeoutError)
    assert info.value.error_code == "Tscb.REQUEST_FAILED.Timeout"
    assert info.value.http_status is None


def test_the_exception_hierarchy() -> None:
    for cls in (
        tscb.InvalidInputError,
        tscb.ApiError,
        tscb.AuthError,
        tscb.TransportError,
        tscb.TimeoutError,
        tscb.InvalidResponseError,
    ):
        assert issubclass(cls, tscb.TscbError)
    assert issubclass(tscb.InvalidInputError, ValueError)
    assert issubclass(tscb.TimeoutError, builtins.TimeoutError)
    assert issubclass(tscb.TscbError, Exception)


def test_an_invalid_input_error_names_its_field_and_that_nothing_was_sent(client: tscb.Client) -> None:
    with pytest.raises(tscb.InvalidInputError) as info:
        client.list_callbacks("..")
    assert info.value.error_code == "Tscb.INPUT_INVALID.AccountName.DotSegment"
    assert (info.value.field, info.value.sent) == ("AccountName", "no")
