"""A bounded hand-off between the MQTT network thread and the batch writer."""

import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """put() blocks while full (backpressure); take() returns a batch by size or by time."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: deque[T] = deque()
        self._arrived: deque[float] = deque()  # when each item was put, for the linger
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T) -> None:
        """Add one item, waiting while the inbox is full."""
        with self._not_full:
            while len(self._items) >= self._capacity and not self._closed:
                self._not_full.wait(0.5)
            self._items.append(item)
            self._arrived.append(time.monotonic())
            if len(self._items) == 1:
                self._not_empty.notify()

    def offer(self, item: T) -> bool:
        """Add one item if there is room now; False (nothing added) when full. Never waits."""
        with self._not_full:
            if len(self._items) >= self._capacity and not self._closed:
                return False
            self._items.append(item)
            self._arrived.append(time.monotonic())
            if len(self._items) == 1:
                self._not_empty.notify()
            return True

    def take(self, max_items: int, max_wait: float) -> list[T]:
        """Up to max_items, waiting at most max_wait seconds after the first one arrives.

        The wait counts from the oldest waiting item's arrival, not from this call: items that
        queued up while the last batch was being stored have waited already, and lingering another
        max_wait for them added that much to every alert's latency under steady load."""
        with self._not_empty:
            while not self._items:
                if self._closed:
                    return []
                self._not_empty.wait(0.5)
                if not self._items and self._closed:
                    return []
            deadline = self._arrived[0] + max_wait
            while len(self._items) < max_items and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # Wake early only when a full batch could be there; re-checked on each put.
                self._not_empty.wait(min(remaining, 0.02))
            count = min(max_items, len(self._items))
            batch = [self._items.popleft() for _ in range(count)]
            for _ in range(count):
                self._arrived.popleft()
            self._not_full.notify_all()
            return batch

    def close(self) -> None:
        """Wake every waiter; take() then drains what is left and returns [] when empty."""
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()
