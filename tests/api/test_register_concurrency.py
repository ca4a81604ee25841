"""Register numbers under concurrency: 200 numbers taken from 8 threads, some transactions rolled
back after taking theirs — the register ends with 1..N, no gap, no duplicate (PostgreSQL row lock;
SQLite BEGIN IMMEDIATE)."""

from __future__ import annotations

import threading

from sqlalchemy import select

from docsvc.db.models import Document, DocumentType, Organisation, RegisterEntry
from docsvc.domain.documents import SeriesKey
from docsvc.services import registers

THREADS, PER_THREAD = 8, 25


class _Abort(Exception):
    pass


def test_200_numbers_from_8_threads_no_gap_no_duplicate(container, demo) -> None:  # type: ignore[no-untyped-def]
    db = container.db
    with db.write() as s:
        agency = s.execute(select(Organisation).where(Organisation.organ_id == "000.00.31.H41")).scalar_one()
        type_id = s.execute(select(DocumentType.id).where(DocumentType.code == "QĐ")).scalar_one()
        docs = [Document(agency_id=agency.id, direction="outgoing", type_id=type_id, status="signed",
                         subject=f"Văn bản {i}") for i in range(THREADS * PER_THREAD + THREADS * 3)]
        s.add_all(docs)
        s.flush()
        ids = [d.id for d in docs]
        agency_id = agency.id
    key = SeriesKey(agency_id, "outgoing", "normal", 2026)
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        mine = ids[n::THREADS]
        try:
            barrier.wait()
            for i, doc_id in enumerate(mine):
                try:
                    with db.write() as s:
                        registers.allocate(s, key, doc_id, None)
                        if i % 9 == 4:  # a failed issue after taking its number: rolled back
                            raise _Abort()
                except _Abort:
                    pass
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert errors == []
    with db.read() as s:
        numbers = sorted(s.execute(select(RegisterEntry.number).where(
            RegisterEntry.agency_id == agency_id, RegisterEntry.register == "outgoing",
            RegisterEntry.series == "normal", RegisterEntry.year == 2026)).scalars())
        holders = list(s.execute(select(RegisterEntry.document_id).where(
            RegisterEntry.agency_id == agency_id, RegisterEntry.year == 2026)).scalars())
    assert len(numbers) >= THREADS * PER_THREAD
    assert numbers == list(range(1, len(numbers) + 1))  # no gap, no duplicate
    assert len(set(holders)) == len(holders)  # one number per document
