"""docsvc: document management and e-signature service for Vietnamese government offices."""

__version__ = "0.1.0"
