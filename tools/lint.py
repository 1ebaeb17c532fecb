"""``make lint``: the checks the OCA's CI runs, which must say nothing.

* ruff on the whole project (``ruff.toml``);
* pylint-odoo with the OCA's mandatory checks (``.pylintrc-mandatory``) on the addon's runtime files (the
  ones the wheel ships) and its Odoo tests, and oca-pre-commit-hooks' addon checks (XML headers, numeric
  ``eval``, manifest) on the same files.

The addon's runtime files are copied into a folder named ``api_monitor`` first, as the checks read the
addon's name from its folder.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tools.package import ROOT, stage

#: oca-checks-odoo-module checks left out, each with its reason
NOT_APPLICABLE = {
    # the repository's front page is README.md (GitHub shows it); the addon's description for Odoo's Apps
    # page is static/description/index.html, written from readme/ by tools/readme.py
    "prefer-readme-rst",
}


def main() -> int:
    bindir = Path(sys.executable).parent
    failed = []
    if subprocess.run([str(bindir / "ruff"), "check", "--quiet", str(ROOT)]).returncode != 0:
        failed.append("ruff")
    with tempfile.TemporaryDirectory(prefix="api_monitor_lint_") as tmp:
        addon = stage(Path(tmp), with_tests=True)
        if subprocess.run([sys.executable, "-m", "pylint", f"--rcfile={ROOT / '.pylintrc-mandatory'}", addon.name],
                          cwd=tmp).returncode != 0:
            failed.append("pylint-odoo")
        checks = subprocess.run([str(bindir / "oca-checks-odoo-module"), f"--disable={','.join(sorted(NOT_APPLICABLE))}",
                                 str(addon)], cwd=tmp, capture_output=True, text=True)
        if checks.returncode != 0:  # it prints its progress too: show only its findings
            print("\n".join(line for line in checks.stdout.splitlines() if ".xml:" in line or ".py:" in line
                             or ".csv:" in line or ".md:" in line or ".po" in line))
            failed.append("oca-checks-odoo-module")
    if subprocess.run([sys.executable, "-m", "tools.readme", "--check"], cwd=ROOT).returncode != 0:
        failed.append("static/description/index.html")
    print(f"lint: {'FAILED: ' + ', '.join(failed) if failed else 'ruff, pylint-odoo (OCA mandatory), oca addon checks, Apps page: clean'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
