"""Running the emulator from Python (tests, benchmarks) and asking it what it serves."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

import orjson

from stripe_assets.catalog import get_resource
from stripe_assets_emulator import changes as clock
from stripe_assets_emulator.api import EmulatorApi
from stripe_assets_emulator.changes import Advance
from stripe_assets_emulator.config import EmulatorConfig
from stripe_assets_emulator.connect import Platform
from stripe_assets_emulator.dataset import Dataset
from stripe_assets_emulator.invalid import InvalidRecord
from stripe_assets_emulator.server import EmulatorHTTPServer


def _unix(value: datetime | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no timezone; pass an aware datetime (UTC) or a Unix time")
    return int(value.timestamp())


class _ThreadServing:
    """The server in a thread of this process: cheapest to start; shares this process's GIL."""

    def __init__(self, dataset: Dataset, log_requests: bool):
        config = dataset.config
        self.api = EmulatorApi(dataset)
        self.server = EmulatorHTTPServer((config.host, config.port), self.api, log_requests)
        self.url = self.server.url
        self.pid = os.getpid()
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-emulator",
            daemon=True,
        )
        self._thread.start()

    def counts(self) -> tuple[int, dict[str, int]]:
        return self.api.request_count, dict(self.api.requests_by_endpoint)

    def advance(self, seconds: int, changes: int | Mapping[str, int], share: float) -> Advance:
        return self.api.advance(seconds, changes, old_api_version_share=share)

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join()
        self.server.close_connections()
        self.server.server_close()


