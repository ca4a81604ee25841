"""Use cases: domain rules, permission checks and one transaction each."""
