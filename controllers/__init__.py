from . import incident, metrics, pagerduty
