"""The provider host process itself: is this it, its grpc server, its engine.

What the other host modules lean on, in one place (each of them wraps or
widens a part of the server, or talks to the engine):

- the process is the Python dynamic provider host (`python -m pulumi.dynamic`);
- its grpc server, which no API names: found by looking over the process's
  objects once, and its method handlers, which a module may wrap;
- the engine's own gRPC service, whose address the engine gives every
  provider plugin as its one argument (`python -m pulumi.dynamic 127.0.0.1:PORT`),
  for progress lines and warnings.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable
from typing import Any

_servers: list[Any] = []
_stub: Any = None
_stub_lock = threading.Lock()

Handler = Callable[[Any, Any], Any]


def in_dynamic_provider_process() -> bool:
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == "pulumi.dynamic.__main__"


def _is_server(candidate: Any) -> bool:
    return (type(candidate).__module__, type(candidate).__qualname__) == (
        "grpc._server",
        "_Server",
    )


def grpc_servers() -> list[Any]:
    """The grpc servers of this process (the provider host's one): no API names them.

    The host's `main()` holds its server in a local variable for as long as
    the process serves, so the running frames find it in microseconds;
    failing that, every object of the process is looked over (some tens of
    milliseconds, paid once). The host starts its server before any
    operation, so a server found stays the one.
    """
    if not _servers:
        found: dict[int, Any] = {}
        for frame in sys._current_frames().values():
            walking: Any = frame
            while walking is not None:
                for value in list(walking.f_locals.values()):
                    if _is_server(value):
                        found[id(value)] = value
                walking = walking.f_back
        if not found:
            found = {id(c): c for c in gc.get_objects() if _is_server(c)}
        _servers.extend(found.values())
    return list(_servers)


def wrap_method(method: str, wrap: Callable[[Handler], Handler]) -> int:
    """Replace the unary handler of `method` (e.g. "/pulumirpc.ResourceProvider/Diff")
    with `wrap(handler)` in every grpc server of the process; how many were wrapped.

    The server bound the host's methods when it started, in grpc's generic
    handler table (`_state.generic_handlers[i]._method_handlers`): that table
    is the internal leaned on. If it differs, nothing is wrapped (0).
    """
    wrapped = 0
    for server in grpc_servers():
        for handler in getattr(getattr(server, "_state", None), "generic_handlers", []):
            methods = getattr(handler, "_method_handlers", None)
            if not isinstance(methods, dict) or method not in methods:
                continue
            original = methods[method]
            answer = getattr(original, "unary_unary", None)
            if not callable(answer):
                continue
            methods[method] = original._replace(unary_unary=wrap(answer))
            wrapped += 1
    return wrapped


def engine() -> Any:
    """A stub of the engine's gRPC service, or None outside a provider process."""
    global _stub
    with _stub_lock:
        if _stub is None and in_dynamic_provider_process() and len(sys.argv) > 1:
            import grpc  # type: ignore[import-untyped]
            from pulumi.runtime.proto import engine_pb2_grpc

            _stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(sys.argv[1]))
        return _stub


def warn(message: str) -> None:
    """A stack-level warning in the engine's output (shown once in the update's
    diagnostics); stderr if the engine cannot be reached. Never raises."""
    try:
        from pulumi.runtime.proto import engine_pb2

        stub = engine()
        if stub is not None:
            stub.Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message=message), timeout=5)
            return
    except Exception:  # the engine's Log RPC is one more internal that may differ
        pass
    print(message, file=sys.stderr, flush=True)
