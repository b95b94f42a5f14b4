"""What the plan names: the diff's changed keys reach the engine as diffs and a detailed diff.

The host builds a DiffResponse without them; host/diffs.py adds what the
provider's diff noted on its thread. Here the wrapper runs around a stand-in
of the host's handler (which calls the provider's diff, as the host does),
with the request and response protos the engine and host exchange.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2

from fsx_backup_provider.host import diffs
from fsx_backup_provider.providers.backup import FsxBackupProvider

FS = "fs-0123456789abcdef0"
KIND = provider_pb2.PropertyDiff


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    built = struct_pb2.Struct()
    built.update(values)
    return built


def request(old_inputs: dict[str, Any], news: dict[str, Any]) -> Any:
    return provider_pb2.DiffRequest(
        id="backup-0123456789abcdef0", old_inputs=struct(old_inputs), news=struct(news)
    )


def answered(run_diff: Any, req: Any) -> Any:
    """The wrapped handler's response, around a host handler that runs `run_diff`."""

    def host_handler(_request: Any, _context: Any) -> Any:
        result = run_diff()
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if result.changes
            else provider_pb2.DiffResponse.DIFF_NONE,
            replaces=result.replaces or [],
        )

    return diffs._with_detail(host_handler)(req, None)


OLDS: dict[str, Any] = {
    "file_system_id": FS,
    "tags": {"Name": "a"},
    "tags_all": {"Name": "a"},
    "region": "us-east-1",
    "client_request_token": "fsxb-0123456789abcdef0123456789abcdef-g0",
    "given": {},
}


def test_a_tag_change_is_named_tags_and_nothing_internal() -> None:
    old_inputs = {"file_system_id": FS, "tags": {"Name": "a"}, "identity": "x.1"}
    news = {"file_system_id": FS, "tags": {"Name": "b"}, "identity": "x.2", "token_epoch": 0}
    response = answered(
        lambda: FsxBackupProvider().diff("backup-0123456789abcdef0", dict(OLDS), dict(news)),
        request(old_inputs, news),
    )
    assert list(response.diffs) == ["tags"]
    assert response.hasDetailedDiff
    assert dict(response.detailedDiff) == {"tags": KIND(kind=KIND.UPDATE, inputDiff=True)}


def test_a_source_change_replaces_and_says_so() -> None:
    news = {"file_system_id": "fs-0123456789abcdef1", "tags": {"Name": "a"}}
    response = answered(
        lambda: FsxBackupProvider().diff("backup-0123456789abcdef0", dict(OLDS), dict(news)),
        request({"file_system_id": FS, "tags": {"Name": "a"}}, news),
    )
    assert list(response.diffs) == ["file_system_id"]
    assert response.detailedDiff["file_system_id"].kind == KIND.UPDATE_REPLACE


def test_default_tags_alone_are_named_tags_all() -> None:
    """The tags input is the same; what moved is what aws:defaultTags adds."""
    news = {"file_system_id": FS, "tags": {"Name": "a"}}
    olds = {**OLDS, "tags_all": {"Name": "a", "Env": "old"}}
    response = answered(
        lambda: FsxBackupProvider().diff("backup-0123456789abcdef0", olds, dict(news)),
        request({"file_system_id": FS, "tags": {"Name": "a"}}, news),
    )
    assert list(response.diffs) == ["tags_all"]


def test_kinds_follow_the_inputs() -> None:
    response = provider_pb2.DiffResponse()
    req = request({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 3, "d": 4})
    diffs.detail(response, req, ["b", "c", "d", "lifecycle"], {"d", "lifecycle"}, {})
    assert {k: v.kind for k, v in response.detailedDiff.items()} == {
        "b": KIND.UPDATE,
        "c": KIND.DELETE,
        "d": KIND.ADD_REPLACE,
        "lifecycle": KIND.UPDATE_REPLACE,
    }


def test_no_change_and_other_providers_pass_unchanged() -> None:
    news = {"file_system_id": FS, "tags": {"Name": "a"}}
    same = answered(
        lambda: FsxBackupProvider().diff("backup-0123456789abcdef0", dict(OLDS), dict(news)),
        request(news, news),
    )
    assert not same.hasDetailedDiff and list(same.diffs) == []

    class Other:
        changes, replaces = True, ["x"]

    other = answered(lambda: Other(), request({}, {}))
    assert not other.hasDetailedDiff and list(other.diffs) == []


def test_the_hook_wraps_a_grpc_servers_diff_handler() -> None:
    """In a process of its own with a real grpc server, as the provider host has."""
    script = textwrap.dedent(
        """
        from concurrent import futures
        import grpc
        from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc
        from fsx_backup_provider.host import diffs, server

        class Host(provider_pb2_grpc.ResourceProviderServicer):
            def Diff(self, request, context):
                diffs.note(["tags"], [])
                return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME)

        grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(Host(), grpc_server)
        port = grpc_server.add_insecure_port("127.0.0.1:0")
        grpc_server.start()
        server.in_dynamic_provider_process = lambda: True
        diffs.in_dynamic_provider_process = lambda: True
        assert diffs.install() is True
        stub = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        answer = stub.Diff(provider_pb2.DiffRequest(id="x"), timeout=10)
        print(list(answer.diffs), answer.hasDetailedDiff)
        grpc_server.stop(0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["['tags']", "True"], done.stderr
