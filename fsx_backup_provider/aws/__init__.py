"""What talks to FSx: the client, its errors and messages, retries, the poller, the service model.

boto3 and botocore only: no Pulumi import (tests/unit/test_layout.py checks).
The CLI's restore tests call FSx from here too.
"""
