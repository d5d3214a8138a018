"""Register, list and remove ThingSpace callback listeners (webhooks).

    import tscb

    with tscb.Client(bearer_token="...", session_token="...") as client:
        ack = client.register_callback("0000123456-00001", "CarrierService",
                                       "https://listener.example.com/thingspace")

Every failure raises a subclass of :class:`TscbError` with ``error_code``, ``error_message``
and ``http_status``.
"""

from ._native import (
    ERROR_CODES,
    SERVICE_NAMES,
    ApiError,
    ApplyReport,
    AuthError,
    CallbackAck,
    Change,
    Client,
    InvalidInputError,
    InvalidResponseError,
    Outcome,
    Plan,
    RegisteredCallback,
    TimeoutError,
    TransportError,
    TscbError,
    __version__,
    plan,
)

__all__ = [
    "ERROR_CODES",
    "SERVICE_NAMES",
    "ApiError",
    "ApplyReport",
    "AuthError",
    "CallbackAck",
    "Change",
    "Client",
    "InvalidInputError",
    "InvalidResponseError",
    "Outcome",
    "Plan",
    "RegisteredCallback",
    "TimeoutError",
    "TransportError",
    "TscbError",
    "__version__",
    "plan",
]
