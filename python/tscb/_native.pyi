# Type stubs for the compiled module; checked against it by `python -m mypy.stubtest tscb._native`.
import builtins
import os
from types import TracebackType
from typing import Optional, Type, Union, final

__all__ = [
    "ApiError",
    "AuthError",
    "CallbackAck",
    "Client",
    "ERROR_CODES",
    "InvalidInputError",
    "InvalidResponseError",
    "RegisteredCallback",
    "SERVICE_NAMES",
    "TimeoutError",
    "TransportError",
    "TscbError",
    "__version__",
]

__version__: str
SERVICE_NAMES: tuple[str, ...]
ERROR_CODES: tuple[str, ...]

class TscbError(Exception):
    error_code: str
    error_message: str
    http_status: Optional[int]

class InvalidInputError(TscbError, ValueError): ...
class ApiError(TscbError): ...
class AuthError(TscbError): ...
class TransportError(TscbError): ...
class TimeoutError(TscbError, builtins.TimeoutError): ...
class InvalidResponseError(TscbError): ...

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
        username: Optional[str] = None,
        password: Optional[str] = None,
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
        ca_file: Union[str, os.PathLike[str], None] = None,
        proxy: Optional[str] = None,
    ) -> Client: ...
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
