"""Relational persistence: engine, unit of work and the SQLAlchemy models."""
