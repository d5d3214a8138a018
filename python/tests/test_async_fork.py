"""fork() and the AsyncClient's runtime. With no call in flight the runtime's threads are stopped
before the fork, so the process forks with one thread and Python 3.12+ has nothing to warn
about; with a call in flight they stay, that call ends in the parent, and the child builds a
runtime of its own. In both cases parent and child go on calling on the same client.

Each case runs in a fresh interpreter (`-W error`: a warning fails it), so that no thread of
pytest or of another test is counted."""

from __future__ import annotations

import subprocess
import sys

from conftest import ACCOUNT, SIM_CREDENTIALS, Sim, count

PRELUDE = """
import asyncio, os, sys, threading, urllib.request, json
import tscb

base_url, bearer, session, account = sys.argv[1:5]
client = tscb.AsyncClient(base_url=base_url, bearer_token=bearer, session_token=session, call_timeout=20.0)
# Threads of the process right after each fork, in the parent: what Python 3.12+ counts to warn.
threads_at_fork = []
os.register_at_fork(after_in_parent=lambda: threads_at_fork.append(len(os.listdir("/proc/self/task"))))

def threads():
    return len(os.listdir("/proc/self/task"))

def fork_and_call():
    pid = os.fork()
    if pid == 0:
        try:
            async def calls():
                for _ in range(3):
                    assert await asyncio.wait_for(client.list_callbacks(account), 15) == []
            asyncio.run(calls())
            os._exit(0)
        except BaseException as e:
            print("child:", repr(e), file=sys.stderr, flush=True)
            os._exit(1)
    return pid

def child_status(pid):
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
"""

IDLE = """
loop = asyncio.new_event_loop()
assert loop.run_until_complete(client.list_callbacks(account)) == []
running = threads()
pid = fork_and_call()
assert child_status(pid) == 0
# The parent goes on, on a new runtime and new connections.
for _ in range(3):
    assert loop.run_until_complete(client.list_callbacks(account)) == []
# Forking again and again: the runtime is stopped each time.
for _ in range(3):
    assert child_status(fork_and_call()) == 0
    assert loop.run_until_complete(client.list_callbacks(account)) == []
print(running, threads_at_fork)
"""

IN_FLIGHT = """
import warnings
root = base_url[: -len("/api")]

def arrived():
    with urllib.request.urlopen(root + "/__admin/requests", timeout=10) as r:
        return sum(1 for q in json.load(r) if q["path"].endswith("/callbacks/" + account))

# Two connections in the pool; the call in flight takes one, the other is idle at the fork.
async def two():
    return await asyncio.gather(client.list_callbacks(account), client.list_callbacks(account))
assert asyncio.run(two()) == [[], []]
fault = json.dumps({"action": "delay", "ms": 1500, "times": 1, "path_contains": "/callbacks/"}).encode()
request = urllib.request.Request(root + "/__admin/faults", data=fault, method="POST", headers={"Content-Type": "application/json"})
urllib.request.urlopen(request, timeout=10).close()

results = []
def parent_call():
    results.append(asyncio.run(client.list_callbacks(account)))
caller = threading.Thread(target=parent_call)
caller.start()
for _ in range(1000):
    if arrived() == 3:
        break
    threading.Event().wait(0.01)
assert arrived() == 3
with warnings.catch_warnings(record=True) as caught:
    # Python 3.12+ warns here, rightly: the runtime's threads are running.
    warnings.simplefilter("always", DeprecationWarning)
    pid = fork_and_call()
assert child_status(pid) == 0
caller.join(30)
assert results == [[]], results
warned = sum(1 for w in caught if issubclass(w.category, DeprecationWarning))
print(threads_at_fork[0], warned)
"""


