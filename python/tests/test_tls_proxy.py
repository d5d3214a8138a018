"""HTTPS against `tscb-sim --tls` with `ca_file`, TLS failures, and proxies (`tscb-connect-proxy`).
Environment variables are set only for child Python processes, never in this one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

import tscb

from conftest import ACCOUNT, LISTENER, REPO, SIM_CREDENTIALS, read_banner, signing_in

BIN_DIR = Path(os.environ.get("TSCB_SIM_BIN", str(REPO / "target" / "release" / "tscb-sim"))).parent
PROXY_ENV = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE"]


@contextlib.contextmanager
def process(args: list[str], prefix: str) -> Iterator[str]:
    """Runs a helper binary until the block ends; yields the last word of its first line."""
    binary = BIN_DIR / args[0]
    if not binary.exists():
        subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "tscb-sim"], cwd=REPO, check=True)
    child = subprocess.Popen(
        [str(binary), *args[1:]], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert child.stdout is not None
    first = child.stdout.readline().strip()
    try:
        assert first.startswith(prefix), first
        if args[0] == "tscb-sim":
            read_banner(child.stdout)
        yield first.split()[-1]
    finally:
        child.terminate()
        child.wait(timeout=10)
        child.stdout.close()


@pytest.fixture(scope="module")
def tls_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    ca = tmp_path_factory.mktemp("tls") / "sim-ca.pem"
    with process(["tscb-sim", "--tls", "--ca-out", str(ca)], "listening on https://") as url:
        yield url, ca


@pytest.fixture(scope="module")
def open_proxy() -> Iterator[str]:
    with process(["tscb-connect-proxy"], "proxying on ") as url:
        yield url


@pytest.fixture(scope="module")
def auth_proxy() -> Iterator[str]:
    with process(["tscb-connect-proxy", "--credentials", "erin:pr0xy-s3cret"], "proxying on ") as url:
        yield url


@pytest.fixture(scope="module")
def refusing_proxy() -> Iterator[str]:
    with process(["tscb-connect-proxy", "--refuse", "403"], "proxying on ") as url:
        yield url


def tokens(url: str, **kwargs: object) -> tscb.Client:
    return tscb.Client(
        bearer_token=SIM_CREDENTIALS["bearer token"],
        session_token=SIM_CREDENTIALS["session token"],
        base_url=url,
        max_retries=0,
        **kwargs,
    )


def test_main_path_over_https_with_ca_file(tls_sim: tuple[str, Path]) -> None:
    url, ca = tls_sim
    with tokens(url, ca_file=str(ca), proxy="") as client:
        client.register_callback(ACCOUNT, "CarrierService", LISTENER)
        assert [cb.url for cb in client.list_callbacks(ACCOUNT)] == [LISTENER]
        client.deregister_callback(ACCOUNT, "CarrierService")
        assert client.list_callbacks(ACCOUNT) == []
    signed_in = signing_in(url, ca_file=ca)  # a Path works too
    signed_in.login()
    signed_in.logout()


def test_unknown_issuer_is_a_transport_error_that_says_what_to_do(tls_sim: tuple[str, Path]) -> None:
    url, _ = tls_sim
    with pytest.raises(tscb.TransportError) as info:
        tokens(url, proxy="").list_callbacks(ACCOUNT)
    assert info.value.error_code == "Tscb.REQUEST_FAILED.Tls"
    assert info.value.http_status is None
    assert "unknown issuer" in str(info.value) and "ca_file" in str(info.value)


def test_a_missing_ca_file_is_invalid_input(tls_sim: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = tls_sim
    with pytest.raises(tscb.InvalidInputError) as info:
        tokens(url, ca_file=str(tmp_path / "missing.pem"))
    assert info.value.error_code == "Tscb.INPUT_INVALID.CaFile.Invalid"
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    with pytest.raises(tscb.InvalidInputError, match="holds no certificate"):
        tokens(url, ca_file=not_pem)
    with pytest.raises(TypeError):
        tokens(url, ca_file=42)


def test_through_a_proxy_with_and_without_credentials(
    tls_sim: tuple[str, Path], open_proxy: str, auth_proxy: str, refusing_proxy: str
) -> None:
    url, ca = tls_sim
    assert tokens(url, ca_file=ca, proxy=open_proxy).list_callbacks(ACCOUNT) == []
    good = auth_proxy.replace("http://", "http://erin:pr0xy-s3cret@")
    assert tokens(url, ca_file=ca, proxy=good).list_callbacks(ACCOUNT) == []

    wrong = auth_proxy.replace("http://", "http://erin:wr0ng-pr0xy@")
    with pytest.raises(tscb.TransportError) as info:
        tokens(url, ca_file=ca, proxy=wrong).list_callbacks(ACCOUNT)
    assert info.value.error_code == "Tscb.REQUEST_FAILED.Proxy"
    shown = f"{info.value} {info.value!r} {info.value.error_message}"
    assert "407" in shown
    assert "wr0ng-pr0xy" not in shown and "erin" not in shown

    with pytest.raises(tscb.TransportError, match="refused to open a tunnel") as info:
        tokens(url, ca_file=ca, proxy=refusing_proxy).list_callbacks(ACCOUNT)
    assert info.value.error_code == "Tscb.REQUEST_FAILED.Proxy"

    with pytest.raises(tscb.InvalidInputError) as bad:
        tokens(url, proxy="socks5://erin:wr0ng-pr0xy@127.0.0.1:1")
    assert bad.value.error_code == "Tscb.INPUT_INVALID.Proxy.Invalid"
    assert "wr0ng-pr0xy" not in str(bad.value)


CHILD = """
import sys, tscb
try:
    tscb.Client(bearer_token=sys.argv[3], session_token=sys.argv[4], base_url=sys.argv[1], max_retries=0,
                **({"ca_file": sys.argv[2]} if sys.argv[2] else {})).list_callbacks("TestAccount-2")
    print("ok")
except tscb.TscbError as e:
    print(e.error_code)
"""


def child(env: dict[str, str], url: str, ca: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in PROXY_ENV}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, ca, SIM_CREDENTIALS["bearer token"], SIM_CREDENTIALS["session token"]],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_proxy_and_ca_variables_in_the_environment_reach_the_client(
    tls_sim: tuple[str, Path], refusing_proxy: str
) -> None:
    # A Python program's environment is the one core reads: a proxy variable and SSL_CERT_FILE
    # take effect. Which variables, in which order, with which exceptions, is core's experiment
    # (core/tests/proxy_env.rs).
    url, ca = tls_sim
    # A proxy that refuses everything shows whether the variable was used.
    assert child({"HTTPS_PROXY": refusing_proxy}, url, str(ca)) == "Tscb.REQUEST_FAILED.Proxy"
    assert child({"HTTPS_PROXY": refusing_proxy, "NO_PROXY": "127.0.0.1"}, url, str(ca)) == "ok"
    # SSL_CERT_FILE instead of ca_file.
    assert child({}, url, "") == "Tscb.REQUEST_FAILED.Tls"
    assert child({"SSL_CERT_FILE": str(ca)}, url, "") == "ok"
