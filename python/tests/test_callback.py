"""Receiving callbacks from Python: CallbackMessage.parse, CallbackVerifier, the immutable results, the
exceptions, and the example listener answering real POSTs on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import IO, Any, Iterator

import pytest

import tscb
from conftest import REPO

FAULT_EXAMPLE = (
    b'{"username":"","password":"","requestId":"076f7ea9-8230-49b1-9386-8dafaddc7d9e",'
    b'"deviceIds":[{"id":"20180903000000000009","kind":"Iccid"}],'
    b'"faultResponse":{"faultcode":"UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",'
    b'"faultstring":"REQUEST_FAILED. Device is already active"},'
    b'"status":"Failed","callbackCount":1,"maxCallbackThreshold":4}'
)
PASSWORD = "Corr3ct-H0rse-Battery"
OLD_PASSWORD = "0ld-Pa55w0rd-Staple"
WRONG_PASSWORD = "Wr0ng-But-S3cret"
VERIZON = "3.87.163.45"


def body(username: str = "fleet-7", password: str = PASSWORD, count: Any = 1, request_id: str = "req-1") -> bytes:
    return json.dumps(
        {
            "username": username,
            "password": password,
            "requestId": request_id,
            "deviceIds": [{"id": "353238060000001", "kind": "IMEI"}],
            "deviceResponse": {"changeIdentifierResponse": {"iccid": "8914800000000000001"}},
            "status": "Success",
            "callbackCount": count,
            "maxCallbackThreshold": 4,
        }
    ).encode()


def verifier(**kwargs: Any) -> tscb.CallbackVerifier:
    return tscb.CallbackVerifier(username="fleet-7", password=PASSWORD, **kwargs)


def assert_clean(text: str) -> None:
    for secret in (PASSWORD, OLD_PASSWORD, WRONG_PASSWORD):
        assert secret not in text, text


def test_the_documented_fault_example_parses() -> None:
    msg = tscb.CallbackMessage.parse(FAULT_EXAMPLE)
    assert isinstance(msg, tscb.CallbackMessage)
    assert msg.request_id == "076f7ea9-8230-49b1-9386-8dafaddc7d9e"
    assert msg.username == "" and msg.password == ""
    assert msg.device_ids == (tscb.DeviceId("20180903000000000009", "Iccid"),)
    assert msg.device_ids[0].kind_is("ICCID") and not msg.device_ids[0].kind_is("imei")
    assert msg.status == "Failed"
    assert msg.callback_count == 1 and msg.max_callback_threshold == 4
    assert msg.fault == tscb.CallbackFault(
        "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive", "REQUEST_FAILED. Device is already active"
    )
    assert msg.payload_name == "faultResponse"
    assert msg.payload == {
        "faultcode": "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",
        "faultstring": "REQUEST_FAILED. Device is already active",
    }
    assert msg.extra == {}
    assert len(msg.dedup_key) == 64
    assert "password" not in msg.to_json_without_password()
    assert msg.to_json_without_password()["requestId"] == msg.request_id


def test_results_are_immutable() -> None:
    msg = tscb.CallbackMessage.parse(FAULT_EXAMPLE)
    with pytest.raises(AttributeError):
        msg.status = "Success"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        msg.device_ids[0].kind = "imei"  # type: ignore[misc]
    payload = msg.payload
    assert payload is not None
    payload["faultcode"] = "changed"
    assert msg.payload is not None and msg.payload["faultcode"] != "changed"
    assert hash(msg.device_ids[0]) == hash(tscb.DeviceId("20180903000000000009", "Iccid"))


def test_unknown_fields_and_services_are_kept() -> None:
    msg = tscb.CallbackMessage.parse(
        b'{"requestId":"r","smsResponse":{"text":"hi","n":[1,2.5,null]},"deliveredAt":"2026-01-01",'
        b'"callbackCount":"2","deviceIds":[{"id":"1"}]}'
    )
    assert msg.payload_name == "smsResponse"
    assert msg.payload == {"text": "hi", "n": [1, 2.5, None]}
    assert msg.extra == {"deliveredAt": "2026-01-01"}
    assert msg.callback_count == 2
    assert msg.device_ids == (tscb.DeviceId("1", ""),)
    assert msg.fault is None and msg.status is None and msg.password is None


@pytest.mark.parametrize(
    "data,code",
    [
        (b"", "Tscb.CALLBACK_INVALID.NotJson"),
        (b"not json", "Tscb.CALLBACK_INVALID.NotJson"),
        (b"\xff\xfe{}", "Tscb.CALLBACK_INVALID.NotJson"),
        (b"[]", "Tscb.CALLBACK_INVALID.UnexpectedShape"),
        (b'"text"', "Tscb.CALLBACK_INVALID.UnexpectedShape"),
        (b'{"requestId":42}', "Tscb.CALLBACK_INVALID.UnexpectedShape"),
        (b'{"callbackCount":-1}', "Tscb.CALLBACK_INVALID.UnexpectedShape"),
        (b'{"deviceIds":[{"kind":"imei"}]}', "Tscb.CALLBACK_INVALID.UnexpectedShape"),
        (b'{"faultResponse":[]}', "Tscb.CALLBACK_INVALID.UnexpectedShape"),
        (b"{" + b" " * tscb.MAX_CALLBACK_BYTES + b"}", "Tscb.CALLBACK_INVALID.TooLarge"),
    ],
)
def test_bad_bodies_raise_invalid_callback_error(data: bytes, code: str) -> None:
    with pytest.raises(tscb.CallbackInvalidError) as info:
        tscb.CallbackMessage.parse(data)
    assert info.value.error_code == code
    assert info.value.http_status is None
    assert isinstance(info.value, tscb.TscbError)
    assert str(info.value).startswith(code + ": ")


def test_a_body_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        tscb.CallbackMessage.parse("{}")  # type: ignore[arg-type]


def test_the_right_message_from_verizon_is_accepted() -> None:
    for source in tscb.VERIZON_CALLBACK_SOURCES:
        msg = verifier().verify(body(), source)
        assert msg.request_id == "req-1" and msg.payload_name == "deviceResponse"
    assert len(tscb.VERIZON_CALLBACK_SOURCES) == 8
    assert tscb.CallbackVerifier().verify(FAULT_EXAMPLE, "168.62.173.153").status == "Failed"


@pytest.mark.parametrize(
    "data",
    [
        body(username="fleet-8"),
        body(password=WRONG_PASSWORD),
        body(password=""),
        body(password=PASSWORD[:-1]),
        b'{"username":"fleet-7"}',
    ],
)
def test_wrong_credentials_are_rejected(data: bytes) -> None:
    with pytest.raises(tscb.CallbackRejectedError) as info:
        verifier().verify(data, VERIZON)
    assert info.value.error_code == "Tscb.CALLBACK_REJECTED.Credentials"
    assert_clean(str(info.value))
    assert_clean(repr(info.value))


def test_sources_addresses_blocks_ipv6_and_mapped_ipv4() -> None:
    default = verifier()
    for source in ("192.0.2.1", "::1", "2001:db8::1"):
        with pytest.raises(tscb.CallbackRejectedError) as info:
            default.verify(body(), source)
        assert info.value.error_code == "Tscb.CALLBACK_REJECTED.Source"
    with pytest.raises(tscb.CallbackRejectedError):
        default.verify(b"garbage", "192.0.2.1")  # the source is checked first
    assert default.verify(body(), "::ffff:" + VERIZON).request_id == "req-1"
    default.check_source(VERIZON)
    with pytest.raises(tscb.CallbackRejectedError):
        default.check_source("192.0.2.1")

    custom = verifier(allowed_sources=["10.20.0.0/16", "2001:db8:7::/48", "203.0.113.9"])
    for allowed in ("10.20.3.4", "::ffff:10.20.3.4", "2001:db8:7:1::5", "203.0.113.9"):
        custom.verify(body(), allowed)
    for refused in ("10.21.0.1", "2001:db8:8::1", "203.0.113.10", VERIZON):
        with pytest.raises(tscb.CallbackRejectedError):
            custom.verify(body(), refused)

    anywhere = verifier(allow_any_source=True)
    for source in ("192.0.2.1", "::1"):
        anywhere.verify(body(), source)
    # None is the default, Verizon's list, as everywhere else in tscb: not "any source".
    for source in tscb.VERIZON_CALLBACK_SOURCES:
        verifier(allowed_sources=None).check_source(source)
    with pytest.raises(tscb.CallbackRejectedError):
        verifier(allowed_sources=None).check_source("192.0.2.1")
    # Any source wins over a list, as in core and C.
    verifier(allowed_sources=["10.0.0.1"], allow_any_source=True).check_source("192.0.2.1")
    with pytest.raises(tscb.CallbackRejectedError):
        verifier(allowed_sources=()).verify(body(), VERIZON)


def test_malformed_sources_are_input_errors() -> None:
    with pytest.raises(tscb.InvalidInputError) as info:
        verifier(allowed_sources=["10.0.0.0/33"])
    assert info.value.error_code == "Tscb.INPUT_INVALID.SourceAddress.Malformed"
    with pytest.raises(tscb.InvalidInputError):
        verifier().verify(body(), "not-an-address")
    with pytest.raises(TypeError):
        verifier(allowed_sources="10.0.0.1")  # a str is not a list of sources
    with pytest.raises(tscb.InvalidInputError):
        verifier(previous_password="x", previous_password_valid_for=-1.0)


def test_the_previous_password_and_its_window_reach_the_verifier() -> None:
    # That a window ends when it should is core's experiment (core/tests/callback.rs); here, that
    # the password and the window arrive: a long window lets the old password in, an empty one
    # refuses it at once (the default, 15 minutes, would not).
    assert pytest.raises(tscb.CallbackRejectedError, verifier().verify, body(password=OLD_PASSWORD), VERIZON)
    v = verifier(previous_password=OLD_PASSWORD, previous_password_valid_for=60.0)
    assert v.verify(body(password=OLD_PASSWORD), VERIZON).password == OLD_PASSWORD
    assert v.verify(body(), VERIZON).password == PASSWORD
    ended = verifier(previous_password=OLD_PASSWORD, previous_password_valid_for=0.0)
    with pytest.raises(tscb.CallbackRejectedError) as info:
        ended.verify(body(password=OLD_PASSWORD), VERIZON)
    assert "previous" in info.value.error_message
    assert ended.verify(body(), VERIZON).request_id == "req-1"
    # The default window is 15 minutes.
    assert verifier(previous_password=OLD_PASSWORD).verify(body(password=OLD_PASSWORD), VERIZON)


def test_resends_share_a_dedup_key_and_different_messages_do_not() -> None:
    key = tscb.CallbackMessage.parse(body()).dedup_key
    for resend in (body(count=2), body(count="4"), body(password=OLD_PASSWORD, count=3)):
        assert tscb.CallbackMessage.parse(resend).dedup_key == key
    for other in (body(request_id="req-2"), body(username="x").replace(b"IMEI", b"ICCID")):
        assert tscb.CallbackMessage.parse(other).dedup_key != key


def test_no_password_in_any_repr_or_error() -> None:
    v = verifier(previous_password=OLD_PASSWORD, previous_password_valid_for=0.0)
    texts = [repr(v)]
    for data in (body(password=OLD_PASSWORD), body(password=WRONG_PASSWORD), b'{"password":1}'):
        for source in (VERIZON, "192.0.2.1"):
            with pytest.raises(tscb.TscbError) as info:
                v.verify(data, source)
            texts += [str(info.value), repr(info.value), info.value.error_message]
    msg = v.verify(body(), VERIZON)
    texts += [repr(msg), str(msg), json.dumps(msg.to_json_without_password())]
    assert "password='<redacted>'" in repr(msg)
    assert "DeviceId(id='353238060000001', kind='IMEI')" in repr(msg)
    for text in texts:
        assert_clean(text)


def test_a_verifier_repr_reads_as_python_and_shows_which_checks_not_their_values() -> None:
    v = tscb.CallbackVerifier(username="fleet-7", password=PASSWORD)
    assert repr(v) == (
        "CallbackVerifier(username='<redacted>', password='<redacted>', previous_password=None, "
        "allowed_sources=VERIZON_CALLBACK_SOURCES)"
    )
    v = tscb.CallbackVerifier(allowed_sources=["127.0.0.1", "10.0.0.0/8"])
    assert repr(v) == (
        "CallbackVerifier(username=None, password=None, previous_password=None, "
        "allowed_sources=['127.0.0.1', '10.0.0.0/8'])"
    )
    assert repr(tscb.CallbackVerifier(allowed_sources=None)).endswith("allowed_sources=VERIZON_CALLBACK_SOURCES)")
    assert repr(tscb.CallbackVerifier(allow_any_source=True)).endswith("previous_password=None, allow_any_source=True)")


def test_the_module_constants_are_the_limits_and_defaults_applied() -> None:
    # The largest body read, and one byte more.
    assert tscb.MAX_CALLBACK_BYTES == 1024 * 1024
    tscb.CallbackMessage.parse(b"{" + b" " * (tscb.MAX_CALLBACK_BYTES - 2) + b"}")
    with pytest.raises(tscb.CallbackInvalidError):
        tscb.CallbackMessage.parse(b"{" + b" " * (tscb.MAX_CALLBACK_BYTES - 1) + b"}")
    # The window core refuses, and the default it applies (15 minutes, longer than this test).
    assert tscb.DEFAULT_PREVIOUS_PASSWORD_WINDOW == 15 * 60
    with pytest.raises(tscb.InvalidInputError) as info:
        verifier(previous_password="x", previous_password_valid_for=float("nan"))
    assert info.value.error_code == "Tscb.INPUT_INVALID.Timeout.Invalid"
    assert (tscb.DEFAULT_CONNECT_TIMEOUT, tscb.DEFAULT_TIMEOUT, tscb.DEFAULT_CALL_TIMEOUT) == (10.0, 30.0, 120.0)
    assert tscb.DEFAULT_CONCURRENCY == 8  # core's fleet default, exported rather than restated
    assert tscb.MAX_TIMEOUT == 24 * 60 * 60
    assert tscb.MAX_CREDENTIAL_CHARS == 40
    assert tscb.CALLBACK_PORTS == ((80, 80), (443, 443), (9001, 9006), (50551, 50559), (28200, 28220))
    assert all(isinstance(r, tuple) for r in tscb.CALLBACK_PORTS)


def test_the_retry_defaults_and_the_base_url_are_exported() -> None:
    # Core's RetryPolicy defaults, so that no Python text restates them (seconds, as durations are).
    assert tscb.DEFAULT_RETRY_MAX_RETRIES == 2
    assert (tscb.DEFAULT_RETRY_INITIAL_BACKOFF, tscb.DEFAULT_RETRY_MAX_BACKOFF) == (0.2, 2.0)
    assert tscb.DEFAULT_RETRY_MAX_RETRY_AFTER == 10.0
    assert isinstance(tscb.DEFAULT_RETRY_MAX_RETRIES, int)
    # What base_url=None means.
    with tscb.Client(bearer_token="b", session_token="s") as client:
        assert client.base_url == tscb.DEFAULT_BASE_URL
    assert tscb.DEFAULT_BASE_URL.startswith("https://")
    assert tscb.LOGIN_GUARD_BLOCK == 60 * 60


def test_device_id_and_fault_are_immutable_values() -> None:
    d = tscb.DeviceId("1", "Iccid")
    assert (d.id, d.kind) == ("1", "Iccid") and d.kind_is("ICCID") and not d.kind_is("imei")
    assert d == tscb.DeviceId("1", "Iccid") and d != tscb.DeviceId("1", "IMEI")
    f = tscb.CallbackFault("A.B.C", "text")
    assert (f.code, f.message) == ("A.B.C", "text")
    assert repr(f) == "CallbackFault(code='A.B.C', message='text')"
    assert {f, tscb.CallbackFault("A.B.C", "text")} == {f}
    with pytest.raises(AttributeError):
        d.id = "2"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        f.code = "x"  # type: ignore[misc]
    assert not hasattr(tscb, "parse_callback")


def test_the_exceptions_and_codes_are_exported() -> None:
    assert issubclass(tscb.CallbackRejectedError, tscb.TscbError)
    assert issubclass(tscb.CallbackInvalidError, tscb.TscbError)
    for code in (
        "Tscb.CALLBACK_REJECTED.Source",
        "Tscb.CALLBACK_REJECTED.Credentials",
        "Tscb.CALLBACK_INVALID.NotJson",
        "Tscb.CALLBACK_INVALID.UnexpectedShape",
        "Tscb.CALLBACK_INVALID.TooLarge",
    ):
        assert code in tscb.ERROR_CODES


# --- examples/listener.py, run as a user runs it -------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[str, IO[str]]]:
    env = dict(os.environ, LISTENER_PW=PASSWORD)
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "python" / "examples" / "listener.py"),
            "--listen",
            "127.0.0.1:0",
            "--username",
            "fleet-7",
            "--password-env",
            "LISTENER_PW",
            "--allow-source",
            "127.0.0.1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO / "target",
    )
    assert process.stderr is not None and process.stdout is not None
    first = process.stderr.readline().strip()
    assert first.startswith("listening on http://127.0.0.1:"), first
    try:
        yield first[len("listening on ") :], process.stdout
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def post(url: str, data: bytes) -> int:
    request = urllib.request.Request(url + "/cb", data=data, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as e:
        e.close()
        return e.code


def announce_only(url: str, length: int) -> int:
    """Sends only the headers of a POST announcing `length` bytes, and reads the answer."""
    host, port = url[len("http://") :].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest("POST", "/cb")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_example_listener_answers_and_prints_each_message_once(listener: tuple[str, IO[str]]) -> None:
    url, stdout = listener
    assert post(url, body()) == 200
    line = json.loads(stdout.readline())
    assert line["requestId"] == "req-1" and line["source"] == "127.0.0.1"
    assert "password" not in line
    # The same form as `tscb listen` writes, so that the two outputs can be mixed and sorted.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["receivedAt"]), line["receivedAt"]
    assert post(url, body(count=2)) == 200  # a resend: acknowledged, not printed again
    assert post(url, body(password=WRONG_PASSWORD)) == 401
    assert post(url, b"not json") == 400
    assert post(url, b"[]") == 400
    assert announce_only(url, tscb.MAX_CALLBACK_BYTES + 1) == 413  # refused before the body is sent
    assert post(url, body(request_id="req-2")) == 200
    # The next line is req-2's: the resend and the refused messages printed nothing.
    assert json.loads(stdout.readline())["requestId"] == "req-2"


def test_the_example_listener_refuses_other_sources() -> None:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "python" / "examples" / "listener.py"), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO / "target",
    )
    assert process.stderr is not None
    try:
        first = process.stderr.readline().strip()
        assert first.startswith("listening on "), first
        # By default only Verizon's addresses are allowed: loopback is not one of them.
        assert post(first[len("listening on ") :], body()) == 403
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
        process.stderr.close()


def test_callback_answer_status_names_the_status_a_listener_answers() -> None:
    v = verifier()
    cases = [
        (lambda: v.verify(body(), "192.0.2.1"), 403),
        (lambda: v.verify(body(password=WRONG_PASSWORD), VERIZON), 401),
        (lambda: v.verify(b"x" * (tscb.MAX_CALLBACK_BYTES + 1), VERIZON), 413),
        (lambda: v.verify(b"not json", VERIZON), 400),
        (lambda: tscb.CallbackMessage.parse(b"[]"), 400),
    ]
    for call, status in cases:
        with pytest.raises(tscb.TscbError) as info:
            call()
        assert tscb.callback_answer_status(info.value) == status, info.value.error_code
    # Not a callback's error: a fault of the listener, so ThingSpace sends the message again.
    assert tscb.callback_answer_status(ValueError("disk full")) == 500
