"""Reorganising agencies (merge, split, rename) as one audited, resumable job (issue 19).

- ``succession``: who succeeds a ceased agency (delivery, reading rights of the successor);
- ``plans``: the plan, its preview and status (``ReorganisationService``);
- ``runner``: the job, step by step, item by item, each item in its own transaction;
- ``manifest``: counts and SHA-256 of every record in scope, before and after;
- ``report``: the reorganisation report as a PDF.
"""
