"""The addon's description for Odoo's Apps page, ``static/description/index.html``, from ``readme/``.

As the OCA's readme generator does, the page is made of the fragments in ``readme/`` (description,
configuration, usage, contributors). ``python -m tools.readme`` writes it; ``make lint`` fails when the
committed page differs from what the fragments give.
"""

from __future__ import annotations

import html
import sys

import markdown

from tools.package import ROOT

PAGE = ROOT / "static" / "description" / "index.html"
#: (fragment, heading), in the order the OCA's generated pages use
SECTIONS = [("DESCRIPTION.md", None), ("CONFIGURE.md", "Configuration"), ("USAGE.md", "Usage"),
            ("CONTRIBUTORS.md", "Contributors")]


def render() -> str:
    manifest = (ROOT / "__manifest__.py").read_text()
    name = manifest.split('"name": "', 1)[1].split('"', 1)[0]
    parts = [f"<h1>{html.escape(name)}</h1>"]
    for fragment, heading in SECTIONS:
        if heading:
            parts.append(f"<h2>{heading}</h2>")
        parts.append(markdown.markdown((ROOT / "readme" / fragment).read_text()))
    body = "\n".join(parts)
    return ("<!DOCTYPE html>\n<!-- written by tools/readme.py from readme/: edit those, not this -->\n"
            f'<section class="oe_container">\n<div class="oe_row oe_spaced">\n{body}\n</div>\n</section>\n')


def current() -> bool:
    return PAGE.exists() and PAGE.read_text() == render()


def main() -> int:
    if "--check" in sys.argv:
        ok = current()
        print(f"{PAGE.relative_to(ROOT)}: {'current' if ok else 'OUT OF DATE: run python -m tools.readme'}")
        return 0 if ok else 1
    PAGE.write_text(render())
    print(f"{PAGE.relative_to(ROOT)} written from readme/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
