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


def test_ids_from_one_process_are_prefix_and_counter_across_the_256_boundary():
    from core.request_id import _Ids

    ids = _Ids(first_head=0x1234)
    drawn = [ids.next() for _ in range(600)]
    assert drawn == [f"{ids.prefix}{n:016x}" for n in range(0x123400, 0x123400 + 600)]
    assert drawn[255].endswith("00000000001234ff") and drawn[256].endswith("0000000000123500")
    assert drawn[599].endswith("0000000000123657")


def test_a_forked_child_draws_ids_with_its_own_prefix():
    import os

    from core import request_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its prefix and an id, then leave without running any test teardown
        os.write(write, f"{request_id.IDS.prefix} {request_id.IDS.next()}".encode())
        os._exit(0)
    os.close(write)
    prefix, drawn = os.read(read, 100).decode().split()
    os.waitpid(pid, 0)
    assert prefix != request_id.IDS.prefix
    assert drawn.startswith(prefix) and len(drawn) == 32


def test_threads_drawing_ids_at_once_never_share_one():
    import threading

    from core.request_id import _Ids

    ids = _Ids()
    drawn: list[list[str]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def draw(out):
        start.wait()
        for _ in range(20_000):
            out.append(ids.next())

    threads = [threading.Thread(target=draw, args=(out,)) for out in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [rid for out in drawn for rid in out]
    assert len(set(every)) == len(every) == 80_000
    assert all(len(rid) == 32 and rid.startswith(ids.prefix) for rid in every)
