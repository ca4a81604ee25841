"""The archive boxes of the document page: the dossiers holding the document (and filing it into
an open dossier the user manages), and a classified document's protection period with its
secrecy decisions (extension or declassification by the head)."""

from __future__ import annotations

from typing import Any

from docsvc.domain.identity import Actor, Role
from docsvc.services.dossier_actions import manages, may_keep_dossiers
from docsvc.web.context import container

FILE_TARGETS = 200  # open dossiers offered in the "file into" list


def document_archive(actor: Actor, doc: dict[str, Any]) -> dict[str, Any]:
    c = container()
    holding = c.dossiers.of_document(actor, doc["id"])
    targets: list[dict[str, Any]] = []
    if may_keep_dossiers(actor) and doc["agency_id"] == actor.agency_id:
        open_ones, _total = c.dossiers.list(actor, status=["open"], limit=FILE_TARGETS)
        inside = {d["id"] for d in holding}
        targets = [d for d in open_ones if manages(actor, d) and d["id"] not in inside]
    secrecy = c.secrecy.get(actor, doc["id"])
    classified = doc["secrecy"] != "none"
    return {"dossiers": holding, "file_into": targets, "links_dossiers": may_keep_dossiers(actor),
            "secrecy": secrecy if classified or secrecy["decisions"] else None,
            "decides_secrecy": classified and actor.has(Role.LEADER) and doc["agency_id"] == actor.agency_id}
