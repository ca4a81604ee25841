"""Receiving many documents: files in, metadata read from each, reviewed in one grid, registered in one action."""
