"""The addon's settings: defaults, parsing and the messages that say what to fix.

They are stored as Odoo system parameters (``api_monitor.*``); the settings form validates them with the
functions below, and each process reloads them at every flush, so a change applies within one interval.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .endpoints import DEFAULT_ANONYMOUS_CAP, DEFAULT_CAP, DEFAULT_EXCLUSIONS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PARAM_TOKEN = "api_monitor.metrics_token"
PARAM_ALLOWLIST = "api_monitor.metrics_allowlist"
PARAM_FLUSH_INTERVAL = "api_monitor.flush_interval"
PARAM_RETENTION_DAYS = "api_monitor.bucket_retention_days"
PARAM_HOURLY_MONTHS = "api_monitor.hourly_retention_months"
PARAM_ENDPOINT_CAP = "api_monitor.endpoint_cap"
PARAM_ANONYMOUS_CAP = "api_monitor.anonymous_endpoint_cap"
PARAM_EXCLUSIONS = "api_monitor.excluded_endpoints"

FLUSH_INTERVAL_RANGE = (1, 60)
RETENTION_DAYS_RANGE = (1, 400)
HOURLY_MONTHS_RANGE = (1, 120)
ENDPOINT_CAP_RANGE = (10, 100_000)
ANONYMOUS_CAP_RANGE = (0, 1_000)


class SettingError(ValueError):
    """A setting that cannot be used; the message says what to write instead."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What a process needs to record and flush; defaults are what a fresh install uses."""

    flush_interval: int = 5
    #: days of one-minute buckets as rows of their own; older minutes are compacted into their hourly rows
    retention_days: int = 2
    #: months of hourly rows (with the compacted minutes in them)
    hourly_months: int = 13
    endpoint_cap: int = DEFAULT_CAP
    #: of the cap, how many names requests without an authenticated user may add
    anonymous_endpoint_cap: int = DEFAULT_ANONYMOUS_CAP
    #: route prefixes: a request whose endpoint starts with one is not counted (``str.startswith`` takes
    #: the tuple as it is)
    exclusions: tuple[str, ...] = DEFAULT_EXCLUSIONS

    @property
    def history_days(self) -> int:
        """Days of traffic kept at one-minute resolution, compacted or not: how far back a rule may look."""
        return max(self.retention_days, 28 * self.hourly_months)

    @property
    def detail_days(self) -> int:
        """Days of server-error samples and causes kept (small: twenty samples an endpoint), and of idleness
        after which an endpoint is forgotten: at least eight, so that last week's incidents keep their causes
        and a weekly job's endpoint outlives its idle week."""
        return max(self.retention_days, 8)


def check_range(label: str, value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if not low <= value <= high:
        raise SettingError(f"{label} must be between {low} and {high}; {value} is out of range.")
    return value


def parse_allowlist(text: str | None) -> tuple[Network, ...]:
    """Comma- or newline-separated addresses or CIDR blocks; empty means every address is allowed.

    >>> parse_allowlist("127.0.0.1, 10.0.0.0/8")
    (IPv4Network('127.0.0.1/32'), IPv4Network('10.0.0.0/8'))
    """
    networks = []
    for item in _items(text):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingError(
                f"'{item}' in the /metrics allowlist is not an address or a network: "
                "write addresses or CIDR blocks such as 10.0.0.0/8, separated by commas."
            ) from None
    return tuple(networks)


def address_allowed(address: str | None, networks: Iterable[Network]) -> bool:
    """True when no allowlist is set, or when ``address`` falls within one of its networks."""
    networks = tuple(networks)
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def parse_exclusions(text: str | None) -> tuple[str, ...]:
    """Endpoint prefixes to leave uncounted, one per line or comma-separated; each starts with '/'."""
    prefixes = tuple(_items(text))
    for prefix in prefixes:
        if not prefix.startswith("/"):
            raise SettingError(
                f"Excluded endpoint '{prefix}' must be a path prefix starting with '/', such as /websocket."
            )
    return prefixes


def load(get: Callable[[str], str | None]) -> Settings:
    """Settings from stored parameters; a missing or unusable value falls back to its default."""
    defaults = Settings()

    def integer(key: str, default: int, bounds: tuple[int, int]) -> int:
        try:
            return check_range(key, int(get(key) or default), bounds)
        except (TypeError, ValueError):
            return default

    exclusions_text = get(PARAM_EXCLUSIONS)
    try:
        exclusions = defaults.exclusions if exclusions_text is None else parse_exclusions(exclusions_text)
    except SettingError:
        exclusions = defaults.exclusions
    return Settings(
        flush_interval=integer(PARAM_FLUSH_INTERVAL, defaults.flush_interval, FLUSH_INTERVAL_RANGE),
        retention_days=integer(PARAM_RETENTION_DAYS, defaults.retention_days, RETENTION_DAYS_RANGE),
        hourly_months=integer(PARAM_HOURLY_MONTHS, defaults.hourly_months, HOURLY_MONTHS_RANGE),
        endpoint_cap=integer(PARAM_ENDPOINT_CAP, defaults.endpoint_cap, ENDPOINT_CAP_RANGE),
        anonymous_endpoint_cap=integer(PARAM_ANONYMOUS_CAP, defaults.anonymous_endpoint_cap, ANONYMOUS_CAP_RANGE),
        exclusions=exclusions,
    )


def _items(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").replace("\n", ",").split(",") if item.strip()]
