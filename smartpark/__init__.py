"""smartpark: the smart industrial-park monitoring platform (shared kernel)."""

__version__ = "0.1.0"
