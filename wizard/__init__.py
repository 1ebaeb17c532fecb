from . import api_monitor_backtest
from . import api_monitor_token
