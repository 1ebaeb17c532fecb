"""Run the addon's Odoo tests on the real Odoo at ODOO_PATH, then the multi-worker check.

Where no Odoo exists it says so plainly and succeeds: the core tests still ran. Everything it starts
(PostgreSQL, Odoo) listens on 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

from tools import multiworker
from tools.services import Odoo, Postgres, free_port

DB = "api_monitor_test"


def summary(log: Path) -> tuple[int, int, int] | None:
    """(tests run, failed, errors) from Odoo's test summary line, None when it printed none."""
    found = re.findall(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests", log.read_text(errors="replace"))
    if not found:
        return None
    failed, errors, run = (int(n) for n in found[-1])
    return run, failed, errors


def main() -> int:
    odoo = Odoo()
    if not odoo.available:
        print(f"Odoo tests SKIPPED: no Odoo at {odoo.path} (set ODOO_PATH to an Odoo 18.0 source tree).")
        return 0
    logs = Path(tempfile.mkdtemp(prefix="api_monitor_logs_"))
    log = logs / "odoo-tests.log"
    print(f"Odoo tests on {odoo.path} (log: {log})", flush=True)
    started = time.monotonic()
    try:
        with Postgres() as pg:
            tags = os.environ.get("ODOO_TEST_TAGS", "/api_monitor")  # e.g. /api_monitor:TestHooks for the loop
            rc = odoo.run(pg, DB, "-i", "api_monitor", "--test-enable", "--test-tags", tags,
                          "--stop-after-init", "--without-demo=all", f"--http-port={free_port()}", log=log)
            result = summary(log)
            # the tests provoke server errors on purpose: show only what says a test failed
            for line in log.read_text(errors="replace").splitlines():
                if re.search(r": (FAIL|ERROR): |odoo\.tests\.result: |CRITICAL", line):
                    print("  " + line[:400])
            if result is None:
                print(f"Odoo printed no test summary (exit {rc}); see {log}")
                return 1
            run, failed, errors = result
            print(f"odoo: {run - failed - errors} passed, {failed + errors} failed "
                  f"({time.monotonic() - started:.0f}s)", flush=True)
            if rc != 0 or failed or errors:
                return 1
            if "ODOO_TEST_TAGS" in os.environ:
                return 0
            return multiworker.check(odoo, pg, DB, logs)
    finally:
        odoo.cleanup()


if __name__ == "__main__":
    sys.exit(main())
