"""A complete ThingSpace callback listener on the standard library's http.server.

    LISTENER_PW=... python listener.py --listen 127.0.0.1:9002 --username fleet-7 --password-env LISTENER_PW

Each message ThingSpace POSTs is checked with tscb.CallbackVerifier: the source address (by
default Verizon's documented addresses; --allow-source ADDR_OR_CIDR, repeatable, or
--any-source), then the body, then the username and password echoed in it. An accepted message
is printed on stdout as one JSON line (the message without its password, plus "receivedAt" and
"source") and flushed before the 200 goes back, so that a message ThingSpace saw acknowledged was
written. Answers: 200 accepted (or a resend of a message already printed, which is not printed
again), 401 wrong credentials, 403 a source that is not allowed, 400 not a valid message (or no
Content-Length), 413 a body over tscb.MAX_CALLBACK_BYTES.

It prints "listening on http://HOST:PORT" on stderr once it listens (--listen HOST:0 picks a
free port). For production put it behind TLS (ThingSpace calls https listeners) and run it
under a supervisor; this file shows the checks, not a hardened server.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import tscb

# Resends of one message arrive seconds to minutes apart (4 attempts at 5-minute intervals at
# most): remembering this many recent keys is plenty, and bounds the memory.
REMEMBERED_KEYS = 10_000


class Seen:
    """The dedup_keys of the messages printed recently, oldest forgotten first."""

    def __init__(self) -> None:
        self._keys: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._keys

    def add(self, key: str) -> None:
        with self._lock:
            self._keys[key] = None
            while len(self._keys) > REMEMBERED_KEYS:
                self._keys.popitem(last=False)


def make_handler(verifier: tscb.CallbackVerifier, seen: Seen) -> type[BaseHTTPRequestHandler]:
    # One lock around "print, then remember": two attempts of one message arriving together are
    # printed once.
    output_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10  # seconds a client may take to send its request: a slow one cannot hold a thread forever

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            source = self.client_address[0]
            length = self.content_length()
            if length is None or length > tscb.MAX_CALLBACK_BYTES:
                # A body we will not read: refuse a wrong source first (403), then say why (400,
                # 413), and close the connection, since the unread body would follow.
                try:
                    verifier.check_source(source)
                except tscb.TscbError as e:
                    return self.finish_with(tscb.callback_answer_status(e), e, close=True)
                return self.finish_with(400 if length is None else 413, None, close=True)
            body = self.rfile.read(length)
            try:
                message = verifier.verify(body, source)
            except tscb.TscbError as e:
                return self.finish_with(tscb.callback_answer_status(e), e)
            with output_lock:
                if message.dedup_key not in seen:
                    record = message.to_json_without_password()
                    # The form `tscb listen` writes: UTC, milliseconds, "Z".
                    now = datetime.datetime.now(datetime.timezone.utc)
                    record["receivedAt"] = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
                    record["source"] = source
                    print(json.dumps(record, sort_keys=True), flush=True)
                    seen.add(message.dedup_key)
            self.finish_with(200, None)

        def content_length(self) -> Optional[int]:
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return None
            return length if length >= 0 else None

        def finish_with(self, status: int, error: Optional[tscb.TscbError], close: bool = False) -> None:
            if error is not None:
                # The error's code and message never hold a password.
                self.log_message("refused: %s", error)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            if close:
                # The body (if any) was not read: the connection cannot be reused.
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()

    return Handler


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Receive ThingSpace callback messages.")
    parser.add_argument("--listen", default="127.0.0.1:9001", help="HOST:PORT (default 127.0.0.1:9001)")
    parser.add_argument("--username", help="the registered callback username")
    parser.add_argument("--password-env", help="the environment variable holding the registered password")
    parser.add_argument("--previous-password-env", help="the variable holding the password before a rotation")
    parser.add_argument("--allow-source", action="append", help="an allowed address or CIDR block (repeatable)")
    parser.add_argument("--any-source", action="store_true", help="allow every source address")
    args = parser.parse_args(argv)

    def secret(variable: Optional[str]) -> Optional[str]:
        if variable is None:
            return None
        if variable not in os.environ:
            parser.error(f"the environment variable {variable} is not set")
        return os.environ[variable]

    # None: Verizon's documented addresses (tscb.VERIZON_CALLBACK_SOURCES).
    sources: Optional[list[str]] = args.allow_source
    try:
        verifier = tscb.CallbackVerifier(
            username=args.username,
            password=secret(args.password_env),
            previous_password=secret(args.previous_password_env),
            allowed_sources=sources,
            allow_any_source=args.any_source,
        )
    except tscb.TscbError as e:
        parser.error(str(e))
    host, _, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host.strip("[]"), int(port)), make_handler(verifier, Seen()))
    server.daemon_threads = True
    print(f"listening on http://{host}:{server.server_port}", file=sys.stderr, flush=True)
    shown = "any" if args.any_source else ", ".join(sources or tscb.VERIZON_CALLBACK_SOURCES)
    print(f"accepting sources: {shown}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
