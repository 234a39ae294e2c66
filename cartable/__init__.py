"""cartable: a sick pupil stays in their own class, live."""

__version__ = "0.1.0"
