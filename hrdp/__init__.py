"""hrdp: decide which outbound delivery pool every email message leaves through."""

__version__ = "0.1.0"
