from . import api_monitor_backtest
