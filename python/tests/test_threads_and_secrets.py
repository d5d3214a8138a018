"""One client shared by threads, the GIL released during calls, secrets never printed, and
memory that does not grow."""

from __future__ import annotations

import os
import threading
import time

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, Sim

BEARER = "bearer-SECRET-1b2c"
SESSION = "session-SECRET-3d4e"
PASSWORD = "callback-SECRET-5f6a"


def assert_clean(text: str) -> None:
    for secret in (BEARER, SESSION, PASSWORD):
        assert secret not in text, text


def test_eight_threads_share_one_client(sim: Sim, client: tscb.Client) -> None:
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(100):
                ack = client.register_callback(ACCOUNT, f"Thread{index}", LISTENER)
                assert ack.service_name == f"Thread{index}"
        except BaseException as e:  # collected and re-raised below
            failures.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(sim.requests()) == 800
    for i in range(8):
        client.deregister_callback(ACCOUNT, f"Thread{i}")


def test_calls_release_the_gil(sim: Sim, client: tscb.Client) -> None:
    # Two calls that each wait 0.6 s at the server: run from two threads they overlap only if
    # the GIL is released during the call.
    sim.fault("delay", times=2, ms=600)
    started = time.monotonic()
    threads = [threading.Thread(target=client.list_callbacks, args=(ACCOUNT,)) for _ in range(2)]
    for t in threads:
        t.start()
    ticks = 0
    while any(t.is_alive() for t in threads):
        ticks += 1
        time.sleep(0.001)
    elapsed = time.monotonic() - started
    assert elapsed < 1.1, elapsed
    assert ticks > 50  # the main thread kept running meanwhile


def test_no_secret_in_any_repr_or_str(sim: Sim) -> None:
    client = tscb.Client(bearer_token=BEARER, session_token=SESSION, base_url=sim.base_url)
    assert_clean(repr(client))
    assert_clean(str(client))
    with sim.client() as good:
        good.register_callback(ACCOUNT, "CarrierService", LISTENER, password=PASSWORD)
        listed = [cb for cb in good.list_callbacks(ACCOUNT) if cb.service_name == "CarrierService"]
        assert listed[0].password == PASSWORD
        assert_clean(repr(listed))
        assert_clean(str(listed[0]))
        assert "'<redacted>'" in repr(listed[0])
        good.deregister_callback(ACCOUNT, "CarrierService")


@pytest.mark.parametrize("status", [400, 502])
def test_secrets_echoed_by_a_server_are_redacted(sim: Sim, status: int) -> None:
    body = (
        f'{{"errorCode":"X.REQUEST_FAILED.Echo","errorMessage":"{BEARER} {SESSION} {PASSWORD}"}}'
        if status == 400
        else f"<html>Bearer {BEARER}; {SESSION}; {PASSWORD}</html>"
    )
    sim.fault("respond", times=1, status=status, content_type="text/plain", body=body)
    client = tscb.Client(bearer_token=BEARER, session_token=SESSION, base_url=sim.base_url)
    with pytest.raises(tscb.TscbError) as info:
        client.register_callback(ACCOUNT, "CarrierService", LISTENER, password=PASSWORD)
    e = info.value
    for text in (str(e), repr(e), e.error_message, e.error_code):
        assert_clean(text)
    assert "<redacted>" in e.error_message


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_memory_does_not_grow_over_10000_calls(client: tscb.Client) -> None:
    def calls(n: int) -> None:
        for _ in range(n):
            client.register_callback(ACCOUNT, "MemoryService", LISTENER, username="u", password="p")
            client.list_callbacks(ACCOUNT)

    calls(1_000)  # warm up: connection pool, allocator arenas, interned objects
    before = rss_bytes()
    calls(5_000)  # 10,000 calls
    growth = rss_bytes() - before
    assert growth < 4 * 1024 * 1024, f"RSS grew by {growth} bytes"
    client.deregister_callback(ACCOUNT, "MemoryService")


def thread_count() -> int:
    # All of the process's threads, as the kernel lists them: threading.active_count() sees
    # only the threads that Python started.
    return len(os.listdir("/proc/self/task"))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_client_starts_no_thread(sim: Sim, host: str) -> None:
    # Threads joined by earlier tests may take a moment to leave the kernel's list.
    before = thread_count()
    for _ in range(100):
        time.sleep(0.01)
        if thread_count() == before:
            break
        before = thread_count()
    client = sim.client(base_url=sim.base_url.replace("127.0.0.1", host))
    assert thread_count() == before
    client.register_callback(ACCOUNT, "CarrierService", LISTENER)
    assert client.list_callbacks(ACCOUNT)[0].url == LISTENER
    assert thread_count() == before
    client.close()
    assert thread_count() == before
