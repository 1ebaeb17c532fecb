"""The plain-text tables every benchmark prints."""

import pytest

from tools.table import percentile, spread, table


def test_table_aligns_columns_and_formats_numbers():
    out = table(["request", "us"], [["version_info", 2.5], ["call_kw res.partner.search_read", 1234.56]])
    assert out.splitlines() == [
        "request                         | us    ",
        "--------------------------------+-------",
        "version_info                    | 2.500 ",
        "call_kw res.partner.search_read | 1234.6",
    ]


def test_a_row_that_does_not_fit_the_headings_is_refused():
    with pytest.raises(ValueError, match="a row of 3 cells under 2 headings"):
        table(["request", "us"], [["version_info", 2.5, "met"]])


def test_percentile_and_spread():
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.99) == 5.0
    assert spread([9.0, 11.0]) == pytest.approx(2 ** 0.5 / 10)
    assert spread([7.0]) == 0.0
