"""What `tscb.Client(...)` costs with the platform's certificate verifier, with and without
`ca_file=`, side by side: alternating rounds, the median of each side and their ratio.

Usage: python client_build.py CA_FILE [ROUNDS] [BUILDS] (bench/run.sh passes the CA that
`tscb-sim --tls --ca-out` wrote)."""

from __future__ import annotations

import statistics
import sys
import time

import tscb


def main() -> None:
    ca = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    builds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    sides: dict[bool, list[float]] = {False: [], True: []}
    for r in range(rounds):
        for with_ca in (False, True) if r % 2 == 0 else (True, False):
            extra = {"ca_file": ca} if with_ca else {}
            start = time.perf_counter()
            for _ in range(builds):
                tscb.Client(bearer_token="t", session_token="s", proxy="", **extra)
            sides[with_ca].append((time.perf_counter() - start) * 1000 / builds)
    plain, with_ca_ms = statistics.median(sides[False]), statistics.median(sides[True])
    print(f"Client(), platform verifier:            {plain:.2f} ms (median of {rounds} rounds x {builds})")
    print(f"Client(ca_file=...), platform verifier: {with_ca_ms:.2f} ms")
    print(f"ratio with/without the extra CA:        {with_ca_ms / plain:.3f}")


if __name__ == "__main__":
    main()
