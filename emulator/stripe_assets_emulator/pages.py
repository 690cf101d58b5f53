"""Recently served list pages, built once each, and the next page built ahead of the client.

A client paging through a list asks for the page after the last id it received. While it is
busy with the current page (parsing, validating, writing), the emulator can already build that
next page in a background thread; run in a process of its own, the emulator's work then overlaps
the client's instead of adding to it. Pages are keyed by their parameters in sorted order, so
the prediction matches however the client orders its query string.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

Params = tuple[tuple[str, str], ...]  # sorted (name, value) pairs of a list request
Key = tuple[str, Params]  # (resource, params)
# Builds a page: its body, and the parameters of the page after it (None at the end).
Builder = Callable[[str, Params], tuple[bytes, Params | None]]


def next_params(params: Params, last_id: str) -> Params:
    """The parameters of the page after the one that ended with `last_id`."""
    kept = [(name, value) for name, value in params if name != "starting_after"]
    return tuple(sorted([*kept, ("starting_after", last_id)]))


class PageCache:
    def __init__(self, build: Builder, size: int, prefetch: bool):
        self._build = build
        self._size = size
        self._pages: OrderedDict[Key, Future] = OrderedDict()
        self._lock = threading.Lock()
        self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-ahead") if prefetch else None

    def get(self, resource: str, params: Params) -> bytes:
        """The page's body; raises what building it raised (errors are not cached)."""
        key = (resource, params)
        future, owner = self._claim(key)
        if owner:
            self._fill(key, future)
        body, following = future.result()
        if following is not None and self._ahead is not None:
            self._prefetch((resource, following))
        return body

    def _claim(self, key: Key) -> tuple[Future, bool]:
        with self._lock:
            future = self._pages.get(key)
            if future is not None:
                self._pages.move_to_end(key)
                return future, False
            future = Future()
            self._pages[key] = future
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)
            return future, True

    def _fill(self, key: Key, future: Future) -> None:
        try:
            future.set_result(self._build(*key))
        except BaseException as exc:
            with self._lock:
                if self._pages.get(key) is future:
                    del self._pages[key]
            future.set_exception(exc)

    def _prefetch(self, key: Key) -> None:
        future, owner = self._claim(key)
        if owner and self._ahead is not None:
            self._ahead.submit(self._fill, key, future)

    def clear(self) -> None:
        """Forgets every page (the data changed)."""
        with self._lock:
            self._pages.clear()

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.shutdown(wait=True)
