"""Endpoint patterns: globs, matched in linear time whatever their author wrote."""

import time

import pytest

from core.patterns import PatternError, matches, parse, to_regex


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("/web/dataset/call_kw/sale.*", "/web/dataset/call_kw/sale.order/create", True),
    ("/web/dataset/call_kw/sale.*", "/web/dataset/call_kw/res.partner/read", False),
    ("/web/dataset/call_kw/sale.*", "/web/dataset/call_kw/sale", False),
    ("*/create", "/jsonrpc/object/sale.order/create", True),
    ("*/create", "/jsonrpc/object/sale.order/create_multi", False),
    ("/jsonrpc/*/sale.*/*", "/jsonrpc/object/sale.order/write", True),
    ("*", "unmatched", True),
    ("unmatched", "unmatched", True),
    ("unmatched", "unmatched2", False),
    ("a*a*a*b", "aaaaaaaab", True),
    ("a*ba", "aba", True),
    ("ab*ba", "aba", False),
    ("/x, /y*", "/yes", True),
])
def test_a_glob_matches_the_whole_name(pattern, name, expected):
    assert matches(parse(pattern), name) is expected


def test_a_pattern_built_to_backtrack_matches_a_long_name_at_once():
    globs = parse("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b")
    started = time.perf_counter()
    for _ in range(2000):
        assert not matches(globs, "a" * 300)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("pattern", "message"), [
    ("", "Give the endpoint pattern, e.g. /web/dataset/call_kw/sale.*"),
    ("^/web/", "'^/web/' looks like a regular expression (^): endpoint patterns are globs, where * stands for any "
               "characters, e.g. /web/dataset/call_kw/sale.*"),
    ("(a|aa)+", "'(a|aa)+' looks like a regular expression (( ) + |): endpoint patterns are globs, where * stands for "
                "any characters, e.g. /web/dataset/call_kw/sale.*"),
    ("/a " * 21, "The endpoint pattern has 21 globs; keep it to 20."),
    ("/" + "a" * 600, "The endpoint pattern is 601 characters long; keep it to 500."),
])
def test_a_pattern_that_cannot_be_used_says_what_to_write(pattern, message):
    with pytest.raises(PatternError) as raised:
        parse(pattern)
    assert str(raised.value) == message


def test_the_prometheus_matcher_selects_what_the_globs_select():
    import re

    globs = parse("/web/dataset/call_kw/sale.* */create")
    regex = re.compile(to_regex(globs))
    names = ["/web/dataset/call_kw/sale.order/read", "/web/dataset/call_kw/saleXorder/read", "/jsonrpc/x/create",
             "/jsonrpc/x/created", "unmatched"]
    assert [bool(regex.fullmatch(n)) for n in names] == [matches(globs, n) for n in names] == [
        True, False, True, False, False]
