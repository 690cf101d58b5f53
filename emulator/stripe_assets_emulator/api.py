"""The API itself: one request in, one Stripe-shaped response out (no sockets here).

Checks run in this order: faults (latency, 429, 500), authentication, route, method,
parameters. Every response carries `Request-Id`, `Stripe-Version` and a JSON body.
Requests read under the live state's read lock, so none sees an advance of the clock half-done.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

import orjson

from stripe_assets.catalog import get_resource
from stripe_assets.ingest.stripe_schema import API_VERSION
from stripe_assets_emulator import children, errors
from stripe_assets_emulator.balance import balance
from stripe_assets_emulator.changes import Advance, ChangeRequestError, advance, changeable
from stripe_assets_emulator.connect import Platform
from stripe_assets_emulator.dataset import Dataset, Position
from stripe_assets_emulator.errors import ApiError
from stripe_assets_emulator.events import parse_event_list
from stripe_assets_emulator.expand import check_list_paths, expand
from stripe_assets_emulator.faults import RequestFaults
from stripe_assets_emulator.filters import list_predicate
from stripe_assets_emulator.generators import GENERATED
from stripe_assets_emulator.ids import random_chars
from stripe_assets_emulator.pages import PageCache, Params, next_params
from stripe_assets_emulator.query import (
    ListQuery,
    parse_list,
    parse_retrieve,
    query_pairs,
)
from stripe_assets_emulator.reporting import Reporting
from stripe_assets_emulator.rng import Purpose

CONTROL_PREFIX = "/_emulator/"


class Headers(Protocol):
    """Request headers: a plain dict in tests, the server's case-insensitive message in service."""

    def get(self, name: str, /) -> str | None: ...


PAGE_CACHE_SIZE = 64


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


# Each list endpoint's resource (`/v1/checkout/sessions` -> checkout_sessions); events too.
# Child lists are served from their parents (`children.py`).
_RESOURCES_BY_PATH: dict[str, str] = {get_resource(name).path: name for name in GENERATED} | {
    "/v1/events": "events"
}
_PATHS = {name: path for path, name in _RESOURCES_BY_PATH.items()}


def _route(path: str) -> tuple[str, str | None] | None:
    """The resource a path lists, or the resource and id it retrieves; None for no endpoint."""
    if path in _RESOURCES_BY_PATH:
        return _RESOURCES_BY_PATH[path], None
    head, _, object_id = path.rpartition("/")
    if head in _RESOURCES_BY_PATH and object_id:
        return _RESOURCES_BY_PATH[head], object_id
    return None


