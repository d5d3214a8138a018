"""tscb's Python package against the two things a Python user would otherwise reach for.

(Over 400 lines: every figure must come from the same process, the same simulator and the same
clients' source text, which one script keeps together.)

Run by bench/python/run.sh, which builds the environment and starts one tscb-sim; this script
takes the simulator's base URL and measures, against that one server in this one run:

- calls per second of `register_callback` through tscb, through a bare `requests.Session`
  building the same request by hand, and through Verizon's generated SDK
  (`sdksio-verizon-apis-sdk`), in interleaved rounds, with two references in the same rounds:
  a raw socket (the floor) and tscb's Rust API (what the Python layer adds);
- import time, peak memory and the number of runtime dependencies of each.

The machine is shared, has two cores and is noisy, so absolute numbers drift from run to run;
only the ratios between clients measured side by side mean something, which is why the
rounds are interleaved and every figure is a median.

Usage: bench.py --base-url http://127.0.0.1:PORT/api --rust-calls target/release/examples/bench_calls

Exit status: 0 when everything was measured, whether or not the targets were met (this is a
benchmark, not a test); 1 when something could not be measured, or a client's requests did not
arrive at the simulator as expected.
"""

import argparse
import gc
import http.client
import importlib.metadata
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from urllib.parse import urlsplit

ROUNDS = int(os.environ.get("TSCB_PYBENCH_ROUNDS", "30"))
CALLS_PER_ROUND = int(os.environ.get("TSCB_PYBENCH_CALLS", "100"))
WARMUP_CALLS = 5
IMPORT_RUNS = int(os.environ.get("TSCB_PYBENCH_IMPORT_RUNS", "7"))
MEMORY_RUNS = int(os.environ.get("TSCB_PYBENCH_MEMORY_RUNS", "3"))
MEMORY_CALLS = 100

# Each client is source text rather than a function, so that the very same code is what the
# throughput rounds call in this process, what the import-time children import and what the
# peak-memory children run: there is no second copy that could drift from the first.
# COMMON holds the simulator's credentials (as run.sh took them from its banner, written into the
# text so that every child runs the same code) and the registration every client makes.
COMMON = f"""
BEARER = {os.environ["THINGSPACE_BEARER_TOKEN"]!r}
SESSION = {os.environ["THINGSPACE_SESSION_TOKEN"]!r}
CLIENT_ID = {os.environ["THINGSPACE_CLIENT_ID"]!r}
CLIENT_SECRET = {os.environ["THINGSPACE_CLIENT_SECRET"]!r}
ACCOUNT = "TestAccount-2"
SERVICE = "CarrierService"
LISTENER = "https://listener.example.com/thingspace"
"""

