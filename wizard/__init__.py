from . import api_monitor_backtest, api_monitor_token
