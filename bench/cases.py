"""The requests the dispatch benchmarks send: one without a user, one authenticated call_kw."""

CASES = {
    "version_info (auth none)": ("/web/webclient/version_info", {"jsonrpc": "2.0", "params": {}}),
    "call_kw res.partner.search_read (user)": (
        "/web/dataset/call_kw/res.partner/search_read",
        {"jsonrpc": "2.0", "params": {"model": "res.partner", "method": "search_read", "args": [[]],
                                      "kwargs": {"fields": ["name"], "limit": 5}}},
    ),
}
