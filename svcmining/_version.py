"""The package version (one place: svcmining/__init__.py and the report read it here)."""

__version__ = "0.1.0"