class EmulatorApi:
    """prefetch=True builds the page after each served page in the background (useful when the
    emulator has a process of its own; in the client's process it would only compete with it)."""

    def __init__(self, dataset: Dataset, prefetch: bool = False):
        self.ds = dataset
        self.prefetch = prefetch
        self.platform = Platform(dataset)
        self._connected: dict[str, EmulatorApi] = {}
        self.api_key = dataset.config.api_key
        self.pretty = dataset.config.pretty
        self.faults = RequestFaults(dataset.plans.seed, dataset.config.faults)
        self._lock = threading.Lock()
        self.request_count = 0  # API requests (under /v1), errors included
        self.rate_limited_count = 0  # of which answered 429
        self.requests_by_endpoint: Counter[str] = Counter()
        self.pages = PageCache(self._build_page, PAGE_CACHE_SIZE, prefetch)
        self._request_ids = itertools.count(1)
        self.reporting = Reporting(dataset)

    def close(self) -> None:
        self.pages.close()
        for child in self._connected.values():
            child.close()

    # entry point -----------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Headers, body: bytes = b"") -> Response:
        # Stripe's `Date` is its clock; here the emulator's, read before the answer is built, so
        # what the answer shows is at least as new as it says.
        date = formatdate(self.ds.now, usegmt=True)
        url = urlsplit(target)
        path, query = url.path, url.query
        if path.startswith(CONTROL_PREFIX):
            try:
                response = self._control(method, path, query)
            except Exception:  # a bug: say so, and leave the traceback in the log
                traceback.print_exc(file=sys.stderr)
                response = Response(500, errors.server_error().body())
        else:
            with self._lock:
                self.request_count += 1
                number = self.request_count
                endpoint = self._endpoint(path)
                self.requests_by_endpoint[endpoint] += 1
            try:
                response = self._api(method, path, query, headers, number, endpoint, body)
            except ApiError as error:
                response = Response(error.status, error.body(), dict(error.headers))
            except Exception:  # a bug: answer like Stripe's 500s and leave the traceback in the log
                traceback.print_exc(file=sys.stderr)
                failure = errors.server_error()
                response = Response(failure.status, failure.body())
        request_number = next(self._request_ids)
        response.headers["Request-Id"] = "req_" + random_chars(
            14, self.ds.plans.seed, Purpose.REQUEST, request_number
        )
        response.headers.setdefault("Content-Type", "application/json")
        if self.pretty and response.headers["Content-Type"] == "application/json" and response.body:
            response.body = orjson.dumps(orjson.loads(response.body), option=orjson.OPT_INDENT_2)
        response.headers["Stripe-Version"] = headers.get("Stripe-Version") or API_VERSION
        response.headers["Cache-Control"] = "no-cache, no-store"
        response.headers["Date"] = date
        return response

    @staticmethod
    def _endpoint(path: str) -> str:
        """`/v1/charges/ch_123` -> `/v1/charges/{id}`: counts and rate limits per endpoint."""
        route = _route(path)
        if route is not None and route[1] is not None:
            return f"{_PATHS[route[0]]}/{{id}}"
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "v1":  # a parent's child list
            return "/".join(["", "v1", parts[1], "{id}", *parts[3:]])
        for spec in children.CHILDREN.values():  # deeper ones: `/v1/checkout/sessions/{id}/line_items`
            template = spec.path.strip("/").split("/")
            if len(template) == len(parts) and all(t in ("{id}", p) for t, p in zip(template, parts, strict=True)):
                return spec.path
        return path

    def _api(
        self, method: str, path: str, query: str, headers: Headers, number: int, endpoint: str, body: bytes = b""
    ) -> Response:
        fault = self.faults.check(number, f"{method} {endpoint}", _api_key(headers.get("Authorization")) or "")
        if fault is not None:
            if fault.status == 429:
                with self._lock:
                    self.rate_limited_count += 1
            raise fault
        key = self._authenticate(headers.get("Authorization"))
        account = (headers.get("Stripe-Account") or "").strip()
        if account and account != self.platform.id:
            return self._for_connected(account, key, method, path, query, headers, body)
        if path.rstrip("/") == "/v1/account" and method == "GET":
            return Response(200, orjson.dumps(self.platform.own_account()))
        if path.startswith("/v1/accounts") and method == "GET":
            parts = path.strip("/").split("/")
            if len(parts) == 2:
                return Response(200, self.platform.list_body(query_pairs(query)))
            if len(parts) == 3 and parts[2]:
                parse_retrieve(query_pairs(query))
                return Response(200, self.platform.retrieve(parts[2], key))
        return self._serve(method, path, query, headers, body)

    def _for_connected(
        self, account: str, key: str, method: str, path: str, query: str, headers: Headers, body: bytes
    ) -> Response:
        """A request made for a connected account (`Stripe-Account`): its own data, or a 403."""
        dataset = self.platform.dataset(account, key)
        if path.rstrip("/") == "/v1/account" and method == "GET":
            return Response(200, self.platform.retrieve(account, key))
        if path.startswith("/v1/accounts"):  # a connected account has no accounts of its own
            return Response(200, b'{"object":"list","data":[],"has_more":false,"url":"/v1/accounts"}')
        with self._lock:
            child = self._connected.get(account)
            if child is None:
                child = self._connected[account] = EmulatorApi(dataset, self.prefetch)
        return child._serve(method, path, query, headers, body)

    def _serve(self, method: str, path: str, query: str, headers: Headers, body: bytes) -> Response:
        """A request authenticated and past its faults, for this API's own account."""
        parts = path.strip("/").split("/")
        if len(parts) > 1 and parts[0] == "v1" and parts[1] in ("balance", "reporting", "files"):
            return self._reporting(method, parts, query, headers, body)
        child = children.route(path, dict(query_pairs(query)))
        if child is not None:
            if method != "GET":
                raise errors.read_only(method, path)
            with self.ds.live.lock.read():
                return Response(200, children.list_body(self.ds, *child, dict(query_pairs(query)), path))
        route = _route(path)
        if route is None:
            raise errors.unrecognized_url(method, path)
        if method != "GET":
            raise errors.read_only(method, path)
        resource, object_id = route
        if object_id is None:
            empty = self.faults.empty_page(path, "starting_after" in dict(query_pairs(query)))
            if empty is not None:
                return Response(200, empty)
        with self.ds.live.lock.read():
            if resource == "events":
                return self._events(object_id, query)
            if object_id is not None:
                return self._retrieve(resource, object_id, query)
            return Response(200, self.pages.get(resource, tuple(sorted(query_pairs(query)))))

    def _reporting(self, method: str, parts: list[str], query: str, headers: Headers, body: bytes) -> Response:
        """`/v1/balance`, the balance summary report (`reporting.py`) and its files."""
        path = "/" + "/".join(parts)
        route: tuple[str, ...] = tuple(parts[1:])
        allowed = "POST" if route == ("reporting", "report_runs") else "GET"
        if route not in (("balance",), ("reporting", "report_types"), ("reporting", "report_runs")) and not (
            len(route) == 3 and route[:2] in (("reporting", "report_types"), ("reporting", "report_runs"))
        ) and not (len(route) == 3 and route[0] == "files" and route[2] == "contents"):
            raise errors.unrecognized_url(method, path)
        if method != allowed:
            raise errors.unrecognized_url(method, path)
        reporting = self.reporting
        with self.ds.live.lock.read():
            if route == ("balance",):
                return Response(200, orjson.dumps(balance(self.ds)))
            if route == ("reporting", "report_types"):
                return Response(200, orjson.dumps(reporting.report_types()))
            if route[:2] == ("reporting", "report_types"):
                return Response(200, orjson.dumps(reporting.report_type(parts[3])))
            if route == ("reporting", "report_runs"):
                pairs = query_pairs(body.decode("utf-8", "replace")) + query_pairs(query)
                files_base = f"http://{headers.get('Host') or '127.0.0.1'}"
                return Response(200, orjson.dumps(reporting.create_run(pairs, files_base)))
            if route[:2] == ("reporting", "report_runs"):
                return Response(200, orjson.dumps(reporting.retrieve_run(parts[3])))
            return Response(200, reporting.file_contents(parts[2]), {"Content-Type": "text/csv"})

    def _events(self, event_id: str | None, query: str) -> Response:
        log, now = self.ds.events, self.ds.now
        if event_id is None:
            return Response(200, log.list_body(parse_event_list(query_pairs(query)), now))
        parse_retrieve(query_pairs(query))
        found = log.locate(event_id, now)
        if found is None:
            raise errors.no_such("event", event_id, param="id", status=404)
        return Response(200, log.bodies[found])

    def advance(
        self, seconds: int, changes: int | Mapping[str, int] = 0, *, old_api_version_share: float = 0.0
    ) -> Advance:
        """Moves the clock on with changes (see changes.advance); cached pages are dropped."""
        return advance(
            self.ds, seconds, changes, old_api_version_share=old_api_version_share, applied=self.pages.clear
        )

    def _authenticate(self, authorization: str | None) -> str:
        key = _api_key(authorization)
        if not key:
            raise errors.missing_api_key()
        if key != self.api_key:
            raise errors.invalid_api_key(key)
        return key

    # retrieve and list -----------------------------------------------------------------------

    def _retrieve(self, resource: str, object_id: str, query: str) -> Response:
        paths = parse_retrieve(query_pairs(query))
        found = self.ds.locate(resource, object_id)
        if found is None:
            raise errors.no_such(get_resource(resource).object, object_id, param="id", status=404)
        if not paths:
            return Response(200, self.ds.served_bytes(resource, *found))
        obj = self.ds.served(resource, *found)
        expand(self.ds, resource, obj, paths)
        return Response(200, orjson.dumps(obj))

    def _build_page(self, resource: str, params: Params) -> tuple[bytes, Params | None]:
        with self.ds.live.lock.read():  # also when built ahead, in another thread
            return self._page_body(resource, params)

    def _page_body(self, resource: str, params: Params) -> tuple[bytes, Params | None]:
        q = parse_list(self.ds.generators[resource].filters, params)
        inner_paths = check_list_paths(q.expand)
        positions, has_more = self.page(resource, q)
        if inner_paths:
            items = []
            for position in positions:
                obj = self.ds.served(resource, *position)
                expand(self.ds, resource, obj, inner_paths, q.expand)
                items.append(orjson.dumps(obj))
        else:
            items = [self.ds.served_bytes(resource, *position) for position in positions]
        items = self.faults.outside_window(
            items, [slot for _, slot in positions], q.created_from, q.created_until,
            get_resource(resource).created_field,
        )
        body = b"".join(
            (
                b'{"object":"list","data":[',
                b",".join(items),
                b'],"has_more":',
                b"true" if has_more else b"false",
                b',"url":"',
                get_resource(resource).path.encode(),
                b'"}',
            )
        )
        following = None
        if has_more and q.ending_before is None:
            following = next_params(params, self.ds.object_id(resource, *positions[-1]))
        return body, following

    def page(self, resource: str, q: ListQuery) -> tuple[list[Position], bool]:
        """The positions of one page, newest first, and whether more lie beyond it."""
        keep = list_predicate(self.ds, resource, q.filters)
        cursor_name = "ending_before" if q.ending_before else "starting_after"
        cursor_id = q.ending_before or q.starting_after
        cursor = None
        if cursor_id is not None:
            cursor = self.ds.locate(resource, cursor_id)
            if cursor is None:
                raise errors.no_such(get_resource(resource).object, cursor_id, param=cursor_name)
        newer = q.ending_before is not None
        walked = self.ds.walk(
            resource,
            q.created_from,
            q.created_until,
            newer_than=cursor if newer else None,
            older_than=None if newer else cursor,
            newest_first=not newer,
        )
        found: list[Position] = []
        for position in walked:
            if keep is None or keep(*position):
                found.append(position)
                if len(found) > q.limit:
                    break
        has_more = len(found) > q.limit
        found = found[: q.limit]
        if newer:  # collected nearest-first going forward in time; pages read newest first
            found.reverse()
        return found, has_more

    # control endpoints (not part of Stripe's API) ----------------------------------------------

    def _control(self, method: str, path: str, query: str) -> Response:
        if path == CONTROL_PREFIX + "advance":
            return self._control_advance(method, query)
        if path == CONTROL_PREFIX + "changeable":
            return Response(200, orjson.dumps(changeable(self.ds)))
        if path == CONTROL_PREFIX + "clock":
            ds = self.ds
            body = {
                "now": ds.now,
                "advances": ds.advances,
                "events": len(ds.events),
                "events_listed": len(ds.events) - ds.events.first_retained(ds.now),
                "generated": {"start": ds.config.start_timestamp, "end": ds.config.end_timestamp},
            }
            return Response(200, orjson.dumps(body))
        params = dict(parse_qsl(query, keep_blank_values=True))
        if path.startswith(CONTROL_PREFIX + "accounts"):
            return self._control_accounts(method, path[len(CONTROL_PREFIX + "accounts") :], params)
        if path == CONTROL_PREFIX + "health":
            body = {
                "status": "ok",
                "requests": self.request_count,
                "rate_limited": self.rate_limited_count,
                "requests_by_endpoint": dict(self.requests_by_endpoint),
            }
            return Response(200, orjson.dumps(body))
        if path == CONTROL_PREFIX + "invalid":
            resource = params.get("resource", "")
            if resource not in GENERATED:
                error = errors.invalid(
                    f"Invalid resource: {resource!r}; expected one of {', '.join(GENERATED)}",
                    param="resource",
                )
                return Response(400, error.body())
            records = self.ds.invalid_records(resource)
            body = {
                "resource": resource,
                "invalid": {
                    i: {"kind": r.kind, "field": r.field, "reason": r.reason} for i, r in records.items()
                },
            }
            return Response(200, orjson.dumps(body))
        return Response(404, errors.invalid(f"Unrecognized emulator URL: {path}").body())

    def _control_accounts(self, method: str, action: str, params: dict[str, str]) -> Response:
        """`GET /_emulator/accounts`: the platform and its connected accounts' access;
        `POST .../forbid?account=acct_...&forbidden=false` and `POST .../deauthorize?account=...`."""
        platform = self.platform
        if action in ("/forbid", "/deauthorize"):
            account = params.get("account", "")
            if method != "POST" or account not in platform.index:
                return Response(400, errors.invalid(f"POST with a connected account, not {account!r}").body())
            if action == "/forbid":
                platform.forbid(account, params.get("forbidden", "true") != "false")
            else:
                platform.deauthorize(account)
        body = {
            "platform": platform.id,
            "accounts": [
                {
                    "id": account,
                    "forbidden": i in platform.forbidden,
                    "deauthorized": platform.deauthorized.get(i),
                    "requests": platform.requests.get(i, 0),
                }
                for i, account in enumerate(platform.ids)
            ],
        }
        return Response(200, orjson.dumps(body))

    def _control_advance(self, method: str, query: str) -> Response:
        if method != "POST":
            return Response(405, errors.invalid("Move the clock with POST /_emulator/advance").body())
        try:
            seconds, changes, share = parse_advance(query_pairs(query))
            done = self.advance(seconds, changes, old_api_version_share=share)
        except ChangeRequestError as exc:
            return Response(400, errors.invalid(str(exc)).body())
        return Response(200, orjson.dumps(done.to_json()))


