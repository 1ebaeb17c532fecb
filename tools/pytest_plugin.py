"""pytest runs only the Odoo-free core tests (tests/core).

The repository root is an Odoo addon, so it and its folders have an ``__init__.py`` that imports Odoo.
Collect every folder as a plain directory rather than a Python package, so pytest never imports them.
"""

import pytest


def pytest_collect_directory(path, parent):
    if (path / "__init__.py").exists():
        return pytest.Dir.from_parent(parent, path=path)
    return None
