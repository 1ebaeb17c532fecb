"""``core.context``: the request's context, as the WSGI wrapper makes it and the error hooks fill it in."""

import threading

from core.context import RequestContext, current, set_current
from core.outcome import READING


class NotFoundish(Exception):
    code = 404


def test_a_new_context_is_unrouted_unmonitored_and_answers_500_until_a_response_starts():
    ctx = RequestContext("rid-1")
    assert (ctx.request_id, ctx.db, ctx.route, ctx.endpoint, ctx.monitored, ctx.late, ctx.status) == (
        "rid-1", None, None, None, False, False, 500)
    assert (ctx.stage, ctx.authenticated, ctx.caller_mistake) == (READING, False, "")
    assert (ctx.exception_names, ctx.exception_status, ctx.exception_message) == ((), None, "")


def test_an_exception_is_noted_with_its_names_http_status_and_message_and_cleared():
    ctx = RequestContext("rid-2")
    ctx.set_exception(NotFoundish("no such page"))
    assert (ctx.exception_names[0], ctx.exception_status, ctx.exception_message) == (
        f"{__name__}.NotFoundish", 404, "no such page")
    ctx.set_exception(KeyError("x"))
    assert (ctx.exception_names[0], ctx.exception_status, ctx.exception_message) == ("builtins.KeyError", None, "'x'")
    ctx.clear_exception()
    assert (ctx.exception_names, ctx.exception_status, ctx.exception_message) == ((), None, "")


def test_each_thread_sees_only_the_context_it_set():
    mine = RequestContext("rid-main")
    set_current(mine)
    seen = []
    thread = threading.Thread(target=lambda: (seen.append(current()), set_current(RequestContext("rid-t")),
                                              seen.append(current().request_id)))
    thread.start()
    thread.join()
    assert seen == [None, "rid-t"]
    assert current() is mine
    set_current(None)
