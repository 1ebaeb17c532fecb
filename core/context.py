"""The annotations that travel with one request, from the WSGI entry through Odoo's routing and back."""

from __future__ import annotations

from contextvars import ContextVar

from .outcome import READING, qualified_names

#: how many log records of one request are kept for its server-error sample
LOG_RECORDS = 20


class RequestContext:
    """Set by the WSGI wrapper at the start of a request; the routing, authentication and error hooks fill
    it in.

    ``monitored`` turns True only when the registry of a database with the addon installed matched the
    request's route (``instrumentation.ir_http``), so databases without the addon are never counted.
    ``stage`` says how far the caller got (``core.outcome``: reading, authenticated, dispatched) and
    ``authenticated`` whether a real user (not the public user, not nobody) was identified: only then may
    the request name a new endpoint by model and method.
    """

    __slots__ = (
        "request_id",
        "db",
        "route",
        "endpoint",
        "monitored",
        "late",
        "stage",
        "authenticated",
        "caller_mistake",
        "rpc_called",
        "exception_names",
        "exception_status",
        "exception_message",
        "exception",
        "log_records",
        "outcome",
        "status",
    )

    def __init__(self, request_id: str, late: bool = False) -> None:
        self.request_id = request_id
        self.db: str | None = None
        #: the matched route template; ``endpoint`` starts as the same and may be refined (RPC calls)
        self.route: str | None = None
        self.endpoint: str | None = None
        self.monitored = False
        self.late = late
        self.stage = READING
        self.authenticated = False
        #: why the request is the caller's own mistake whatever it raised (an RPC call that does not fit
        #: its service, ``core.rpc``), or ""
        self.caller_mistake = ""
        #: whether an RPC entry point called its service (``instrumentation.rpc``)
        self.rpc_called = False
        self.exception_names: tuple[str, ...] = ()
        #: the exception's HTTP status (werkzeug's, or Odoo's ``http_status``)
        self.exception_status: int | None = None
        self.exception_message = ""
        #: the exception itself, until the request is counted (its cause is read then, and it is let go)
        self.exception: BaseException | None = None
        #: the first log records written while it is served (``instrumentation.logs``), kept with its sample
        #: if it ends in a server error: at most :data:`LOG_RECORDS`, formatted only then
        self.log_records: list = []
        #: the outcome it was counted with, once answered (the log lines after that, werkzeug's access line,
        #: carry it in the JSON log); None until then
        self.outcome: str | None = None
        #: the HTTP status sent (500 until the response starts)
        self.status = 500

    def set_exception(self, exc: BaseException) -> None:
        self.exception_names = qualified_names(type(exc))
        code = getattr(exc, "code", None)
        # werkzeug's HTTPException carries its status in ``code``; Odoo's own exceptions have none.
        self.exception_status = code if isinstance(code, int) and 100 <= code <= 599 else None
        self.exception_message = str(exc)
        self.exception = exc

    def clear_exception(self) -> None:
        self.exception_names = ()
        self.exception_status = None
        self.exception_message = ""
        self.exception = None


_current: ContextVar[RequestContext | None] = ContextVar("api_monitor_request", default=None)

#: ``current()``: the context of the request this thread serves, or served last. A context stays on its
#: thread until the thread's next request replaces it (``set_current``), so that the log lines written after
#: the response (werkzeug's access line) still carry its request id; the hooks that read it run only while a
#: request is served. A context variable: each thread (or greenlet) has its own.
current = _current.get
set_current = _current.set