def run(sim: Sim, program: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", PRELUDE + program, sim.base_url]
        + [SIM_CREDENTIALS["bearer token"], SIM_CREDENTIALS["session token"], ACCOUNT],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_idle_runtime_is_stopped_before_fork_and_nothing_warns(sim: Sim) -> None:
    running, at_forks = run(sim, IDLE).split(" ", 1)
    # The runtime had started its threads; at each fork the process had only its own.
    assert int(running) > 1
    assert at_forks.strip() == "[1, 1, 1, 1]"
    # Parent: 1 + 3 + 3 calls; each child 3.
    assert count(sim, "/callbacks/" + ACCOUNT) == 7 + 4 * 3


def test_with_a_call_in_flight_the_call_ends_and_the_child_has_its_own_runtime(sim: Sim) -> None:
    threads, warned = run(sim, IN_FLIGHT).split()
    # The runtime was kept for the call in flight, so Python 3.12+ warns, as it should.
    assert int(threads) > 1
    assert int(warned) == (1 if sys.version_info >= (3, 12) else 0)
    # Two calls, the one in flight, then the child's three: on connections of the child's own,
    # not the parent's idle one (a socket both processes would write to).
    connections = [r["connection_id"] for r in sim.requests() if r["path"].endswith("/callbacks/" + ACCOUNT)]
    assert len(connections) == 2 + 1 + 3
    assert not set(connections[3:]) & set(connections[:3]), connections


# A call in flight at the fork (as in IN_FLIGHT), started by `in_flight()`; the fork is made
# with Python 3.12+'s warning recorded rather than raised.
WITH_A_CALL_IN_FLIGHT = """
import warnings
root = base_url[: -len("/api")]

def arrived():
    with urllib.request.urlopen(root + "/__admin/requests", timeout=10) as r:
        return sum(1 for q in json.load(r) if q["path"].endswith("/callbacks/" + account))

def in_flight():
    async def four():
        return await asyncio.gather(*(client.list_callbacks(account) for _ in range(4)))
    # Idle connections in the pool at the fork.
    assert asyncio.run(four()) == [[]] * 4
    fault = json.dumps({"action": "delay", "ms": 1500, "times": 1, "path_contains": "/callbacks/"}).encode()
    request = urllib.request.Request(root + "/__admin/faults", data=fault, method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    caller = threading.Thread(target=lambda: asyncio.run(client.list_callbacks(account)))
    caller.start()
    for _ in range(1000):
        if arrived() == 5:
            return caller
        threading.Event().wait(0.01)
    raise AssertionError("the call did not arrive")

def fork_warned():
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", DeprecationWarning)
        return os.fork()

def in_child(work):
    try:
        work()
        os._exit(0)
    except BaseException as e:
        print("child:", repr(e), file=sys.stderr, flush=True)
        os._exit(1)
"""

CHILD_FORKS_AGAIN = """
caller = in_flight()
pid = fork_warned()
if pid == 0:
    def work():
        # The child's own runtime, then a fork with nothing in flight: that runtime is stopped
        # first, as in any process (the parent's call in flight is not the child's).
        assert asyncio.run(client.list_callbacks(account)) == []
        at_fork = []
        os.register_at_fork(after_in_parent=lambda: at_fork.append(threads()))
        grandchild = os.fork()
        if grandchild == 0:
            os._exit(0)
        assert child_status(grandchild) == 0
        assert at_fork == [1], at_fork
    in_child(work)
assert child_status(pid) == 0
caller.join(30)
print("ok")
"""

AWAITED_IN_THE_CHILD = """
caller = in_flight()
made_before = client.list_callbacks(account)
pid = fork_warned()
if pid == 0:
    # On the child's own connections: the parent's idle ones are served by the parent's
    # runtime, which does not run here.
    in_child(lambda: asyncio.run(asyncio.wait_for(made_before, 8)))
made_before.close()
assert child_status(pid) == 0
caller.join(30)
print("ok")
"""

CHILD_RUNS_THE_PARENTS_LOOP = """
loop = asyncio.new_event_loop()
assert loop.run_until_complete(client.list_callbacks(account)) == []
pid = os.fork()
if pid == 0:
    # Not supported by asyncio, but it must not take the parent's results away.
    loop.run_until_complete(asyncio.sleep(2))
    os._exit(0)
import time

async def while_busy():
    call = asyncio.ensure_future(client.list_callbacks(account))
    await asyncio.sleep(0)
    # The answer arrives while this loop's thread is busy, not waiting: the child's loop, which
    # waits on the same epoll instance, is the one woken.
    time.sleep(0.05)
    return await asyncio.wait_for(call, 5)

for _ in range(10):
    assert loop.run_until_complete(while_busy()) == []
assert child_status(pid) == 0
print("ok")
"""


def test_a_child_forked_with_a_call_in_flight_stops_its_own_runtime_before_its_forks(sim: Sim) -> None:
    # Failed before: the child counted the parent's call in flight for ever, so its runtime was
    # never stopped (two threads at its fork) and Python 3.12+ warned at every fork it made.
    assert run(sim, WITH_A_CALL_IN_FLIGHT + CHILD_FORKS_AGAIN).strip() == "ok"


def test_a_call_made_before_fork_and_awaited_in_the_child_runs_there(sim: Sim) -> None:
    # Failed before (TimeoutError): the coroutine held the parent's pool, taken when it was made.
    assert run(sim, WITH_A_CALL_IN_FLIGHT + AWAITED_IN_THE_CHILD).strip() == "ok"


def test_a_child_running_its_copy_of_the_parent_s_loop_leaves_the_parent_its_results(sim: Sim) -> None:
    # Failed before (TimeoutError in the parent): the child read the parent's wake-up.
    assert run(sim, CHILD_RUNS_THE_PARENTS_LOOP).strip() == "ok"
