"""Flask layer: the JSON API under /api/v1 (api/) and the HTML pages (pages/). Views stay thin."""
