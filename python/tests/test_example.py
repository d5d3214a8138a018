"""The README's quick start runs as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO, Sim


def test_quickstart_runs_against_the_simulator(sim: Sim) -> None:
    env = dict(
        os.environ,
        THINGSPACE_BASE_URL=sim.base_url,
        THINGSPACE_BEARER_TOKEN="sim-bearer-token",
        THINGSPACE_SESSION_TOKEN="sim-session-token",
    )
    result = subprocess.run(
        [sys.executable, str(REPO / "python" / "examples" / "quickstart.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO / "target",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "registered CarrierService for TestAccount-2"
    assert "  CarrierService -> https://listener.example.com/thingspace" in lines
    assert lines[-1].startswith("rejected before sending: Tscb.INPUT_INVALID.CallbackUrl.Port: ")
