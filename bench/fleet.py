"""make bench, part 4: `tscb apply` over 1,000 accounts x 2 services against tscb-sim with a 50 ms
delay on every callbacks request, side by side with a shell loop of `tscb register`.

Usage: python3 bench/fleet.py TSCB_BIN TSCB_SIM_BIN [ACCOUNTS] [LOOP_SAMPLE]

Reports each run's time, its ratio to the latency-bound ideal (requests x 50 ms / concurrency)
and the token requests and logins it sent. Standard library only; loopback only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional

DELAY_MS = 50
CONCURRENCY = 16
SERVICES = ("CarrierService", "DeviceUsage")
LISTENER = "https://listener.example.com/thingspace"
# The variable each sign-in credential goes in -> its label in the simulator's banner, which is
# where the values are read: they are written once, in tscb-sim.
CREDENTIALS = {
    "THINGSPACE_CLIENT_ID": "client id",
    "THINGSPACE_CLIENT_SECRET": "client secret",
    "THINGSPACE_LOGIN_USERNAME": "login username",
    "THINGSPACE_LOGIN_PASSWORD": "login password",
}


class Sim:
    def __init__(self, binary: str) -> None:
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        if not first.startswith("listening on "):
            raise SystemExit(f"tscb-sim did not start: {first!r}")
        self.base_url = first[len("listening on ") :]
        # The rest of the banner, "label: value" lines, down to the last one, "accounts".
        self.banner: dict[str, str] = {}
        for line in self.process.stdout:
            label, _, value = line.rstrip("\n").partition(": ")
            self.banner[label] = value
            if label == "accounts":
                break
        self.root = self.base_url[: -len("/api")]

    def admin(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        # The simulator refuses an admin request with a body that is not JSON (a browser form
        # cannot set this header), and one whose Host names anything but its address.
        headers = {} if data is None else {"Content-Type": "application/json"}
        request = urllib.request.Request(self.root + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
        return json.loads(text) if text else None

    def counts(self) -> tuple[int, int, int]:
        """(token requests, logins, callbacks requests) since the log was last cleared."""
        paths = [r["path"] for r in self.admin("GET", "/__admin/requests")]
        return (
            sum(p.endswith("/oauth2/token") for p in paths),
            sum(p.endswith("/session/login") for p in paths),
            sum("/callbacks/" in p for p in paths),
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def environment(sim: Sim) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THINGSPACE_")}
    env.update({name: sim.banner[label] for name, label in CREDENTIALS.items()}, THINGSPACE_BASE_URL=sim.base_url)
    return env


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def row(name: str, seconds: float, requests: int, concurrency: int, tokens: int, logins: int) -> None:
    ideal = requests * DELAY_MS / 1000 / concurrency
    print(
        f"  {name:<44} {seconds:8.2f} s   ideal {ideal:7.2f} s   ratio {seconds / ideal:5.2f}"
        f"   token requests {tokens:5}   logins {logins:5}"
    )


def main() -> None:
    tscb, sim_bin = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    sample = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    sim = Sim(sim_bin)
    try:
        names = [f"0000{700000 + i:06}-00001" for i in range(n)]
        loop_names = [f"0000{900000 + i:06}-00001" for i in range((sample + 1) // 2)]
        for name in names + loop_names:
            sim.admin("POST", "/__admin/accounts", {"name": name})
        sim.admin("POST", "/__admin/faults", {"path_contains": "/callbacks/", "action": "delay", "ms": DELAY_MS})
        env = environment(sim)
        with tempfile.TemporaryDirectory() as tmp:
            fleet = Path(tmp) / "fleet.toml"
            services = ", ".join(f'"{s}"' for s in SERVICES)
            text = f'[defaults]\nurl = "{LISTENER}"\nservices = [{services}]\n'
            text += "".join(f'\n[[account]]\nname = "{name}"\n' for name in names)
            fleet.write_text(text)
            apply = [tscb, "apply", "--yes", "--concurrency", str(CONCURRENCY), "-f", str(fleet)]

            print(
                f"tscb apply vs a shell loop of tscb register: {n} accounts x {len(SERVICES)} services, "
                f"{DELAY_MS} ms delay on every callbacks request, one tscb-sim"
            )
            sim.admin("DELETE", "/__admin/requests")
            first = timed(apply, env)
            tokens, logins, requests = sim.counts()
            row(f"apply --concurrency {CONCURRENCY}, from empty", first, requests, CONCURRENCY, tokens, logins)

            sim.admin("DELETE", "/__admin/requests")
            second = timed(apply, env)
            tokens, logins, requests = sim.counts()
            row(f"apply --concurrency {CONCURRENCY}, nothing to do", second, requests, CONCURRENCY, tokens, logins)

            # The loop as a user writes it: one process, one sign-in, one register per line.
            script = Path(tmp) / "loop.sh"
            lines = [
                f'"{tscb}" register --account {name} --service {service} --url {LISTENER} >/dev/null'
                for name in loop_names
                for service in SERVICES
            ][:sample]
            script.write_text("set -e\n" + "\n".join(lines) + "\n")
            sim.admin("DELETE", "/__admin/requests")
            loop = timed(["bash", str(script)], env)
            tokens, logins, requests = sim.counts()
            scale = n * len(SERVICES) / len(lines)
            row(f"shell loop of tscb register, {len(lines)} of them", loop, requests, 1, tokens, logins)
            row(
                f"  ... extrapolated to {n * len(SERVICES)}",
                loop * scale,
                round(requests * scale),
                1,
                round(tokens * scale),
                round(logins * scale),
            )
            print(f"  the loop takes {loop * scale / first:.0f}x as long as apply from empty")
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