# name -> (distribution name, the import a user writes, building the client and `register()`)
CLIENTS = {
    "tscb": (
        "tscb",
        "import tscb",
        """
client = tscb.Client(bearer_token=BEARER, session_token=SESSION, base_url=BASE_URL)

def register():
    return client.register_callback(ACCOUNT, SERVICE, LISTENER).account_name
""",
    ),
    # What someone writes who takes no library: one Session (so keep-alive, as the other two
    # have), the four headers, the JSON body, a timeout as any real code would set, and the
    # answer read back, as the other two read it. The URL is built per call with the account
    # escaped, because that is part of the work the libraries do per call too.
    "requests": (
        "requests",
        "import requests\nfrom urllib.parse import quote",
        """
session = requests.Session()
headers = {
    "Authorization": "Bearer " + BEARER,
    "VZ-M2M-Token": SESSION,
    "Content-Type": "application/json",
    "Accept": "application/json",
}

def register():
    url = BASE_URL + "/m2m/v1/callbacks/" + quote(ACCOUNT, safe="")
    answer = session.post(url, headers=headers, json={"name": SERVICE, "url": LISTENER}, timeout=30)
    answer.raise_for_status()
    return answer.json()["accountName"]
""",
    ),
    # Verizon's SDK has no base-URL setting: Configuration.get_base_uri() looks the URL up in a
    # class-level table of Verizon's own hosts, keyed by Environment and Server. The least
    # invasive honest way in is the SDK's own `VerizonClient(config=...)` parameter with a
    # subclass of its Configuration whose get_base_uri() answers the simulator for the two
    # servers this call can use (THINGSPACE for the callback, OAUTH_SERVER for a token) and
    # raises for any other, so nothing can fall back to a real host. No global state and no
    # installed file is changed; everything else (request building, auth managers, the
    # requests-based HTTP client, response decoding) is the SDK's, as shipped.
    #
    # Auth: the endpoint demands both the OAuth bearer and the VZ-M2M-Token header. The SDK's
    # OAuth credentials require a client id and secret, and take an optional ready-made token;
    # handing it the same bearer token tscb gets (with no expiry, which the SDK treats as never
    # expiring) makes it send the identical two headers and fetch no token. The recorded
    # requests are checked for exactly that.
    "verizon-sdk": (
        "sdksio-verizon-apis-sdk",
        "from verizon.configuration import Configuration, Server\n"
        "from verizon.http.auth.thingspace_oauth import ThingspaceOauthCredentials\n"
        "from verizon.http.auth.vz_m2m_token import VZM2mTokenCredentials\n"
        "from verizon.models.oauth_token import OauthToken\n"
        "from verizon.models.register_callback_request import RegisterCallbackRequest\n"
        "from verizon.verizon_client import VerizonClient",
        """
class LoopbackConfiguration(Configuration):
    def get_base_uri(self, server=Server.THINGSPACE):
        urls = {Server.THINGSPACE: BASE_URL, Server.OAUTH_SERVER: BASE_URL + "/ts/v1"}
        if server not in urls:
            raise RuntimeError(f"the benchmark gives the SDK no URL for {server}")
        return urls[server]

client = VerizonClient(config=LoopbackConfiguration(
    thingspace_oauth_credentials=ThingspaceOauthCredentials(
        oauth_client_id=CLIENT_ID,
        oauth_client_secret=CLIENT_SECRET,
        oauth_token=OauthToken(access_token=BEARER, token_type="bearer"),
    ),
    vz_m2m_token_credentials=VZM2mTokenCredentials(vz_m2m_token=SESSION),
))
callbacks = client.connectivity_callbacks

def register():
    answer = callbacks.register_callback(ACCOUNT, RegisterCallbackRequest(name=SERVICE, url=LISTENER))
    if not answer.is_success():
        raise RuntimeError(f"SDK answer {answer.status_code}: {answer.text}")
    return answer.body.account_name
""",
    ),
}

# An audit hook refusing any name lookup or connection that is not loopback, installed in this
# process and in the peak-memory children before a client is built. The SDK is the reason: its
# home is Verizon's production host, and a request there would be a serious mistake. The hook
# sees Python's socket module only (tscb connects from Rust), which is why every client's
# requests are also counted at the simulator. Its cost is a Python call per audit event, a few
# per HTTP call against one or more milliseconds, and it is paid by both Python clients alike.
# Import-time children run without it: imports open no sockets, and the hook would be called
# on every module the SDK loads.
GUARD = """
import sys as _sys

def _loopback_only(event, args):
    if event == "socket.getaddrinfo" or event == "socket.gethostbyname":
        host = args[0]
    elif event == "socket.connect" or event == "socket.connect_ex":
        address = args[1]
        if not isinstance(address, tuple):
            return  # a Unix socket: not the network
        host = address[0]
    else:
        return
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host is None or host in ("localhost", "::1") or str(host).startswith("127."):
        return
    raise RuntimeError(f"benchmark guard: refused {event} to {host!r}, only loopback is allowed")

_sys.addaudithook(_loopback_only)
"""


