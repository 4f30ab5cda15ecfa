"""Translate ``infra/template.yaml`` to plain CloudFormation offline, with the SAM CLI's translator.

Runs in the SAM CLI's virtualenv (``.venv-package``: samtranslator pins a pydantic the
project does not use) and prints the CloudFormation JSON. Code locations become placeholder
S3 objects, as ``sam package`` would make them, and the state machine's ASL is inlined, so
the translation needs no bucket, no account and no network.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

REPOSITORY = Path(__file__).resolve().parents[2]
TEMPLATE = REPOSITORY / "infra" / "template.yaml"
ARTIFACT_BUCKET = "sam-artifacts"
#: The region samconfig.toml deploys to; the translator fills AWS::Region from it.
REGION = "eu-central-1"


def translate(template_path: Path = TEMPLATE) -> dict[str, Any]:
    template = json.loads(json.dumps(cfn_yaml.load(str(template_path))))
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://{ARTIFACT_BUCKET}/{name}.zip"
        if "DefinitionUri" in properties:
            definition = template_path.parent / properties.pop("DefinitionUri")
            properties["Definition"] = json.loads(definition.read_text(encoding="utf-8"))
    # An empty managed-policy map: the template names no managed policy, so IAM is not asked.
    translator = Translator({}, Parser(), boto_session=boto3.Session(region_name=REGION))
    return translator.translate(template, parameter_values={}, feature_toggle=None)


if __name__ == "__main__":
    json.dump(translate(), sys.stdout)
