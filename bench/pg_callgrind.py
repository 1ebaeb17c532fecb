"""PostgreSQL under callgrind, for ``bench.server_instructions``: what a request costs the database server.

The benchmark's cluster is restarted under ``valgrind --tool=callgrind``, which counts every backend the
server forks from its start. A backend is asked for its counts with ``pg_log_backend_memory_contexts(pid)``:
it serves that request at its next interrupt check, idle or busy, in ``ProcessLogMemoryContextInterrupt``,
and callgrind dumps right after that function (``--dump-after``). A dump therefore holds what the backend did
since its previous dump, plus one such function's own work: :meth:`CountedPostgres.phase` measures that
share on a dump taken right after a dump, and takes it off.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tools.services import Postgres, wait_for_port

TRIGGER = "ProcessLogMemoryContextInterrupt"
_TOTALS = re.compile(r"^totals: ([\d ]+)$", re.M)
_EVENTS = re.compile(r"^events: (.+)$", re.M)


def dump_totals(path: Path) -> dict[str, int] | None:
    """The event totals of a complete dump (its last line is written last), None while it is being written."""
    text = path.read_text(errors="replace")
    events, totals = _EVENTS.search(text), _TOTALS.search(text)
    if not (events and totals):
        return None
    return dict(zip(events.group(1).split(), map(int, totals.group(1).split())))


def combine(parts: list[dict[str, int]], minus: list[dict[str, int]] = ()) -> dict[str, int]:
    """The event totals of ``parts`` added up, less those of ``minus``."""
    out: dict[str, int] = {}
    for sign, group in ((1, parts), (-1, minus)):
        for part in group:
            for event, value in part.items():
                out[event] = out.get(event, 0) + sign * value
    return out


class CountedPostgres:
    """``with CountedPostgres(pg, folder):`` runs ``pg``'s cluster under callgrind until the block ends (and
    leaves it stopped). Dumps go to ``folder``, one file per backend and dump; the server's own user must be
    able to write there (``pg.root`` is the cluster's)."""

    def __init__(self, pg: Postgres, folder: Path, *valgrind_options: str) -> None:
        self.pg = pg
        self.folder = folder
        self.options = valgrind_options
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> CountedPostgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self.pg.stop_server()
        command = self.pg.server_command("valgrind", "--tool=callgrind", *self.options, f"--dump-after={TRIGGER}",
                                         f"--callgrind-out-file={self.folder}/cg.%p")
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.pg.port, timeout=600, proc=self.proc)
        deadline = time.monotonic() + 600
        while True:  # the port opens before the server accepts connections
            try:
                self.pg.psql("SELECT 1")
                return self
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg.stop_server()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=600)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def backends(self, db: str) -> set[int]:
        """The client backends connected to ``db``, but psql's (this module's and the caller's own queries,
        which may still be closing when this one runs)."""
        out = self.pg.psql("SELECT pid FROM pg_stat_activity WHERE datname = '%s' AND backend_type = 'client backend' "
                           "AND application_name <> 'psql'" % db.replace("'", "''"))
        return {int(pid) for pid in out.split()}

    def dump(self, pids: set[int], timeout: float = 300) -> dict[int, dict[str, int]]:
        """Have each backend in ``pids`` dump its counts; returns them once every dump is complete."""
        before = {pid: set(self._files(pid)) for pid in pids}
        if pids:
            self.pg.psql("SELECT pg_log_backend_memory_contexts(pid) FROM unnest(ARRAY[%s]::int[]) AS pid"
                         % ",".join(map(str, sorted(pids))))
        out: dict[int, dict[str, int]] = {}
        deadline = time.monotonic() + timeout
        while len(out) < len(pids):
            for pid in pids - out.keys():
                new = [path for path in self._files(pid) if path not in before[pid]]
                totals = dump_totals(new[0]) if len(new) == 1 else None
                if len(new) > 1:
                    raise RuntimeError(f"backend {pid} dumped {len(new)} times for one request")
                if totals is not None:
                    out[pid] = totals
            if time.monotonic() > deadline:
                raise TimeoutError(f"backends {sorted(pids - out.keys())} did not dump within {timeout}s")
            time.sleep(0.05)
        return out

    @contextlib.contextmanager
    def phase(self, db: str) -> Iterator[dict]:
        """Count what ``db``'s backends do inside the block: ``with pgc.phase(db) as counted: ...`` fills
        ``counted["totals"]`` with the event totals and ``counted["stable"]`` with whether the same backends
        served it throughout (a backend that started in the block would be counted from its start, or not at
        all)."""
        pids = self.backends(db)
        self.dump(pids)  # a fresh start
        # the dump's own share, and what the idle backends did in between: nothing, unless the statistics flush
        # PostgreSQL times for ten seconds after a statement lands here (~2 k instructions, taken off the phase)
        empty = self.dump(pids)
        counted: dict = {}
        yield counted
        after = self.backends(db)
        done = self.dump(pids & after)
        counted["totals"] = combine(list(done.values()), list(empty.values()))
        counted["stable"] = after == pids

    def _files(self, pid: int) -> list[Path]:
        return sorted(self.folder.glob(f"cg.{pid}.*"))
