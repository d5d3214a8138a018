"""The quick start and every Python block of the README and the guides run as a user would run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO, SIM_CREDENTIALS, Sim


def test_quickstart_runs_against_the_simulator(sim: Sim) -> None:
    env = dict(
        os.environ,
        THINGSPACE_BASE_URL=sim.base_url,
        THINGSPACE_BEARER_TOKEN=SIM_CREDENTIALS["bearer token"],
        THINGSPACE_SESSION_TOKEN=SIM_CREDENTIALS["session token"],
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


# Every ```python block of the pages a Python user reads runs against a simulator of its own, as
# written (only the simulator's address is changed): a guide's example cannot rot.
DOC_PAGES = ["README.md", "python/README.md", "docs/python.md", "docs/many-accounts.md", "docs/receiving-callbacks.md"]


def python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in DOC_PAGES:
        text = (REPO / page).read_text()
        for n, block in enumerate(re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)):
            blocks.append((f"{page}#{n + 1}", block))
    return blocks


@pytest.mark.parametrize("name,block", python_blocks(), ids=[name for name, _ in python_blocks()])
def test_doc_block_runs(name: str, block: str, fresh_sim: Sim) -> None:
    if "import flask" in block:
        # Flask is not a dependency of the tests: this block is checked to compile, not run.
        compile(block, name, "exec")
        return
    if "import tscb" not in block:
        block = "import tscb\n" + block  # a continuation of the page's previous block
    code = block.replace("http://127.0.0.1:9000/api", fresh_sim.base_url)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO / "target"
    )
    assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"
