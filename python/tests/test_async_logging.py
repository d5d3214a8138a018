"""An AsyncClient call's records reach `logging` as the blocking client's do (logger `tscb`,
the same levels and messages, no secret), on the event loop's thread and in the task's context,
so that a filter reading a `contextvars` value (a request id, say) sees the task's."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading

import pytest

import tscb
from conftest import ACCOUNT, LISTENER, SIM_CREDENTIALS, Sim
from test_logging import CALLBACK_PASSWORD, assert_records_of_a_call

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class TagRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def signing_in(sim: Sim, password: str | None = None) -> tscb.AsyncClient:
    return tscb.AsyncClient(
        client_id=SIM_CREDENTIALS["client id"],
        client_secret=SIM_CREDENTIALS["client secret"],
        login_username=SIM_CREDENTIALS["login username"],
        login_password=SIM_CREDENTIALS["login password"] if password is None else password,
        base_url=sim.base_url,
    )


def test_requests_at_debug_and_decisions_at_info(sim: Sim, caplog: pytest.LogCaptureFixture) -> None:
    accounts = ["Logging-1", "Logging-2"]
    for account in accounts:
        sim.admin("POST", "/__admin/accounts", {"name": account})
    caplog.set_level(logging.DEBUG, logger="tscb")
    tag = TagRequestId()
    logging.getLogger("tscb").addFilter(tag)

    async def call(request_id: str, account: str) -> None:
        REQUEST_ID.set(request_id)
        async with signing_in(sim) as client:
            await client.register_callback(account, "CarrierService", LISTENER, password=CALLBACK_PASSWORD)
            await client.list_callbacks(account)
            await client.deregister_callback(account, "CarrierService")

    async def main() -> str:
        sim.fault("respond", status=503, times=1, method="GET", path_contains="Logging-1")
        # Two tasks at once, each with its own request id.
        await asyncio.gather(call("req-1", "Logging-1"), call("req-2", "Logging-2"))
        return threading.current_thread().name

    try:
        loop_thread = asyncio.run(main())
    finally:
        logging.getLogger("tscb").removeFilter(tag)
    assert_records_of_a_call(caplog, accounts[0])
    # Emitted where the task runs, with its context: each request id has its own calls; and
    # naming the line that awaited the call, as the blocking client's name the line calling it.
    assert {r.threadName for r in caplog.records} == {loop_thread}
    assert {r.filename for r in caplog.records} == {"test_async_logging.py"}
    for request_id, account in zip(("req-1", "req-2"), accounts):
        mine = [r.getMessage() for r in caplog.records if getattr(r, "request_id", None) == request_id]
        for method in ("POST", "GET", "DELETE"):
            assert any(m.startswith(f"{method} /api/m2m/v1/callbacks/{account}") for m in mine), (request_id, mine)
            assert not any(m.startswith(f"{method} /api/m2m/v1/callbacks/") and account not in m for m in mine)


def test_nothing_below_the_level_and_a_warning_for_a_login_not_sent(
    sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tscb")

    async def main() -> None:
        client = signing_in(sim, password="wrong-password-7")
        with pytest.raises(tscb.AuthError):
            await client.login()
        with pytest.raises(tscb.AuthError):
            await client.login()

    asyncio.run(main())
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "tscb"]
    assert records and all(level == "WARNING" for level, _ in records), records
    assert records[0][1].startswith("login not sent (")
    assert all("wrong-password-7" not in m for _, m in records)


def test_a_cancelled_call_still_logs_what_it_did(sim: Sim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tscb")
    sim.fault("delay", ms=20000, times=1, path_contains="/callbacks/")

    async def main() -> None:
        async with signing_in(sim) as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.list_callbacks(ACCOUNT), 2.0)

    asyncio.run(main())
    # The sign-in finished before the cancel: its records are not lost with the call.
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "tscb"]
    assert ("INFO", "fetching an OAuth token") in records, records
