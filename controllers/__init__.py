from . import metrics, pagerduty
