"""Build the stack's resources inside moto from the SAM template, and resolve its intrinsics."""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3

from tools.local_run.moto_fidelity import make_moto_distributed_map_honour_failure_threshold
from tools.local_run.moto_scale import make_moto_scale
from tools.local_run.wiring import (
    ACCOUNT_ID,
    COLLECTIONS_RUN,
    CORRECTIONS_RUN,
    MONTHLY_RUN,
    REGION,
    LocalNames,
    Template,
)

#: The API key the local stack's gateway secret holds (``tools/payment_gateway_server.py``).
LOCAL_GATEWAY_API_KEY = "sk_test_local"

#: Parameter values for the local stack; anything else takes the template's default.
LOCAL_PARAMETERS: dict[str, Any] = {
    "SenderEmail": "billing@northwind.example",
    "ApproverEmails": ["controller@northwind.example"],
    "AccountSourceKey": "sources/accounts.json",
    "ShadowAccountIds": "ACC-1001,ACC-1002,ACC-1003,ACC-1023",
    "ErpEndpoint": "",
    "CollectionsEmail": "collections@northwind.example",
    "CollectionsOwners": "ACC-1002=claire.martin@northwind.example",
}


@dataclass
class LocalStack:
    template: Template
    names: LocalNames = field(default_factory=LocalNames)
    parameters: dict[str, Any] = field(default_factory=dict)
    approval_base_url: str = "http://127.0.0.1:8765"
    erp_credentials: dict[str, str] = field(default_factory=dict)

    def parameter(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in LOCAL_PARAMETERS:
            return LOCAL_PARAMETERS[name]
        return self.template.parameter_default(name)

    # ------------------------------------------------------------ intrinsics
    def ref(self, logical_id: str) -> Any:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id in self.template.document["Parameters"]:
            return self.parameter(logical_id)
        local = {
            "BillingTable": self.names.table,
            "DocumentsBucket": self.names.bucket,
            "AlertTopic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{self.names.alert_topic}",
            "DeliveryEventsTopic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{self.names.delivery_topic}",
            "ErpErrorQueue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{self.names.erp_error_queue}",
            "SesConfigurationSet": self.names.configuration_set,
            "ApprovalKeySecret": self.names.approval_secret,
            "ErpCredentialsSecret": self.names.erp_secret,
            "PaymentGatewaySecret": self.names.payment_gateway_secret,
            "PaymentsWebhookSecret": self.names.payments_webhook_secret,
            "PortalKeySecret": self.names.portal_secret,
            MONTHLY_RUN: self.state_machine_arn(MONTHLY_RUN),
            COLLECTIONS_RUN: self.state_machine_arn(COLLECTIONS_RUN),
            "CollectionsTopic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{self.names.collections_topic}",
            CORRECTIONS_RUN: self.state_machine_arn(CORRECTIONS_RUN),
            "ApprovalHttpApi": "local",
        }
        if logical_id in local:
            return local[logical_id]
        resource_type = self.template.resources[logical_id]["Type"]
        if resource_type == "AWS::Serverless::Function":
            return logical_id
        raise KeyError(f"No local stand-in for !Ref {logical_id} ({resource_type})")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource_type = self.template.resources[logical_id]["Type"]
        if attribute == "Arn" and resource_type == "AWS::Serverless::Function":
            return self.template.functions()[logical_id].arn
        if attribute == "Arn" and resource_type == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT_ID}:role/{logical_id}"
        raise KeyError(f"No local stand-in for !GetAtt {logical_id}.{attribute}")

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self.ref(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            logical_id, attribute = target if isinstance(target, list) else target.split(".", 1)
            return self.get_att(logical_id, attribute)
        if "Fn::Join" in value:
            separator, items = value["Fn::Join"]
            resolved = (
                self.resolve(items) if isinstance(items, dict) else [self.resolve(i) for i in items]
            )
            return separator.join(resolved if isinstance(resolved, list) else [resolved])
        if "Fn::If" in value:
            condition, when_true, when_false = value["Fn::If"]
            return self.resolve(when_true if self.condition(condition) else when_false)
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]

            def replace(match: re.Match[str]) -> str:
                name = match.group(1)
                if "." in name:
                    return str(self.get_att(*name.split(".", 1)))
                return str(self.ref(name))

            return re.sub(r"\$\{([^}]+)\}", replace, text)
        raise KeyError(f"Unsupported intrinsic in the local run: {sorted(value)}")

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.template.document["Conditions"][name]))

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, dict) and "Fn::Not" in expression:
            return not self._evaluate(expression["Fn::Not"][0])
        if isinstance(expression, dict) and "Fn::Equals" in expression:
            left, right = (self._evaluate(side) for side in expression["Fn::Equals"])
            return str(left) == str(right)
        if isinstance(expression, dict) and "Condition" in expression:
            return self.condition(expression["Condition"])
        return self.resolve(expression)

    def environment(self) -> dict[str, str]:
        variables = self.template.global_environment()
        for function_variables in self.template.function_environments().values():
            variables.update(function_variables)  # one process hosts every function locally
        env = {name: str(self.resolve(value)) for name, value in variables.items()}
        env["APPROVAL_BASE_URL"] = self.approval_base_url
        # Templates come from the repository and fonts from the machine, not from /opt (the layer).
        env.pop("TEMPLATES_DIR", None)
        env.pop("INVOICE_FONT_DIR", None)
        env.update(
            AWS_DEFAULT_REGION=REGION,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            POWERTOOLS_TRACE_DISABLED="true",
            POWERTOOLS_METRICS_DISABLED="true",
            POWERTOOLS_LOG_LEVEL="ERROR",
        )
        return env

    # ------------------------------------------------------------- provision
    def provision(self) -> None:
        """Create, inside moto, each resource the functions use, shaped as in the template."""
        make_moto_scale()  # before the serialization below, which then wraps it too
        make_moto_dynamodb_atomic()
        make_moto_distributed_map_honour_failure_threshold()
        self.create_table()
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=self.names.bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        sns = boto3.client("sns", region_name=REGION)
        sns.create_topic(Name=self.names.alert_topic)
        sns.create_topic(Name=self.names.delivery_topic)
        sns.create_topic(Name=self.names.collections_topic)
        boto3.client("sqs", region_name=REGION).create_queue(QueueName=self.names.erp_error_queue)
        secrets_client = boto3.client("secretsmanager", region_name=REGION)
        secrets_client.create_secret(
            Name=self.names.approval_secret, SecretString=secrets.token_hex(32)
        )
        secrets_client.create_secret(Name=self.names.erp_secret, SecretString="{}")
        secrets_client.create_secret(
            Name=self.names.portal_secret, SecretString=secrets.token_hex(32)
        )
        secrets_client.create_secret(
            Name=self.names.payments_webhook_secret, SecretString=secrets.token_hex(32)
        )
        secrets_client.create_secret(
            Name=self.names.payment_gateway_secret,
            SecretString=json.dumps({"api_key": LOCAL_GATEWAY_API_KEY}),
        )
        self.store_erp_credentials()
        sesv2 = boto3.client("sesv2", region_name=REGION)
        sesv2.create_email_identity(EmailIdentity=str(self.parameter("SenderEmail")))
        boto3.client("ses", region_name=REGION).verify_email_identity(
            EmailAddress=str(self.parameter("SenderEmail"))
        )
        sesv2.create_configuration_set(ConfigurationSetName=self.names.configuration_set)

    def create_table(self) -> None:
        """The billing table as the template defines it, keys and indexes."""
        table = self.template.resources["BillingTable"]["Properties"]
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=self.names.table,
            BillingMode=table["BillingMode"],
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
        )

    def store_erp_credentials(self) -> None:
        boto3.client("secretsmanager", region_name=REGION).put_secret_value(
            SecretId=self.names.erp_secret, SecretString=json.dumps(self.erp_credentials)
        )

    def state_machine_arn(self, logical_id: str) -> str:
        name = self.names.state_machine(logical_id)
        return f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"

    def create_state_machine(self, logical_id: str = MONTHLY_RUN) -> str:
        definition = self.template.state_machine_definition(self.resolve, logical_id)
        name = self.names.state_machine(logical_id)
        response = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
            name=name,
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/local-{name}",
            type="STANDARD",
        )
        return str(response["stateMachineArn"])


