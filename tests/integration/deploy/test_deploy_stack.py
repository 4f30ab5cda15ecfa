"""As far toward a deploy as no account allows: the translated template, created as a stack in moto.

The SAM CLI's own translator (``tools/deploy/translate.py``, run in ``.venv-package``, which
``make package`` installs) turns the template into CloudFormation; moto's CloudFormation
creates it. What moto cannot create is named in ``NOT_CREATED_BY_MOTO`` and checked on the
translated template instead.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.local_run.wiring import MONTHLY_RUN, Template

REPOSITORY = Path(__file__).resolve().parents[3]
PACKAGE_PYTHON = REPOSITORY / ".venv-package" / "bin" / "python"
REGION = "eu-central-1"
STACK = "invoice-dispatch"
#: Resource types moto 5.2.5's CloudFormation does not model: it warns and creates nothing,
#: so these are only as good as the translation (cfn-lint, checkov and sam validate read them).
NOT_CREATED_BY_MOTO = frozenset(
    {
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        "AWS::CloudWatch::Alarm",
        "AWS::S3::BucketPolicy",
        "AWS::SES::ConfigurationSet",
        "AWS::SES::ConfigurationSetEventDestination",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::Scheduler::Schedule",
        "AWS::SecretsManager::Secret",
    }
)
UNSUPPORTED = re.compile(r"Tried to parse (\S+) but it's not supported")


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    assert PACKAGE_PYTHON.exists(), "run `make package` first: it installs the SAM CLI's venv"
    completed = subprocess.run(
        [str(PACKAGE_PYTHON), "-m", "tools.deploy.translate"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(completed.stdout))


@pytest.fixture(scope="module")
def stack(translated: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with mock_aws():
        _upload_code(translated)
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cloudformation.create_stack(
                StackName=STACK,
                TemplateBody=json.dumps(translated),
                Parameters=[
                    {"ParameterKey": "SenderEmail", "ParameterValue": "billing@northwind.example"},
                    {"ParameterKey": "ApproverEmails", "ParameterValue": "cfo@northwind.example"},
                ],
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
            )
        unsupported = {m[1] for w in caught if (m := UNSUPPORTED.search(str(w.message)))}
        description = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        resources = cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
        yield {
            "status": description["StackStatus"],
            "resources": [resource for resource in resources if "LogicalResourceId" in resource],
            "physical": {
                resource["LogicalResourceId"]: resource["PhysicalResourceId"]
                for resource in resources
                if "PhysicalResourceId" in resource
            },
            "unsupported": unsupported,
        }


def _upload_code(translated: dict[str, Any]) -> None:
    """The code objects `sam package` would upload: one small zip per function and layer."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        code.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    s3 = boto3.client("s3", region_name=REGION)
    for resource in translated["Resources"].values():
        location = resource["Properties"].get("Code") or resource["Properties"].get("Content")
        if resource["Type"].startswith("AWS::Lambda::") and location:
            bucket, key = location["S3Bucket"], location["S3Key"]
            if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                s3.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
                )
            s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())


def test_every_resource_of_the_translated_template_is_created(
    stack: dict[str, Any], translated: dict[str, Any]
) -> None:
    created = {resource["LogicalResourceId"]: resource for resource in stack["resources"]}
    modelled = {
        name
        for name, resource in translated["Resources"].items()
        if resource["Type"] not in NOT_CREATED_BY_MOTO
    }

    assert stack["status"] == "CREATE_COMPLETE"
    assert set(created) >= modelled
    assert all(resource["ResourceStatus"] == "CREATE_COMPLETE" for resource in created.values())


