# Type stubs for the compiled module; checked against it by `python -m mypy.stubtest tscb._native`.
import builtins
import os
from types import TracebackType
from typing import Any, Mapping, Optional, Sequence, Type, Union, final

__all__ = [
    "ApiError",
    "ApplyReport",
    "AsyncClient",
    "AuthError",
    "CallbackAck",
    "CALLBACK_PORTS",
    "CallbackFault",
    "CallbackMessage",
    "CallbackInvalidError",
    "CallbackRejectedError",
    "CallbackVerifier",
    "Change",
    "Client",
    "DEFAULT_BASE_URL",
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_PREVIOUS_PASSWORD_WINDOW",
    "DEFAULT_RETRY_INITIAL_BACKOFF",
    "DEFAULT_RETRY_MAX_BACKOFF",
    "DEFAULT_RETRY_MAX_RETRIES",
    "DEFAULT_RETRY_MAX_RETRY_AFTER",
    "DEFAULT_TIMEOUT",
    "DeviceId",
    "ERROR_CODES",
    "InvalidInputError",
    "InvalidResponseError",
    "LOGIN_GUARD_BLOCK",
    "MAX_CALLBACK_BYTES",
    "MAX_CREDENTIAL_CHARS",
    "MAX_TIMEOUT",
    "Outcome",
    "Plan",
    "RegisteredCallback",
    "SERVICE_NAMES",
    "TimeoutError",
    "TransportError",
    "TscbError",
    "VERIZON_CALLBACK_SOURCES",
    "__version__",
    "callback_answer_status",
    "plan",
]

__version__: str
SERVICE_NAMES: tuple[str, ...]
ERROR_CODES: tuple[str, ...]
VERIZON_CALLBACK_SOURCES: tuple[str, ...]
MAX_CALLBACK_BYTES: int
MAX_CREDENTIAL_CHARS: int
# (first, last) port ranges ThingSpace calls, both included.
CALLBACK_PORTS: tuple[tuple[int, int], ...]
# Durations in seconds, as the arguments that take them.
DEFAULT_CONNECT_TIMEOUT: float
DEFAULT_TIMEOUT: float
DEFAULT_CALL_TIMEOUT: float
DEFAULT_CONCURRENCY: int
MAX_TIMEOUT: float
DEFAULT_PREVIOUS_PASSWORD_WINDOW: float
# The retry policy's defaults: max_retries=None means DEFAULT_RETRY_MAX_RETRIES; between attempts
# the client waits for Retry-After up to DEFAULT_RETRY_MAX_RETRY_AFTER, or else a backoff from
# DEFAULT_RETRY_INITIAL_BACKOFF doubling up to DEFAULT_RETRY_MAX_BACKOFF.
DEFAULT_RETRY_MAX_RETRIES: int
DEFAULT_RETRY_INITIAL_BACKOFF: float
DEFAULT_RETRY_MAX_BACKOFF: float
DEFAULT_RETRY_MAX_RETRY_AFTER: float
# The production base URL, which base_url=None means.
DEFAULT_BASE_URL: str
# How long the login guard file keeps a refused login (or one of unknown outcome) from being sent.
LOGIN_GUARD_BLOCK: float

class TscbError(Exception):
    error_code: str
    error_message: str
    http_status: Optional[int]
    # For an invalid-input error, which input it is about ("AccountName", ...); else None.
    field: Optional[str]
    # Whether the request may have reached the service: "no", "maybe" or "yes".
    sent: str

class InvalidInputError(TscbError, ValueError): ...
class ApiError(TscbError): ...
class AuthError(TscbError): ...
class TransportError(TscbError): ...
class TimeoutError(TscbError, builtins.TimeoutError): ...
class InvalidResponseError(TscbError): ...
class CallbackRejectedError(TscbError): ...
class CallbackInvalidError(TscbError): ...

