"""Spam scorers: the Scorer protocol, its Score, and the registry that finds them."""

from hrdp.scoring.base import Score, Scorer
from hrdp.scoring.registry import available, load, parse_options

__all__ = ["Score", "Scorer", "available", "load", "parse_options"]
