"""hrdp.lazy.cached_property: computed once per instance, then a plain attribute."""

from __future__ import annotations

from hrdp.lazy import cached_property


class Counter:
    def __init__(self, base: int) -> None:
        self.base = base
        self.calls = 0

    @cached_property
    def value(self) -> int:
        """The base, doubled."""
        self.calls += 1
        return self.base * 2


def test_computed_once_per_instance() -> None:
    one, two = Counter(1), Counter(5)
    assert (one.value, one.value, two.value) == (2, 2, 10)
    assert (one.calls, two.calls) == (1, 1)
    assert vars(one)["value"] == 2  # stored in the instance: later reads skip the descriptor


def test_class_access_gives_the_descriptor() -> None:
    assert isinstance(Counter.value, cached_property)
    assert Counter.value.__doc__ == "The base, doubled."
