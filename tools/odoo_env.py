"""Odoo's own Python environment, found or built from the Odoo source tree's requirements.

Where the Odoo at ``ODOO_PATH`` has no environment yet (a fresh clone of Odoo's repository), one is built
in ``.odoo-envs/<series>`` beside the project from that tree's ``requirements.txt`` and the addon's own
needs. The adjustments this machine's Python needs are all in :data:`ADJUSTMENTS` and :func:`requirements`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parent.parent
ENVS = ROOT / ".odoo-envs"

#: the addon's own needs (its manifest's external_dependencies), installed beside Odoo's
ADDON_NEEDS = ["prometheus_client", "requests"]
#: what Odoo's browser tests (the tours, in headless Chromium) need and its requirements leave out:
#: {module: package}
TEST_NEEDS = {"websocket": "websocket-client"}

#: what changes in Odoo's requirement lines so that they install on a plain Python 3.11 or newer:
#: the version each line pins is Odoo's; only the way of getting it changes.
ADJUSTMENTS = {
    # the binary wheel of the same version: no PostgreSQL headers nor compiler needed
    "psycopg2": "psycopg2-binary",
    # LDAP login (auth_ldap) needs the OpenLDAP headers and a compiler, and nothing here uses it
    "python-ldap": None,
}
#: Odoo pins older releases for Pythons before 3.12 (those of Ubuntu 22.04), several of which publish no
#: wheel for 3.11: take the pins Odoo lists for 3.12 (those of Ubuntu 24.04), which do.
MARKER_PYTHON = "3.12"


def requirements(text: str) -> list[str]:
    """Odoo's requirement lines as this machine installs them (markers evaluated, :data:`ADJUSTMENTS`)."""
    python = max((sys.version_info.major, sys.version_info.minor), tuple(map(int, MARKER_PYTHON.split("."))))
    where = {"python_version": "{}.{}".format(*python), "python_full_version": "{}.{}.0".format(*python),
             "sys_platform": sys.platform, "platform_system": "Linux", "os_name": os.name}
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(where):
            continue
        requirement = requirement.strip()
        name = requirement.split("=")[0].split("<")[0].split(">")[0].split("[")[0].strip().lower()
        if name in ADJUSTMENTS:
            if ADJUSTMENTS[name] is None:
                continue
            requirement = ADJUSTMENTS[name] + requirement[len(name):]
        found.append(requirement)
    return found


def existing(odoo_path: Path, series: str) -> str | None:
    """Odoo's Python for this tree: ``ODOO_PYTHON``, a ``.venv`` or ``venv`` in the tree, or one built here."""
    if os.environ.get("ODOO_PYTHON"):
        return os.environ["ODOO_PYTHON"]
    for candidate in (odoo_path / ".venv/bin/python", odoo_path / "venv/bin/python", ENVS / series / "bin/python"):
        if candidate.exists():
            return str(candidate)
    return None


def build(odoo_path: Path, series: str, say=print) -> str:
    """Build ``.odoo-envs/<series>`` from the tree's requirements and the addon's needs; return its Python.
    Lines that do not install (a tree's own additions, say) are named and left out."""
    env = ENVS / series
    python = env / "bin" / "python"
    wanted = requirements((odoo_path / "requirements.txt").read_text()) + ADDON_NEEDS + list(TEST_NEEDS.values())
    say(f"Building Odoo {series}'s Python environment in {env} from {odoo_path / 'requirements.txt'} "
        f"({len(wanted)} packages; a few minutes, once)")
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if subprocess.run([*pip, *wanted]).returncode != 0:
        left_out = [req for req in wanted if subprocess.run([*pip, req]).returncode != 0]
        say(f"Left out (they do not install here): {', '.join(left_out)}")
    (env / "ready").write_text("\n".join(wanted) + "\n")
    return str(python)


def python_for(odoo_path: Path, series: str, say=print) -> str:
    """Odoo's Python for the tree at ``odoo_path``, built on first use where none exists."""
    found = existing(odoo_path, series)
    if not found or (found.startswith(str(ENVS)) and not (ENVS / series / "ready").exists()):
        return build(odoo_path, series, say)
    check = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))"
    if subprocess.run([found, "-c", check, *ADDON_NEEDS]).returncode != 0:
        raise RuntimeError(f"Odoo's Python {found} lacks the addon's needs: "
                           f"{found} -m pip install {' '.join(ADDON_NEEDS)}")
    missing = [package for module, package in TEST_NEEDS.items()
               if subprocess.run([found, "-c", check, module]).returncode != 0]
    if missing:
        say(f"Installing what Odoo's browser tests need into {found}: {' '.join(missing)}")
        subprocess.run([found, "-m", "pip", "install", "-q", "--disable-pip-version-check", *missing], check=True)
    return found
