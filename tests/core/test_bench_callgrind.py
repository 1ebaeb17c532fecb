"""``bench.callgrind``: the totals read from callgrind's dumps, and its cycle estimate."""

from pathlib import Path

from bench.callgrind import dumps, estimated_cycles

HEADER = """# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  python3 odoo-bin
part: 3
{thread}
desc: I1 cache: 32768 B, 64 B, 8-way associative
desc: Timerange: Basic block 1 - 2
desc: Trigger: Client Request: dump {name}

positions: line
events: Ir I1mr D1mr Bcm
summary: {summary}

fn=(1) main
1 5 0 1 0
"""


def test_each_complete_dump_gives_its_name_thread_and_totals(tmp_path: Path):
    (tmp_path / "callgrind.out.1-01").write_text(HEADER.format(thread="thread: 3", name="installed-version_info",
                                                               summary="1000 2 3 4"))
    (tmp_path / "callgrind.out.2").write_text(HEADER.format(thread="", name="plain", summary="50 0 0 1"))
    (tmp_path / "callgrind.out.3").write_text("# callgrind format\nversion: 1\n")  # being written
    assert list(dumps(tmp_path)) == [
        ("installed-version_info", 3, {"Ir": 1000, "I1mr": 2, "D1mr": 3, "Bcm": 4}),
        ("plain", None, {"Ir": 50, "I1mr": 0, "D1mr": 0, "Bcm": 1}),
    ]


def test_estimated_cycles_weigh_l1_and_branch_misses_10_and_last_level_misses_100():
    events = {"Ir": 1000, "I1mr": 1, "D1mr": 2, "D1mw": 3, "Bcm": 4, "Bim": 5, "ILmr": 1, "DLmr": 2, "DLmw": 3}
    assert estimated_cycles(events) == 1000 + 10 * 15 + 100 * 6
    assert estimated_cycles({"Ir": 7}) == 7
