"""``bench.pg_callgrind``: a backend's work counted between two of its dumps, on a real PostgreSQL."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench.pg_callgrind import CountedPostgres, combine, dump_totals
from tools.services import Postgres, _pg_bindir

COMPLETE = """# callgrind format
version: 1
pid: 4242
desc: Trigger: --dump-after=ProcessLogMemoryContextInterrupt
events: Ir Bcm
summary: 900 3

fn=(1) exec_simple_query
1 900 3

totals: 1000 4
"""


def test_a_dump_counts_once_its_last_line_is_written(tmp_path: Path):
    done, writing = tmp_path / "cg.4242.1", tmp_path / "cg.4242.2"
    done.write_text(COMPLETE)
    writing.write_text(COMPLETE.split("fn=")[0])
    assert dump_totals(done) == {"Ir": 1000, "Bcm": 4}
    assert dump_totals(writing) is None


def test_combine_adds_the_parts_and_takes_off_the_rest():
    parts = [{"Ir": 1000, "Bcm": 4}, {"Ir": 500, "Bcm": 1}]
    assert combine(parts, [{"Ir": 300, "Bcm": 2}]) == {"Ir": 1200, "Bcm": 3}
    assert combine([]) == {}


class Session:
    """One psql session kept open: one backend, fed statements one at a time, named as a client (``name``)
    or left as psql's own."""

    def __init__(self, pg: Postgres, db: str, name: str = "psql") -> None:
        self.proc = subprocess.Popen(
            [str(pg.bindir / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", db,
             "-At", "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env={**os.environ, "PGAPPNAME": name})

    def run(self, sql: str) -> str:
        self.proc.stdin.write(f"{sql};\n")
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.mark.skipif(_pg_bindir() is None or shutil.which("valgrind") is None,
                    reason="needs PostgreSQL and valgrind (Debian packages postgresql, valgrind)")
def test_a_phase_counts_what_the_backend_did_in_it_and_nothing_else():
    with Postgres() as pg, CountedPostgres(pg, pg.root / "callgrind") as counted:
        pg.psql("CREATE DATABASE counted")  # of its own: the benchmark's own queries go to the postgres database
        session, query = Session(pg, "counted", "odoo-4242"), Session(pg, "counted")
        try:
            assert session.run("SELECT 1") == "1"
            pid = int(session.run("SELECT pg_backend_pid()"))
            assert query.run("SELECT 1") == "1"
            # psql's own backends (a query of the benchmark's, perhaps still closing) are no client's
            assert counted.backends("counted") == {pid}
            # A backend going idle flushes its statistics at once when it last flushed over a second ago, and
            # otherwise ten seconds later, on a timer (PostgreSQL's PGSTAT_MIN_INTERVAL, PGSTAT_IDLE_INTERVAL):
            # a timer left from the statements above would fire inside the phase that does nothing.
            time.sleep(1.5)
            assert session.run("SELECT 1") == "1"  # flushed at once; the timer is off
            results = {}
            for statements in (0, 10, 50):
                with counted.phase("counted") as phase:
                    for _ in range(statements):
                        assert session.run("SELECT 1") == "1"
                assert phase["stable"]
                results[statements] = phase["totals"]["Ir"]
        finally:
            session.close()
            query.close()
    per_statement = (results[50] - results[10]) / 40
    # nothing done, nothing counted: the dump's own work is taken off
    assert abs(results[0]) < 0.05 * per_statement
    # each statement counted once: ten of them are a fifth of fifty
    assert results[10] == pytest.approx(10 * per_statement, rel=0.05)
    assert 5_000 < per_statement < 500_000
