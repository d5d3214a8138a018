"""Register a ThingSpace callback listener from Python (checked with mypy --strict).

Against the simulator (`make sim` in another terminal):

    THINGSPACE_BASE_URL=http://127.0.0.1:9000/api THINGSPACE_BEARER_TOKEN=sim-bearer-token \
    THINGSPACE_SESSION_TOKEN=sim-session-token python quickstart.py
"""

import os
import sys

import tscb


def main() -> int:
    try:
        client = tscb.Client(
            bearer_token=os.environ.get("THINGSPACE_BEARER_TOKEN"),
            session_token=os.environ.get("THINGSPACE_SESSION_TOKEN"),
            base_url=os.environ.get("THINGSPACE_BASE_URL"),  # None: production
        )
    except tscb.InvalidInputError as e:  # e.g. THINGSPACE_BEARER_TOKEN not set
        print(f"cannot make a client: {e.error_code}: {e.error_message}", file=sys.stderr)
        return 2
    with client:
        try:
            ack = client.register_callback(
                "TestAccount-2", "CarrierService", "https://listener.example.com/thingspace", username="fleet-7"
            )
            print(f"registered {ack.service_name} for {ack.account_name}")
            for cb in client.list_callbacks("TestAccount-2"):
                print(f"  {cb.service_name} -> {cb.url}")  # cb.password is there too, in clear text
            client.register_callback("TestAccount-2", "CarrierService", "https://listener.example.com:8443/cb")
        except tscb.InvalidInputError as e:  # nothing was sent
            print(f"rejected before sending: {e.error_code}: {e.error_message}")
        except tscb.AuthError as e:  # bad bearer token, or the session expired: log in again
            print(f"authentication failed: {e}", file=sys.stderr)
            return 1
        except tscb.TscbError as e:
            print(f"failed (HTTP {e.http_status}): {e.error_code}: {e.error_message}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
