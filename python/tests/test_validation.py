"""Every validation rule raises InvalidInputError (also a ValueError) with its own code, and
nothing is sent. Wrong types raise TypeError."""

from __future__ import annotations

import math
from typing import Any, Optional

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, Sim

CASES: list[tuple[str, str, str, Optional[str], Optional[str], str]] = [
    ("", "CarrierService", LISTENER, None, None, "Tscb.INPUT_INVALID.AccountName.Empty"),
    ("a\nb", "CarrierService", LISTENER, None, None, "Tscb.INPUT_INVALID.AccountName.InvalidCharacter"),
    ("a\0b", "CarrierService", LISTENER, None, None, "Tscb.INPUT_INVALID.AccountName.InvalidCharacter"),
    ("..", "CarrierService", LISTENER, None, None, "Tscb.INPUT_INVALID.AccountName.DotSegment"),
    (ACCOUNT, "", LISTENER, None, None, "Tscb.INPUT_INVALID.ServiceName.Empty"),
    (ACCOUNT, "Carrier Service", LISTENER, None, None, "Tscb.INPUT_INVALID.ServiceName.InvalidCharacter"),
    (ACCOUNT, "Carrier\0", LISTENER, None, None, "Tscb.INPUT_INVALID.ServiceName.InvalidCharacter"),
    (ACCOUNT, "CarrierService", "listener.example.com", None, None, "Tscb.INPUT_INVALID.CallbackUrl.Malformed"),
    (ACCOUNT, "CarrierService", "https://a.example/\0", None, None, "Tscb.INPUT_INVALID.CallbackUrl.Malformed"),
    (ACCOUNT, "CarrierService", "ftp://a.example/cb", None, None, "Tscb.INPUT_INVALID.CallbackUrl.Scheme"),
    (ACCOUNT, "CarrierService", "https://a.example:8443/", None, None, "Tscb.INPUT_INVALID.CallbackUrl.Port"),
    (ACCOUNT, "CarrierService", LISTENER, "u" * 41, None, "Tscb.INPUT_INVALID.Username.TooLong"),
    (ACCOUNT, "CarrierService", LISTENER, "a\0b", None, "Tscb.INPUT_INVALID.Username.InvalidCharacter"),
    (ACCOUNT, "CarrierService", LISTENER, None, "p" * 41, "Tscb.INPUT_INVALID.Password.TooLong"),
    (ACCOUNT, "CarrierService", LISTENER, None, "a\r\nb", "Tscb.INPUT_INVALID.Password.InvalidCharacter"),
]


@pytest.mark.parametrize("account,service,url,username,password,code", CASES)
def test_each_rule(
    sim: Sim,
    client: tscb.Client,
    account: str,
    service: str,
    url: str,
    username: Optional[str],
    password: Optional[str],
    code: str,
) -> None:
    with pytest.raises(tscb.InvalidInputError) as info:
        client.register_callback(account, service, url, username=username, password=password)
    assert info.value.error_code == code
    assert info.value.http_status is None
    assert isinstance(info.value, ValueError)
    assert sim.requests() == []


def test_the_edges_are_accepted(client: tscb.Client) -> None:
    client.register_callback(ACCOUNT, "CarrierService", "http://h.example:28220/", username="ü" * 40, password="p" * 40)


def test_list_and_deregister_validate_too(sim: Sim, client: tscb.Client) -> None:
    with pytest.raises(tscb.InvalidInputError):
        client.list_callbacks("")
    with pytest.raises(tscb.InvalidInputError):
        client.deregister_callback(ACCOUNT, "a/b")
    assert sim.requests() == []


def test_the_port_check_can_be_turned_off(sim: Sim) -> None:
    with sim.client(check_callback_port=False) as client:
        client.register_callback(ACCOUNT, "CarrierService", "https://a.example:8443/cb")


@pytest.mark.parametrize(
    "kwargs,code",
    [
        ({}, "Tscb.INPUT_INVALID.BearerToken.Missing"),
        ({"bearer_token": "b"}, "Tscb.INPUT_INVALID.SessionToken.Missing"),
        ({"bearer_token": "b\r\nX: y", "session_token": "s"}, "Tscb.INPUT_INVALID.BearerToken.InvalidCharacter"),
        ({"bearer_token": "b", "session_token": "s\0"}, "Tscb.INPUT_INVALID.SessionToken.InvalidCharacter"),
        ({"bearer_token": "b", "session_token": "s", "base_url": "http://192.0.2.1/api"}, "Tscb.INPUT_INVALID.BaseUrl.Insecure"),
        ({"bearer_token": "b", "session_token": "s", "base_url": "nope"}, "Tscb.INPUT_INVALID.BaseUrl.Malformed"),
        ({"bearer_token": "b", "session_token": "s", "timeout": 0}, "Tscb.INPUT_INVALID.Timeout.Zero"),
        ({"bearer_token": "b", "session_token": "s", "timeout": -1}, "Tscb.INPUT_INVALID.Timeout.Invalid"),
        ({"bearer_token": "b", "session_token": "s", "connect_timeout": math.nan}, "Tscb.INPUT_INVALID.Timeout.Invalid"),
        ({"bearer_token": "b", "session_token": "s", "timeout": math.inf}, "Tscb.INPUT_INVALID.Timeout.Invalid"),
    ],
)
def test_the_client_checks_its_configuration(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(tscb.InvalidInputError) as info:
        tscb.Client(**kwargs)
    assert info.value.error_code == code


def test_production_is_the_default() -> None:
    assert tscb.Client(bearer_token="b", session_token="s").base_url == "https://thingspace.verizon.com/api"


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((1, "CarrierService", LISTENER), {}),
        ((ACCOUNT, None, LISTENER), {}),
        ((ACCOUNT, "CarrierService", b"https://x.example"), {}),
        ((ACCOUNT, "CarrierService", LISTENER), {"username": 5}),
        ((ACCOUNT, "CarrierService", LISTENER), {"password": ["p"]}),
    ],
)
def test_wrong_types_raise_type_error(sim: Sim, client: tscb.Client, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        client.register_callback(*args, **kwargs)
    assert sim.requests() == []


def test_wrong_types_in_the_constructor() -> None:
    with pytest.raises(TypeError):
        tscb.Client(bearer_token=123, session_token="s")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tscb.Client(bearer_token="b", session_token="s", timeout="30")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tscb.Client("b", "s")  # type: ignore[misc]


@pytest.mark.parametrize("position", range(5))
def test_a_lone_surrogate_is_invalid_input(sim: Sim, client: tscb.Client, position: int) -> None:
    args: list[Any] = [ACCOUNT, "CarrierService", LISTENER, "user", "pw"]
    args[position] = "bad\ud800"
    with pytest.raises(tscb.InvalidInputError) as info:
        client.register_callback(args[0], args[1], args[2], username=args[3], password=args[4])
    assert info.value.error_code == "Tscb.INPUT_INVALID.Argument.Encoding"
    assert sim.requests() == []


def test_insecure_http_only_when_asked() -> None:
    with pytest.raises(tscb.InvalidInputError):
        tscb.Client(bearer_token="b", session_token="s", base_url="http://192.0.2.1/api")
    client = tscb.Client(bearer_token="b", session_token="s", base_url="http://192.0.2.1/api", allow_insecure_http=True)
    assert client.base_url == "http://192.0.2.1/api"


def test_a_too_long_timeout_is_invalid_input() -> None:
    with pytest.raises(tscb.InvalidInputError) as info:
        tscb.Client(bearer_token="b", session_token="s", timeout=1e19)
    assert info.value.error_code == "Tscb.INPUT_INVALID.Timeout.Invalid"
