"""tscb.AsyncClient against httpx.AsyncClient and aiohttp, side by side against one tscb-sim in
one run, on asyncio's default event loop.

Every client makes the same request, list_callbacks: GET {base}/m2m/v1/callbacks/TestAccount-2
with the two token headers, the JSON answer decoded (tscb decodes it into objects; the peers call
`.json()`). Three modes:

- sequential: one task awaiting one call after another;
- concurrent: 64 concurrent tasks, no server delay;
- delayed: 256 concurrent tasks, each answer delayed 50 ms by the simulator: the ideal is
  256 / 0.05 s = 5120 calls per second, which no client can beat.

Each mode runs in interleaved rounds (tscb, httpx, aiohttp, tscb, ...) after a warm-up round
each, a fresh client per round (closed after it, so no idle connections count against the
simulator's 256); a figure is the median round. Targets: tscb more calls per second than both
peers in every mode, and at least 90% of the ideal at 256 x 50 ms.

Usage: async_bench.py --base-url http://127.0.0.1:PORT/api [--modes sequential,concurrent,delayed]
(run.sh runs the first two pinned to one CPU and the third not: see there.)
Exit status: 0 when everything was measured, targets met or not; 1 when something failed.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request

ROUNDS = int(os.environ.get("TSCB_PYBENCH_ASYNC_ROUNDS", "5"))
# As run.sh took them from the simulator's banner: the credentials are written once, in tscb-sim.
BEARER = os.environ["THINGSPACE_BEARER_TOKEN"]
SESSION = os.environ["THINGSPACE_SESSION_TOKEN"]
ACCOUNT = "TestAccount-2"
DELAY_MS = 50
# mode -> (what it is called in the output, tasks, calls per task, server delay in ms)
MODES = {
    "sequential": ("sequential", 1, 400, 0),
    "concurrent": ("64 concurrent", 64, 10, 0),
    "delayed": ("256 concurrent x 50 ms", 256, 10, DELAY_MS),
}


def tscb_client(base_url, tasks):
    import tscb

    client = tscb.AsyncClient(base_url=base_url, bearer_token=BEARER, session_token=SESSION)

    async def call():
        return await client.list_callbacks(ACCOUNT)

    return call, client.aclose


def httpx_client(base_url, tasks):
    import httpx

    limits = httpx.Limits(max_connections=tasks, max_keepalive_connections=tasks)
    client = httpx.AsyncClient(limits=limits, timeout=30.0)
    url = f"{base_url}/m2m/v1/callbacks/{ACCOUNT}"
    headers = {"Authorization": f"Bearer {BEARER}", "VZ-M2M-Token": SESSION}

    async def call():
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        return response.json()

    return call, client.aclose


def aiohttp_client(base_url, tasks):
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=tasks))
    url = f"{base_url}/m2m/v1/callbacks/{ACCOUNT}"
    headers = {"Authorization": f"Bearer {BEARER}", "VZ-M2M-Token": SESSION}

    async def call():
        async with session.get(url, headers=headers) as response:
            response.raise_for_status()
            return await response.json(content_type=None)

    return call, session.close


CLIENTS = {"tscb": tscb_client, "httpx": httpx_client, "aiohttp": aiohttp_client}


async def one_round(make, base_url, tasks, calls):
    """Calls per second of one round with a fresh client."""
    call, close = make(base_url, tasks)
    try:
        # Open the connections before the clock starts, as a long-lived service has them.
        await asyncio.gather(*(call() for _ in range(tasks)))

        async def worker():
            for _ in range(calls):
                await call()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        took = time.perf_counter() - started
    finally:
        await close()
    return tasks * calls / took


def admin(base_url, method, path, body=None):
    """An admin request; retried while the simulator still counts the last round's connections
    (it serves at most 256 at once and answers 503 beyond), so it also waits for them to go."""
    root = base_url[: -len("/api")]
    data = None if body is None else json.dumps(body).encode()
    for _ in range(200):
        request = urllib.request.Request(root + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                return
        except urllib.error.HTTPError as e:
            if e.code != 503:
                raise
        time.sleep(0.05)
    raise RuntimeError("the simulator kept answering 503")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument(
        "--delayed-base-url",
        help="a server that answers the same request 50 ms late by itself (run.sh's nginx), for "
        "the delayed mode instead of the simulator's delay fault",
    )
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help=f"the modes to run, comma-separated, of {', '.join(MODES)} (default: all)",
    )
    arguments = parser.parse_args()
    base_url = arguments.base_url
    chosen = arguments.modes.split(",")
    unknown = [m for m in chosen if m not in MODES]
    if unknown:
        parser.error(f"unknown mode {unknown[0]!r}; the modes are {', '.join(MODES)}")
    results = {}
    for key in chosen:
        mode, tasks, calls, delay = MODES[key]
        admin(base_url, "DELETE", "/__admin/faults")
        url = base_url
        if delay and arguments.delayed_base_url:
            url = arguments.delayed_base_url
            print(f"(the {mode} mode against {url})")
        elif delay:
            admin(base_url, "POST", "/__admin/faults", {"action": "delay", "ms": delay, "path_contains": "/callbacks/"})
        rates = {name: [] for name in CLIENTS}
        for name, make in CLIENTS.items():
            asyncio.run(one_round(make, url, tasks, max(1, calls // 4)))  # warm-up
            admin(base_url, "DELETE", "/__admin/requests")
        for _ in range(ROUNDS):
            for name, make in CLIENTS.items():
                rates[name].append(asyncio.run(one_round(make, url, tasks, calls)))
                # The simulator forgets nothing on its own: keep its log small (and wait for
                # the round's connections to go).
                admin(base_url, "DELETE", "/__admin/requests")
        results[mode] = {name: statistics.median(r) for name, r in rates.items()}
        spread = {name: (min(r), max(r)) for name, r in rates.items()}
        print(f"{mode} ({tasks} task{'s' if tasks > 1 else ''}, {ROUNDS} rounds of {tasks * calls} calls):")
        for name in CLIENTS:
            low, high = spread[name]
            print(f"  {name:<8} {results[mode][name]:>8.0f} calls/s (median; rounds {low:.0f} to {high:.0f})")
    admin(base_url, "DELETE", "/__admin/faults")

    print("targets:")
    for mode, rates in results.items():
        best_peer = max(rate for name, rate in rates.items() if name != "tscb")
        met = rates["tscb"] > best_peer
        print(f"  {mode}: tscb / best peer {rates['tscb'] / best_peer:.2f}x (> 1)  {'PASS' if met else 'FAIL'}")
    mode, tasks, _, delay = MODES["delayed"]
    if mode in results:
        ideal = tasks / (delay / 1000)
        share = results[mode]["tscb"] / ideal
        print(f"  256 x 50 ms: tscb at {share:.0%} of the ideal {ideal:.0f} calls/s (>= 90%)  {'PASS' if share >= 0.9 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
