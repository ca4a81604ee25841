"""The text fields every adapter indexes for a document, and how much each weighs in ranking.

Each text exists twice: ``*_x`` holds exact tokens (diacritics kept), ``*_f`` folded tokens. Matching
uses the folded fields; the exact ones only add score, so exact forms rank first (see query_text).

Dossier codes (FileCode) are searchable text too, but a caller may only find a document through the
code of a dossier they may know of: codes are kept in one text per dossier secrecy level
(``dossier0`` … ``dossier3``) and a search looks only in the levels within the caller's clearance
(``search_texts``).

``provenance`` holds the names and codes of the agencies a record came from when its agency ceased
(a commune merged into another: its records stay its own, in the successor's archive), so a search for
a former agency's name finds its records. It weighs little: a name says less about a document than its
subject or number.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.model import CLEARANCES, IndexDocument
from search.vietnamese import analyze, join_fields, notation_key

#: dossier code texts, one per dossier secrecy level
DOSSIER_TEXTS = tuple(f"dossier{level}" for level in CLEARANCES)
#: texts a search looks in whatever the caller's clearance; each is indexed as ``<name>_x`` (exact)
#: and ``<name>_f`` (folded)
SEARCH_TEXTS = ("subject", "body", "meta", "provenance")
#: texts type-ahead suggestions look in (not the full text, not dossier codes)
SUGGEST_TEXTS = ("subject", "meta")
TEXT_FIELDS = tuple(f"{name}{suffix}" for name in SEARCH_TEXTS + DOSSIER_TEXTS for suffix in ("_x", "_f"))
#: ranking weight of each field (BM25 weight in FTS5, query-time boost in Elasticsearch)
WEIGHTS = {"subject_x": 6.0, "subject_f": 3.0, "body_x": 2.0, "body_f": 1.0, "meta_x": 6.0, "meta_f": 3.0,
           "provenance_x": 2.0, "provenance_f": 1.0,
           **{f"{name}{suffix}": weight for name in DOSSIER_TEXTS for suffix, weight in (("_x", 6.0), ("_f", 3.0))}}
#: a document whose notation key equals the query's ranks above everything else
NOTATION_BOOST = 1000.0


def search_texts(clearance: int) -> tuple[str, ...]:
    """The texts a caller of ``clearance`` searches: the document's, and the dossier codes within reach."""
    return SEARCH_TEXTS + DOSSIER_TEXTS[:clearance + 1]


@dataclass(frozen=True, slots=True)
class IndexedFields:
    texts: dict[str, str]
    notation_key: str

    def text(self) -> dict[str, str]:
        return dict(self.texts)


def metadata_text(doc: IndexDocument) -> str:
    """Metadata searchable as free text (number/notation, incoming number, body, type, signer...)."""
    values = [doc.notation, doc.type_code, doc.type_name, doc.issuing_body, doc.organ_id, doc.signer]
    if doc.number is not None:
        values.append(str(doc.number))
    if doc.incoming_number is not None:
        values.append(str(doc.incoming_number))
    return join_fields([v for v in values if v])


def indexed_fields(doc: IndexDocument) -> IndexedFields:
    texts: dict[str, str] = {}
    sources = {"subject": doc.subject, "body": doc.full_text, "meta": metadata_text(doc),
               "provenance": join_fields(list(doc.provenance))}
    sources.update({name: join_fields(list(doc.dossier_codes_of_secrecy(level)))
                    for level, name in zip(CLEARANCES, DOSSIER_TEXTS, strict=True)})
    for name, value in sources.items():
        analyzed = analyze(value)
        texts[f"{name}_x"], texts[f"{name}_f"] = analyzed.exact, analyzed.folded
    return IndexedFields(texts, notation_key(doc.notation) if doc.notation else "")
