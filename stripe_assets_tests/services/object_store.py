"""A real S3-compatible HTTP server for the tests: moto's, in this process, on a free loopback port.

It answers the S3 REST API as AWS does and, once set up, checks every request's signature
against the access keys it issued, so a wrong secret is refused (403 SignatureDoesNotMatch)
exactly as by S3. Nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
_ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str  # http://127.0.0.1:<port>
    bucket: str
    key_id: str
    secret: str = field(repr=False)

    def env(self, **overrides: str) -> dict[str, str]:
        """The standard AWS variables a deployment sets for this store."""
        return {
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            **overrides,
        }

    def keys(self, prefix: str = "") -> list[str]:
        """The object keys under `prefix`, read with the server's own credentials."""
        client = boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=REGION,
            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret,
        )
        found: list[str] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents", [])]
        return found


def _moto_api(endpoint_url: str, action: str, body: str = "") -> None:
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/{action}", data=body.encode(), method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def _enforce_signatures(endpoint_url: str, after: str) -> None:
    """moto's switch: `after` more unsigned requests pass ("0": none; "inf": all, its default)."""
    _moto_api(endpoint_url, "reset-auth", after)


@contextlib.contextmanager
def running_s3(bucket: str = "stripe-lake") -> Iterator[S3Server]:
    """Start the server, issue an access key allowed on S3, create `bucket`, then refuse anything
    not signed with a key it issued; stopped after."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint_url = f"http://{host}:{port}"
    try:
        setup = {  # before signatures are enforced: any key will do
            "endpoint_url": endpoint_url, "region_name": REGION,
            "aws_access_key_id": "setup", "aws_secret_access_key": "setup",
        }
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="stripe-assets")
        iam.put_user_policy(UserName="stripe-assets", PolicyName="s3", PolicyDocument=json.dumps(_ALLOW_S3))
        key = iam.create_access_key(UserName="stripe-assets")["AccessKey"]
        boto3.client("s3", **setup).create_bucket(Bucket=bucket)
        _enforce_signatures(endpoint_url, "0")
        try:
            yield S3Server(endpoint_url, bucket, key["AccessKeyId"], key["SecretAccessKey"])
        finally:
            # moto keeps its state and this switch per process, not per server: back to the start.
            _enforce_signatures(endpoint_url, "inf")
            _moto_api(endpoint_url, "reset")
    finally:
        server.stop()
