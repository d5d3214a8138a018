"""tscb.AsyncClient: the blocking client's calls as coroutines, on asyncio's default loop and on
uvloop (when installed), with the same results and exceptions; cancelling a task cancels its
request; the call's deadline holds; concurrent first calls share one sign-in."""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing
import os
import subprocess
import sys
import threading
from typing import Any, Awaitable, Callable, Iterator, TypeVar

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, SIM_CREDENTIALS, Sim, count

T = TypeVar("T")

LOOPS: list[str] = ["asyncio"]
try:
    import uvloop

    LOOPS.append("uvloop")
except ImportError:  # pragma: no cover - uvloop is in requirements-dev.txt
    print("uvloop is not installed: AsyncClient is tested on asyncio's default loop only")


@pytest.fixture(params=LOOPS)
def run(request: pytest.FixtureRequest) -> Iterator[Callable[[Awaitable[T]], T]]:
    """Runs a coroutine to completion on a new loop of the kind under test."""
    loop = uvloop.new_event_loop() if request.param == "uvloop" else asyncio.new_event_loop()

    def run_on_loop(main: Awaitable[T]) -> T:
        return loop.run_until_complete(main)

    yield run_on_loop
    loop.close()


def async_client(sim: Sim, **kwargs: Any) -> tscb.AsyncClient:
    options: dict[str, Any] = {
        "bearer_token": SIM_CREDENTIALS["bearer token"],
        "session_token": SIM_CREDENTIALS["session token"],
        "base_url": sim.base_url,
        "timeout": 10.0,
    }
    options.update(kwargs)
    return tscb.AsyncClient(**options)


def test_every_call_as_a_coroutine(sim: Sim, run: Callable[[Awaitable[Any]], Any]) -> None:
    async def main() -> None:
        async with async_client(sim) as client:
            pending = client.list_callbacks(ACCOUNT)
            assert inspect.iscoroutine(pending)
            assert await pending == []
            ack = await client.register_callback(ACCOUNT, "CarrierService", LISTENER, username="u", password="p")
            assert ack.service_name == "CarrierService"
            assert ack.account_name == ACCOUNT
            # Tasks take the calls as they take any coroutine.
            listed = await asyncio.create_task(client.list_callbacks(ACCOUNT))
            assert [(c.service_name, c.url, c.username) for c in listed] == [("CarrierService", LISTENER, "u")]
            await client.login()
            assert (await client.deregister_callback(ACCOUNT, "CarrierService")).service_name == "CarrierService"
            assert client.login_guard_warning() is None
            assert client.base_url == sim.base_url
        assert "closed=True" in repr(client)
        with pytest.raises(tscb.InvalidInputError) as closed:
            await client.list_callbacks(ACCOUNT)
        assert closed.value.error_code == "Tscb.INPUT_INVALID.Client.Closed"
        await client.aclose()

    run(main())


def test_the_same_exceptions_as_the_blocking_client(sim: Sim, run: Callable[[Awaitable[Any]], Any]) -> None:
    def same(blocking: BaseException, awaited: BaseException) -> None:
        assert type(awaited) is type(blocking)
        assert isinstance(awaited, tscb.TscbError) and isinstance(blocking, tscb.TscbError)
        assert (awaited.error_code, awaited.error_message, awaited.http_status) == (
            blocking.error_code,
            blocking.error_message,
            blocking.http_status,
        )
        assert str(awaited) == str(blocking)

    cases: list[tuple[str, tuple[Any, ...]]] = [
        ("register_callback", (ACCOUNT, "CarrierService", "https://listener.example.com:8443/cb")),
        ("list_callbacks", ("NoSuchAccount-1",)),
        ("deregister_callback", (ACCOUNT, "NoSuchService")),
    ]
    with sim.client() as blocking:
        expected = []
        for name, args in cases:
            with pytest.raises(tscb.TscbError) as caught:
                getattr(blocking, name)(*args)
            expected.append(caught.value)

    async def main() -> None:
        async with async_client(sim) as client:
            for (name, args), blocking_error in zip(cases, expected):
                with pytest.raises(tscb.TscbError) as caught:
                    await getattr(client, name)(*args)
                same(blocking_error, caught.value)
            with pytest.raises(TypeError):
                client.list_callbacks(42)  # type: ignore[arg-type]

    run(main())


