import doctest
import random

from core import compaction
from core.rules import HOUR, window_sums, window_sums_hourly


def test_folding_minutes_into_hours_and_back_gives_every_minute_again():
    rng = random.Random(7)
    rows = [(float(HOUR * 100 + 60 * m), f"/e{e}", rng.randint(1, 50), rng.choice([0, 0, 0, 2]))
            for e in range(3) for m in range(0, 300) if rng.random() < 0.6]
    hours = compaction.fold(rows)
    back = sorted((start, endpoint, n, errors) for (hour, endpoint), (counts, failures) in hours.items()
                  for start, n, errors in compaction.unfold(hour, counts, failures))
    assert back == sorted(rows)


def test_an_hour_without_server_errors_keeps_no_error_array():
    hours = compaction.fold([(3600.0, "/a", 4, 0), (3660.0, "/a", 1, 0)])
    assert hours == {(3600.0, "/a"): ([4, 1] + [0] * 58, None)}


def test_only_whole_hours_before_the_minute_retention_are_compacted():
    now = 10 * 86400 + 5 * HOUR + 1234.0
    assert compaction.cutoff(now, minute_days=2) == 8 * 86400 + 5 * HOUR


def test_window_sums_over_compacted_minutes_equal_those_over_minute_buckets():
    """The reference the SQL follows: the far ends of long windows read from compacted hours give the sums
    of the minute buckets themselves."""
    rng = random.Random(11)
    now = 30 * 86400 + 1234.0
    minutes = [(now - 60 * m - 17, rng.randint(0, 30), rng.randint(0, 3)) for m in range(0, 4 * 1440)
               if rng.random() < 0.7]
    minutes = [(start // 60 * 60, n, min(e, n)) for start, n, e in minutes]
    rows = [(start, "/a", n, e) for start, n, e in minutes]
    hours = compaction.fold(rows)
    hourly = [(hour, sum(counts), sum(failures or ())) for (hour, _), (counts, failures) in hours.items()]
    compacted = [m for (hour, _), (counts, failures) in hours.items() for m in compaction.unfold(hour, counts, failures)]
    windows = (5, 60, 120, 360, 1440, 4320)
    assert window_sums_hourly(compacted, hourly, now, windows) == window_sums(minutes, now, windows)


def test_the_example_in_the_docstring_holds():
    assert doctest.testmod(compaction).failed == 0
