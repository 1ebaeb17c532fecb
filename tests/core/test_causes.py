"""Causes of server errors: the same fingerprint for the same exception and place, another for another,
the innermost frame in addon code, and a bounded, scrubbed traceback."""

from pathlib import Path

from core import causes

ROOT = str(Path(__file__).resolve().parent.parent.parent.parent)  # the folder holding the addon


def fail(kind, message):
    raise kind(message)


def caught(function, *args):
    try:
        function(*args)
    except Exception as exc:  # noqa: BLE001 - the exception is what the test looks at
        return exc
    raise AssertionError("no exception")


def test_the_same_exception_at_the_same_place_is_one_cause_whatever_its_message():
    a = causes.of(caught(fail, KeyError, "partner 7"), (ROOT,))
    b = causes.of(caught(fail, KeyError, "partner 8"), (ROOT,))
    c = causes.of(caught(fail, ValueError, "partner 7"), (ROOT,))
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.exception == "builtins.KeyError"
    assert a.location.endswith(f"tests/core/test_causes.py:{fail.__code__.co_firstlineno + 1} in fail")
    assert a.traceback.rstrip().endswith("KeyError: 'partner 7'")


def test_the_innermost_frame_in_addon_code_names_the_cause_not_the_library_below_it():
    import json

    exc = caught(json.loads, "{not json")  # raised inside the standard library, called from here
    outside = causes.of(exc, ("/nowhere",))
    inside = causes.of(exc, (ROOT,))
    assert outside.location.startswith(str(Path(json.__file__).parent))  # no addon frame: the innermost one
    assert inside.location.endswith("in caught")
    assert inside.location.startswith(Path(__file__).resolve().parent.parent.parent.name + "/tests/core/")


def test_a_traceback_is_scrubbed_and_bounded_keeping_its_innermost_frames():
    text = ("Traceback (most recent call last):\n" + "  File \"x.py\", line 1, in f\n" * 1000 +
            "ValueError: ada@example.com sent Bearer abcdefghijklmnop to https://hooks.example.com/T0/B0/XyZ?token=s3cr3t"
            " password=hunter2")
    kept = causes.clean(text)
    assert len(kept) <= causes.TRACEBACK_LIMIT
    assert kept.startswith("... (outer frames cut)\n")
    assert kept.endswith("ValueError: <email> sent Bearer *** to https://hooks.example.com/... password=***")


def test_a_cause_is_read_from_the_request_once_and_its_frames_let_go():
    from core.context import RequestContext
    from core.outcome import DISPATCHED
    from core.recorder import Recorder

    recorder = Recorder()
    recorder.addon_roots = (ROOT,)
    ctx = RequestContext("req-1")
    ctx.db, ctx.endpoint, ctx.monitored, ctx.stage = "prod", "/e", True, DISPATCHED
    ctx.set_exception(caught(fail, KeyError, "x"))
    recorder.observe(ctx, "POST", 500, 0.01, now=1_700_000_030.0)
    assert ctx.exception is None
    batch = recorder.take()["prod"]
    (sample,) = batch.failures["/e"]
    assert batch.causes == {(1_699_999_980, "/e", sample.fingerprint): 1}  # its minute
    cause, first, last = batch.cause_info[sample.fingerprint]
    assert (cause.exception, first, last) == ("builtins.KeyError", 1_700_000_030.0, 1_700_000_030.0)


def test_a_failing_requests_log_lines_are_kept_one_line_each_scrubbed_and_bounded():
    import logging

    def record(level, msg, *args, exc=False):
        made = logging.LogRecord("odoo.addons.sale", level, __file__, 1, msg, args, None)
        made.created = 1_700_000_000.0
        return made

    kept = causes.log_lines([
        record(logging.INFO, "confirming order %s for %s", 42, "ada@example.com"),
        record(logging.ERROR, "Exception during request handling\nTraceback (most recent call last): ..."),
        record(logging.WARNING, "%s %s", "only one argument for two"),
    ])
    assert kept.splitlines() == [
        "22:13:20 INFO odoo.addons.sale: confirming order 42 for <email>",
        "22:13:20 ERROR odoo.addons.sale: Exception during request handling",
        "22:13:20 WARNING odoo.addons.sale: %s %s",
    ]
    many = causes.log_lines([record(logging.INFO, "x" * 600)] * 20)
    assert all(len(line) <= causes.LOG_LINE_LIMIT for line in many.splitlines())
    assert len(many) <= causes.LOG_LINES_LIMIT + 4 and many.endswith("\n...")
