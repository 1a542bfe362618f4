"""The results of the last few keys, the least recently used dropped first: compiled shapes, predictions."""

from __future__ import annotations

import threading
from typing import Callable, Generic, Hashable, Iterator, TypeVar

Value = TypeVar("Value")
_MISSING = object()


class RecentlyUsed(Generic[Value]):
    """At most ``keep`` values by key; ``get(key, make)`` returns the kept value or makes and keeps a new one.

    Iterating gives the keys, least recently used first. Safe to share between threads; ``make`` runs outside the
    lock, so a slow one does not hold up requests for other keys.
    """

    def __init__(self, keep: int):
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}.")
        self.keep = keep
        self._values: dict[Hashable, Value] = {}  # insertion order = least recently used first
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Value]) -> Value:
        with self._lock:
            value = self._values.pop(key, _MISSING)
        if value is _MISSING:
            value = make()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.keep:
                del self._values[next(iter(self._values))]
        return value

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(list(self._values))

    def values(self) -> list[Value]:
        return list(self._values.values())