def established_to(port: int) -> int:
    """How many of this process's TCP connections to `port` on 127.0.0.1 are open."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = 0
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                found += 1
    return found


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_cancelling_the_task_cancels_the_request(sim: Sim, run: Callable[[Awaitable[Any]], Any], how: str) -> None:
    port = int(sim.base_url.split(":")[2].split("/")[0])
    sim.fault("delay", ms=120000, times=1, path_contains="/callbacks/")

    async def until(condition: Callable[[], bool]) -> None:
        deadline = asyncio.get_running_loop().time() + 10
        while asyncio.get_running_loop().time() < deadline:
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("waited 10 s")

    async def main() -> None:
        # Every timeout far beyond the 10 s waited below: only the cancel may close the
        # connection in time (with timeout=10 a request that went on after the cancel was
        # closed by its own timeout, and the test passed against that broken code).
        async with async_client(sim, timeout=60.0, call_timeout=120.0) as client:
            task = asyncio.ensure_future(client.list_callbacks(ACCOUNT))
            # The request has arrived and its answer is 120 s away.
            await until(lambda: count(sim, "/callbacks/" + ACCOUNT) == 1)
            assert established_to(port) == 1
            if how == "cancel":
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(task, 0.1)
            # Dropping the request closes its connection, long before the answer would come.
            await until(lambda: established_to(port) == 0)
            # And the client goes on working.
            assert await client.list_callbacks(ACCOUNT) == []

    run(main())


def test_a_call_ends_within_its_call_timeout(fresh_sim: Sim, run: Callable[[Awaitable[Any]], Any]) -> None:
    fresh_sim.fault("delay", ms=5000, times=1, path_contains="/callbacks/")

    async def main() -> float:
        async with async_client(fresh_sim, call_timeout=1.0) as client:
            started = asyncio.get_running_loop().time()
            with pytest.raises(tscb.TimeoutError) as caught:
                await client.list_callbacks(ACCOUNT)
            assert caught.value.error_code == "Tscb.REQUEST_FAILED.Timeout"
            return asyncio.get_running_loop().time() - started

    elapsed = run(main())
    assert 0.9 <= elapsed < 2.5, elapsed


def test_100_concurrent_first_calls_share_one_sign_in(fresh_sim: Sim, run: Callable[[Awaitable[Any]], Any]) -> None:
    sim = fresh_sim

    async def main() -> None:
        client = tscb.AsyncClient(
            client_id=SIM_CREDENTIALS["client id"],
            client_secret=SIM_CREDENTIALS["client secret"],
            login_username=SIM_CREDENTIALS["login username"],
            login_password=SIM_CREDENTIALS["login password"],
            base_url=sim.base_url,
        )
        results = await asyncio.gather(*(client.list_callbacks(ACCOUNT) for _ in range(100)))
        assert results == [[]] * 100
        assert (count(sim, "/oauth2/token"), count(sim, "/session/login")) == (1, 1)
        assert count(sim, "/callbacks/" + ACCOUNT) == 100
        await client.logout()
        assert count(sim, "/session/logout") == 1
        await client.login()
        assert count(sim, "/session/login") == 2
        await client.aclose()

    run(main())


def fork_child(client: tscb.AsyncClient, account: str) -> None:
    async def calls() -> None:
        for _ in range(5):
            assert await client.list_callbacks(account) == []
        await client.aclose()

    asyncio.run(calls())


def test_a_client_used_before_fork_works_in_the_parent_and_every_child(sim: Sim) -> None:
    for process in range(3):
        sim.admin("POST", "/__admin/accounts", {"name": f"Fork-{process}"})
    sim.reset()
    client = async_client(sim, call_timeout=10.0)
    loop = asyncio.new_event_loop()
    # Used before the fork: the runtime is running and a connection is pooled.
    loop.run_until_complete(client.list_callbacks("Fork-0"))
    context = multiprocessing.get_context("fork")
    # No call is in flight: the runtime's threads are stopped before each fork, so Python 3.12+
    # does not warn (test_async_fork.py counts them).
    children = [context.Process(target=fork_child, args=(client, f"Fork-{p}")) for p in (1, 2)]
    for child in children:
        child.start()
    for _ in range(5):
        assert loop.run_until_complete(client.list_callbacks("Fork-0")) == []
    for child in children:
        child.join(60)
        if child.is_alive():
            child.kill()
            child.join()
    assert [c.exitcode for c in children] == [0, 0]
    loop.run_until_complete(client.aclose())
    loop.close()
    connections: dict[str, set[int]] = {}
    for request in sim.requests():
        connections.setdefault(request["path"].rsplit("/", 1)[1], set()).add(request["connection_id"])
    assert sorted(connections) == ["Fork-0", "Fork-1", "Fork-2"]
    assert not connections["Fork-0"] & connections["Fork-1"]
    assert not connections["Fork-0"] & connections["Fork-2"]
    assert not connections["Fork-1"] & connections["Fork-2"]


def test_without_a_running_loop_a_call_raises_when_awaited(sim: Sim) -> None:
    client = async_client(sim)
    pending = client.list_callbacks(ACCOUNT)
    with pytest.raises(RuntimeError):
        pending.send(None)
    pending.close()
    # A coroutine that is never awaited sends nothing.
    client.list_callbacks(ACCOUNT).close()
    assert count(sim, "/callbacks/" + ACCOUNT) == 0


def test_the_guide_s_asyncio_example_runs(sim: Sim, run: Callable[[Awaitable[Any]], Any]) -> None:
    """The Python guide's asyncio example, as printed there (the simulator's address substituted)."""
    readme = (os.path.dirname(__file__) + "/../../docs/python.md").replace("/", os.sep)
    with open(readme) as f:
        text = f.read()
    start = text.index("```python\nimport asyncio\n")
    source = text[start + len("```python\n") : text.index("```", start + 10)]
    source = source.replace("http://127.0.0.1:9000/api", sim.base_url).replace("asyncio.run(main())", "")
    namespace: dict[str, Any] = {}
    exec(compile(source, "docs/python.md", "exec"), namespace)
    assert run(namespace["main"]()) is None


def test_loops_taking_turns_on_one_thread_and_on_two_threads_each_get_their_results(sim: Sim) -> None:
    # Each loop watches its own port for its calls' results (aio.rs).
    sim.fault("delay", ms=300, times=1, path_contains="/callbacks/" + ACCOUNT)
    client = async_client(sim)
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()

    async def until_sent() -> None:
        for _ in range(1000):
            if count(sim, "/callbacks/" + ACCOUNT) == 1:
                return
            await asyncio.sleep(0.01)

    # A loop left with a call in flight gets its result when it runs again, after another loop
    # on the same thread has run calls and been closed.
    waiting = first.create_task(client.list_callbacks(ACCOUNT))
    first.run_until_complete(until_sent())
    assert second.run_until_complete(client.list_callbacks(ACCOUNT)) == []
    second.close()
    assert first.run_until_complete(asyncio.wait_for(waiting, 10)) == []
    assert first.run_until_complete(client.list_callbacks(ACCOUNT)) == []
    first.close()

    # Loops on two threads at once.
    results: list[list[Any]] = []

    def on_a_thread() -> None:
        async def calls() -> list[Any]:
            return await asyncio.gather(*(client.list_callbacks(ACCOUNT) for _ in range(20)))

        results.append(asyncio.run(calls()))

    threads = [threading.Thread(target=on_a_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [[[]] * 20] * 2


def test_the_runtime_adds_one_thread(sim: Sim) -> None:
    # As the Python guide says: tscb-async (and, only for host names to look up, which
    # 127.0.0.1 is not, tokio's blocking threads).
    program = (
        "import asyncio, collections, os, sys, tscb\n"
        "def names():\n"
        "    return collections.Counter(open(f'/proc/self/task/{t}/comm').read().strip() for t in os.listdir('/proc/self/task'))\n"
        "before = names()\n"
        "async def main():\n"
        "    client = tscb.AsyncClient(base_url=sys.argv[1], bearer_token=sys.argv[2], session_token=sys.argv[3])\n"
        "    await asyncio.gather(*(client.list_callbacks('TestAccount-2') for _ in range(20)))\n"
        "    print(sorted((names() - before).elements()))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", program, sim.base_url, SIM_CREDENTIALS["bearer token"], SIM_CREDENTIALS["session token"]], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['tscb-async']"


def test_a_process_exits_cleanly_after_calls(sim: Sim) -> None:
    # Python ends a thread that asks for the GIL while the interpreter exits by unwinding it; a
    # thread that handed results to Python did so with a result in hand and crashed the exiting
    # process (SIGSEGV). Now only the loop's thread touches Python objects.
    program = (
        "import asyncio, sys, tscb\n"
        "async def main():\n"
        "    client = tscb.AsyncClient(base_url=sys.argv[1], bearer_token=sys.argv[2], session_token=sys.argv[3])\n"
        "    for _ in range(20):\n"
        "        await client.list_callbacks('TestAccount-2')\n"
        "asyncio.run(main())\n"
    )
    for _ in range(5):
        done = subprocess.run([sys.executable, "-c", program, sim.base_url, SIM_CREDENTIALS["bearer token"], SIM_CREDENTIALS["session token"]], capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
