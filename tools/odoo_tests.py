"""Run the addon's Odoo tests on the real Odoo at ODOO_PATH, then the multi-worker check.

Where no Odoo exists it says so plainly and succeeds: the core tests still ran. Everything it starts
(PostgreSQL, Odoo) listens on 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import multiworker, odoo_env, package, pot
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
                      "--stop-after-init", *odoo.no_demo, f"--http-port={free_port()}", log=log)
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
        if not check_log(log):
            return False
        if "ODOO_TEST_TAGS" in os.environ:
            return True
        if odoo.version == pot.SERIES and not check_pot(odoo, pg, logs):
            return False
        if not check_pytest_odoo(odoo, pg, logs):
            return False
        if multiworker.check(odoo, pg, DB, logs) != 0:
            return False
    return check_wheel(odoo.path, odoo.version, logs)


#: a line of Odoo's log at WARNING or above
LOUD = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ \d+ (WARNING|ERROR|CRITICAL) ")
#: what an Odoo source tree says about its own addons: some trees ship addons of another series, which Odoo
#: marks not installable while it lists the modules (nothing of this addon, nothing its tests did)
FOREIGN = re.compile(r" odoo\.modules\.module: The module (?!api_monitor )\S+ has an incompatible version, "
                     r"setting installable=False")


def check_log(log: Path) -> bool:
    """As the OCA's CI: a run that logs a WARNING or worse that no test expected fails (tests keep the lines
    they provoke on purpose out of the log with ``expected_logs`` or ``assertLogs``)."""
    loud = [line for line in log.read_text(errors="replace").splitlines()
            if LOUD.match(line) and not FOREIGN.search(line)]
    for line in loud[:10]:
        print("  unexpected: " + line[:300])
    print(f"  log: {len(loud)} unexpected WARNING/ERROR lines", flush=True)
    return not loud


#: the Odoo tests that also run through pytest-odoo (the TransactionCase ones: quick, and no server needed)
PYTEST_ODOO_TESTS = ["test_settings.py", "test_store.py", "test_backtest.py"]
#: pytest and pytest-odoo for Odoo's Python, kept beside the project rather than in Odoo's environment
PYTEST_ODOO = ["pytest==9.2.0", "pytest-odoo==2.3.0"]


def check_pytest_odoo(odoo: Odoo, pg: Postgres, logs: Path) -> bool:
    """Run some of the Odoo tests through pytest-odoo, on the database the Odoo tests installed."""
    site = odoo_env.ENVS / f"pytest-odoo-{odoo.version}"
    if not (site / "ready").exists():
        subprocess.run([odoo.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--target",
                        str(site), *PYTEST_ODOO], check=True)
        (site / "ready").write_text("\n".join(PYTEST_ODOO) + "\n")
    conf, ini = logs / "odoo.conf", logs / "pytest.ini"
    conf.write_text(f"[options]\ndb_host = 127.0.0.1\ndb_port = {pg.port}\ndb_user = {pg.user}\n"
                    f"db_password = {pg.user}\naddons_path = {odoo.addons_path()}\n"
                    f"data_dir = {odoo.addons_root / 'data'}\n")
    ini.write_text("[pytest]\n")  # not the project's pytest.ini, which is for the core tests
    tests = odoo.addons_root / "api_monitor" / "tests"
    log = logs / "pytest-odoo.log"
    with open(log, "w") as out:
        rc = subprocess.run([odoo.python, "-m", "pytest", "-c", str(ini), "--rootdir", str(odoo.addons_root),
                             "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", f"--odoo-database={DB}",
                             f"--odoo-config={conf}", "-q", *(str(tests / name) for name in PYTEST_ODOO_TESTS)],
                            env={**odoo.env, "PYTHONPATH": f"{site}:{odoo.path}"}, cwd=odoo.addons_root,
                            stdout=out, stderr=subprocess.STDOUT).returncode
    last = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
    print(f"  pytest-odoo ({', '.join(PYTEST_ODOO_TESTS)}): {last[0]}", flush=True)
    return rc == 0


def check_pot(odoo: Odoo, pg: Postgres, logs: Path) -> bool:
    """The committed translation template holds every translatable string of the code and the views."""
    fresh = logs / "api_monitor.pot"
    pot.export(odoo, pg, DB, fresh, logs / "pot-export.log")
    current = pot.POT.exists() and pot.same(pot.POT.read_text(), fresh.read_text())
    print(f"  translation template {pot.POT.name}: "
          f"{'current' if current else 'OUT OF DATE: run make pot and commit i18n/api_monitor.pot'}", flush=True)
    return current


def check_wheel(path: Path, series: str, logs: Path) -> bool:
    """The addon as operators install it with pip: build its wheel, install it into a folder on Odoo's
    Python path, then ``-i api_monitor`` with the source folder off the addons path."""
    wheel = package.build(logs / "dist", series)
    site = logs / "site-packages"
    source = Odoo(str(path))
    subprocess.run([source.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                    "--target", str(site), str(wheel)], check=True)
    source.cleanup()
    odoo = Odoo(str(path), addon_dir=None, env={"PYTHONPATH": str(site)})
    log = logs / "wheel-install.log"
    db = DB + "_wheel"
    try:
        with Postgres() as pg:
            rc = odoo.run(pg, db, "-i", "api_monitor", "--stop-after-init", *odoo.no_demo, log=log)
            state = pg.psql("SELECT state, latest_version FROM ir_module_module WHERE name = 'api_monitor'", db) \
                if rc == 0 else "not installed"
    finally:
        odoo.cleanup()
    paths = re.search(r"addons paths: (.*)", log.read_text(errors="replace"))
    from_wheel = bool(paths) and str(site / "odoo" / "addons") in paths.group(1)
    ok = rc == 0 and state == f"installed|{series}.{package.version()}" and from_wheel
    print(f"  wheel {wheel.name}: pip install, then -i api_monitor: "
          f"{'installed from ' + str(site) if ok else 'FAILED (' + state + '); see ' + str(log)}", flush=True)
    return ok


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
