"""Read the wiring of the local run from ``infra/template.yaml``.

Function names, code locations, handlers, environment variables and the state
machine's substitutions all come from the SAM template, so the laptop run and the
deployed stack cannot drift apart (serverless-test-samples do the same in tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"
ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"

#: moto does not parse ExecutionType EXPRESS (design.md); locally the Map children run
#: as STANDARD, which executes the same states.
LOCAL_SUBSTITUTION_OVERRIDES = {
    "DraftingChildExecutionType": "STANDARD",
    "DeliveryChildExecutionType": "STANDARD",
    "CollectionsChildExecutionType": "STANDARD",
}
#: The template's state machines, and the name each gets locally (``LocalNames``).
MONTHLY_RUN = "MonthlyRunStateMachine"
COLLECTIONS_RUN = "CollectionsRunStateMachine"
CORRECTIONS_RUN = "CorrectionsStateMachine"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.logical_id}"


@dataclass(frozen=True)
class LocalNames:
    """The local stand-ins for the stack's resource names."""

    table: str = "invoice-dispatch-billing"
    bucket: str = "invoice-dispatch-documents"
    alert_topic: str = "invoice-dispatch-alerts"
    delivery_topic: str = "invoice-dispatch-delivery-events"
    erp_error_queue: str = "invoice-dispatch-erp-errors"
    configuration_set: str = "invoice-dispatch"
    approval_secret: str = "invoice-dispatch/approval-key"
    erp_secret: str = "invoice-dispatch/erp-credentials"
    payments_webhook_secret: str = "invoice-dispatch/payments-webhook"
    payment_gateway_secret: str = "invoice-dispatch/payment-gateway"
    monthly_run: str = "MonthlyRun"
    collections_run: str = "CollectionsRun"
    collections_topic: str = "invoice-dispatch-collections"
    corrections_run: str = "Corrections"

    def state_machine(self, logical_id: str) -> str:
        return {
            MONTHLY_RUN: self.monthly_run,
            COLLECTIONS_RUN: self.collections_run,
            CORRECTIONS_RUN: self.corrections_run,
        }[logical_id]


class Template:
    def __init__(self, path: Path = TEMPLATE_PATH) -> None:
        self.path = path
        self.document: dict[str, Any] = cfn_yaml.load(str(path))
        self.resources: dict[str, Any] = self.document["Resources"]

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def functions(self) -> dict[str, FunctionSpec]:
        default_handler = self.document["Globals"]["Function"]["Handler"]
        specs = {}
        for logical_id, resource in self.resources_of_type("AWS::Serverless::Function").items():
            properties = resource["Properties"]
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_dir=(self.path.parent / properties["CodeUri"]).resolve(),
                handler=properties.get("Handler", default_handler),
            )
        return specs

    def function_memory_mb(self) -> dict[str, int]:
        """MemorySize of each function (its own, else Globals'): what its GB-seconds bill."""
        default = int(self.document["Globals"]["Function"].get("MemorySize", 128))
        return {
            name: int(resource["Properties"].get("MemorySize", default))
            for name, resource in self.resources_of_type("AWS::Serverless::Function").items()
        }

    def function_timeout_seconds(self) -> dict[str, int]:
        """Timeout of each function (its own, else Globals')."""
        default = int(self.document["Globals"]["Function"].get("Timeout", 3))
        return {
            name: int(resource["Properties"].get("Timeout", default))
            for name, resource in self.resources_of_type("AWS::Serverless::Function").items()
        }

    def state_machine_definition(self, resolve: Any, logical_id: str = MONTHLY_RUN) -> str:
        properties = self.resources[logical_id]["Properties"]
        definition = (self.path.parent / properties["DefinitionUri"]).read_text(encoding="utf-8")
        substitutions = {k: resolve(v) for k, v in properties["DefinitionSubstitutions"].items()}
        substitutions.update(LOCAL_SUBSTITUTION_OVERRIDES)
        for name, value in substitutions.items():
            definition = definition.replace("${" + name + "}", str(value))
        json.loads(definition)  # a missing substitution would surface here, not mid-run
        return definition

    def global_environment(self) -> dict[str, Any]:
        return dict(self.document["Globals"]["Function"]["Environment"]["Variables"])

    def function_environments(self) -> dict[str, dict[str, Any]]:
        """Variables a function sets beyond Globals (none of them clash across functions)."""
        return {
            name: dict(resource["Properties"].get("Environment", {}).get("Variables", {}))
            for name, resource in self.resources_of_type("AWS::Serverless::Function").items()
        }

    def parameter_default(self, name: str) -> Any:
        return self.document["Parameters"][name].get("Default")
