import ipaddress

import pytest

from core.settings import (
    PARAM_ENDPOINT_CAP,
    PARAM_EXCLUSIONS,
    PARAM_FLUSH_INTERVAL,
    SettingError,
    Settings,
    address_allowed,
    load,
    parse_allowlist,
    parse_exclusions,
)


def test_allowlist_accepts_addresses_and_networks_separated_by_commas_or_lines():
    assert parse_allowlist("127.0.0.1,\n10.0.0.0/8, ::1") == (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"),
    )
    assert parse_allowlist("") == ()
    assert parse_allowlist(None) == ()


def test_allowlist_error_names_the_bad_entry_and_the_expected_form():
    with pytest.raises(SettingError) as raised:
        parse_allowlist("10.0.0.0/8, intranet")
    assert str(raised.value) == (
        "'intranet' in the /metrics allowlist is not an address or a network: "
        "write addresses or CIDR blocks such as 10.0.0.0/8, separated by commas."
    )


@pytest.mark.parametrize(
    ("address", "allowlist", "allowed"),
    [
        ("203.0.113.9", "", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("11.1.2.3", "10.0.0.0/8", False),
        ("::1", "127.0.0.1, ::1", True),
        ("not-an-ip", "10.0.0.0/8", False),
        (None, "10.0.0.0/8", False),
    ],
)
def test_address_allowed(address, allowlist, allowed):
    assert address_allowed(address, parse_allowlist(allowlist)) is allowed


def test_exclusions_must_be_path_prefixes():
    assert parse_exclusions("/websocket, /bus/\n/web/assets/") == ("/websocket", "/bus/", "/web/assets/")
    with pytest.raises(SettingError, match="^Excluded endpoint 'bus' must be a path prefix starting with '/'"):
        parse_exclusions("/websocket, bus")


def test_load_uses_stored_values_and_falls_back_to_defaults_for_unusable_ones():
    stored = {PARAM_FLUSH_INTERVAL: "2", PARAM_ENDPOINT_CAP: "not a number", PARAM_EXCLUSIONS: ""}
    assert load(stored.get) == Settings(flush_interval=2, retention_days=2, hourly_months=13, endpoint_cap=2000,
                                        exclusions=())
    assert load({PARAM_FLUSH_INTERVAL: "0"}.get) == Settings()
    assert load({}.get) == Settings()
