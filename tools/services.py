"""Services the tests, the demo and the benchmarks start on loopback and stop afterwards.

* :class:`Postgres`: a throw-away PostgreSQL cluster (``initdb`` into a temporary folder, trust auth on
  127.0.0.1, a free port), run as the ``postgres`` system user when started by root.
* :class:`Odoo`: an Odoo found at ``ODOO_PATH`` with the addon on its addons path, as a server or a command.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parent.parent
DB_USER = "api_monitor"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.closing(socket.socket()) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


class Postgres:
    """A temporary PostgreSQL cluster on 127.0.0.1; ``with Postgres() as pg:`` starts and removes it."""

    def __init__(self) -> None:
        bindir = _pg_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql')")
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="api_monitor_pg_"))
        self.data = self.root / "data"
        self.user = DB_USER

    def _as_owner(self, *cmd: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return list(cmd)

    def start(self) -> Postgres:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o755)
        subprocess.run(
            self._as_owner(str(self.bindir / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
                           "--encoding=UTF8", "--locale=C"),
            check=True, stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", " ".join(self.options()), "-w",
                           "-l", str(self.root / "postgres.log"), "start"),
            check=True, stdout=subprocess.DEVNULL,
        )
        self.psql(f"CREATE ROLE {self.user} LOGIN SUPERUSER PASSWORD '{self.user}'")
        return self

    def options(self) -> list[str]:
        """The server's settings, as ``postgres`` command-line options."""
        settings = {"listen_addresses": "127.0.0.1", "port": self.port, "unix_socket_directories": self.root,
                    "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": 200}
        return [option for name, value in settings.items() for option in ("-c", f"{name}={value}")]

    def stop_server(self) -> None:
        """Stop the server and keep the cluster, to start it again (``pg_ctl`` or :meth:`server_command`)."""
        subprocess.run(self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"),
                       check=True, stdout=subprocess.DEVNULL)

    def server_command(self, *prefix: str) -> list[str]:
        """The command that runs the server in the foreground, behind ``prefix`` (valgrind, say)."""
        return self._as_owner(*prefix, str(self.bindir / "postgres"), "-D", str(self.data), *self.options())

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = subprocess.run(
            [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
             "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            check=True, capture_output=True, text=True,
        )
        return out.stdout.strip()

    def stop(self) -> None:
        subprocess.run(
            self._as_owner(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Odoo:
    """An Odoo installation at ``ODOO_PATH`` (default /opt/odoo), run with the addon on its addons path."""

    def __init__(self, path: str | None = None, addon_dir: Path | None = ADDON_DIR,
                 env: dict[str, str] | None = None) -> None:
        """``addon_dir=None`` leaves the addon off the addons path (installed from a wheel, say); ``env``
        adds to the environment Odoo runs in."""
        self.path = Path(path or os.environ.get("ODOO_PATH", "/opt/odoo"))
        self.bin = self.path / "odoo-bin"
        self.env = {**os.environ, **(env or {})}
        self._python: str | None = None
        self.addons_root = Path(tempfile.mkdtemp(prefix="api_monitor_addons_"))
        if addon_dir is not None:
            from tools.package import link_view

            link_view(addon_dir, self.addons_root / "api_monitor")

    @property
    def python(self) -> str:
        """Odoo's Python: found (``ODOO_PYTHON``, the tree's ``.venv``), or built on first use."""
        if self._python is None:
            from tools.odoo_env import python_for

            self._python = python_for(self.path, self.version)
        return self._python

    @property
    def available(self) -> bool:
        return self.bin.is_file()

    @property
    def version(self) -> str:
        """The series of the Odoo at this path, ``18.0`` or ``19.0``, read from its ``odoo/release.py``."""
        import re

        text = (self.path / "odoo" / "release.py").read_text()
        major, minor = re.search(r"^version_info = \((\d+), (\d+)", text, re.M).groups()
        return f"{major}.{minor}"

    @property
    def no_demo(self) -> list[str]:
        """The option that installs without demo data: Odoo 19 installs none unless asked, and warns about 18's."""
        return ["--without-demo=all"] if self.version == "18.0" else []

    def addons_path(self) -> str:
        core = [p for p in (self.path / "odoo/addons", self.path / "addons") if (p / "web").is_dir()]
        ours = [self.addons_root] if (self.addons_root / "api_monitor").exists() else []
        return ",".join(str(p) for p in [*core, *ours])

    def command(self, pg: Postgres, db: str, *args: str, preload: bool = True) -> list[str]:
        """The odoo-bin command line; ``preload=False`` leaves the database to ``--db-filter`` alone, so
        that workers load its registry on their first request instead of inheriting it from the master."""
        return [
            self.python, str(self.bin), f"--addons-path={self.addons_path()}", "--db_host=127.0.0.1",
            f"--db_port={pg.port}", f"--db_user={pg.user}", f"--db_password={pg.user}",
            *(["-d", db] if preload else []), f"--db-filter=^{db}$", "--http-interface=127.0.0.1",
            # with --workers, Odoo also runs its websocket server (gevent): on a port of its own, as one that is
            # taken makes Odoo start it again and again, which costs every other process on the machine
            f"--gevent-port={free_port()}", "--data-dir", str(self.addons_root / "data"), *args,
        ]

    def run(self, pg: Postgres, db: str, *args: str, log: Path | None = None, timeout: float = 1800) -> int:
        with open(log or os.devnull, "w") as out:
            return subprocess.run(self.command(pg, db, *args), stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout, env=self.env).returncode

    def shell(self, pg: Postgres, db: str, script: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        """Run ``script`` in ``odoo-bin shell`` on ``db`` (its ``env`` at hand); its output captured as text."""
        command = self.command(pg, db, "--no-http")
        command.insert(2, "shell")  # the subcommand comes right after odoo-bin
        return subprocess.run(command, input=script, capture_output=True, text=True, timeout=timeout, env=self.env)

    def install(self, pg: Postgres, db: str, modules: str, logdir: Path) -> None:
        """Create ``db`` with ``modules`` installed (no demo data); raises with the log's path on failure."""
        log = logdir / f"install-{db}.log"
        if self.run(pg, db, "-i", modules, "--stop-after-init", *self.no_demo, log=log):
            raise RuntimeError(f"installing {modules} into {db} failed: see {log}")

    @contextlib.contextmanager
    def server(self, pg: Postgres, db: str, *args: str, log: Path, port: int | None = None, preload: bool = True):
        """Run Odoo as a server until the block ends; yields its base URL."""
        port = port or free_port()
        out = open(log, "a")
        proc = subprocess.Popen(self.command(pg, db, f"--http-port={port}", *args, preload=preload), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, env=self.env)
        try:
            wait_for_port(port, timeout=120, proc=proc)
            url = f"http://127.0.0.1:{port}"
            _wait_http(url + "/web/health", proc)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
            out.close()

    def cleanup(self) -> None:
        shutil.rmtree(self.addons_root, ignore_errors=True)


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    req = urllib.request.Request(url)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Odoo exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout}s")
