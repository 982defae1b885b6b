"""The AWS console's address in each partition, for links in the log, the outputs and the job summary."""

from __future__ import annotations


def base(region: str) -> str:
    """`https://<region>.<console host>`: the commercial, China and GovCloud partitions differ."""
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"https://{region}.console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"
