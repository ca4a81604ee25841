"""After a load or fault run: is every accepted document stored intact, indexed and searchable,
and is every register numbered without gap or duplicate?

Used by ``bench/load.py`` (and its short CI test) and by the fault tests. It reads the database,
the object store and the search index directly, through the application's own adapters."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select


@dataclass
class Accepted:
    """What a client was told: document ``doc_id`` was accepted (201/200)."""

    doc_id: int
    sha256: str | None = None  # digest of the bytes the client uploaded (main file)
    token: str | None = None  # a word only this document's subject has (searchability check)
    number: int | None = None  # the register number the client was given (registration or issue)
    register: str | None = None  # "incoming" or "outgoing"


@dataclass
class Verification:
    documents: int = 0
    files: int = 0
    numbered: int = 0
    searched: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        head = (f"{self.documents} documents, {self.files} stored files verified (SHA-256), {self.numbered} "
                f"register numbers without gap or duplicate, {self.searched} accepted documents found by search")
        if self.ok:
            return "verified: " + head
        return f"NOT verified ({len(self.problems)} problems): {head}\n  " + "\n  ".join(self.problems[:30])


def check_database_state(container: Any) -> Verification:
    """Every file row's object is stored with its digest; every issued document has its number and
    file; each register series (agency, direction, series, year) is numbered 1..n exactly once."""
    from docsvc.db.models import Document, DocumentFile
    v = Verification()
    with container.db.read() as s:
        files = s.execute(select(DocumentFile.document_id, DocumentFile.object_key, DocumentFile.sha256,
                                 DocumentFile.encrypted)).all()
        docs = s.execute(select(Document.id, Document.status, Document.direction, Document.code_number,
                                Document.arrival_number, Document.register_year, Document.register_series,
                                Document.agency_id)).all()
    v.documents, v.files = len(docs), len(files)
    with_files = {f.document_id for f in files}
    for f in files:
        try:
            data = container.store.get_bytes(f.object_key)  # verified read: raises on a corrupt object
        except Exception as exc:  # noqa: BLE001 - a problem to report, not to stop at
            v.problems.append(f"document {f.document_id}: object {f.object_key}: {type(exc).__name__}: {exc}")
            continue
        if not f.encrypted and hashlib.sha256(data).hexdigest() != f.sha256:
            v.problems.append(f"document {f.document_id}: object {f.object_key} does not match its digest")
    series: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for d in docs:
        if d.status == "issued" and not (d.code_number and d.register_year and d.id in with_files):
            v.problems.append(f"document {d.id} is issued without its number or file")
        if d.direction != "incoming" and d.register_year is not None:
            series[("outgoing", d.agency_id, d.register_series, d.register_year)].append(int(d.code_number))
        if d.direction == "incoming" and d.arrival_number is not None:
            series[("incoming", d.agency_id, d.register_series, d.register_year)].append(d.arrival_number)
    for key, numbers in series.items():
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
            dups = sorted({n for n in numbers if numbers.count(n) > 1})
            v.problems.append(f"register {key}: gaps {missing[:10]} duplicates {dups[:10]}")
        v.numbered += len(numbers)
    return v


def wait_for_outbox(container: Any, seconds: float) -> bool:
    """Wait until the workers have drained the outbox (True) or ``seconds`` have passed (False)."""
    deadline = time.monotonic() + seconds
    while container.indexing.pending():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def verify_accepted(container: Any, accepted: list[Accepted], *, outbox_seconds: float = 180) -> Verification:
    """The database checks, then each accepted document: its row, its digest, its number, and that
    a search for its unique word finds it (as a principal holding the document's reader tokens)."""
    from docsvc.db.models import Document, DocumentFile, DocumentReader
    from search import Principal, SearchQuery
    drained = wait_for_outbox(container, outbox_seconds)
    v = check_database_state(container)
    if not drained:
        v.problems.append(f"the outbox still holds {container.indexing.pending()} items after {outbox_seconds} s")
    container.search_index.refresh()
    for a in accepted:
        with container.db.read() as s:
            doc = s.get(Document, a.doc_id)
            if doc is None:
                v.problems.append(f"accepted document {a.doc_id} is missing")
                continue
            mains = s.execute(select(DocumentFile.sha256).where(DocumentFile.document_id == a.doc_id,
                                                                DocumentFile.role == "main")).scalars().all()
            readers = frozenset(s.execute(select(DocumentReader.token)
                                          .where(DocumentReader.document_id == a.doc_id)).scalars())
            number = doc.arrival_number if a.register == "incoming" else doc.code_number
        if a.sha256 and a.sha256 not in mains:
            v.problems.append(f"document {a.doc_id}: the uploaded file (SHA-256 {a.sha256[:12]}…) is not stored")
        if a.number is not None and (number is None or int(number) != int(a.number)):
            v.problems.append(f"document {a.doc_id}: register number {number}, the client was told {a.number}")
        if a.token:
            hits = container.search_index.search(SearchQuery(q=a.token, highlight=False),
                                                 Principal("verifier", 3, readers))
            if not any(h.id == str(a.doc_id) for h in hits.hits):
                v.problems.append(f"document {a.doc_id}: not found by searching {a.token!r}")
            else:
                v.searched += 1
    return v