def parse_advance(pairs: list[tuple[str, str]]) -> tuple[int, int | dict[str, int], float]:
    """`days`, `hours`, `seconds`, `changes` (a total) or `changes[<kind>]` (counts by kind) and
    `old_api_version_share`, as in `POST /_emulator/advance?days=3&changes[charge_refunded]=500`."""
    seconds = 0.0
    total: int | None = None
    by_kind: dict[str, int] = {}
    share = 0.0
    for name, value in pairs:
        try:
            if name in ("days", "hours", "seconds"):
                seconds += float(value) * {"days": 86400, "hours": 3600, "seconds": 1}[name]
            elif name == "changes":
                total = int(value)
            elif name.startswith("changes[") and name.endswith("]"):
                by_kind[name[len("changes[") : -1]] = int(value)
            elif name == "old_api_version_share":
                share = float(value)
            else:
                raise ChangeRequestError(f"Received unknown parameter: {name}")
        except ValueError as exc:
            if isinstance(exc, ChangeRequestError):
                raise
            raise ChangeRequestError(f"Invalid number for {name}: {value!r}") from None
    if total is not None and by_kind:
        raise ChangeRequestError("pass either changes=<total> or changes[<kind>]=<count>, not both")
    return int(seconds), (by_kind if by_kind else total or 0), share


def _api_key(authorization: str | None) -> str | None:
    """The key from `Bearer <key>` or HTTP basic auth with the key as user name."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return credentials or None
        return decoded.partition(":")[0] or None
    return authorization.strip()
