import re

import pytest

from core.request_id import is_valid, resolve


@pytest.mark.parametrize("value", ["a", "drill-42:abc.DEF", "under_score", "0" * 128, "3f2a" * 8])
def test_valid_request_ids_are_kept(value):
    assert resolve(value) == value


@pytest.mark.parametrize(
    "value",
    [None, "", "x" * 129, "has space", "semi;colon", "caf\u00e9", "new\nline", "a" * 10240],
    ids=["none", "empty", "129 chars", "space", "semicolon", "non-ascii", "newline", "10 KB"],
)
def test_invalid_request_ids_are_replaced_by_32_hex_characters(value):
    assert not is_valid(value)
    assert re.fullmatch(r"[0-9a-f]{32}", resolve(value))


def test_generated_ids_differ():
    assert len({resolve(None) for _ in range(1000)}) == 1000
