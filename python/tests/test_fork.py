"""A client used before fork() keeps working in the parent and in every child at once (gunicorn
--preload, uWSGI, celery, multiprocessing with the fork start method): every call succeeds within
the call timeout, and each process sends on connections of its own, as the simulator's
connection_id of each request shows."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import tscb
from conftest import Sim

CHILDREN = 3
CALLS = 10
CALL_TIMEOUT = 5.0
# A call may take this much longer than its timeout on a loaded machine before it counts as late.
SLACK = 3.0


def account(process: int) -> str:
    return f"Fork-{process}"


def calls(client: tscb.Client, process: int) -> None:
    for _ in range(CALLS):
        started = time.monotonic()
        client.list_callbacks(account(process))
        took = time.monotonic() - started
        assert took <= CALL_TIMEOUT + SLACK, f"process {process}: a call took {took:.1f} s"


def child(client: tscb.Client, process: int, start: Any) -> None:
    start.wait(30)
    calls(client, process)
    client.close()


def test_a_client_used_before_fork_works_in_the_parent_and_every_child(sim: Sim) -> None:
    for process in range(CHILDREN + 1):
        sim.admin("POST", "/__admin/accounts", {"name": account(process)})
    sim.reset()
    client = sim.client(call_timeout=CALL_TIMEOUT)
    # Used before the fork: a connection is open and pooled.
    client.list_callbacks(account(0))

    context = multiprocessing.get_context("fork")
    # A worker that closes its copy at once must leave the parent's connections alone.
    closer = context.Process(target=client.close)
    closer.start()
    closer.join(30)
    assert closer.exitcode == 0
    start = context.Event()
    children = [context.Process(target=child, args=(client, p, start)) for p in range(1, CHILDREN + 1)]
    for c in children:
        c.start()
    start.set()
    calls(client, 0)
    for c in children:
        c.join(90)
        if c.is_alive():
            c.kill()
            c.join()
    assert [c.exitcode for c in children] == [0] * CHILDREN

    connections: dict[int, set[int]] = {p: set() for p in range(CHILDREN + 1)}
    for request in sim.requests():
        process = int(request["path"].rsplit("Fork-", 1)[1])
        connections[process].add(request["connection_id"])
    assert sum(1 for r in sim.requests() if r["path"].endswith(account(0))) == 1 + CALLS
    assert len(sim.requests()) == 1 + CALLS * (CHILDREN + 1)
    for process, ids in connections.items():
        assert ids, process
        for other in range(process):
            assert not ids & connections[other], (other, process, connections)
    client.close()
