"""Reading callgrind's dumps for the instruction benchmarks: each dump's totals, and callgrind's cycle estimate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path


def dumps(folder: Path) -> Iterator[tuple[str, int | None, dict[str, int]]]:
    """(the name it was dumped under, its thread number or None, its event totals) of each complete dump in
    ``folder``; files that are not (yet) complete dumps are skipped."""
    for path in sorted(folder.iterdir()):
        text = path.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: .*?dump (\S+)", text, re.M)
        thread = re.search(r"^thread: (\d+)", text, re.M)
        events = re.search(r"^events: (.+)$", text, re.M)
        total = re.search(r"^(?:summary|totals): ([\d ]+)$", text, re.M)
        if name and events and total:
            yield (name.group(1), int(thread.group(1)) if thread else None,
                   dict(zip(events.group(1).split(), map(int, total.group(1).split()))))


def estimated_cycles(e: dict[str, int]) -> float:
    """Callgrind's cycle estimate (as KCachegrind computes it): instructions, plus 10 per L1 or branch miss
    and 100 per last-level miss, so that code that misses the caches weighs what it costs."""
    get = e.get
    return (get("Ir", 0) + 10 * (get("I1mr", 0) + get("D1mr", 0) + get("D1mw", 0) + get("Bcm", 0) + get("Bim", 0))
            + 100 * (get("ILmr", 0) + get("DLmr", 0) + get("DLmw", 0)))
