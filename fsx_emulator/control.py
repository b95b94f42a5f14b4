"""The `/_emulator/...` control endpoints: health, call counts, reset, faults and clock.

They are plain JSON over HTTP rather than an AWS protocol, so any test can drive them,
and they are never counted or faulted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from moto.core.exceptions import ServiceException
from moto.core.models import DEFAULT_ACCOUNT_ID
from werkzeug.wrappers import Request, Response

from fsx_emulator import servicemodel
from fsx_emulator.control_values import (
    ACCOUNT_ID,
    ControlError,
    duration,
    failures,
    json_body,
    number,
    resource_ids,
    source_shape,
)
from fsx_emulator.faults import CallCounter, FaultInjector, FaultRates
from fsx_emulator.models import (
    STATE_LOCK,
    clock,
    fsx_backends,
    reset_state,
    resource_exists,
    settings,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

CONTROL_PREFIX = "/_emulator/"

CLOCK_KEYS = ("freeze", "advance", "hold", "release")

FAULT_KEYS = (
    "throttle_rate",
    "error_rate",
    "seed",
    "backup_seconds",
    "copy_seconds",
    "restore_seconds",
    "delete_seconds",
    "fail_next_backups",
    "fail_next_copies",
    "fail_next_restores",
)


@dataclass(frozen=True)
class StartupState:
    """What a reset returns the emulator to: the configuration it was started with."""

    region: str
    seed: int
    rates: FaultRates
    backup_seconds: float
    copy_seconds: float | None
    restore_seconds: float | None
    delete_seconds: float | None


class ControlPlane:
    """A WSGI application serving the control endpoints."""

    def __init__(self, startup: StartupState, faults: FaultInjector, calls: CallCounter) -> None:
        self.startup = startup
        self.faults = faults
        self.calls = calls
        self._routes: dict[tuple[str, str], Callable[[Request], object]] = {
            ("GET", "health"): self._health,
            ("GET", "calls"): lambda _request: self.calls.snapshot(),
            ("POST", "reset"): self._reset,
            ("GET", "faults"): lambda _request: self._fault_document(),
            ("POST", "faults"): self._set_faults,
            ("POST", "subnets"): self._register_subnets,
            ("GET", "clock"): lambda _request: self._clock_document(),
            ("POST", "clock"): self._set_clock,
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        handler = self._routes.get((request.method, name))
        document: object
        if handler is None:
            known = sorted({f"{method} {CONTROL_PREFIX}{path}" for method, path in self._routes})
            status, document = (
                404,
                {"error": f"No control endpoint {request.method} {request.path}; known: {known}."},
            )
        else:
            try:
                status, document = 200, handler(request)
            except ControlError as error:
                status, document = 400, {"error": str(error)}
        response = Response(json.dumps(document), status=status, mimetype="application/json")
        return response(environ, start_response)

    def _health(self, _request: Request) -> dict[str, Any]:
        return {"status": "ok", "region": self.startup.region, "seed": self.faults.seed}

    def _reset(self, _request: Request) -> dict[str, Any]:
        with STATE_LOCK:
            reset_state()
            settings.backup_seconds = self.startup.backup_seconds
            settings.copy_seconds = self.startup.copy_seconds
            settings.restore_seconds = self.startup.restore_seconds
            settings.delete_seconds = self.startup.delete_seconds
            settings.fail_next_backups.clear()
            settings.fail_next_copies.clear()
            settings.fail_next_restores.clear()
            self.faults.restart(self.startup.seed, self.startup.rates)
            self.calls.reset()
            clock.reset()
        return {"reset": True}

    def _fault_document(self) -> dict[str, Any]:
        with STATE_LOCK:
            pending = dict(settings.fail_next_backups)
            pending_copies = dict(settings.fail_next_copies)
            pending_restores = dict(settings.fail_next_restores)
            backup_seconds = settings.backup_seconds
            copy_seconds = settings.effective_copy_seconds
            restore_seconds = settings.effective_restore_seconds
            delete_seconds = settings.effective_delete_seconds
        return {
            "throttle_rate": self.faults.rates.throttle_rate,
            "error_rate": self.faults.rates.error_rate,
            "seed": self.faults.seed,
            "backup_seconds": backup_seconds,
            "copy_seconds": copy_seconds,
            "restore_seconds": restore_seconds,
            "delete_seconds": delete_seconds,
            "fail_next_backups": pending,
            "fail_next_copies": pending_copies,
            "fail_next_restores": pending_restores,
            "injected": self.faults.injected(),
        }

    def _set_faults(self, request: Request) -> dict[str, Any]:
        payload = json_body(request)
        if not isinstance(payload, dict):
            raise ControlError('The body must be a JSON object, e.g. {"throttle_rate": 0.3}.')
        unknown = sorted(set(payload) - set(FAULT_KEYS))
        if unknown:
            raise ControlError(f"Unknown fault settings {unknown}; known: {list(FAULT_KEYS)}.")
        # Everything is checked before anything changes, so a bad request changes nothing.
        throttle_rate = number(payload, "throttle_rate")
        error_rate = number(payload, "error_rate")
        rates = None
        if throttle_rate is not None or error_rate is not None:
            current = self.faults.rates
            try:
                rates = FaultRates(
                    throttle_rate=current.throttle_rate if throttle_rate is None else throttle_rate,
                    error_rate=current.error_rate if error_rate is None else error_rate,
                )
            except ValueError as error:
                raise ControlError(str(error)) from error
        seed = payload.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ControlError(f"seed must be an integer, got {seed!r}.")
        backup_seconds = duration(payload, "backup_seconds")
        copy_seconds = duration(payload, "copy_seconds")
        restore_seconds = duration(payload, "restore_seconds")
        delete_seconds = duration(payload, "delete_seconds")
        fail_next = failures(
            "fail_next_backups",
            payload.get("fail_next_backups", {}),
            "file system or volume IDs",
            source_shape,
        )
        fail_next_copies = failures(
            "fail_next_copies",
            payload.get("fail_next_copies", {}),
            "source backup IDs",
            lambda _backup_id: "BackupId",
        )
        fail_next_restores = failures(
            "fail_next_restores",
            payload.get("fail_next_restores", {}),
            "backup IDs",
            lambda _backup_id: "BackupId",
        )

        with STATE_LOCK:
            if backup_seconds is not None:
                settings.backup_seconds = backup_seconds
            if copy_seconds is not None:
                settings.copy_seconds = copy_seconds
            if restore_seconds is not None:
                settings.restore_seconds = restore_seconds
            if delete_seconds is not None:
                settings.delete_seconds = delete_seconds
            settings.fail_next_backups.update(fail_next)
            settings.fail_next_copies.update(fail_next_copies)
            settings.fail_next_restores.update(fail_next_restores)
            self.faults.configure(rates=rates, seed=seed)
        return self._fault_document()

    def _register_subnets(self, request: Request) -> dict[str, Any]:
        payload = json_body(request)
        if not isinstance(payload, dict):
            raise ControlError(
                'The body must be a JSON object, e.g. {"subnet_ids": ["subnet-0123456789abcdef0"]}.'
            )
        unknown = sorted(set(payload) - {"subnet_ids", "region", "account_id"})
        if unknown:
            raise ControlError(
                f"Unknown keys {unknown}; known: ['subnet_ids', 'region', 'account_id']."
            )
        region = payload.get("region", self.startup.region)
        account_id = payload.get("account_id", DEFAULT_ACCOUNT_ID)
        subnet_ids = payload.get("subnet_ids")
        if not isinstance(subnet_ids, list) or not subnet_ids:
            raise ControlError("subnet_ids must be a non-empty list of subnet IDs.")
        try:
            for index, subnet_id in enumerate(subnet_ids):
                servicemodel.check_string(subnet_id, "SubnetId", f"subnet_ids[{index}]")
            servicemodel.check_string(region, "Region", "region")
        except ServiceException as error:
            raise ControlError(error.message) from error
        if not isinstance(account_id, str) or ACCOUNT_ID.fullmatch(account_id) is None:
            raise ControlError(f"account_id must be 12 digits, got {account_id!r}.")
        with STATE_LOCK:
            account = fsx_backends[account_id]
            if region not in account.regions:
                raise ControlError(f"region {region!r} is not a Region of FSx.")
            backend = account[region]
            backend.register_subnets(subnet_ids)
            known = sorted(backend.subnet_vpcs)
        return {"account_id": account_id, "region": region, "subnet_ids": known}

    def _clock_document(self) -> dict[str, Any]:
        with STATE_LOCK:
            return {
                "frozen": clock.frozen,
                "now": clock.now(),
                "time": clock.wall(),
                "held": clock.held(),
            }

    def _set_clock(self, request: Request) -> dict[str, Any]:
        payload = json_body(request)
        if not isinstance(payload, dict):
            raise ControlError('The body must be a JSON object, e.g. {"freeze": true}.')
        unknown = sorted(set(payload) - set(CLOCK_KEYS))
        if unknown:
            raise ControlError(f"Unknown clock settings {unknown}; known: {list(CLOCK_KEYS)}.")
        freeze = payload.get("freeze")
        if freeze is not None and not isinstance(freeze, bool):
            raise ControlError(f"freeze must be true or false, got {freeze!r}.")
        advance = duration(payload, "advance")
        hold = resource_ids(payload, "hold")
        release = resource_ids(payload, "release")
        # Everything is checked before anything changes, so a bad request changes nothing.
        with STATE_LOCK:
            held = set(clock.held())
            unknown_ids = [
                resource_id
                for resource_id in hold + [r for r in release if r not in held]
                if not resource_exists(resource_id)
            ]
            if unknown_ids:
                raise ControlError(
                    f"No backup, file system or volume {unknown_ids} exists in any account "
                    f"or Region (and none of them is held)."
                )
            # In this order, so that a held resource stays put while the clock advances
            # and a released one moves with it.
            if freeze is True:
                clock.freeze()
            elif freeze is False:
                clock.unfreeze()
            for resource_id in release:
                clock.release(resource_id)
            for resource_id in hold:
                clock.hold(resource_id)
            if advance is not None:
                clock.advance(advance)
        return self._clock_document()
