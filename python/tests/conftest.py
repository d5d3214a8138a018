"""Fixtures: one tscb-sim binary for the whole session, reset before each test, and a small
client for its admin endpoints (stdlib only, loopback only)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import IO, Any, Iterator, Optional

import pytest

import tscb

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "TestAccount-2"
LISTENER = "https://listener.example.com/thingspace"
# The simulator's banner, "label: value" (e.g. "bearer token"), filled when one starts.
SIM_CREDENTIALS: dict[str, str] = {}


class Sim:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.root = base_url[: -len("/api")]

    def admin(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.root + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def fault(self, action: str, **fields: Any) -> None:
        self.admin("POST", "/__admin/faults", {"action": action, **fields})

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.admin("GET", "/__admin/requests")
        return result

    def reset(self) -> None:
        self.admin("DELETE", "/__admin/faults")
        self.admin("DELETE", "/__admin/requests")
        self.admin("DELETE", "/__admin/registrations")

    def client(self, **kwargs: Any) -> tscb.Client:
        options: dict[str, Any] = {
            "bearer_token": SIM_CREDENTIALS["bearer token"],
            "session_token": SIM_CREDENTIALS["session token"],
            "base_url": self.base_url,
            "timeout": 10.0,
        }
        options.update(kwargs)
        return tscb.Client(**options)


def read_banner(stdout: IO[str]) -> None:
    """Reads the rest of a tscb-sim banner into SIM_CREDENTIALS: the test credentials are
    written once, in tscb-sim."""
    for line in stdout:
        label, _, value = line.rstrip("\n").partition(": ")
        SIM_CREDENTIALS[label] = value
        if label == "accounts":
            break


@contextlib.contextmanager
def running_sim() -> Iterator[Sim]:
    binary = os.environ.get("TSCB_SIM_BIN", str(REPO / "target" / "release" / "tscb-sim"))
    if not Path(binary).exists():
        subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "tscb-sim"], cwd=REPO, check=True)
    process = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    assert first.startswith("listening on "), first
    read_banner(process.stdout)
    try:
        yield Sim(first[len("listening on ") :])
    finally:
        process.stdout.close()
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def sim_process() -> Iterator[Sim]:
    with running_sim() as sim:
        yield sim


@pytest.fixture
def fresh_sim() -> Iterator[Sim]:
    """A simulator of its own, for tests that change its sessions."""
    with running_sim() as sim:
        yield sim


@pytest.fixture
def sim(sim_process: Sim) -> Sim:
    sim_process.reset()
    return sim_process


@pytest.fixture
def client(sim: Sim) -> Iterator[tscb.Client]:
    with sim.client() as c:
        yield c


def signing_in(base_url: str, password: Optional[str] = None, **kwargs: Any) -> tscb.Client:
    """A client that signs in by itself with the simulator's credentials (or `password`)."""
    return tscb.Client(
        client_id=SIM_CREDENTIALS["client id"],
        client_secret=SIM_CREDENTIALS["client secret"],
        login_username=SIM_CREDENTIALS["login username"],
        login_password=SIM_CREDENTIALS["login password"] if password is None else password,
        base_url=base_url,
        **kwargs,
    )


def sim_secrets() -> list[str]:
    """The simulator's secret credentials, as its banner printed them: none may ever be shown."""
    return [SIM_CREDENTIALS[label] for label in ("client secret", "login password", "bearer token", "session token")]


def count(sim: Sim, suffix: str) -> int:
    """How many requests the simulator received on a path ending in `suffix`."""
    return sum(1 for r in sim.requests() if r["path"].endswith(suffix))
