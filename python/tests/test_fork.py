"""A client used before fork() keeps working in the parent and in every child at once (gunicorn
--preload, uWSGI, celery, multiprocessing with the fork start method), and a child's close()
leaves the parent's client working: what a Python user relies on. That each process sends on
connections of its own, and each call ends within its call timeout, is core's experiment
(core/tests/fork.rs), not repeated here."""

from __future__ import annotations

import multiprocessing
from typing import Any

import tscb
from conftest import Sim

CHILDREN = 3
CALLS = 10


def account(process: int) -> str:
    return f"Fork-{process}"


def calls(client: tscb.Client, process: int) -> None:
    for _ in range(CALLS):
        client.list_callbacks(account(process))


def child(client: tscb.Client, process: int, start: Any) -> None:
    start.wait(30)
    calls(client, process)
    client.close()


def test_a_client_used_before_fork_works_in_the_parent_and_every_child(sim: Sim) -> None:
    for process in range(CHILDREN + 1):
        sim.admin("POST", "/__admin/accounts", {"name": account(process)})
    sim.reset()
    client = sim.client(call_timeout=5.0)
    # Used before the fork: a connection is open and pooled.
    client.list_callbacks(account(0))

    context = multiprocessing.get_context("fork")
    # A worker that closes its copy at once must leave the parent's client working.
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

    # Every call arrived once: the parent's before the fork and its own, each child's.
    for process in range(CHILDREN + 1):
        sent = sum(1 for r in sim.requests() if r["path"].endswith(account(process)))
        assert sent == CALLS + (process == 0), (process, sent)
    client.close()
