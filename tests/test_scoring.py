"""The scorer registry: entry-point discovery, options, plugin gating and failures."""

from __future__ import annotations

import textwrap
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

import hrdp.scoring
from hrdp.errors import ScorerError
from hrdp.scoring import Score, Scorer, available, load, parse_options, registry
from hrdp.scoring.headers import HeadersScorer

GROUP = "hrdp.scorers.v1"
BUILTIN = EntryPoint("headers", "hrdp.scoring.headers:HeadersScorer", GROUP)

PLUGIN_SOURCE = '''
from hrdp.scoring.base import Score


class GoodScorer:
    """Says every message is spam (a test plugin)."""

    name = "good"

    def __init__(self, options, threshold):
        self.options = options

    def score(self, message):
        return Score(1.0, 1.0, True, [])


def not_a_scorer(options, threshold):
    return object()


def picky(options, threshold):
    raise ValueError("option 'x' must be\\nan integer")
'''


@pytest.fixture
def fake_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[EntryPoint]:
    """The real built-in plus a few third-party entry points, one of them broken."""
    (tmp_path / "hrdp_fake_plugin.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [
        BUILTIN,
        EntryPoint("good", "hrdp_fake_plugin:GoodScorer", GROUP),
        EntryPoint("broken", "hrdp_no_such_plugin_module:Scorer", GROUP),
        EntryPoint("notscorer", "hrdp_fake_plugin:not_a_scorer", GROUP),
        EntryPoint("picky", "hrdp_fake_plugin:picky", GROUP),
        EntryPoint("headers", "hrdp_fake_plugin:GoodScorer", GROUP),  # tries to shadow
    ]
    monkeypatch.setattr(registry, "entry_points", lambda group: list(points))
    return points


def test_real_entry_point_declares_headers() -> None:
    values = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    assert values["headers"] == "hrdp.scoring.headers:HeadersScorer"


def test_available_lists_headers_with_description() -> None:
    warnings: list[str] = []
    listing = available(warnings.append)
    assert "headers" in listing
    assert listing["headers"].startswith("Believe a spam verdict already stamped")
    assert warnings == []


def test_load_headers_with_options() -> None:
    scorer = load("headers", {"trust": "rspamd"}, None)
    assert isinstance(scorer, HeadersScorer)
    assert isinstance(scorer, Scorer)
    assert scorer.name == "headers"
    assert scorer.trust == ("rspamd",)


def test_load_passes_threshold() -> None:
    scorer = load("headers", {}, 7.5)
    assert isinstance(scorer, HeadersScorer)
    assert scorer.threshold == 7.5
    assert scorer.trust == ("spamassassin", "rspamd", "microsoft")


def test_unknown_scorer_names_the_installed_ones() -> None:
    with pytest.raises(ScorerError) as info:
        load("nope", {}, None)
    message = str(info.value)
    assert message.startswith("unknown scorer 'nope'; installed: ")
    installed = message.split("installed: ", 1)[1].split(", ")
    assert {"auto", "bayes", "headers", "rules"} <= set(installed)
    assert "\n" not in message


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"colour": "red"}, "unknown option 'colour'"),
        ({"trust": "spamassassin,barracuda"}, "unknown vendor 'barracuda'"),
        ({"trust": " , "}, "trust is empty"),
    ],
)
def test_bad_options_raise_scorer_error(options: dict[str, str], expected: str) -> None:
    with pytest.raises(ScorerError, match=expected):
        load("headers", options, None)


def test_parse_options() -> None:
    pairs = ["trust=rspamd", "url=http://127.0.0.1:11333/?a=b", "empty=", "trust=microsoft"]
    assert parse_options(pairs) == {
        "trust": "microsoft",  # the last one wins
        "url": "http://127.0.0.1:11333/?a=b",
        "empty": "",
    }
    assert parse_options([]) == {}


@pytest.mark.parametrize("pair", ["trust", "=rspamd", " =x", ""])
def test_parse_options_rejects_a_pair_without_key_or_equals(pair: str) -> None:
    with pytest.raises(ScorerError, match=r"bad --scorer-opt .*expected KEY=VALUE"):
        parse_options([pair])


def test_package_re_exports() -> None:
    assert hrdp.scoring.Score is Score
    assert hrdp.scoring.load is load
    assert hrdp.scoring.available is available
    assert {"Score", "Scorer", "load", "available"} <= set(hrdp.scoring.__all__)


def test_headers_scorer_satisfies_the_protocol() -> None:
    assert isinstance(HeadersScorer({}, None), Scorer)
    assert not isinstance(object(), Scorer)


# --- plugin gating and failures (fake entry points) -------------------------------------


def test_third_party_plugins_are_off_under_pytest(
    fake_plugins: list[EntryPoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HRDP_LOAD_PLUGINS", raising=False)
    assert registry.plugins_enabled() is False
    warnings: list[str] = []
    assert list(available(warnings.append)) == ["headers"]
    assert warnings == []  # the broken plugin is not even imported
    with pytest.raises(ScorerError, match="HRDP_LOAD_PLUGINS=1 turns them on"):
        load("good", {}, None)


def test_env_var_zero_keeps_them_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRDP_LOAD_PLUGINS", "0")
    assert registry.plugins_enabled() is False
    monkeypatch.setenv("HRDP_LOAD_PLUGINS", "1")
    assert registry.plugins_enabled() is True


def test_listing_warns_about_a_broken_plugin_and_goes_on(
    fake_plugins: list[EntryPoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HRDP_LOAD_PLUGINS", "1")
    warnings: list[str] = []
    listing = available(warnings.append)
    assert sorted(listing) == ["good", "headers", "notscorer", "picky"]
    assert listing["headers"].startswith("Believe")  # the built-in, not the shadow
    assert listing["good"] == "Says every message is spam (a test plugin)."
    assert listing["picky"] == "hrdp_fake_plugin:picky"  # no docstring: module:attr
    broken = [w for w in warnings if "'broken'" in w]
    assert broken == [
        "scorer plugin 'broken' (hrdp_no_such_plugin_module:Scorer) failed to import: "
        "ModuleNotFoundError: No module named 'hrdp_no_such_plugin_module'"
    ]
    assert any("'headers' from hrdp_fake_plugin:GoodScorer ignored" in w for w in warnings)
    assert available() == listing  # no callback: warnings are dropped, nothing printed


def test_loading_plugins(fake_plugins: list[EntryPoint], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRDP_LOAD_PLUGINS", "1")
    assert load("good", {"k": "v"}, None).name == "good"
    assert isinstance(load("headers", {}, None), HeadersScorer)
    with pytest.raises(ScorerError) as info:
        load("broken", {}, None)
    assert str(info.value) == (
        "scorer plugin 'broken' (hrdp_no_such_plugin_module:Scorer) failed to import: "
        "ModuleNotFoundError: No module named 'hrdp_no_such_plugin_module'"
    )
    with pytest.raises(ScorerError, match=r"'notscorer' .* does not provide name and score"):
        load("notscorer", {}, None)
    with pytest.raises(ScorerError) as info:
        load("picky", {}, None)
    expected = "scorer 'picky' could not start: ValueError: option 'x' must be an integer"
    assert str(info.value) == expected
    with pytest.raises(ScorerError, match="installed: broken, good, headers, notscorer, picky"):
        load("nope", {}, None)