class _ProcessServing:
    """The server in a process of its own, so that serving never competes with the caller for
    the GIL (benchmarks); the caller keeps its own copy of the data for the truth accessors."""

    def __init__(self, config: EmulatorConfig, log_requests: bool):
        command = [sys.executable, "-m", "stripe_assets_emulator.process"]
        self._process = subprocess.Popen(
            command + (["--log-requests"] if log_requests else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(config.model_dump_json())
        self._process.stdin.close()
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self._process.kill()
            raise RuntimeError(f"the emulator process failed to start (exit code {self._process.wait()})")
        self.pid = self._process.pid

    def counts(self) -> tuple[int, dict[str, int]]:
        with urllib.request.urlopen(self.url + "/_emulator/health", timeout=10) as response:
            health = orjson.loads(response.read())
        return health["requests"], health["requests_by_endpoint"]

    def advance(self, seconds: int, changes: int | Mapping[str, int], share: float) -> dict:
        params = [("seconds", str(seconds)), ("old_api_version_share", repr(share))]
        if isinstance(changes, int):
            params.append(("changes", str(changes)))
        else:
            params += [(f"changes[{kind}]", str(count)) for kind, count in changes.items()]
        request = urllib.request.Request(
            self.url + "/_emulator/advance?" + urlencode(params), method="POST", data=b""
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            return orjson.loads(response.read())

    def stop(self) -> None:
        self._process.terminate()  # SIGTERM: the child stops serving and exits cleanly
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


class RunningEmulator:
    """An emulator listening on `url`, with the truth of what it serves.

    It serves from a background thread, or with separate_process=True from a process of its own
    (`pid`), which keeps the caller's GIL free: use that when measuring a client.
    """

    def __init__(self, config: EmulatorConfig, *, log_requests: bool = False, separate_process: bool = False):
        self.config = config
        self.dataset = Dataset(config)
        self._serving: _ThreadServing | _ProcessServing | None = (
            _ProcessServing(config, log_requests)
            if separate_process
            else _ThreadServing(self.dataset, log_requests)
        )
        self.url: str = self._serving.url
        self.pid: int = self._serving.pid
        # The connected accounts: the server's own in a thread; a copy that agrees in a process.
        self.platform = (
            self._serving.api.platform if isinstance(self._serving, _ThreadServing) else Platform(self.dataset)
        )
        self._final_counts: tuple[int, dict[str, int]] = (0, {})

    def stop(self) -> None:
        if self._serving is not None:
            try:
                self._final_counts = self._serving.counts()  # still readable once stopped
            finally:  # a server that cannot report its counts is stopped all the same
                self._serving.stop()
                self._serving = None

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_key(self) -> str:
        return self.config.api_key

    # time --------------------------------------------------------------------------------------

    @property
    def now(self) -> int:
        """The emulator's clock (Unix seconds): the end of the generated window until advanced."""
        return self.dataset.now

    def advance(
        self,
        days: float = 0,
        *,
        hours: float = 0,
        seconds: int = 0,
        changes: int | Mapping[str, int] = 0,
        old_api_version_share: float = 0.0,
    ) -> Advance:
        """Moves the clock on, making `changes` at times within the span, each with its Events.

        `changes` is a total spread over every kind of change in a realistic mix (each kind
        capped at the objects that can take that step), or exact counts by kind (see
        `CHANGE_KINDS`), refused with ChangeRequestError, changing nothing, when more objects are
        asked for than can change. A share of the events (`old_api_version_share`) is rendered
        at an older API version. Deterministic: the same seed and calls, the same result.
        """
        span = int(days * 86400 + hours * 3600 + seconds)
        if self._serving is None:
            raise RuntimeError("the emulator is stopped")
        if isinstance(self._serving, _ThreadServing):
            return self._serving.advance(span, changes, old_api_version_share)
        # Another process serves: it makes the changes; this copy of the data makes the same
        # ones (deterministic), so the truth accessors below stay equal to what is served.
        local = clock.advance(self.dataset, span, changes, old_api_version_share=old_api_version_share)
        served = self._serving.advance(span, changes, old_api_version_share)
        if served != local.to_json():
            raise RuntimeError(f"the emulator process advanced differently: {served} != {local.to_json()}")
        return local

    def changeable(self) -> dict[str, int]:
        """How many objects can take each kind of change now: the most `advance` can be asked for."""
        return clock.changeable(self.dataset)

    def events(self) -> list[dict]:
        """Every event `GET /v1/events` lists now (the last 30 days), newest first."""
        return self.dataset.events.retained(self.dataset.now)

    # Connect -----------------------------------------------------------------------------------

    @property
    def platform_account(self) -> str:
        """The key's own account id (`GET /v1/account`)."""
        return self.platform.id

    @property
    def connected_accounts(self) -> list[str]:
        """Every connected account's id, deauthorized and forbidden ones included."""
        return list(self.platform.ids)

    def forbid(self, account: str, forbidden: bool = True) -> None:
        """Makes a connected account answer 403 (access revoked), or answer again."""
        if isinstance(self._serving, _ProcessServing):
            self._control(f"accounts/forbid?account={account}&forbidden={str(forbidden).lower()}")
        self.platform.forbid(account, forbidden)

    def deauthorize(self, account: str) -> None:
        """Deauthorizes a connected account now (`account.application.deauthorized`)."""
        if isinstance(self._serving, _ProcessServing):
            self._control(f"accounts/deauthorize?account={account}")
        else:
            self.platform.deauthorize(account)

    def account_access(self) -> dict:
        """What the server says of each connected account: forbidden, deauthorized, requests."""
        if isinstance(self._serving, _ProcessServing):
            with urllib.request.urlopen(self.url + "/_emulator/accounts", timeout=10) as response:
                return orjson.loads(response.read())
        assert self._serving is not None
        return orjson.loads(self._serving.api._control_accounts("GET", "", {}).body)

    def _control(self, path: str) -> None:
        request = urllib.request.Request(f"{self.url}/_emulator/{path}", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    def _ds(self, account: str | None) -> Dataset:
        if account is None or account == self.platform.id:
            return self.dataset
        return self.platform.account_dataset(self.platform.index[account])

    # truth -----------------------------------------------------------------------------------

    def objects(
        self,
        resource: str,
        created_gte: datetime | int | None = None,
        created_lt: datetime | int | None = None,
        include_hidden: bool = True,
        account: str | None = None,
    ) -> list[dict]:
        """Every object of `resource` as served, newest first, with gte <= created < lt.

        include_hidden=False leaves out what Stripe's lists hide by default (deleted customers,
        canceled subscriptions); with True, deleted customers appear as Stripe's deleted stubs.
        """
        get_resource(resource)
        ds = self._ds(account)
        hidden = None if include_hidden else ds.generators[resource].hidden(ds, {})
        keep = None if hidden is None else (lambda d, s: not hidden(d, s))
        return [
            orjson.loads(ds.served_bytes(resource, *p))
            for p in ds.positions(resource, _unix(created_gte), _unix(created_lt), keep)
        ]

    def listable_ids(
        self,
        resource: str,
        created_gte: datetime | int | None = None,
        created_lt: datetime | int | None = None,
        account: str | None = None,
    ) -> list[str]:
        """Ids `GET /v1/<resource>` returns for the window, newest first, with the list
        parameters a complete read needs (`status=all` for subscriptions): all but deleted customers."""
        ds = self._ds(account)
        hidden = ds.generators[resource].hidden(ds, get_resource(resource).list_params)
        keep = None if hidden is None else (lambda d, s: not hidden(d, s))
        return [
            ds.object_id(resource, *p)
            for p in ds.positions(resource, _unix(created_gte), _unix(created_lt), keep)
        ]

    def invalid_records(self, resource: str) -> dict[str, InvalidRecord]:
        """id -> (kind, field, reason) for every object served invalid."""
        get_resource(resource)
        return self.dataset.invalid_records(resource)

    def count(self, resource: str) -> int:
        """How many objects of `resource` exist (deleted customers included)."""
        get_resource(resource)
        return self.dataset.total(resource)

    def _counts(self) -> tuple[int, dict[str, int]]:
        return self._final_counts if self._serving is None else self._serving.counts()

    @property
    def request_count(self) -> int:
        """API requests served so far (errors included; `/_emulator/` endpoints excluded)."""
        return self._counts()[0]

    @property
    def requests_by_endpoint(self) -> Mapping[str, int]:
        """Requests per endpoint, e.g. `/v1/charges` and `/v1/charges/{id}`."""
        return self._counts()[1]


def start_emulator(
    config: EmulatorConfig | None = None, *, log_requests: bool = False, separate_process: bool = False
) -> RunningEmulator:
    """Starts serving at once; use as `with start_emulator(cfg) as emu:` to stop it afterwards."""
    return RunningEmulator(
        config or EmulatorConfig(), log_requests=log_requests, separate_process=separate_process
    )
