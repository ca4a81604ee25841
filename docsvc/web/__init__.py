"""Flask layer: JSON API under /api/v1 (and, later, HTML pages). Views stay thin."""
