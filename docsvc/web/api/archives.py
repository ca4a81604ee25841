"""Dossiers and archives: the retention catalogue, dossier plans and dossiers, transfers to the
agency archive, legal holds, disposal, declassification and dossier exports."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from pydantic import Field

from docsvc.domain.identity import Actor, RequestOrigin
from docsvc.web.api import api
from docsvc.web.api.common import PageQuery, StrictModel, page_of
from docsvc.web.api.spec import endpoint
from docsvc.web.context import container, origin
from docsvc.web.downloads import dossier_export_response

TAG = "archives"
ReasonText = Field(min_length=1, max_length=2000)


# ---------------------------------------------------------------- retention catalogue
class RetentionQuery(StrictModel):
    all_versions: bool = Field(False, description="include superseded versions")


class RetentionIn(StrictModel):
    code: str = Field(min_length=1, max_length=30, description="e.g. KH-10")
    description: str = Field(min_length=1, max_length=2000)
    years: int | None = Field(None, ge=1, le=200, description="omit (null) for permanent (vĩnh viễn)")
    legal_basis: str = Field("", max_length=300)


class RetentionChangeIn(StrictModel):
    description: str | None = Field(None, min_length=1, max_length=2000)
    years: int | None = Field(None, ge=1, le=200)
    permanent: bool = Field(False, description="make the entry permanent (years is then ignored)")
    legal_basis: str | None = Field(None, max_length=300)
    reason: str = ReasonText


@endpoint(api, "/retention-periods", tag=TAG, query=RetentionQuery,
          summary="The retention catalogue (current entries, or every version)")
def retention_list(actor: Actor, query: RetentionQuery) -> dict:
    return {"items": container().retention.list(include_superseded=query.all_versions)}


@endpoint(api, "/retention-periods/<code>", tag=TAG, summary="Every version of one retention entry")
def retention_versions(actor: Actor, code: str) -> dict:
    return {"items": container().retention.versions(code)}


@endpoint(api, "/retention-periods", method="POST", tag=TAG, body=RetentionIn, status=201,
          summary="Add a retention entry (admin)")
def retention_add(actor: Actor, body: RetentionIn) -> dict:
    return container().retention.add(actor, code=body.code, description=body.description, years=body.years,
                                     legal_basis=body.legal_basis, origin=origin())


@endpoint(api, "/retention-periods/<code>", method="PUT", tag=TAG, body=RetentionChangeIn,
          summary="Change a retention entry: adds a new version (admin); dossiers keep theirs")
def retention_change(actor: Actor, code: str, body: RetentionChangeIn) -> dict:
    years: int | None | str = None if body.permanent else (body.years if body.years is not None else "keep")
    return container().retention.change(actor, code, description=body.description, years=years,
                                        legal_basis=body.legal_basis, reason=body.reason, origin=origin())


# ---------------------------------------------------------------- dossier plans
class PlanIn(StrictModel):
    year: int = Field(ge=2000, le=2100)
    title: str = Field("", max_length=300)


class DossierIn(StrictModel):
    notation: str = Field(min_length=1, max_length=20, description="number/notation, e.g. 01.TCCB")
    title: str = Field(min_length=1, max_length=1000)
    retention_code: str | None = Field(None, max_length=30)
    owner_id: int | None = Field(None, ge=1)
    unit_id: int | None = Field(None, ge=1)
    construction: bool = False
    rights: str | None = Field(None, pattern="^(public|restricted)$")
    description: str = Field("", max_length=4000)
    language: str = Field("vi", max_length=10)
    secrecy: str = Field("none", pattern="^(none|mat|toi_mat|tuyet_mat)$")
    open: bool = Field(False, description="open it at once")


@endpoint(api, "/dossier-plans", tag=TAG, summary="Your agency's dossier plans (danh mục hồ sơ)")
def plans(actor: Actor) -> dict:
    return {"items": container().dossiers.plans(actor)}


@endpoint(api, "/dossier-plans", method="POST", tag=TAG, body=PlanIn, status=201,
          summary="Create the dossier plan of a year (archive or registry)")
def plan_create(actor: Actor, body: PlanIn) -> dict:
    return container().dossiers.create_plan(actor, year=body.year, title=body.title, origin=origin())


@endpoint(api, "/dossier-plans/<int:plan_id>", tag=TAG, summary="A dossier plan with its dossiers")
def plan_get(actor: Actor, plan_id: int) -> dict:
    return container().dossiers.plan(actor, plan_id)


@endpoint(api, "/dossier-plans/<int:plan_id>/dossiers", method="POST", tag=TAG, body=DossierIn, status=201,
          summary="Add a dossier to the plan")
def dossier_add(actor: Actor, plan_id: int, body: DossierIn) -> dict:
    return add_dossier(actor, plan_id, body, origin())


def add_dossier(actor: Actor, plan_id: int, body: DossierIn, at: RequestOrigin) -> dict[str, Any]:
    """Add a dossier to a plan (the API's and the pages' one call)."""
    return container().dossiers.add(actor, plan_id, notation=body.notation, title=body.title,
                                    retention_code=body.retention_code, owner_id=body.owner_id,
                                    unit_id=body.unit_id, construction=body.construction, rights=body.rights,
                                    description=body.description, language=body.language, secrecy=body.secrecy,
                                    open_now=body.open, origin=at)


# ---------------------------------------------------------------- dossiers
class DossierQuery(PageQuery):
    year: int | None = Field(None, ge=2000, le=2100)
    status: list[str] | None = Field(None, description="planned, open, closed, archived, destroyed")
    q: str | None = Field(None, max_length=200, description="in the title or the FileCode")
    owner_id: int | None = Field(None, ge=1)


class DossierPatch(StrictModel):
    title: str | None = Field(None, min_length=1, max_length=1000)
    retention_code: str | None = Field(None, max_length=30)
    owner_id: int | None = Field(None, ge=1)
    unit_id: int | None = Field(None, ge=1)
    rights: str | None = Field(None, pattern="^(public|restricted)$")
    description: str | None = Field(None, max_length=4000)
    construction: bool | None = None


class FileIn(StrictModel):
    document_id: int = Field(ge=1)


class CloseIn(StrictModel):
    work_ended_on: date | None = Field(None, description="default: today")
    settlement_date: date | None = Field(None, description="construction: date of the final settlement")


class ReopenIn(StrictModel):
    reason: str = ReasonText


class SettlementIn(StrictModel):
    settlement_date: date


class ExtendRetentionIn(StrictModel):
    retention_code: str = Field(min_length=1, max_length=30)
    reason: str = ReasonText


class ExportQuery(StrictModel):
    renditions: bool = Field(True, description="add PDF/A renditions when a converter is available")


@endpoint(api, "/dossiers", tag=TAG, query=DossierQuery, summary="Dossiers of your agency within your clearance")
def dossier_list(actor: Actor, query: DossierQuery) -> dict:
    items, total = container().dossiers.list(actor, year=query.year, status=query.status, q=query.q,
                                             owner_id=query.owner_id, offset=query.offset, limit=query.per_page)
    return page_of(items, query, total)


@endpoint(api, "/dossiers/<int:dossier_id>", tag=TAG,
          summary="A dossier with its Appendix VI metadata and the documents in it you may read")
def dossier_get(actor: Actor, dossier_id: int) -> dict:
    return container().dossiers.get(actor, dossier_id)


@endpoint(api, "/dossiers/<int:dossier_id>", method="PATCH", tag=TAG, body=DossierPatch,
          summary="Change a planned or open dossier")
def dossier_patch(actor: Actor, dossier_id: int, body: DossierPatch) -> dict:
    return container().dossiers.update(actor, dossier_id, **body.model_dump(exclude_unset=True), origin=origin())


@endpoint(api, "/dossiers/<int:dossier_id>/open", method="POST", tag=TAG, summary="Open a planned dossier")
def dossier_open(actor: Actor, dossier_id: int) -> dict:
    return container().dossiers.open(actor, dossier_id, origin())


@endpoint(api, "/dossiers/<int:dossier_id>/documents", method="POST", tag=TAG, body=FileIn, status=201,
          summary="File a document in an open dossier (no copy: a document may sit in several)")
def dossier_file(actor: Actor, dossier_id: int, body: FileIn) -> dict:
    return container().dossiers.file(actor, dossier_id, body.document_id, origin())


@endpoint(api, "/dossiers/<int:dossier_id>/documents/<int:document_id>", method="DELETE", tag=TAG,
          summary="Remove a document from an open dossier")
def dossier_unfile(actor: Actor, dossier_id: int, document_id: int) -> dict:
    container().dossiers.unfile(actor, dossier_id, document_id, origin())
    return {"dossier_id": dossier_id, "document_id": document_id, "removed": True}


@endpoint(api, "/dossiers/<int:dossier_id>/close", method="POST", tag=TAG, body=CloseIn,
          summary="Close a dossier: retention set, no drafts, no duplicates; fixes order, dates and counts",
          errors={409: "The closing checks failed (details.problems lists them)"})
def dossier_close(actor: Actor, dossier_id: int, body: CloseIn) -> dict:
    return container().dossiers.close(actor, dossier_id, work_ended_on=body.work_ended_on,
                                      settlement_date=body.settlement_date, origin=origin())


@endpoint(api, "/dossiers/<int:dossier_id>/reopen", method="POST", tag=TAG, body=ReopenIn,
          summary="Reopen a closed dossier that was not transferred")
def dossier_reopen(actor: Actor, dossier_id: int, body: ReopenIn) -> dict:
    return container().dossiers.reopen(actor, dossier_id, reason=body.reason, origin=origin())


@endpoint(api, "/dossiers/<int:dossier_id>/settlement", method="POST", tag=TAG, body=SettlementIn,
          summary="Record a construction dossier's final settlement (transfer due 3 months later)")
def dossier_settlement(actor: Actor, dossier_id: int, body: SettlementIn) -> dict:
    return container().dossiers.set_settlement(actor, dossier_id, body.settlement_date, origin())


@endpoint(api, "/dossiers/<int:dossier_id>/extend-retention", method="POST", tag=TAG, body=ExtendRetentionIn,
          summary="Give a dossier a longer retention (never shorter); archived records get the longer lock")
def dossier_extend(actor: Actor, dossier_id: int, body: ExtendRetentionIn) -> dict:
    return container().dossiers.extend_retention(actor, dossier_id, retention_code=body.retention_code,
                                                 reason=body.reason, origin=origin())


@endpoint(api, "/dossiers/<int:dossier_id>/export", tag=TAG, query=ExportQuery, produces="application/zip",
          summary="Export a closed dossier: ZIP of originals, PDF/A renditions, Appendix VI XML, SHA-256 manifest")
def dossier_export(actor: Actor, dossier_id: int, query: ExportQuery) -> Response:
    return dossier_export_response(actor, dossier_id, renditions=query.renditions, origin=origin())


@endpoint(api, "/documents/<int:doc_id>/dossiers", tag=TAG, summary="The dossiers holding a document")
def document_dossiers(actor: Actor, doc_id: int) -> dict:
    return {"items": container().dossiers.of_document(actor, doc_id)}


# ---------------------------------------------------------------- transfers
class DueQuery(StrictModel):
    within_days: int = Field(30, ge=0, le=3660)


class TransferIn(StrictModel):
    dossier_ids: list[int] = Field(min_length=1, max_length=500)
    delivered_by_id: int | None = Field(None, ge=1, description="who hands the dossiers over")
    note: str = Field("", max_length=4000)


@endpoint(api, "/archive/transfers/due", tag=TAG, query=DueQuery,
          summary="Closed dossiers whose transfer to the agency archive falls due (or is overdue)")
def transfers_due(actor: Actor, query: DueQuery) -> dict:
    return {"items": container().transfers.due(actor, within_days=query.within_days)}


@endpoint(api, "/archive/transfers", method="POST", tag=TAG, body=TransferIn, status=201,
          summary="Receive closed dossiers into the agency archive with a handover record (archivist)")
def transfer_create(actor: Actor, body: TransferIn) -> dict:
    return container().transfers.transfer(actor, body.dossier_ids, delivered_by_id=body.delivered_by_id,
                                          note=body.note, origin=origin())


@endpoint(api, "/archive/transfers", tag=TAG, summary="Handover records of your agency")
def transfer_list(actor: Actor) -> dict:
    return {"items": container().transfers.list(actor)}


@endpoint(api, "/archive/transfers/<int:transfer_id>", tag=TAG, summary="A handover record")
def transfer_get(actor: Actor, transfer_id: int) -> dict:
    return container().transfers.get(actor, transfer_id)


# ---------------------------------------------------------------- legal holds
class HoldIn(StrictModel):
    document_id: int | None = Field(None, ge=1)
    dossier_id: int | None = Field(None, ge=1)
    reason: str = ReasonText


class HoldQuery(StrictModel):
    active: bool = True


class ReleaseIn(StrictModel):
    reason: str = ReasonText


@endpoint(api, "/legal-holds", tag=TAG, query=HoldQuery, summary="Legal holds of your agency")
def holds_list(actor: Actor, query: HoldQuery) -> dict:
    return {"items": container().holds.list(actor, active_only=query.active)}


@endpoint(api, "/legal-holds", method="POST", tag=TAG, body=HoldIn, status=201,
          summary="Place a legal hold on a document or a dossier (archive or leaders)")
def hold_place(actor: Actor, body: HoldIn) -> dict:
    return container().holds.place(actor, reason=body.reason, document_id=body.document_id,
                                   dossier_id=body.dossier_id, origin=origin())


@endpoint(api, "/legal-holds/<int:hold_id>", tag=TAG, summary="A legal hold")
def hold_get(actor: Actor, hold_id: int) -> dict:
    return container().holds.get(actor, hold_id)


@endpoint(api, "/legal-holds/<int:hold_id>/release", method="POST", tag=TAG, body=ReleaseIn,
          summary="Release a legal hold, with a reason")
def hold_release(actor: Actor, hold_id: int, body: ReleaseIn) -> dict:
    return container().holds.release(actor, hold_id, reason=body.reason, origin=origin())


# ---------------------------------------------------------------- disposal
class DisposalQuery(StrictModel):
    status: list[str] | None = Field(None, description="proposed, reviewed, approved, rejected, destroyed")


class KeepIn(StrictModel):
    dossier_id: int = Field(ge=1)
    reason: str = ReasonText


class ReviewIn(StrictModel):
    opinion: str = Field(min_length=1, max_length=4000, description="the appraisal council's opinion")
    members: list[str] = Field(min_length=3, max_length=30, description="the council's members")
    keep: list[KeepIn] = Field([], max_length=500, description="dossiers the council wants kept, and why")


class DecideIn(StrictModel):
    approve: bool
    decision_ref: str = Field("", max_length=100, description="number of the head's decision (when approving)")
    reason: str = Field("", max_length=4000, description="why destruction is refused (when refusing)")


@endpoint(api, "/disposal-lists", tag=TAG, query=DisposalQuery,
          summary="Lists of records past their retention (within your clearance)")
def disposal_lists(actor: Actor, query: DisposalQuery) -> dict:
    return {"items": container().disposal.list(actor, status=query.status)}


@endpoint(api, "/disposal-lists", method="POST", tag=TAG, status=201,
          summary="List the records past their retention now (the nightly task does it too; archivist)")
def disposal_propose(actor: Actor) -> dict:
    return {"items": container().disposal.propose(actor)}


@endpoint(api, "/disposal-lists/<int:list_id>", tag=TAG, summary="A disposal list with its dossiers")
def disposal_get(actor: Actor, list_id: int) -> dict:
    return container().disposal.get(actor, list_id)


@endpoint(api, "/disposal-lists/<int:list_id>/review", method="POST", tag=TAG, body=ReviewIn,
          summary="Record the appraisal council's review (archivist)")
def disposal_review(actor: Actor, list_id: int, body: ReviewIn) -> dict:
    return container().disposal.review(actor, list_id, opinion=body.opinion, members=body.members,
                                       keep={k.dossier_id: k.reason for k in body.keep}, origin=origin())


@endpoint(api, "/disposal-lists/<int:list_id>/decide", method="POST", tag=TAG, body=DecideIn,
          summary="The head's decision on destruction (leader)")
def disposal_decide(actor: Actor, list_id: int, body: DecideIn) -> dict:
    return container().disposal.decide(actor, list_id, approve=body.approve, decision_ref=body.decision_ref,
                                       reason=body.reason, origin=origin())


@endpoint(api, "/disposal-lists/<int:list_id>/destroy", method="POST", tag=TAG,
          summary="Destroy the approved records' content; metadata and the destruction record are kept")
def disposal_destroy(actor: Actor, list_id: int) -> dict:
    return container().disposal.destroy(actor, list_id, origin=origin())


# ---------------------------------------------------------------- declassification
class ReviewQuery(StrictModel):
    within_days: int = Field(60, ge=0, le=3660)


class ExtendProtectionIn(StrictModel):
    years: int = Field(ge=1, le=30)
    reason: str = ReasonText
    decision_ref: str = Field(min_length=1, max_length=100)


class DeclassifyIn(StrictModel):
    reason: str = ReasonText
    decision_ref: str = Field(min_length=1, max_length=100)


@endpoint(api, "/secrecy/review", tag=TAG, query=ReviewQuery,
          summary="Classified documents whose protection ends soon (head and archive)")
def secrecy_review(actor: Actor, query: ReviewQuery) -> dict:
    return {"items": container().secrecy.review_list(actor, within_days=query.within_days)}


@endpoint(api, "/documents/<int:doc_id>/secrecy", tag=TAG,
          summary="A document's protection period and secrecy decisions")
def secrecy_get(actor: Actor, doc_id: int) -> dict:
    return container().secrecy.get(actor, doc_id)


@endpoint(api, "/documents/<int:doc_id>/secrecy/extend", method="POST", tag=TAG, body=ExtendProtectionIn,
          summary="Extend a document's protection period (head)")
def secrecy_extend(actor: Actor, doc_id: int, body: ExtendProtectionIn) -> dict:
    return container().secrecy.extend(actor, doc_id, years=body.years, reason=body.reason,
                                      decision_ref=body.decision_ref, origin=origin())


@endpoint(api, "/documents/<int:doc_id>/secrecy/declassify", method="POST", tag=TAG, body=DeclassifyIn,
          summary="Declassify a document (head)")
def secrecy_declassify(actor: Actor, doc_id: int, body: DeclassifyIn) -> dict:
    return container().secrecy.declassify(actor, doc_id, reason=body.reason, decision_ref=body.decision_ref,
                                          origin=origin())
