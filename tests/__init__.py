# Odoo tests: Odoo's test loader imports this package. The Odoo-free core tests live in tests/core and
# are run by pytest, which never imports this package.
from . import (
    test_alerting,
    test_backtest,
    test_causes,
    test_changes,
    test_classification_http,
    test_hardening,
    test_install,
    test_json2,
    test_jsonlog,
    test_metrics_endpoint,
    test_operator,
    test_pagerduty_webhook,
    test_rpc_http,
    test_settings,
    test_silences,
    test_store,
    test_storm,
    test_tours,
)
