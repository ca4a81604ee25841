"""Register numbers: allocated inside the transaction that registers or issues the document, so a
rollback returns the number (no gap) and the counter row lock serialises issuers (no duplicate)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from docsvc.db.models import Organisation, RegisterCounter, RegisterEntry
from docsvc.domain.documents import SeriesKey
from docsvc.errors import InvalidState


def allocate(s: Session, key: SeriesKey, document_id: int, registered_by: int | None) -> int:
    """Take the next number of ``key``'s series for ``document_id`` and write the register line.

    The registers of an agency that ceased (merged, split, renamed) are closed: they keep their numbers
    and stay printable, and new work takes its successor's series."""
    agency = s.get(Organisation, key.agency_id)
    if agency is not None and agency.status != "active":
        raise InvalidState(f"the registers of {agency.name} closed on {agency.ceased_on:%d/%m/%Y} "
                           f"({agency.ceased_by}): "
                           "it takes no new numbers; its successor registers new work",
                           {"agency_id": agency.id, "status": agency.status})
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    s.execute(insert(RegisterCounter).values(agency_id=key.agency_id, register=key.register, series=key.series,
                                             year=key.year, last_number=0).on_conflict_do_nothing())
    counter = s.execute(select(RegisterCounter).where(
        RegisterCounter.agency_id == key.agency_id, RegisterCounter.register == key.register,
        RegisterCounter.series == key.series, RegisterCounter.year == key.year).with_for_update()).scalar_one()
    counter.last_number += 1
    s.add(RegisterEntry(agency_id=key.agency_id, register=key.register, series=key.series, year=key.year,
                        number=counter.last_number, document_id=document_id, registered_by=registered_by))
    s.flush()  # the unique constraint on (series, year, number) is checked here, in the transaction
    return counter.last_number
