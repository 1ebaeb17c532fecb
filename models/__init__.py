from . import api_monitor_store
from . import api_monitor_endpoint
from . import api_monitor_bucket
from . import api_monitor_failure
from . import ir_http
from . import res_config_settings
