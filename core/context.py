"""The annotations that travel with one request, from the WSGI entry through Odoo's routing and back."""

from __future__ import annotations

from contextvars import ContextVar

from .outcome import qualified_names


class RequestContext:
    """Set by the WSGI wrapper at the start of a request; the routing and error hooks fill it in.

    ``monitored`` turns True only when the registry of a database with the addon installed served the
    request (``instrumentation.routing``), so databases without the addon are never counted.
    """

    __slots__ = (
        "request_id",
        "db",
        "route",
        "endpoint",
        "monitored",
        "late",
        "request",
        "dispatched",
        "exception_names",
        "exception_status",
        "exception_message",
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
        #: Odoo's request, kept for a call_kw/call_button until it is named (``instrumentation.names``)
        self.request = None
        #: whether the controller had been called when the exception was raised (noted with it); one raised
        #: before that happened while the request was prepared
        self.dispatched = False
        self.exception_names: tuple[str, ...] = ()
        #: the exception's HTTP status (werkzeug's); 400 for an XML-RPC body that does not parse (instrumentation.rpc)
        self.exception_status: int | None = None
        self.exception_message = ""
        #: the HTTP status sent (500 until the response starts)
        self.status = 500

    def set_exception(self, exc: BaseException, dispatched: bool = True) -> None:
        self.dispatched = dispatched
        self.exception_names = qualified_names(type(exc))
        code = getattr(exc, "code", None)
        # werkzeug's HTTPException carries its status in ``code``; Odoo's own exceptions have none.
        self.exception_status = code if isinstance(code, int) and 100 <= code <= 599 else None
        self.exception_message = str(exc)

    def clear_exception(self) -> None:
        self.exception_names = ()
        self.exception_status = None
        self.exception_message = ""


_current: ContextVar[RequestContext | None] = ContextVar("api_monitor_request", default=None)

#: ``current()``: the context of the request this thread serves, or served last. A context stays on its
#: thread until the thread's next request replaces it (``set_current``), so that the log lines written after
#: the response (werkzeug's access line) still carry its request id; the hooks that read it run only while a
#: request is served. A context variable rather than a ``threading.local``: each thread (or greenlet) has its
#: own, reading it is one C call, and a new thread (Odoo's threaded server starts one per connection) sets
#: it up at half the cost.
current = _current.get
set_current = _current.set