def client_source(name, base_url):
    """Everything a child needs to build client `name` against base_url, imports first."""
    _, imports, setup = CLIENTS[name]
    return f"{COMMON}\nBASE_URL = {base_url!r}\n{imports}\n{setup}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="the simulator's base URL, http://127.0.0.1:PORT/api")
    parser.add_argument("--rust-calls", required=True,
                        help="core/examples/bench_calls built with --release: the Rust API's per-call cost")
    args = parser.parse_args()
    base_url = args.base_url.rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or not parts.port:
        raise SystemExit(f"bench: the base URL must be http://127.0.0.1:PORT/..., not {base_url}")

    class Failed(Exception):
        """Something could not be measured, or was measured doing the wrong thing."""

    # The simulator records every API request it receives; after each timed block the record
    # is read back and cleared, outside the timing. It is the proof that each client really
    # made its calls, to this server, with the same request.
    def admin(method, path):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            conn.request(method, path)
            answer = conn.getresponse()
            body = answer.read()
            if answer.status >= 300:
                raise Failed(f"simulator {method} {path}: {answer.status} {body[:200]!r}")
            return body
        finally:
            conn.close()

    ns_common = {}
    exec(COMMON, ns_common)
    expected_path = parts.path + "/m2m/v1/callbacks/" + ns_common["ACCOUNT"]
    expected_body = {"name": ns_common["SERVICE"], "url": ns_common["LISTENER"]}
    expected_headers = {
        "authorization": "Bearer " + ns_common["BEARER"],
        "vz-m2m-token": ns_common["SESSION"],
        "content-type": "application/json",
        "accept": "application/json",
    }

    def take_recorded(label, count):
        """Check that the simulator got exactly `count` identical register requests; clear them."""
        recorded = json.loads(admin("GET", "/__admin/requests"))
        admin("DELETE", "/__admin/requests")
        if len(recorded) != count:
            seen = sorted({f"{r['method']} {r['path']}" for r in recorded})
            raise Failed(f"{label}: the simulator received {len(recorded)} requests, expected {count}: {seen}")
        for r in recorded:
            headers = {k.lower(): v for k, v in r["headers"]}
            wrong = {k: headers.get(k) for k, v in expected_headers.items() if headers.get(k) != v}
            if r["method"] != "POST" or r["path"] != expected_path or wrong:
                raise Failed(f"{label}: unexpected request {r['method']} {r['path']}, headers {wrong}")
            if json.loads(r["body"]) != expected_body:
                raise Failed(f"{label}: unexpected body {r['body']!r}")
        return {r["connection_id"] for r in recorded}

    admin("DELETE", "/__admin/requests")
    names = list(CLIENTS)

    # --- 1. Calls per second: interleaved rounds in this one process -----------------------
    exec(GUARD, {})
    register = {}
    for name in names:
        ns = {}
        exec(compile(client_source(name, base_url), f"<{name}>", "exec"), ns)
        register[name] = ns["register"]
        # A few untimed calls first, so that no client's first round pays for opening its
        # connection or for first-call work (lazy imports, caches) that the others do not.
        for _ in range(WARMUP_CALLS):
            register[name]()
        take_recorded(f"{name} warm-up", WARMUP_CALLS)

    account = ns_common["ACCOUNT"]

    # Two references, measured in the same rounds but not clients a user would pick:
    # - "raw socket": Python's socket writing the identical request bytes on one keep-alive
    #   connection and reading the answer by its Content-Length. No HTTP library at all: the
    #   floor of a call in this set-up (the round trip to the simulator's process).
    # - "tscb Rust API": the same call through tscb from Rust (core/examples/bench_calls with
    #   `plain`, one process per round, timing only its calls after a warm-up of a quarter as
    #   many), for what the Python layer adds.
    raw = socket.create_connection((parts.hostname, parts.port), timeout=10)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    raw_body = json.dumps(expected_body).encode()
    raw_request = (
        f"POST {expected_path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in expected_headers.items())
        + f"content-length: {len(raw_body)}\r\n\r\n"
    ).encode() + raw_body

    def raw_register():
        raw.sendall(raw_request)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = raw.recv(65536)
            if not chunk:
                raise Failed("raw socket: the simulator closed the connection")
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        if not lines[0].startswith(b"HTTP/1.1 2"):
            raise Failed(f"raw socket: {lines[0]!r}")
        length = next(int(v) for k, _, v in (line.partition(b":") for line in lines[1:])
                      if k.strip().lower() == b"content-length")
        while len(rest) < length:
            rest += raw.recv(65536)
        return json.loads(rest)["accountName"]

    for _ in range(WARMUP_CALLS):
        raw_register()
    take_recorded("raw socket warm-up", WARMUP_CALLS)

    def rust_round():
        """Seconds for CALLS_PER_ROUND calls through the Rust API, as the child measured them."""
        done = subprocess.run([args.rust_calls, base_url, str(CALLS_PER_ROUND), "plain"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise Failed(f"tscb Rust API: {done.stderr.strip()[-500:]}")
        return float(done.stdout.strip()) * CALLS_PER_ROUND / 1e6

    references = ["raw socket", "tscb Rust API"]
    measured = names + references
    round_seconds = {name: [] for name in measured}
    connections = {name: set() for name in measured}
    # The order changes every round, cycling through all orders of the three clients, so that
    # each meets the machine's slow and fast moments alike and none is always first or last;
    # the two references take turns before, between and after them.
    orders = list(itertools.permutations(names))
    for rnd in range(ROUNDS):
        order = list(orders[rnd % len(orders)])
        order.insert(rnd % 4, references[rnd % 2])
        order.insert((rnd + 2) % 5, references[(rnd + 1) % 2])
        for name in order:
            # Garbage left by the previous client's round is collected now, not in this one.
            gc.collect()
            # Each round starts with a quarter as many untimed calls, as the Rust child's does,
            # so that no timed call pays for the caches the previous round left cold.
            calls = CALLS_PER_ROUND + CALLS_PER_ROUND // 4
            if name == "tscb Rust API":
                round_seconds[name].append(rust_round())
            else:
                call = raw_register if name == "raw socket" else register[name]
                for _ in range(CALLS_PER_ROUND // 4):
                    call()
                start = time.perf_counter()
                for _ in range(CALLS_PER_ROUND):
                    if call() != account:
                        raise Failed(f"{name}: wrong account name in the answer")
                round_seconds[name].append(time.perf_counter() - start)
            connections[name] |= take_recorded(f"{name} round {rnd + 1}", calls)
    raw.close()

    calls_per_s = {n: CALLS_PER_ROUND / statistics.median(s) for n, s in round_seconds.items()}
    spread = {n: (CALLS_PER_ROUND / max(s), CALLS_PER_ROUND / min(s)) for n, s in round_seconds.items()}

    # --- 2a. Import time: a fresh interpreter per import, the import statement timed ----------
    # Interpreter start-up is outside the timing, so only what the package itself costs is
    # measured. One untimed run of each first, so that every client has its bytecode cached
    # and its files in the page cache, as they are for a user on any run after the first.
    def import_seconds(name):
        code = f"import time\n_t = time.perf_counter()\n{CLIENTS[name][1]}\nprint(time.perf_counter() - _t)"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            raise Failed(f"{name}: import failed: {done.stderr.strip()[-500:]}")
        return float(done.stdout.strip().splitlines()[-1])

    for name in names:
        import_seconds(name)
    import_times = {name: [] for name in names}
    for run in range(IMPORT_RUNS):
        for name in names[run % 3:] + names[:run % 3]:
            import_times[name].append(import_seconds(name))
    import_ms = {n: 1000 * statistics.median(t) for n, t in import_times.items()}

    # --- 2b. Peak memory: a child that imports, builds the client and makes 100 calls -------
    # The child reports its own peak resident set, VmHWM from /proc/self/status, as its last
    # act; nothing is subtracted, and a bare interpreter's peak is printed beside it for scale.
    # Not ru_maxrss: Linux carries the spawning process's high-water mark across exec into the
    # child's ru_maxrss (the pre-exec address space is the parent's, shared by vfork), so every
    # child of this process, which has all three clients loaded, read the same ~44 MiB, a bare
    # interpreter included. VmHWM belongs to the address space exec created and starts at zero.
    def peak_mib(code, label, calls):
        code += (
            "\nfor _line in open('/proc/self/status'):\n"
            "    if _line.startswith('VmHWM:'):\n"
            "        print('VmHWM', _line.split()[1])\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            raise Failed(f"{label}: child failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        kib = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("VmHWM ")]
        if len(kib) != 1:
            raise Failed(f"{label}: child reported no peak memory: {done.stdout[-200:]!r}")
        if calls:
            take_recorded(f"{label} memory child", calls)
        return int(kib[0]) / 1024

    def memory_code(name):
        loop = (
            f"for _ in range({MEMORY_CALLS}):\n"
            "    if register() != ACCOUNT:\n"
            "        raise SystemExit('wrong account name in the answer')\n"
        )
        return GUARD + client_source(name, base_url) + "\n" + loop

    memory_runs = {name: [] for name in names}
    for run in range(MEMORY_RUNS):
        for name in names[run % 3:] + names[:run % 3]:
            memory_runs[name].append(peak_mib(memory_code(name), name, MEMORY_CALLS))
    memory = {n: statistics.median(m) for n, m in memory_runs.items()}
    bare_interpreter = statistics.median(peak_mib("pass", "bare interpreter", 0) for _ in range(MEMORY_RUNS))

    # --- 2c. Runtime dependencies: every distribution the package's metadata pulls in ------
    # Walked recursively from Requires-Dist in this environment, markers evaluated for this
    # interpreter and no extras, which is what `pip install <package>` installs. The package
    # itself is not counted.
    try:
        from packaging.requirements import Requirement
    except ImportError:  # the SDK brings `packaging`; pip's vendored copy is the same code
        from pip._vendor.packaging.requirements import Requirement

    def normalized(dist_name):
        return dist_name.lower().replace("_", "-").replace(".", "-")

    def runtime_deps(root):
        seen, todo = set(), [root]
        while todo:
            try:
                dist = importlib.metadata.distribution(todo.pop())
            except importlib.metadata.PackageNotFoundError as e:
                raise Failed(f"dependency walk from {root}: {e} is required but not installed")
            for line in dist.requires or []:
                req = Requirement(line)
                if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                    continue
                dep = normalized(req.name)
                if dep not in seen and dep != normalized(root):
                    seen.add(dep)
                    todo.append(dep)
        return seen

    deps = {name: runtime_deps(CLIENTS[name][0]) for name in names}
    versions = {name: importlib.metadata.version(CLIENTS[name][0]) for name in names}

    # --- 3. Report ---------------------------------------------------------------------
    total = ROUNDS * CALLS_PER_ROUND
    print(f"register_callback from Python, one tscb-sim at {base_url}, Python {sys.version.split()[0]}")
    print(f"{ROUNDS} interleaved rounds of {CALLS_PER_ROUND} sequential calls per client ({total:,} each), "
          f"import time median of {IMPORT_RUNS} fresh interpreters, peak memory (VmHWM) median of "
          f"{MEMORY_RUNS} children each making {MEMORY_CALLS} calls")
    print()
    header = f"{'client':<28} {'calls/s':>8} {'us/call':>8} {'round range calls/s':>20} {'conns':>5} " \
             f"{'import ms':>9} {'peak MiB':>8} {'deps':>4}"
    print(header)
    print("-" * len(header))
    for name in measured:
        low, high = spread[name]
        label = f"{name} {versions[name]}" if name in versions else f"({name})"
        rest = (f"{import_ms[name]:>9.1f} {memory[name]:>8.1f} {len(deps[name]):>4}"
                if name in versions else "")
        print(f"{label:<28} {calls_per_s[name]:>8.0f} {1e6 / calls_per_s[name]:>8.1f} "
              f"{f'{low:.0f}..{high:.0f}':>20} {len(connections[name]):>5} {rest}".rstrip())
    print(f"{'(bare interpreter)':<28} {'':>8} {'':>8} {'':>20} {'':>5} {'':>9} {bare_interpreter:>8.1f}")
    print()
    print("runtime dependencies:")
    for name in names:
        print(f"  {name}: {', '.join(sorted(deps[name])) or 'none'}")
    print()

    targets = [
        ("tscb calls/s >= 10x Verizon's SDK", calls_per_s["tscb"] / calls_per_s["verizon-sdk"], ">=", 10.0),
        ("tscb calls/s > bare requests", calls_per_s["tscb"] / calls_per_s["requests"], ">", 1.0),
        ("tscb per call <= 1.2x the Rust API's", calls_per_s["tscb Rust API"] / calls_per_s["tscb"], "<=", 1.2),
        ("tscb import time <= 1/10 of the SDK's", import_ms["tscb"] / import_ms["verizon-sdk"], "<=", 0.1),
        ("tscb peak memory <= 1/2 of the SDK's", memory["tscb"] / memory["verizon-sdk"], "<=", 0.5),
    ]
    print("targets (ratio tscb / other)")
    for label, ratio, op, bound in targets:
        met = {">=": ratio >= bound, ">": ratio > bound, "<=": ratio <= bound}[op]
        print(f"  {label:<40} {ratio:>8.3g}x  {'PASS' if met else 'FAIL'}")
    print(f"  (for scale, bare requests / SDK calls/s: {calls_per_s['requests'] / calls_per_s['verizon-sdk']:.3g}x;"
          f" raw socket / SDK: {calls_per_s['raw socket'] / calls_per_s['verizon-sdk']:.3g}x, the most any client"
          f" could reach here)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - any failure means "not measured", said plainly
        print(f"bench: could not measure: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
