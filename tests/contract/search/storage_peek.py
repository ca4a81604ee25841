"""Look at what an adapter really keeps on disk / in the engine, bypassing the port."""

from __future__ import annotations

import json
import sqlite3
import zlib

from search import SearchIndex


def stored_bytes(adapter: str, index: SearchIndex) -> bytes:
    """Everything the backend holds for the index: the SQLite file with its WAL and its compressed
    texts decompressed, or every raw
    Elasticsearch document (``_source``) plus the terms of every indexed text field."""
    if adapter == "embedded":
        path = index.path  # type: ignore[attr-defined]
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(FULL)")
        blobs = [zlib.decompress(b) for row in conn.execute("SELECT stored, full_text FROM doc_bodies") for b in row]
        conn.close()
        data = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        return b" ".join([data, wal.read_bytes() if wal.exists() else b"", *blobs])
    client = index.client  # type: ignore[attr-defined]
    alias = index.alias  # type: ignore[attr-defined]
    hits = client.search(index=alias, query={"match_all": {}}, size=1000)["hits"]["hits"]
    parts = [json.dumps(h["_source"], ensure_ascii=False) for h in hits]
    for hit in hits:
        vectors = client.termvectors(index=alias, id=hit["_id"],
                                     fields=["subject_x", "subject_f", "body_x", "body_f", "meta_x", "meta_f"])
        for field in vectors.get("term_vectors", {}).values():
            parts.extend(field["terms"])
    return " ".join(parts).encode()
