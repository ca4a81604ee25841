"""Batch actions: many documents handled by one action, in the background, with a result per item."""
