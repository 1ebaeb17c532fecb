"""Requests served by Odoo's WSGI application inside its own process, for the dispatch benchmarks.

Imported inside ``odoo-bin shell`` as ``odoo.addons.api_monitor.bench.inprocess``: requests are built with
werkzeug and handed to ``odoo.http.root`` directly, with no HTTP server and no load generator in between.
"""

from __future__ import annotations

import io
import json

import odoo.http
from werkzeug.test import EnvironBuilder

from odoo.addons.api_monitor.bench.cases import CASES
from odoo.addons.api_monitor.instrumentation import patching, routing

__all__ = ["CASES", "app", "original", "instrumented", "session_for", "environ", "serve", "answer", "hooks"]

app = odoo.http.root
Application = type(app)
#: Odoo's own entry point and the addon's wrapper around it
original = patching.original(Application.__call__)
instrumented = Application.__call__

BASE = {"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8069", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8069"}

def session_for(db: str) -> str:
    """A real session id: log in through /web/session/authenticate, as a browser would."""
    data = json.dumps({"jsonrpc": "2.0", "params": {"db": db, "login": "admin", "password": "admin"}}).encode()
    env = EnvironBuilder(path="/web/session/authenticate", method="POST", data=data,
                         content_type="application/json", environ_base=BASE).get_environ()
    headers: list = []
    body = b"".join(original(app, env, lambda s, h, e=None: headers.extend(h)))
    cookie = next((v for k, v in headers if k.lower() == "set-cookie" and v.startswith("session_id=")), None)
    assert cookie, (headers, body[:500])
    return cookie.split(";", 1)[0].split("=", 1)[1]


def environ(session_id: str, path: str, body: dict) -> dict:
    data = json.dumps(body).encode()
    builder = EnvironBuilder(path=path, method="POST", data=data, content_type="application/json",
                             headers={"Cookie": f"session_id={session_id}"}, environ_base=BASE)
    env = builder.get_environ()
    env["api_monitor.body"] = data
    return env


def serve(entry, env: dict) -> str:
    """Serve one request through ``entry`` (``original`` or ``instrumented``); returns the status line."""
    status: list = []
    env = dict(env, **{"wsgi.input": io.BytesIO(env["api_monitor.body"])})  # a fresh body for every request
    result = entry(app, env, lambda s, h, e=None: status.append(s))
    b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return status[0]


def answer(entry, env: dict) -> bytes:
    env = dict(env, **{"wsgi.input": io.BytesIO(env["api_monitor.body"])})
    return b"".join(entry(app, env, lambda s, h, e=None: None))


def hooks(on: bool):
    """Put the addon's ``Request`` wrappers in place, or Odoo's own methods back (as without the addon,
    with no extra call in between); returns the WSGI entry that goes with it (the addon's wrapper, or
    Odoo's own). The dispatchers' ``handle_error`` wrappers stay: a request that succeeds never calls
    them."""
    for name, wrapper in routing.WRAPPERS.items():
        setattr(odoo.http.Request, name, wrapper if on else patching.original(wrapper))
    return instrumented if on else original
