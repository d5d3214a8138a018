"""`tscb.Client.from_env(**overrides)`: the THINGSPACE_* variables reach the client, the keywords
win over them, one that is not UTF-8 is refused by name, an empty one is an error (never a silent
switch of sign-in), and none at all says which to set."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

import tscb
from conftest import ACCOUNT, SIM_CREDENTIALS, Sim, count

NAMES = [
    "THINGSPACE_CLIENT_ID",
    "THINGSPACE_CLIENT_SECRET",
    "THINGSPACE_LOGIN_USERNAME",
    "THINGSPACE_LOGIN_PASSWORD",
    "THINGSPACE_BEARER_TOKEN",
    "THINGSPACE_SESSION_TOKEN",
    "THINGSPACE_BASE_URL",
    "THINGSPACE_CA_FILE",
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


def test_the_variables_reach_the_client(sim: Sim, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("THINGSPACE_BASE_URL", sim.base_url)
    clean_env.setenv("THINGSPACE_BEARER_TOKEN", SIM_CREDENTIALS["bearer token"])
    clean_env.setenv("THINGSPACE_SESSION_TOKEN", SIM_CREDENTIALS["session token"])
    with tscb.Client.from_env() as client:
        assert client.base_url == sim.base_url
        client.list_callbacks(ACCOUNT)
    sent = sim.requests()
    assert len(sent) == 1
    # Sign-in credentials instead: the client signs in with them.
    for name in ("THINGSPACE_BEARER_TOKEN", "THINGSPACE_SESSION_TOKEN"):
        clean_env.delenv(name)
    clean_env.setenv("THINGSPACE_CLIENT_ID", SIM_CREDENTIALS["client id"])
    clean_env.setenv("THINGSPACE_CLIENT_SECRET", SIM_CREDENTIALS["client secret"])
    clean_env.setenv("THINGSPACE_LOGIN_USERNAME", SIM_CREDENTIALS["login username"])
    clean_env.setenv("THINGSPACE_LOGIN_PASSWORD", SIM_CREDENTIALS["login password"])
    with tscb.Client.from_env(timeout=10.0) as client:
        client.login()
    assert count(sim, "/session/login") == 1


def test_the_keywords_win_over_the_variables(sim: Sim, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("THINGSPACE_BASE_URL", "http://127.0.0.1:1/api")
    clean_env.setenv("THINGSPACE_BEARER_TOKEN", "not-this-one")
    with tscb.Client.from_env(
        base_url=sim.base_url,
        bearer_token=SIM_CREDENTIALS["bearer token"],
        session_token=SIM_CREDENTIALS["session token"],
    ) as client:
        assert client.base_url == sim.base_url
        client.list_callbacks(ACCOUNT)
    # Credentials given only as keywords are enough.
    with tscb.Client.from_env(bearer_token="b", session_token="s") as client:
        assert client.base_url == "http://127.0.0.1:1/api"


def test_no_credentials_names_the_variables(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(tscb.InvalidInputError) as e:
        tscb.Client.from_env(base_url="http://127.0.0.1:1/api")
    assert e.value.error_code == "Tscb.INPUT_INVALID.BearerToken.Missing"
    for name in NAMES[:6]:
        assert name in str(e.value)


def test_an_empty_variable_is_an_error(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("THINGSPACE_CLIENT_ID", "id")
    clean_env.setenv("THINGSPACE_CLIENT_SECRET", "secret")
    clean_env.setenv("THINGSPACE_LOGIN_USERNAME", "user")
    clean_env.setenv("THINGSPACE_LOGIN_PASSWORD", "pw")
    clean_env.setenv("THINGSPACE_BEARER_TOKEN", "")
    with pytest.raises(tscb.InvalidInputError) as e:
        tscb.Client.from_env()
    assert e.value.error_code == "Tscb.INPUT_INVALID.BearerToken.Missing"


@pytest.mark.skipif(not os.supports_bytes_environ, reason="the environment holds only text here")
def test_a_variable_that_is_not_utf8_is_named_and_not_shown(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("THINGSPACE_BEARER_TOKEN", "b")
    clean_env.setenv("THINGSPACE_SESSION_TOKEN", "s")
    for name in NAMES:
        with pytest.MonkeyPatch.context() as m:
            m.setitem(os.environb, name.encode(), b"secret-\xff")
            with pytest.raises(tscb.InvalidInputError) as e:
                tscb.Client.from_env()
        assert e.value.error_code == "Tscb.INPUT_INVALID.Argument.Encoding"
        assert name in str(e.value)
        assert "secret-" not in str(e.value)
