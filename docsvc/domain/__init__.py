"""Pure domain model: entities, value objects and rules (no Flask, no SQL)."""
