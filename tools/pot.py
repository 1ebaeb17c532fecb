"""The addon's translation template, ``i18n/api_monitor.pot``, exported by the real Odoo 18.

``make pot`` writes it afresh; the Odoo tests (tools/odoo_tests.py) export it again from their database and
fail when the committed one differs, so that it never falls behind the code and the views.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from tools.services import ADDON_DIR, Odoo, Postgres

POT = ADDON_DIR / "i18n" / "api_monitor.pot"
#: the series whose export is the committed template (Odoo 19 exports the same strings in another header)
SERIES = "18.0"
#: header lines that change with every export
_STAMPS = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"$', re.M)


def export(odoo: Odoo, pg: Postgres, db: str, dest: Path, log: Path) -> None:
    """Export the template of the addon installed in ``db`` into ``dest``."""
    rc = odoo.run(pg, db, f"--i18n-export={dest}", "--modules=api_monitor", "--stop-after-init", log=log)
    if rc != 0 or not dest.exists():
        raise RuntimeError(f"exporting the translation template failed: see {log}")


def same(a: str, b: str) -> bool:
    """Whether two templates hold the same strings at the same places (export time stamps aside)."""
    return _STAMPS.sub("", a) == _STAMPS.sub("", b)


def main() -> int:
    odoo = Odoo()
    if not odoo.available or odoo.version != SERIES:
        print(f"make pot needs Odoo {SERIES} at ODOO_PATH ({odoo.path})")
        return 2
    logs = Path(tempfile.mkdtemp(prefix="api_monitor_pot_"))
    try:
        with Postgres() as pg:
            odoo.install(pg, "api_monitor_pot", "api_monitor", logs)
            fresh = logs / "api_monitor.pot"
            export(odoo, pg, "api_monitor_pot", fresh, logs / "export.log")
    finally:
        odoo.cleanup()
    POT.parent.mkdir(exist_ok=True)
    text = fresh.read_text()
    if POT.exists() and same(POT.read_text(), text):
        print(f"{POT} is current")
        return 0
    POT.write_text(text)
    print(f"{POT} written: {text.count('msgid ') - 1} strings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