_DYNAMODB_LOCK = threading.RLock()
_ATOMIC_OPERATIONS = (
    "put_item",
    "get_item",
    "update_item",
    "delete_item",
    "query",
    "transact_write_items",
)


def make_moto_dynamodb_atomic() -> None:
    """Give moto's DynamoDB the per-request atomicity real DynamoDB has.

    moto applies an update's SET clauses and a transaction's items one by one with no
    lock, so a concurrent reader can see half an update and two transactions can both
    pass a condition. DynamoDB never allows either; serializing requests restores the
    guarantee the numbering transaction relies on, so concurrency tests test our code.

    The lock spans the whole request, the answer included: moto hands back its live
    ``Item`` and writes the answer's JSON from it after the backend returns, so a reader
    walking an item's attributes while another request added one failed with
    "dictionary changed size during iteration" (four ERP chunks of a 100,000-account
    run, whose delivery events updated the invoices the chunks were reading). The
    backend's own operations stay locked too, for callers that reach them directly.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    _serialize(DynamoHandler, "call_action")
    for name in _ATOMIC_OPERATIONS:
        _serialize(DynamoDBBackend, name)


def _serialize(owner: type, name: str) -> None:
    """Make ``owner.name`` take ``_DYNAMODB_LOCK`` for its whole call, once."""
    original = getattr(owner, name)
    if getattr(original, "_serialized", False):
        return

    @functools.wraps(original)
    def serialized(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_LOCK:
            return original(self, *args, **kwargs)

    serialized._serialized = True  # type: ignore[attr-defined]
    setattr(owner, name, serialized)
