"""What decides, with no Pulumi import: ownership, gates, the token walk, waits, process state.

Runs in the provider process, but imports neither the Pulumi SDK nor grpc
(tests/unit/test_layout.py checks), so it is unit-tested alone.
"""
