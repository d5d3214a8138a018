"""Register, list and remove ThingSpace callback listeners (webhooks).

    import tscb

    with tscb.Client(bearer_token="...", session_token="...") as client:
        ack = client.register_callback("0000123456-00001", "CarrierService",
                                       "https://listener.example.com/thingspace")

For asyncio, :class:`AsyncClient` has the same constructor and the same calls as coroutines:

    async with tscb.AsyncClient(bearer_token="...", session_token="...") as client:
        ack = await client.register_callback(...)

Every failure raises a subclass of :class:`TscbError` with ``error_code``, ``error_message``
and ``http_status``.

A listener checks what ThingSpace POSTs to it with :class:`CallbackVerifier` (or reads it with
:meth:`CallbackMessage.parse`); see ``examples/listener.py``.
"""

from ._native import (
    CALLBACK_PORTS,
    DEFAULT_BASE_URL,
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_PREVIOUS_PASSWORD_WINDOW,
    DEFAULT_RETRY_INITIAL_BACKOFF,
    DEFAULT_RETRY_MAX_BACKOFF,
    DEFAULT_RETRY_MAX_RETRIES,
    DEFAULT_RETRY_MAX_RETRY_AFTER,
    DEFAULT_TIMEOUT,
    ERROR_CODES,
    LOGIN_GUARD_BLOCK,
    MAX_CALLBACK_BYTES,
    MAX_CREDENTIAL_CHARS,
    MAX_TIMEOUT,
    SERVICE_NAMES,
    VERIZON_CALLBACK_SOURCES,
    ApiError,
    ApplyReport,
    AsyncClient,
    AuthError,
    CallbackAck,
    CallbackFault,
    CallbackMessage,
    CallbackInvalidError,
    CallbackRejectedError,
    CallbackVerifier,
    Change,
    Client,
    DeviceId,
    InvalidInputError,
    InvalidResponseError,
    Outcome,
    Plan,
    RegisteredCallback,
    TimeoutError,
    TransportError,
    TscbError,
    __version__,
    callback_answer_status,
    plan,
)

__all__ = [
    "CALLBACK_PORTS",
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
    "ERROR_CODES",
    "LOGIN_GUARD_BLOCK",
    "MAX_CALLBACK_BYTES",
    "MAX_CREDENTIAL_CHARS",
    "MAX_TIMEOUT",
    "SERVICE_NAMES",
    "VERIZON_CALLBACK_SOURCES",
    "ApiError",
    "ApplyReport",
    "AsyncClient",
    "AuthError",
    "CallbackAck",
    "CallbackFault",
    "CallbackMessage",
    "CallbackInvalidError",
    "CallbackRejectedError",
    "CallbackVerifier",
    "Change",
    "Client",
    "DeviceId",
    "InvalidInputError",
    "InvalidResponseError",
    "Outcome",
    "Plan",
    "RegisteredCallback",
    "TimeoutError",
    "TransportError",
    "TscbError",
    "__version__",
    "callback_answer_status",
    "plan",
]
