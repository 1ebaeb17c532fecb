"""The addon as Odoo operators install it: the runtime files alone, and ``odoo-addon-api_monitor`` wheels.

``python -m tools.package [OUTDIR]`` builds one wheel per supported Odoo series (``dist/`` by default) with
whool, the build backend the OCA uses. The repository root is the addon, next to the project's development
files (tools, benchmarks, core tests, docs, deployment examples): the wheel is built from a copy that holds
only the files under version control that the addon needs at run time, so none of those ships.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "api_monitor"
#: the Odoo series one source serves; each wheel carries its own series prefix (18.0.1.2.0, 19.0.1.2.0)
SERIES = ("18.0", "19.0")

#: the project's development files: never in the addon Odoo loads from a wheel. The Odoo tests stay out too:
#: they start the tools' PagerDuty sandbox, so they run from a checkout (make test), not from a wheel.
DEVELOPMENT = ("tools/", "bench/", "tests/", "docs/", "deploy/", ".ci/", ".gitignore", ".pre-commit-config.yaml",
               ".pylintrc-mandatory", "Makefile", "pytest.ini", "requirements-dev.txt", "ruff.toml")
#: what the linters read beside the runtime files: the Odoo tests (not the Odoo-free core tests)
ODOO_TESTS = "tests/"
#: what the Odoo tests start beside Odoo (the PagerDuty and Slack sandbox)
TEST_TOOLS = "tools"

PYPROJECT = """\
[build-system]
requires = ["whool"]
build-backend = "whool.buildapi"
"""


def runtime_files(with_tests: bool = False, root: Path = ROOT) -> list[str]:
    """The addon's files under version control that Odoo needs (and its Odoo tests, ``with_tests``),
    relative to the repository root (``root``: another checkout of it)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True, text=True)
    return sorted(name for name in listed.stdout.split("\0")
                  if name and (root / name).is_file() and (not name.startswith(DEVELOPMENT) or (
                      with_tests and name.startswith(ODOO_TESTS) and not name.startswith("tests/core/"))))


def link_view(root: Path, dest: Path) -> Path:
    """``dest``: a folder of links to the addon's own top-level files and folders in the checkout ``root``
    (its Odoo tests included, and tools/ whose sandbox they start), so that Odoo runs the working copy but
    never sees the environments and builds beside it (Odoo reads every Python file of an addon's folder
    when it exports translations)."""
    dest.mkdir(parents=True)
    tops = {name.split("/")[0] for name in runtime_files(with_tests=True, root=root)}
    for top in sorted(tops | {TEST_TOOLS}):
        (dest / top).symlink_to(root / top)
    return dest


def stage(parent: Path, with_tests: bool = False) -> Path:
    """Copy the runtime files into ``parent/api_monitor`` (a folder outside any git checkout); return it."""
    addon = parent / NAME
    for name in runtime_files(with_tests):
        target = addon / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return addon


def version() -> str:
    """The manifest's series-free version, ``1.2.0``."""
    return ast.literal_eval((ROOT / "__manifest__.py").read_text())["version"]


def with_series(manifest: str, series: str) -> str:
    """The manifest's text with its series-free version (``1.2.0``) prefixed by ``series``, as Odoo itself
    prefixes it when it loads the addon: the wheel's version and its ``odoo==<series>.*`` need come from it."""
    found = re.findall(r'"version": "(\d+\.\d+\.\d+)"', manifest)
    if len(found) != 1:
        raise ValueError(f"the manifest must hold one series-free version such as \"1.2.0\", found {found}")
    return manifest.replace(f'"version": "{found[0]}"', f'"version": "{series}.{found[0]}"')


def build(outdir: Path, series: str) -> Path:
    """Build the ``odoo-addon-api_monitor`` wheel for one Odoo series into ``outdir``; return its path."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="api_monitor_wheel_") as tmp:
        addon = stage(Path(tmp))
        manifest = addon / "__manifest__.py"
        manifest.write_text(with_series(manifest.read_text(), series))
        (addon / "pyproject.toml").write_text(PYPROJECT)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
                        "--no-build-isolation", "--wheel-dir", str(outdir), str(addon)], check=True)
    wheels = sorted(outdir.glob(f"odoo_addon_{NAME}-{series}.*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise RuntimeError(f"whool built no wheel for Odoo {series} in {outdir}")
    return wheels[-1]


def main() -> int:
    outdir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"
    for series in SERIES:
        print(build(outdir, series))
    return 0


if __name__ == "__main__":
    sys.exit(main())
