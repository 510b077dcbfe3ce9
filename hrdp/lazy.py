"""``cached_property`` without the lock Python 3.11's takes on every first read.

functools.cached_property in 3.11 serialises first reads through one lock per class
attribute (removed in 3.12 for its cost and its cross-instance contention); hrdp reads
a dozen of them per message. This is 3.12's behaviour: the value is computed on the
first read and stored in the instance, which shadows the descriptor from then on; two
threads reading at once may both compute it, and one value wins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached_property(Generic[T]):  # functools' name: a drop-in
    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value
