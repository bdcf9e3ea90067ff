"""Progress events for long work, and helpers to drive the engine's generators.

Every long operation is a generator that yields :class:`Progress` and returns its result
(``return value`` inside the generator). The CLI, the GUI worker and tests drive the same generator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generator, TypeVar

T = TypeVar("T")
Work = Generator["Progress", None, T]


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def run(work: Work[T], on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> T:
    """Drive ``work`` to the end and return its result.

    ``on_progress`` sees every event; ``should_stop`` is asked between two steps and, when true,
    closes the generator (its ``finally`` blocks run) and raises :class:`~.errors.Cancelled`.
    """
    from .errors import Cancelled

    while True:
        try:
            event = next(work)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(event)
        if should_stop is not None and should_stop():
            work.close()
            raise Cancelled("cancelled")
