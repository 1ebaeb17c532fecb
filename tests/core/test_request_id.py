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


def test_a_forked_child_draws_other_ids_than_its_parent():
    import os

    from core import request_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the ids it draws, then leave without running any test teardown
        os.write(write, " ".join(request_id.new() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    child = set(os.read(read, 10000).decode().split())
    os.waitpid(pid, 0)
    parent = {request_id.new() for _ in range(100)}
    assert len(child) == len(parent) == 100
    assert not child & parent
