"""The shape of a JSON file the workbench reads back, checked once on load.

A file the workbench wrote (the findings behind the README and the brief) may still be edited,
truncated or replaced by hand.  Its reader states the file's shape as a tree of the classes
below; :func:`check_shape` walks the data against it and raises an :class:`InputError` naming the
file, the field's path (``headline.p_before_session.2030``) and what is allowed, so that no
``KeyError`` or ``TypeError`` ever surfaces from deep inside a face.

Extra keys are accepted (a newer writer may add some); every key a reader uses must be declared.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import InputError


class Shape:
    """What one value must be; ``allowed`` says it in words for the error message."""

    allowed = "a value"

    def check(self, value: Any, source: Path | str, where: str) -> None:
        raise NotImplementedError


def _refuse(source: Path | str, where: str, value: Any, allowed: str) -> None:
    shown = repr(value)
    raise InputError(source, where or "(top level)", f"is {shown[:60]}{'…' if len(shown) > 60 else ''}", allowed)


@dataclass(frozen=True)
class Text(Shape):
    """A string, optionally one of a fixed set or matching a pattern."""

    pattern: str | None = None
    max_length: int = 10_000
    allowed_words: str = "a text"
    none: str | None = None

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return f"{self.allowed_words}, or null ({self.none})" if self.none else self.allowed_words

    def check(self, value: Any, source: Path | str, where: str) -> None:
        if value is None and self.none:
            return
        if not isinstance(value, str) or len(value) > self.max_length or (self.pattern and not re.fullmatch(self.pattern, value)):
            _refuse(source, where, value, self.allowed)


@dataclass(frozen=True)
class Date(Shape):
    """An ISO date ("2054-05-19") between 1990 and 2300, or None where ``none`` says what None means."""

    none: str | None = None
    also: tuple[str, ...] = ()  # words that stand for a date not reached, e.g. "not within horizon"

    @property
    def allowed(self) -> str:  # type: ignore[override]
        extra = [f"null ({self.none})"] if self.none else []
        extra += [repr(word) for word in self.also]
        return " or ".join(["a date YYYY-MM-DD from 1990 to 2300", *extra])

    def check(self, value: Any, source: Path | str, where: str) -> None:
        if value is None and self.none or value in self.also:
            return
        try:
            day = dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            day = None
        if day is None or not 1990 <= day.year <= 2300:
            _refuse(source, where, value, self.allowed)


@dataclass(frozen=True)
class Number(Shape):
    """A finite number (not a boolean) in [low, high]; ``integer`` for counts; None where ``none`` says."""

    low: float = -math.inf
    high: float = math.inf
    integer: bool = False
    none: str | None = None

    @property
    def allowed(self) -> str:  # type: ignore[override]
        kind = "a whole number" if self.integer else "a number"
        text = f"{kind} from {self.low:g} to {self.high:g}"
        return f"{text}, or null ({self.none})" if self.none else text

    def check(self, value: Any, source: Path | str, where: str) -> None:
        if value is None and self.none:
            return
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or not self.low <= value <= self.high:
            _refuse(source, where, value, self.allowed)
        if self.integer and value != int(value):
            _refuse(source, where, value, self.allowed)


@dataclass(frozen=True)
class Flag(Shape):
    """true or false."""

    allowed = "true or false"

    def check(self, value: Any, source: Path | str, where: str) -> None:
        if not isinstance(value, bool):
            _refuse(source, where, value, self.allowed)


def Probability(none: str | None = None) -> Number:  # noqa: N802 (reads as a type in a shape)
    return Number(0.0, 1.0, none=none)


def Count(high: float = 10**9) -> Number:  # noqa: N802
    return Number(0, high, integer=True)


@dataclass(frozen=True)
class Record(Shape):
    """An object with these keys (each required unless listed in ``optional``)."""

    fields: Mapping[str, Shape]
    optional: frozenset[str] = field(default_factory=frozenset)
    allowed = "an object"

    def check(self, value: Any, source: Path | str, where: str) -> None:
        if not isinstance(value, dict):
            _refuse(source, where, value, "an object with " + ", ".join(self.fields))
        for key, shape in self.fields.items():
            path = f"{where}.{key}" if where else key
            if key not in value:
                if key in self.optional:
                    continue
                raise InputError(source, path, "is missing", shape.allowed)
            shape.check(value[key], source, path)


@dataclass(frozen=True)
class ListOf(Shape):
    """A list of items of one shape, with at least ``min_items`` of them."""

    item: Shape
    min_items: int = 0
    max_items: int = 100_000

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return f"a list of {self.min_items} to {self.max_items} items, each {self.item.allowed}"

    def check(self, value: Any, source: Path | str, where: str) -> None:
        if not isinstance(value, list) or not self.min_items <= len(value) <= self.max_items:
            _refuse(source, where, value, self.allowed)
        for i, item in enumerate(value):
            self.item.check(item, source, f"{where}[{i}]")


@dataclass(frozen=True)
class MapOf(Shape):
    """An object whose keys follow ``key`` and whose values all have one shape (years to chances)."""

    value: Shape
    key: Text = Text()
    min_items: int = 0

    @property
    def allowed(self) -> str:  # type: ignore[override]
        return f"an object of at least {self.min_items} entries, keys {self.key.allowed}, values {self.value.allowed}"

    def check(self, value: Any, source: Path | str, where: str) -> None:
        if not isinstance(value, dict) or len(value) < self.min_items:
            _refuse(source, where, value, self.allowed)
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            self.key.check(key, source, path + " (the key)")
            self.value.check(item, source, path)


#: A four-digit year as a key ("2030").
YEAR_KEY = Text(pattern=r"(19|2[0-3])\d\d", allowed_words='a year, e.g. "2030"')


def check_shape(data: Any, shape: Shape, source: Path | str) -> Any:
    """``data`` if it has ``shape``; otherwise an InputError naming ``source`` and the field."""
    shape.check(data, source, "")
    return data
