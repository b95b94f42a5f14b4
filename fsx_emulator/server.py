"""The emulator's HTTP server: moto's threaded WSGI server with a front door.

The front door routes each request: `/_emulator/...` to the control plane; FSx requests
(recognised by their X-Amz-Target) through the call counter and fault injector to the
emulator's FSx response class; anything else (IAM and STS, which IAM enforcement needs,
and S3, which can hold a Pulumi state backend) to moto's own dispatcher, exactly as
`moto_server` would serve it.
"""

from __future__ import annotations

import functools
import random
import re
import sys
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import uuid4

from moto import settings as moto_settings
from moto.core.request import Request
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Response

from fsx_emulator import servicemodel
from fsx_emulator.config import EmulatorConfig
from fsx_emulator.control import CONTROL_PREFIX, ControlPlane, StartupState
from fsx_emulator.exceptions import (
    InternalServerError,
    InvalidSignatureException,
    UnknownOperationException,
    shown,
)
from fsx_emulator.faults import CallCounter, FaultInjector, FaultRates
from fsx_emulator.models import settings
from fsx_emulator.responses import EmulatorFSxResponse

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

JSON_CONTENT_TYPE = f"application/x-amz-json-{servicemodel.FSX_MODEL.metadata['jsonVersion']}"


# The Region a SigV4 signature is scoped to: Credential=AKID/20240101/us-east-1/fsx/aws4_request.
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/([^/,]+)/")


@functools.cache
def _known_regions() -> frozenset[str]:
    """FSx's Regions in every partition, from botocore's endpoint data: the list
    moto's backends are made for (any other Region is a KeyError inside moto)."""
    import botocore.session

    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("fsx", partition_name=partition)
    )


def unknown_region(environ: WSGIEnvironment) -> str | None:
    """The Region a request is signed for when FSx has no such Region, else None."""
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match is None or match.group(1) in _known_regions():
        return None
    return match.group(1)


class _ServerRequest(Request):
    # Tells moto the WSGI server already adds the Date header.
    from_wsgi_server = True


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without the access log line per request.

    A poller makes hundreds of calls; logging each to stderr costs more than serving it.
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class EmulatorApplication:
    """The WSGI front door described in the module docstring."""

    def __init__(self, control: ControlPlane) -> None:
        self.control = control
        self._target_prefix = f"{servicemodel.TARGET_PREFIX}."
        self._moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL_PREFIX):
            return self.control(environ, start_response)
        target: str = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(self._target_prefix):
            return self._serve_fsx(target[len(self._target_prefix) :], environ, start_response)
        served: Iterable[bytes] = self._moto(environ, start_response)
        return served

    def _serve_fsx(
        self, operation: str, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        self.control.calls.record(operation)
        fault = self.control.faults.draw()
        if fault is not None:
            return fault(environ, start_response)
        region = unknown_region(environ)
        if region is not None:
            # What AWS answers a request signed for a Region it does not have
            # (a real client would not even resolve the endpoint's host name).
            refused = InvalidSignatureException(
                f"Credential should be scoped to a valid region, not {shown(region)}."
            )
            return refused(environ, start_response)
        if operation not in servicemodel.OPERATION_NAMES:
            return UnknownOperationException(environ["HTTP_X_AMZ_TARGET"])(environ, start_response)
        try:
            status, headers, body = EmulatorFSxResponse.dispatch(_ServerRequest(environ))
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            failure = InternalServerError(
                f"The FSx emulator failed: {type(error).__name__} {shown(error)}"
            )
            return failure(environ, start_response)
        response_headers = {name: str(value) for name, value in headers.items() if name != "status"}
        response_headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        if not any(name.lower() == "x-amzn-requestid" for name in response_headers):
            response_headers["x-amzn-RequestId"] = str(uuid4())
        return Response(body, status=status, headers=response_headers)(environ, start_response)


def build_server(config: EmulatorConfig) -> BaseWSGIServer:
    """Configure the process-wide emulator state and bind (not yet serve) the server."""
    startup = StartupState(
        region=config.region,
        seed=random.SystemRandom().randrange(2**32) if config.seed is None else config.seed,
        rates=FaultRates(throttle_rate=config.throttle_rate, error_rate=config.error_rate),
        backup_seconds=config.backup_seconds,
        copy_seconds=config.copy_seconds,
        restore_seconds=config.restore_seconds,
        delete_seconds=config.delete_seconds,
    )
    settings.backup_seconds = config.backup_seconds
    settings.copy_seconds = config.copy_seconds
    settings.restore_seconds = config.restore_seconds
    settings.delete_seconds = config.delete_seconds
    settings.fail_next_copies.clear()
    settings.token_ttl_seconds = config.token_ttl_seconds
    settings.fail_next_backups.clear()
    settings.fail_next_restores.clear()
    settings.subnet_ids = frozenset(config.subnet_ids)
    EmulatorFSxResponse.default_region = config.region
    if config.enforce_iam is not None:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = config.enforce_iam
    servicemodel.warm_up()
    control = ControlPlane(
        startup=startup,
        faults=FaultInjector(startup.seed, startup.rates),
        calls=CallCounter(),
    )
    return make_server(
        config.host,
        config.port,
        EmulatorApplication(control),
        threaded=True,
        request_handler=MotoRequestHandler if config.log_requests else _QuietRequestHandler,
    )
