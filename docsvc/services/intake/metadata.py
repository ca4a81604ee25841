"""Metadata of one received file: page 1 read (text layer with positions, or OCR for scans) in the
limited extraction child, Decree 30's boxes read by :mod:`search.metadata`, and the signer and
organisation taken from the certificates of a signed PDF."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from search.sandbox import ExtractionLimits


def read_file_metadata(data: bytes, content_type: str, type_names: Mapping[str, str], *,
                       limits: ExtractionLimits, ocr: bool = True,
                       validate: Callable[[bytes], dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"fields", "confidence", "low_confidence", "method", "signatures", "text"}`` for one file
    (``text``: everything the extraction read, handed to the index so it is not extracted twice)."""
    from dataclasses import replace

    from search.metadata import Line, read_metadata, text_lines
    from search.sandbox import extract_isolated

    page_one = replace(limits, max_ocr_pages=1)
    extracted = extract_isolated(data, content_type, limits=page_one, ocr=ocr, layout=True)
    lines = [Line(t, x, r) for t, x, r in extracted.lines] if extracted.lines else text_lines(extracted.text)
    meta = read_metadata(lines, type_names)
    signatures: list[dict[str, Any]] = []
    if validate is not None and content_type == "application/pdf" and b"/ByteRange" in data:
        report = validate(data)
        for sig in report.get("signatures", []):
            if sig.get("kind") == "document_timestamp":
                continue
            signer = sig.get("signer") or {}
            signatures.append({"signer": signer.get("common_name"), "organisation": signer.get("organisation"),
                               "verdict": sig.get("verdict")})
        people = [s for s in signatures if s["signer"] and s["organisation"] != s["signer"]]
        if people:  # a certificate names the signer better than the page does
            meta.set("signer_name", people[0]["signer"], 0.99)
        orgs = [s["organisation"] for s in signatures if s["organisation"]]
        if orgs and meta.confidence.get("issuing_body", 0.0) < 0.9:
            meta.set("issuing_body", orgs[-1], 0.9)
    out = meta.to_dict()
    out.update(method=extracted.method, signatures=signatures, text=extracted.text,
               text_complete=not extracted.needs_ocr or "ocr" in extracted.method)
    return out
