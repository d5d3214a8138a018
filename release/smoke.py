"""What `make test-dist` asks of an installed tscb (wheel or sdist): the compiled module is the
installed one, and it registers, lists and deregisters against the tscb-sim that
THINGSPACE_BASE_URL, THINGSPACE_BEARER_TOKEN and THINGSPACE_SESSION_TOKEN name (the harness takes the
tokens from the simulator's banner: they are written once, in tscb-sim), read by Client.from_env as
a user's program would.

    python smoke.py VERSION
"""

import sys

import tscb

ACCOUNT = "TestAccount-2"
URL = "https://dist.example.com/cb"


def main() -> int:
    version = sys.argv[1]
    native = tscb._native.__file__
    assert "site-packages" in native, f"tscb._native comes from {native}, not from the installed package"
    assert tscb.__version__ == version, f"tscb.__version__ is {tscb.__version__}, the artifacts are {version}"

    with tscb.Client.from_env() as client:
        ack = client.register_callback(ACCOUNT, "CarrierService", URL, username="dist")
        assert (ack.account_name, ack.service_name) == (ACCOUNT, "CarrierService"), ack
        listed = [(cb.service_name, cb.url, cb.username) for cb in client.list_callbacks(ACCOUNT)]
        assert ("CarrierService", URL, "dist") in listed, listed
        try:
            client.register_callback(ACCOUNT, "CarrierService", "https://dist.example.com:8443/cb")
            raise AssertionError("a port ThingSpace does not call was accepted")
        except tscb.InvalidInputError as e:
            assert e.error_code == "Tscb.INPUT_INVALID.CallbackUrl.Port", e.error_code
        client.deregister_callback(ACCOUNT, "CarrierService")
        left = [cb.service_name for cb in client.list_callbacks(ACCOUNT)]
        assert "CarrierService" not in left, left
    print(f"tscb {tscb.__version__} on Python {sys.version.split()[0]}: registered, listed, deregistered ({native})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
