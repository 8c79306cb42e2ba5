"""ePA service: Da Vinci PAS / CRD prior-authorization hub."""

__version__ = "0.1.0"
