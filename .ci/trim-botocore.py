"""Trim botocore inside the image to what ecs-run-task calls; used by the Dockerfile's builder stage.

botocore ships the models of 400+ AWS services. Keep only the services named on the command line, drop the
documentation strings from their models (docstrings only; ~80% of the ECS model's size and parse time), and
keep only those services in endpoints.json. Start-up reads less JSON; the image carries less data.

    python trim-botocore.py SITE_PACKAGES ecs logs ec2 sts
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path
from typing import Any


def without_docs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_docs(v) for k, v in value.items() if k not in ("documentation", "documentationUrl")}
    if isinstance(value, list):
        return [without_docs(v) for v in value]
    return value


def main(site: Path, keep: set[str]) -> None:
    data = site / "botocore" / "data"
    for service in data.iterdir():
        if service.is_dir() and service.name not in keep:
            shutil.rmtree(service)
    for model in data.glob("*/*/service-2.json.gz"):
        trimmed = without_docs(json.loads(gzip.decompress(model.read_bytes())))
        model.write_bytes(gzip.compress(json.dumps(trimmed, separators=(",", ":")).encode(), mtime=0))
    for examples in data.glob("*/*/examples-*.json"):
        examples.unlink()
    endpoints = data / "endpoints.json"
    table = json.loads(endpoints.read_text())
    for partition in table["partitions"]:
        partition["services"] = {k: v for k, v in partition["services"].items() if k in keep}
    endpoints.write_text(json.dumps(table, separators=(",", ":")))
    resources = site / "boto3" / "data"  # boto3's resource models: we use botocore clients only
    if resources.is_dir():
        shutil.rmtree(resources)


if __name__ == "__main__":
    main(Path(sys.argv[1]), set(sys.argv[2:]))
