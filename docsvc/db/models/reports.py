"""The reports summary (issue 16): the dashboard's counts kept as documents change.

Every counted fact is keyed by the document's agency, its *visibility class* (the exact set of reader
tokens plus the secrecy level, :class:`ReportReaderClass`), the year and the measure's own key. A
reader's dashboard sums the classes he may read; a document belongs to one class, so it is never
counted twice for a reader who holds several of its tokens. ``report_document_facts`` holds what each
document contributes, so a change subtracts exactly what the document had added.
``docsvc.services.reports.summary`` maintains all three from the services' write transactions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docsvc.db.base import Base, utcnow

#: The key columns of a counted fact (0 where a column does not apply to the measure).
KEY_COLUMNS = ("agency_id", "year", "class_id", "measure", "month", "type_id", "unit_id", "user_id", "deadline_day")


class ReportReaderClass(Base):
    """Documents of one agency with the same reader tokens and secrecy level."""

    __tablename__ = "report_reader_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer)
    secrecy: Mapped[int] = mapped_column(SmallInteger)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of agency, secrecy and tokens
    tokens: Mapped[str] = mapped_column(Text)  # the sorted tokens, space-separated


class ReportReaderClassToken(Base):
    __tablename__ = "report_reader_class_tokens"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    class_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class _CountKey:
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    class_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # received, issued, completed (per document); on_time, late, open (lead assignments)
    measure: Mapped[str] = mapped_column(String(10), primary_key=True)
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    type_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deadline_day: Mapped[int] = mapped_column(Integer, primary_key=True)  # date.toordinal() of an open deadline
    n: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[int] = mapped_column(BigInteger)  # completed: microseconds from arrival to completion


class ReportCount(_CountKey, Base):
    """The summed facts (the primary key is the fact's key)."""

    __tablename__ = "report_counts"


class ReportDocumentFact(_CountKey, Base):
    """What one document contributes to ``report_counts`` (no foreign key: a deleted document's facts
    are still there to subtract)."""

    __tablename__ = "report_document_facts"

    document_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # first in the key: found by document


class ReportSummaryState(Base):
    """One row: whether ``report_counts`` is complete (built by the rebuild, kept by the writes since)."""

    __tablename__ = "report_summary_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    ready: Mapped[bool] = mapped_column(default=False)
    rebuilt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
