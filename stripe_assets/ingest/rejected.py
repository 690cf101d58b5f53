"""Objects the reader could not take as listed, carried to validation with the reason.

Such an object still goes the way of every record: validation fails it with the given column,
check and reason, and it goes to quarantine with its raw JSON; nothing else of its page or
window is affected. It is a `dict` (its content made storable), so every step handles it as
the object it is.
"""

from __future__ import annotations

from typing import Any

# A `created` outside the requested window: listed by the API, but not where it said it was.
OUTSIDE_WINDOW = "in_window"
# A string that is not Unicode (a lone UTF-16 surrogate escape such as `\ud800`).
INVALID_TEXT = "valid_unicode"


class RejectedRecord(dict):
    """An object rejected before validation: `column`, `check` and `reason` say why."""

    __slots__ = ("check", "column", "reason")

    def __init__(self, obj: dict[str, Any], *, column: str, check: str, reason: str) -> None:
        super().__init__(obj)
        self.column = column
        self.check = check
        self.reason = reason

    def __reduce__(self):  # pickled with its reason (dict subclasses otherwise lose the slots)
        return (_rebuild, (dict(self), self.column, self.check, self.reason))


def _rebuild(obj: dict[str, Any], column: str, check: str, reason: str) -> RejectedRecord:
    return RejectedRecord(obj, column=column, check=check, reason=reason)


def without_lone_surrogates(page: object) -> object:
    """A parsed answer whose strings may hold lone surrogates (which orjson, DuckDB and Arrow
    all refuse): each object of a list that holds one becomes a `RejectedRecord` (an event's
    `data.object` for events), its text with U+FFFD in their place; the rest stays as it is."""
    if not isinstance(page, dict):
        return page
    data = page.get("data")
    if page.get("object") != "list" or not isinstance(data, list):
        return _rejected_if_unreadable(page)
    items = []
    for item in data:
        inner = item.get("data") if isinstance(item, dict) and item.get("object") == "event" else None
        if isinstance(inner, dict) and isinstance(inner.get("object"), dict):
            item = {**item, "data": {**inner, "object": _rejected_if_unreadable(inner["object"])}}
        items.append(_rejected_if_unreadable(item))
    return {**page, "data": items}


def _rejected_if_unreadable(item: object) -> object:
    found = _first_surrogate(item, "")
    if found is None or not isinstance(item, dict):
        return _replaced(item) if found is not None else item
    path, text = found
    shown = text.encode("utf-8", "backslashreplace").decode()
    return RejectedRecord(
        _replaced(item), column=path or "<record>", check=INVALID_TEXT,
        reason=f"{path or 'the record'} holds a lone UTF-16 surrogate ({shown[:60]}), which is not Unicode text",
    )


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _first_surrogate(value: object, path: str) -> tuple[str, str] | None:
    """(dotted path, string) of the first string, key or value, that is not Unicode."""
    if isinstance(value, str):
        return (path, value) if _has_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _has_surrogate(key):
                return where, key
            found = _first_surrogate(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _first_surrogate(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _replaced(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if _has_surrogate(value) else value
    if isinstance(value, dict):
        return {_replaced(k): _replaced(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v) for v in value]
    return value
