"""The operations dashboard and its alarms read metrics the code really emits.

A dashboard widget or an alarm on a misspelt metric shows "no data" forever and never
fires; nothing at deploy time says so. So every InvoiceDispatch metric the template names
must appear as a literal in the code that emits metrics, and every KPI of the history
page must be on the dashboard.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from invoice_dispatch.observability import HISTORY_METRICS
from tools.local_run.wiring import REPO_ROOT, Template

NAMESPACE = "InvoiceDispatch"
SERVICE = "invoice-dispatch"


def _resources(resource_type: str) -> dict[str, dict[str, Any]]:
    return Template().resources_of_type(resource_type)


def _dashboard_body() -> dict[str, Any]:
    (dashboard,) = _resources("AWS::CloudWatch::Dashboard").values()
    text, variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    filled = text.replace("${AWS::Region}", "eu-central-1")
    for name, value in variables.items():
        filled = filled.replace("${" + name + "}", value)
    return dict(json.loads(filled))


def _dashboard_metrics(body: dict[str, Any]) -> set[str]:
    names = set()
    for widget in body["widgets"]:
        for metric in widget["properties"]["metrics"]:
            if isinstance(metric[0], dict):  # a search expression names its metric inside
                names.update(re.findall(r'MetricName="(\w+)"', metric[0]["expression"]))
            else:
                assert metric[0] == NAMESPACE and metric[2:4] == ["service", SERVICE], metric
                names.add(metric[1])
    return names


def _emitted_literals() -> set[str]:
    """Every quoted word in the code that emits metrics: handlers and the domain package."""
    sources = [*REPO_ROOT.glob("functions/*/app.py")]
    sources += [*(REPO_ROOT / "layers" / "invoice_dispatch" / "invoice_dispatch").rglob("*.py")]
    return {
        word for path in sources for word in re.findall(r'"([A-Za-z]\w+)"', Path(path).read_text())
    }


def test_the_dashboard_shows_every_kpi_of_the_history_page() -> None:
    shown = _dashboard_metrics(_dashboard_body())
    assert set(HISTORY_METRICS) <= shown
    assert "DaysSalesOutstanding" in shown


def test_every_metric_the_dashboard_and_alarms_read_is_one_the_code_emits() -> None:
    alarmed = {
        alarm["Properties"]["MetricName"]
        for alarm in _resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == NAMESPACE
    }
    read = _dashboard_metrics(_dashboard_body()) | alarmed
    assert read - _emitted_literals() == set()


def test_the_kpis_that_need_a_person_raise_alarms_on_the_alert_topic() -> None:
    alarms = {
        alarm["Properties"]["MetricName"]: alarm["Properties"]
        for alarm in _resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == NAMESPACE
    }
    for metric in ("ExceptionBacklog", "DeliveryRate", "RunErpFailures", "MilestoneEventsRefused"):
        assert alarms[metric]["AlarmActions"] == [{"Ref": "AlertTopic"}], metric
    backlog = alarms["ExceptionBacklog"]
    # Above zero for a whole day: the smallest of a day's values.
    assert (backlog["Statistic"], backlog["Period"], backlog["Threshold"]) == ("Minimum", 86400, 0)
    assert alarms["DeliveryRate"]["Threshold"] == {"Ref": "DeliveryRateAlarmPercent"}
    assert alarms["DeliveryRate"]["ComparisonOperator"] == "LessThanThreshold"
