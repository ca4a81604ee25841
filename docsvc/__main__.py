"""``python -m docsvc`` is the ``docsvc`` command."""

from docsvc.cli import main

main()
