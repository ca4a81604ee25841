"""The text fields every adapter indexes for a document, and how much each weighs in ranking.

Each text exists twice: ``*_x`` holds exact tokens (diacritics kept), ``*_f`` folded tokens. Matching
uses the folded fields; the exact ones only add score, so exact forms rank first (see query_text).
"""

from __future__ import annotations

from dataclasses import dataclass

from search.model import IndexDocument
from search.vietnamese import analyze, join_fields, notation_key

TEXT_FIELDS = ("subject_x", "subject_f", "body_x", "body_f", "meta_x", "meta_f")
#: texts a search looks in; each is indexed as ``<name>_x`` (exact) and ``<name>_f`` (folded)
SEARCH_TEXTS = ("subject", "body", "meta")
#: texts type-ahead suggestions look in (not the full text)
SUGGEST_TEXTS = ("subject", "meta")
#: ranking weight of each field (BM25 weight in FTS5, query-time boost in Elasticsearch)
WEIGHTS = {"subject_x": 6.0, "subject_f": 3.0, "body_x": 2.0, "body_f": 1.0, "meta_x": 6.0, "meta_f": 3.0}
#: a document whose notation key equals the query's ranks above everything else
NOTATION_BOOST = 1000.0


@dataclass(frozen=True, slots=True)
class IndexedFields:
    subject_x: str
    subject_f: str
    body_x: str
    body_f: str
    meta_x: str
    meta_f: str
    notation_key: str

    def text(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in TEXT_FIELDS}


def metadata_text(doc: IndexDocument) -> str:
    """Metadata searchable as free text (number/notation, incoming number, body, type, signer...)."""
    values = [doc.notation, doc.type_code, doc.type_name, doc.issuing_body, doc.organ_id, doc.signer,
              *doc.dossier_codes]
    if doc.number is not None:
        values.append(str(doc.number))
    if doc.incoming_number is not None:
        values.append(str(doc.incoming_number))
    return join_fields([v for v in values if v])


def indexed_fields(doc: IndexDocument) -> IndexedFields:
    subject = analyze(doc.subject)
    body = analyze(doc.full_text)
    meta = analyze(metadata_text(doc))
    return IndexedFields(subject.exact, subject.folded, body.exact, body.folded, meta.exact, meta.folded,
                         notation_key(doc.notation) if doc.notation else "")