@final
class CallbackAck:
    @property
    def account_name(self) -> str: ...
    @property
    def service_name(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class RegisteredCallback:
    @property
    def account_name(self) -> str: ...
    @property
    def service_name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def username(self) -> Optional[str]: ...
    @property
    def password(self) -> Optional[str]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Client:
    def __new__(
        cls,
        *,
        bearer_token: Optional[str] = None,
        session_token: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        login_username: Optional[str] = None,
        login_password: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        call_timeout: Optional[float] = None,
        user_agent: Optional[str] = None,
        check_callback_port: bool = True,
        max_retries: Optional[int] = None,
        retry_register_when_busy: bool = False,
        allow_insecure_http: bool = False,
        login_guard_file: Union[str, os.PathLike[str], None] = None,
        ignore_login_guard: bool = False,
        ca_file: Union[str, os.PathLike[str], None] = None,
        proxy: Optional[str] = None,
    ) -> Client: ...
    @classmethod
    def from_env(cls, **overrides: Any) -> Client: ...
    @property
    def base_url(self) -> str: ...
    def register_callback(
        self,
        account: str,
        service_name: str,
        url: str,
        *,
        username: Optional[str] = None,
        password: Optional[str] = None,
    ) -> CallbackAck: ...
    def list_callbacks(self, account: str) -> list[RegisteredCallback]: ...
    def deregister_callback(self, account: str, service_name: str) -> CallbackAck: ...
    def login(self) -> None: ...
    def login_guard_warning(self) -> Optional[str]: ...
    def logout(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Client: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class AsyncClient:
    def __new__(
        cls,
        *,
        bearer_token: Optional[str] = None,
        session_token: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        login_username: Optional[str] = None,
        login_password: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        call_timeout: Optional[float] = None,
        user_agent: Optional[str] = None,
        check_callback_port: bool = True,
        max_retries: Optional[int] = None,
        retry_register_when_busy: bool = False,
        allow_insecure_http: bool = False,
        login_guard_file: Union[str, os.PathLike[str], None] = None,
        ignore_login_guard: bool = False,
        ca_file: Union[str, os.PathLike[str], None] = None,
        proxy: Optional[str] = None,
    ) -> AsyncClient: ...
    @classmethod
    def from_env(cls, **overrides: Any) -> AsyncClient: ...
    @property
    def base_url(self) -> str: ...
    async def register_callback(
        self,
        account: str,
        service_name: str,
        url: str,
        *,
        username: Optional[str] = None,
        password: Optional[str] = None,
    ) -> CallbackAck: ...
    async def list_callbacks(self, account: str) -> list[RegisteredCallback]: ...
    async def deregister_callback(self, account: str, service_name: str) -> CallbackAck: ...
    async def login(self) -> None: ...
    def login_guard_warning(self) -> Optional[str]: ...
    async def logout(self) -> None: ...
    async def aclose(self) -> None: ...
    async def __aenter__(self) -> AsyncClient: ...
    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> bool: ...

@final
class DeviceId:
    def __new__(cls, id: str, kind: str) -> DeviceId: ...
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    def kind_is(self, kind: str) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class CallbackFault:
    def __new__(cls, code: str, message: str) -> CallbackFault: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class CallbackMessage:
    @property
    def request_id(self) -> Optional[str]: ...
    @property
    def username(self) -> Optional[str]: ...
    @property
    def password(self) -> Optional[str]: ...
    @property
    def device_ids(self) -> tuple[DeviceId, ...]: ...
    @property
    def status(self) -> Optional[str]: ...
    @property
    def callback_count(self) -> Optional[int]: ...
    @property
    def max_callback_threshold(self) -> Optional[int]: ...
    @property
    def fault(self) -> Optional[CallbackFault]: ...
    @property
    def payload_name(self) -> Optional[str]: ...
    @property
    def payload(self) -> Optional[dict[str, Any]]: ...
    @property
    def extra(self) -> dict[str, Any]: ...
    @property
    def dedup_key(self) -> str: ...
    def to_json_without_password(self) -> dict[str, Any]: ...
    @staticmethod
    def parse(body: bytes) -> CallbackMessage: ...

def callback_answer_status(error: BaseException) -> int: ...

@final
class CallbackVerifier:
    def __new__(
        cls,
        username: Optional[str] = None,
        password: Optional[str] = None,
        previous_password: Optional[str] = None,
        previous_password_valid_for: Optional[float] = None,
        allowed_sources: Optional[Sequence[str]] = None,
        allow_any_source: bool = False,
    ) -> CallbackVerifier: ...
    def verify(self, body: bytes, source: str) -> CallbackMessage: ...
    def check_source(self, source: str) -> None: ...

# The desired state of `plan`, in the schema of the `tscb` command's fleet file (documented once,
# in the Rust crate: `tscb::fleet::FleetSpec`), e.g.
#   {"defaults": {"url": "https://listener.example.com/cb", "services": ["CarrierService"]},
#    "account": [{"name": "0000123456-00001", "username": "fleet", "password_env": "LISTENER_PW"}]}
_Desired = Mapping[str, Any]

def plan(
    client: Client,
    desired: _Desired,
    *,
    prune: bool = False,
    concurrency: Optional[int] = None,
    max_rate: Optional[float] = None,
) -> Plan: ...

@final
class Change:
    @property
    def account(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def differences(self) -> tuple[str, ...]: ...
    @property
    def url(self) -> Optional[str]: ...
    @property
    def username(self) -> Optional[str]: ...
    @property
    def current_url(self) -> Optional[str]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Outcome:
    @property
    def account(self) -> str: ...
    @property
    def service(self) -> Optional[str]: ...
    @property
    def action(self) -> Optional[str]: ...
    @property
    def status(self) -> str: ...
    @property
    def refused_with(self) -> Optional[str]: ...
    @property
    def error_code(self) -> Optional[str]: ...
    @property
    def error_message(self) -> Optional[str]: ...
    @property
    def http_status(self) -> Optional[int]: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ApplyReport:
    @property
    def outcomes(self) -> tuple[Outcome, ...]: ...
    @property
    def created(self) -> int: ...
    @property
    def updated(self) -> int: ...
    @property
    def deleted(self) -> int: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def not_run(self) -> int: ...
    @property
    def elapsed(self) -> float: ...

@final
class Plan:
    @property
    def changes(self) -> tuple[Change, ...]: ...
    @property
    def failures(self) -> tuple[Outcome, ...]: ...
    @property
    def has_changes(self) -> bool: ...
    def apply(self, *, concurrency: Optional[int] = None, max_rate: Optional[float] = None) -> ApplyReport: ...
