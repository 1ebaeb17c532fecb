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


#: where each supported Odoo is looked for: (label, variable, default path)
ODOOS = [("Odoo 18.0", "ODOO_PATH", "/opt/odoo"), ("Odoo 19.0", "ODOO19_PATH", "/opt/odoo19")]


def run_on(odoo: Odoo, label: str) -> bool:
    """The addon's Odoo tests, then (unless ODOO_TEST_TAGS narrows the run) the multi-worker checks."""
    logs = Path(tempfile.mkdtemp(prefix="api_monitor_logs_"))
    log = logs / "odoo-tests.log"
    print(f"{label}: Odoo tests on {odoo.path} (log: {log})", flush=True)
    started = time.monotonic()
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
            print(f"{label}: Odoo printed no test summary (exit {rc}); see {log}")
            return False
        run, failed, errors = result
        print(f"{label}: {run - failed - errors} Odoo tests passed, {failed + errors} failed "
              f"({time.monotonic() - started:.0f}s)", flush=True)
        if rc != 0 or failed or errors:
            return False
        if "ODOO_TEST_TAGS" in os.environ:
            return True
        return multiworker.check(odoo, pg, DB, logs) == 0


def main() -> int:
    """Run the Odoo tests on every Odoo found; say plainly which versions ran and which were skipped."""
    verdicts = []
    for label, variable, default in ODOOS:
        odoo = Odoo(os.environ.get(variable, default))
        if not odoo.available:
            verdicts.append(f"{label} SKIPPED: no Odoo at {odoo.path} (set {variable} to an Odoo source tree)")
            continue
        if odoo.version != label.split()[1]:
            verdicts.append(f"{label} SKIPPED: {odoo.path} holds Odoo {odoo.version}")
            continue
        try:
            ok = run_on(odoo, label)
        finally:
            odoo.cleanup()
        verdicts.append(f"{label} {'passed' if ok else 'FAILED'} ({odoo.path})")
    print("Odoo tests: " + "; ".join(verdicts) + ".")
    if all("SKIPPED" in verdict for verdict in verdicts):
        print("Odoo tests SKIPPED: no Odoo found; the core tests ran.")
    return 1 if any("FAILED" in verdict for verdict in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