def test_the_state_machine_calls_only_functions_the_stack_created(
    stack: dict[str, Any], translated: dict[str, Any]
) -> None:
    physical = stack["physical"]
    functions = boto3.client("lambda", region_name=REGION).list_functions()["Functions"]
    arns = {function["FunctionName"]: function["FunctionArn"] for function in functions}
    definition = boto3.client("stepfunctions", region_name=REGION).describe_state_machine(
        stateMachineArn=physical["MonthlyRunStateMachine"]
    )["definition"]
    # CloudFormation fills DefinitionSubstitutions; moto leaves them, so the test fills them
    # from what the stack created, as CloudFormation would.
    substitutions = translated["Resources"]["MonthlyRunStateMachine"]["Properties"][
        "DefinitionSubstitutions"
    ]
    for name, value in substitutions.items():
        definition = definition.replace(f"${{{name}}}", _resolve(value, physical, arns))
    called = set(re.findall(r"arn:aws:lambda:[^\"]+:function:[^\":]+", definition))

    assert "${" not in definition, "every DefinitionSubstitution is filled"
    assert len(called) == len(substitutions) - 3  # the bucket and the two child execution types
    assert called <= set(arns.values())
    assert len(arns) == len(Template().functions())  # every function of the template


def _resolve(value: Any, physical: dict[str, str], arns: dict[str, str]) -> str:
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return physical[value["Ref"]]
    logical_id, attribute = value["Fn::GetAtt"]
    assert attribute == "Arn"
    return arns[physical[logical_id]]


def test_asynchronous_functions_keep_what_they_fail_on(translated: dict[str, Any]) -> None:
    """On the translation: moto's Lambda drops DeadLetterConfig when CloudFormation creates it."""
    resources = translated["Resources"]

    for function in ("DeliveryEventsFunction", "ApprovalReminderFunction"):
        properties = resources[function]["Properties"]
        assert properties["DeadLetterConfig"] == {
            "TargetArn": {"Fn::GetAtt": ["AsyncFailuresQueue", "Arn"]}
        }
        assert properties["ReservedConcurrentExecutions"] > 0


def test_the_schedules_start_their_state_machines(translated: dict[str, Any]) -> None:
    """On the translation: moto's CloudFormation cannot create a Scheduler schedule.

    The daily collections schedule always exists; of the monthly run's three, the one
    ScheduleKind names (``test_deploy_schedules.py`` evaluates the conditions).
    """
    resources = translated["Resources"]
    schedules = {
        name: resource
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Scheduler::Schedule"
    }

    assert {name: schedule.get("Condition") for name, schedule in schedules.items()} == {
        "CollectionsRunStateMachineDailyCollections": None,
        "FirstOfMonthSchedule": "BillsOnTheFirst",
        "BusinessDaySchedule": "BillsOnABusinessDay",
        "CustomSchedule": "BillsOnACustomSchedule",
    }
    for name, schedule in schedules.items():
        target = schedule["Properties"]["Target"]
        machine = "CollectionsRunStateMachine" if name.startswith("Collections") else MONTHLY_RUN
        assert target["Arn"] == {"Ref": machine}
        role = target["RoleArn"]["Fn::GetAtt"][0]
        assert resources[role]["Type"] == "AWS::IAM::Role"


def test_a_milestone_completed_event_starts_the_monthly_run(
    stack: dict[str, Any], translated: dict[str, Any]
) -> None:
    rules = boto3.client("events", region_name=REGION).list_rules()["Rules"]
    milestone_rules = [
        rule for rule in rules if "MilestoneCompleted" in rule.get("EventPattern", "")
    ]

    assert len(milestone_rules) == 1
    pattern = json.loads(milestone_rules[0]["EventPattern"])
    assert pattern == {"source": ["project-tool"], "detail-type": ["MilestoneCompleted"]}
    targets = boto3.client("events", region_name=REGION).list_targets_by_rule(
        Rule=milestone_rules[0]["Name"]
    )["Targets"]
    assert [target["Arn"] for target in targets] == [stack["physical"][MONTHLY_RUN]]


def test_types_moto_cannot_create_are_the_ones_named(stack: dict[str, Any]) -> None:
    assert stack["unsupported"] == NOT_CREATED_BY_MOTO
