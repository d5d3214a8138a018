"""Every string argument of every call refuses a lone surrogate with InvalidInputError
(Argument.Encoding), and secrets that a server echoes back, in any escaping, never show in an
exception's str, repr or attributes."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, SIM_CREDENTIALS, Sim, signing_in

BAD = "bad\ud800"
CONSTRUCTOR_ARGS = [
    "bearer_token",
    "session_token",
    "client_id",
    "client_secret",
    "login_username",
    "login_password",
    "base_url",
    "user_agent",
    "proxy",
]


@pytest.mark.parametrize("name", CONSTRUCTOR_ARGS)
def test_every_constructor_string_refuses_a_lone_surrogate(sim: Sim, name: str) -> None:
    options: dict[str, Any] = {"bearer_token": "b", "session_token": "s", "base_url": sim.base_url, name: BAD}
    with pytest.raises(tscb.InvalidInputError) as info:
        tscb.Client(**options)
    assert info.value.error_code == "Tscb.INPUT_INVALID.Argument.Encoding"
    assert BAD not in str(info.value) and "bad" not in str(info.value)


CALLS: list[tuple[str, Callable[[tscb.Client], object]]] = [
    ("list account", lambda c: c.list_callbacks(BAD)),
    ("deregister account", lambda c: c.deregister_callback(BAD, "CarrierService")),
    ("deregister service_name", lambda c: c.deregister_callback(ACCOUNT, BAD)),
    ("register account", lambda c: c.register_callback(BAD, "CarrierService", LISTENER)),
    ("register service_name", lambda c: c.register_callback(ACCOUNT, BAD, LISTENER)),
    ("register url", lambda c: c.register_callback(ACCOUNT, "CarrierService", BAD)),
    ("register username", lambda c: c.register_callback(ACCOUNT, "CarrierService", LISTENER, username=BAD)),
    ("register password", lambda c: c.register_callback(ACCOUNT, "CarrierService", LISTENER, password=BAD)),
]


@pytest.mark.parametrize("what,call", CALLS, ids=[what for what, _ in CALLS])
def test_every_call_string_refuses_a_lone_surrogate(
    sim: Sim, client: tscb.Client, what: str, call: Callable[[tscb.Client], object]
) -> None:
    with pytest.raises(tscb.InvalidInputError) as info:
        call(client)
    assert info.value.error_code == "Tscb.INPUT_INVALID.Argument.Encoding", what
    assert sim.requests() == []


TOKEN = 'tok"en\\SECRET/42'
PASSWORD = 'pa"ss\\wörd-SECRET'
FRESH = "LEAKED-TOKEN-0123456789"


def json_escaped(s: str) -> str:
    return json.dumps(s)[1:-1]


def u_escaped(s: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in s)


def forms(s: str) -> list[str]:
    return [s, json_escaped(s), json.dumps(s, ensure_ascii=True)[1:-1], u_escaped(s)]


def assert_clean(e: tscb.TscbError, secrets: list[str]) -> None:
    shown = [str(e), repr(e), e.error_code, e.error_message, repr(e.args)]
    for text in shown:
        for secret in secrets:
            for form in forms(secret):
                assert form not in text, text


@pytest.mark.parametrize(
    "status,body",
    [
        (400, f'{{"errorCode":"X.REQUEST_FAILED.Echo","errorMessage":"{json_escaped(TOKEN)} {json_escaped(PASSWORD)}"}}'),
        (401, f'{{"fault":{{"message":"{u_escaped(TOKEN)}","description":"{u_escaped(PASSWORD)}"}}}}'),
        (400, f'{{"error":"{json_escaped(TOKEN)}","error_description":"{PASSWORD}"}}'),
        (502, f"<html>{TOKEN} {json_escaped(PASSWORD)} {u_escaped(PASSWORD)}</html>"),
    ],
)
def test_secrets_echoed_in_any_escaping_are_redacted(sim: Sim, status: int, body: str) -> None:
    sim.fault("respond", times=1, status=status, content_type="application/json", body=body)
    client = tscb.Client(bearer_token=TOKEN, session_token="session-SECRET-7", base_url=sim.base_url, max_retries=0)
    with pytest.raises(tscb.TscbError) as info:
        client.register_callback(ACCOUNT, "CarrierService", LISTENER, password=PASSWORD)
    assert info.value.error_code.strip() != ""
    assert_clean(info.value, [TOKEN, PASSWORD])


@pytest.mark.parametrize(
    "path,body",
    [
        ("/oauth2/token", f'{{"access_token":"{FRESH}","expires_in":3600}}x'),
        ("/oauth2/token", f'\ufeff{{"access_token":"{FRESH}","expires_in":3600}}'),
        ("/session/login", f'{{"sessionToken":"{FRESH}"}}x'),
        ("/session/login", f'{{"sessionToken":["{FRESH}"]}}'),
    ],
)
def test_a_fresh_token_in_a_broken_sign_in_answer_is_never_shown(sim: Sim, path: str, body: str) -> None:
    sim.fault("respond", path_contains=path, status=200, content_type="application/json", body=body)
    client = signing_in(sim.base_url)
    with pytest.raises(tscb.InvalidResponseError) as info:
        client.login()
    assert_clean(info.value, [FRESH, SIM_CREDENTIALS["client secret"], SIM_CREDENTIALS["login password"]])
    # Never quoted: what is wrong is named instead.
    assert "sign-in answer" in info.value.error_message, info.value.error_message
