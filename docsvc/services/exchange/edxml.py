"""edXML packages and status messages (QCVN 102:2016/BTTTT): build and parse, nothing else.

Pure functions over dataclasses: no database, no transport. Parsing treats every package as
hostile: a size cap before parsing, lxml with entity resolution, DTD loading and the network off
and ``huge_tree`` off (so one text node holds at most 10,000,000 characters, about 7.5 MB of a
base64 attachment), any DOCTYPE refused, the namespace and every required field checked, each
attachment's size capped and its SHA-256 compared with the manifest. Any problem raises
:class:`EdxmlError` with a reason, before anything is imported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import IntEnum

from lxml import etree

from signing.keys import KeySource
from signing.xmldsig import XmlDsigVerdict, sign_enveloped, verify_enveloped

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
PREFIX = "edXML"
VN = timezone(timedelta(hours=7))

MAX_PACKAGE_BYTES = 40 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 7 * 1024 * 1024
MAX_ATTACHMENTS = 50
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
ORGAN_ID = re.compile(r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[0-9A-Z]{3}$")

# Status codes (QCVN 102 / Decision 28/2018): what the receiver did with a document.
STATUS_TEXT = {"01": "Đã đến", "02": "Từ chối tiếp nhận", "03": "Đã tiếp nhận", "04": "Phân công",
               "05": "Đang xử lý", "06": "Hoàn thành", "13": "Đề nghị thu hồi", "15": "Đồng ý thu hồi",
               "16": "Từ chối thu hồi"}


class Business(IntEnum):
    """BussinessDocType: what a package does to the document it carries."""

    NEW = 0
    REVOKE = 1
    UPDATE = 2
    REPLACE = 3


class EdxmlError(ValueError):
    """A package or status message that cannot be accepted; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Organ:
    organ_id: str
    name: str = ""


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    content_type: str = "application/pdf"
    description: str = ""
    content_id: str = field(default_factory=lambda: f"cid:{uuid.uuid4()}")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Trace:
    organ_id: str
    timestamp: datetime


@dataclass(frozen=True)
class Package:
    """One document sent to other agencies (MessageHeader + TraceHeaderList + attachments)."""

    message_id: str
    sender: Organ
    to: tuple[Organ, ...]
    code_number: str
    code_notation: str
    promulgation_place: str
    promulgation_date: date
    type_code: str
    type_name: str
    subject: str
    signer_competence: str = ""
    signer_position: str = ""
    signer_name: str = ""
    due_date: date | None = None
    to_places: tuple[str, ...] = ()
    priority: int = 0
    page_amount: int | None = None
    steering_type: int = 0
    business: Business = Business.NEW
    business_reason: str = ""
    #: REPLACE: the DocumentId of the document this one replaces (Bussiness/BussinessReplacementInfoList).
    #: An UPDATE keeps the number, notation and date, so its own DocumentId names the document it corrects.
    replaces: str = ""
    traces: tuple[Trace, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def document_id(self) -> str:
        return document_id(self.sender.organ_id, self.promulgation_date, self.code_number, self.code_notation)


@dataclass(frozen=True)
class StatusMessage:
    """The receiver's answer about a document (01 arrived … 16 recall refused)."""

    message_id: str
    sender: Organ  # who answers
    to: Organ  # the original sender
    response_document_id: str
    status_code: str
    description: str = ""
    timestamp: datetime = field(default_factory=lambda: datetime.now(VN))
    staff: str = ""


def document_id(organ_id: str, day: date, code_number: str, code_notation: str) -> str:
    """"<sender OrganId>,<yyyy/MM/dd>,<số/ký hiệu>" (how status messages point at a document)."""
    return f"{organ_id},{day:%Y/%m/%d},{code_number}/{code_notation}"


def new_message_id() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------- build
def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(tag))
    if text is not None:
        el.text = text
    return el


def _organ(parent: etree._Element, tag: str, organ: Organ) -> None:
    el = _sub(parent, tag)
    _sub(el, "OrganId", organ.organ_id)
    _sub(el, "OrganName", organ.name)


def _envelope() -> tuple[etree._Element, etree._Element, etree._Element]:
    root = etree.Element(_q("edXML"), nsmap={PREFIX: NS})
    envelope = _sub(root, "edXMLEnvelope")
    header = _sub(envelope, "edXMLHeader")
    body = _sub(envelope, "edXMLBody")
    return root, header, body


def build_package(p: Package) -> bytes:
    """The edXML bytes of a package (UTF-8, with the XML declaration)."""
    if not p.to:
        raise EdxmlError("a package names at least one recipient")
    root, header, body = _envelope()
    mh = _sub(header, "MessageHeader")
    _sub(mh, "MessageId", p.message_id)
    _organ(mh, "From", p.sender)
    for organ in p.to:
        _organ(mh, "To", organ)
    code = _sub(mh, "Code")
    _sub(code, "CodeNumber", p.code_number)
    _sub(code, "CodeNotation", p.code_notation)
    promulgation = _sub(mh, "PromulgationInfo")
    _sub(promulgation, "Place", p.promulgation_place)
    _sub(promulgation, "PromulgationDate", p.promulgation_date.isoformat())
    doc_type = _sub(mh, "DocumentType")
    _sub(doc_type, "Type", p.type_code)
    _sub(doc_type, "TypeName", p.type_name)
    _sub(mh, "Subject", p.subject)
    signer = _sub(mh, "SignerInfo")
    _sub(signer, "Competence", p.signer_competence)
    _sub(signer, "Position", p.signer_position)
    _sub(signer, "FullName", p.signer_name)
    if p.due_date:
        _sub(mh, "DueDate", p.due_date.isoformat())
    places = _sub(mh, "ToPlaces")
    for place in p.to_places:
        _sub(places, "Place", place)
    other = _sub(mh, "OtherInfo")
    _sub(other, "Priority", str(p.priority))
    if p.page_amount is not None:
        _sub(other, "PageAmount", str(p.page_amount))
    _sub(mh, "SteeringType", str(p.steering_type))
    _sub(mh, "DocumentId", p.document_id)
    traces = _sub(header, "TraceHeaderList")
    for t in p.traces:
        th = _sub(traces, "TraceHeader")
        _sub(th, "OrganId", t.organ_id)
        _sub(th, "Timestamp", t.timestamp.astimezone(VN).isoformat(timespec="seconds"))
    business = _sub(traces, "Bussiness")
    _sub(business, "BussinessDocType", str(int(p.business)))
    _sub(business, "BussinessDocReason", p.business_reason)
    if p.business == Business.REPLACE:
        if not p.replaces:
            raise EdxmlError("a replacing document names the DocumentId it replaces")
        info = _sub(_sub(business, "BussinessReplacementInfoList"), "ReplacementInfo")
        _sub(info, "DocumentId", p.replaces)
        organs = _sub(info, "OrganIdList")
        for organ in p.to:
            _sub(organs, "OrganId", organ.organ_id)
    manifest = _sub(body, "edXMLManifest")
    encoded = _sub(root, "AttachmentEncoded")
    for a in p.attachments:
        ref = _sub(manifest, "Reference")
        _sub(ref, "ContentId", a.content_id)
        _sub(ref, "ContentType", a.content_type)
        _sub(ref, "AttachmentName", a.name)
        _sub(ref, "Description", a.description)
        _sub(ref, "SHA256", a.sha256)
        _sub(ref, "Size", str(len(a.data)))
        att = _sub(encoded, "Attachment")
        _sub(att, "ContentId", a.content_id)
        _sub(att, "Content", base64.b64encode(a.data).decode("ascii"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_status(m: StatusMessage) -> bytes:
    if m.status_code not in STATUS_TEXT:
        raise EdxmlError(f"unknown status code {m.status_code!r}")
    if m.status_code in ("02", "16") and not m.description.strip():
        raise EdxmlError(f"status {m.status_code} needs a reason")
    root, header, _ = _envelope()
    st = _sub(header, "Status")
    _sub(st, "MessageId", m.message_id)
    rf = _sub(st, "ResponseFor")
    _sub(rf, "OrganId", m.to.organ_id)
    _sub(rf, "DocumentId", m.response_document_id)
    _organ(st, "From", m.sender)
    _sub(st, "StatusCode", m.status_code)
    _sub(st, "Description", m.description)
    _sub(st, "Timestamp", m.timestamp.astimezone(VN).isoformat(timespec="seconds"))
    staff = _sub(st, "StaffInfo")
    _sub(staff, "Staff", m.staff)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------- the header's XML signature
#: Where the enveloped XML-DSig sits: the last child of edXMLHeader (QCVN 102: MessageHeader,
#: TraceHeaderList, Signature). It covers the whole document (Reference URI=""): the header, the
#: manifest with each attachment's SHA-256, and the attachments themselves.
SIGNATURE_PARENT = f"{{{NS}}}edXMLEnvelope/{{{NS}}}edXMLHeader"


def sign_header(data: bytes, key: KeySource) -> bytes:
    """The package or status message ``data`` (as built here) with its enveloped XML signature,
    made with ``key`` (the sending organisation's)."""
    root = etree.fromstring(data, parser=_parser())
    sign_enveloped(root, key, SIGNATURE_PARENT)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def verify_header(data: bytes, certificate_der: bytes, *, max_bytes: int = MAX_PACKAGE_BYTES) -> XmlDsigVerdict:
    """The verdict on the XML signature of ``data`` (parsed as safely as any package), which must be
    made with the certificate that made the package's CMS signature."""
    from cryptography import x509
    root = _parse_root(data, max_bytes)
    return verify_enveloped(root, x509.load_der_x509_certificate(certificate_der), SIGNATURE_PARENT)


# ---------------------------------------------------------------- parse
def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True)


def _parse_root(data: bytes, max_bytes: int) -> etree._Element:
    if len(data) > max_bytes:
        raise EdxmlError(f"the package is larger than {max_bytes} bytes")
    if not data.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        raise EdxmlError("not UTF-8 XML")
    if _DTD.search(data[:65536]):  # refused before parsing; the parsed DOCTYPE check below is the second layer
        raise EdxmlError("a DOCTYPE or entity declaration is not allowed in an edXML package")
    try:
        tree = etree.fromstring(data, parser=_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise EdxmlError(f"not well-formed XML: {str(exc)[:200]}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise EdxmlError("a DOCTYPE is not allowed in an edXML package")
    root = tree.getroot()
    if root.tag != _q("edXML"):
        raise EdxmlError(f"the root element is {root.tag!r}, expected edXML in the namespace {NS}")
    return root


def _find(parent: etree._Element, path: str, what: str) -> etree._Element:
    el = parent.find(path, {"e": NS})
    if el is None:
        raise EdxmlError(f"{what} is missing")
    return el


def _text(parent: etree._Element, path: str, what: str, *, required: bool = True, limit: int = 500) -> str:
    el = parent.find(path, {"e": NS})
    value = (el.text or "").strip() if el is not None else ""
    if required and not value:
        raise EdxmlError(f"{what} is missing")
    if len(value) > limit:
        raise EdxmlError(f"{what} is longer than {limit} characters")
    return value


def _organ_of(parent: etree._Element, path: str, what: str) -> Organ:
    el = _find(parent, path, what)
    organ_id = _text(el, "e:OrganId", f"{what}/OrganId", limit=13)
    if not ORGAN_ID.match(organ_id):
        raise EdxmlError(f"{what}/OrganId {organ_id!r} is not a 13-character agency code")
    return Organ(organ_id, _text(el, "e:OrganName", f"{what}/OrganName", required=False, limit=200))


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise EdxmlError(f"{what} {value[:40]!r} is not a date (YYYY-MM-DD)") from None


def _int(value: str, what: str, low: int, high: int) -> int:
    try:
        n = int(value)
    except ValueError:
        raise EdxmlError(f"{what} {value[:20]!r} is not a number") from None
    if not low <= n <= high:
        raise EdxmlError(f"{what} is outside {low}..{high}")
    return n


def _timestamp(value: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise EdxmlError(f"{what} {value[:40]!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=VN)


def kind_of(data: bytes, *, max_bytes: int = MAX_PACKAGE_BYTES) -> str:
    """'package' or 'status' (raises EdxmlError for anything else)."""
    header = _find(_find(_parse_root(data, max_bytes), "e:edXMLEnvelope", "edXMLEnvelope"), "e:edXMLHeader",
                   "edXMLHeader")
    if header.find("e:MessageHeader", {"e": NS}) is not None:
        return "package"
    if header.find("e:Status", {"e": NS}) is not None:
        return "status"
    raise EdxmlError("the header holds neither a MessageHeader nor a Status")


def addressees(data: bytes) -> tuple[str, ...]:
    """Whom a message is for, read as safely as any package: a package's To, a status's
    ResponseFor/OrganId (the original sender). Empty when it cannot be read (the service then
    refuses it with the reason)."""
    try:
        header = _find(_find(_parse_root(data, MAX_PACKAGE_BYTES), "e:edXMLEnvelope", "edXMLEnvelope"),
                       "e:edXMLHeader", "edXMLHeader")
    except EdxmlError:
        return ()
    found = header.findall("e:MessageHeader/e:To/e:OrganId", {"e": NS}) \
        + header.findall("e:Status/e:ResponseFor/e:OrganId", {"e": NS})
    return tuple((el.text or "").strip() for el in found)


def parse_package(data: bytes, *, max_bytes: int = MAX_PACKAGE_BYTES,
                  max_attachment_bytes: int = MAX_ATTACHMENT_BYTES) -> Package:
    root = _parse_root(data, max_bytes)
    envelope = _find(root, "e:edXMLEnvelope", "edXMLEnvelope")
    header = _find(envelope, "e:edXMLHeader", "edXMLHeader")
    mh = _find(header, "e:MessageHeader", "MessageHeader")
    message_id = _text(mh, "e:MessageId", "MessageId", limit=64)
    sender = _organ_of(mh, "e:From", "From")
    to = tuple(_organ_of(el, ".", "To") for el in mh.findall("e:To", {"e": NS}))
    if not to:
        raise EdxmlError("To is missing")
    code_number = _text(mh, "e:Code/e:CodeNumber", "Code/CodeNumber", limit=11)
    code_notation = _text(mh, "e:Code/e:CodeNotation", "Code/CodeNotation", limit=30)
    promulgation_date = _date(_text(mh, "e:PromulgationInfo/e:PromulgationDate", "PromulgationInfo/PromulgationDate"),
                              "PromulgationDate")
    due = _text(mh, "e:DueDate", "DueDate", required=False)
    priority = _text(mh, "e:OtherInfo/e:Priority", "OtherInfo/Priority", required=False) or "0"
    pages = _text(mh, "e:OtherInfo/e:PageAmount", "OtherInfo/PageAmount", required=False)
    traces_el = _find(header, "e:TraceHeaderList", "TraceHeaderList")
    traces = tuple(Trace(_text(t, "e:OrganId", "TraceHeader/OrganId", limit=13),
                         _timestamp(_text(t, "e:Timestamp", "TraceHeader/Timestamp", limit=40),
                                    "TraceHeader/Timestamp"))
                   for t in traces_el.findall("e:TraceHeader", {"e": NS}))
    business = _int(_text(traces_el, "e:Bussiness/e:BussinessDocType", "Bussiness/BussinessDocType"),
                    "BussinessDocType", 0, 3)
    attachments = _attachments(root, envelope, max_attachment_bytes)
    package = Package(
        message_id=message_id, sender=sender, to=to, code_number=code_number, code_notation=code_notation,
        promulgation_place=_text(mh, "e:PromulgationInfo/e:Place", "PromulgationInfo/Place", required=False, limit=200),
        promulgation_date=promulgation_date,
        type_code=_text(mh, "e:DocumentType/e:Type", "DocumentType/Type", required=False, limit=10),
        type_name=_text(mh, "e:DocumentType/e:TypeName", "DocumentType/TypeName", required=False, limit=100),
        subject=_text(mh, "e:Subject", "Subject"),
        signer_competence=_text(mh, "e:SignerInfo/e:Competence", "SignerInfo/Competence", required=False, limit=20),
        signer_position=_text(mh, "e:SignerInfo/e:Position", "SignerInfo/Position", required=False, limit=200),
        signer_name=_text(mh, "e:SignerInfo/e:FullName", "SignerInfo/FullName", required=False, limit=200),
        due_date=_date(due, "DueDate") if due else None,
        to_places=tuple((el.text or "").strip()[:200] for el in mh.findall("e:ToPlaces/e:Place", {"e": NS})),
        priority=_int(priority, "Priority", 0, 3), page_amount=_int(pages, "PageAmount", 0, 100000) if pages else None,
        steering_type=_int(_text(mh, "e:SteeringType", "SteeringType", required=False) or "0", "SteeringType", 0, 9),
        business=Business(business),
        replaces=_text(traces_el, "e:Bussiness/e:BussinessReplacementInfoList/e:ReplacementInfo/e:DocumentId",
                       "ReplacementInfo/DocumentId", required=business == Business.REPLACE, limit=100),
        business_reason=_text(traces_el, "e:Bussiness/e:BussinessDocReason", "BussinessDocReason", required=False,
                              limit=2000),
        traces=traces, attachments=attachments)
    declared = _text(mh, "e:DocumentId", "DocumentId", limit=100)
    if declared != package.document_id:
        raise EdxmlError(f"DocumentId {declared!r} does not match From, PromulgationDate and Code")
    if package.business in (Business.NEW, Business.UPDATE, Business.REPLACE) and not attachments:
        raise EdxmlError("a new, updated or replacing document carries its file")
    return package


def _attachments(root: etree._Element, envelope: etree._Element, max_bytes: int) -> tuple[Attachment, ...]:
    refs = _find(_find(envelope, "e:edXMLBody", "edXMLBody"), "e:edXMLManifest", "edXMLManifest") \
        .findall("e:Reference", {"e": NS})
    if len(refs) > MAX_ATTACHMENTS:
        raise EdxmlError(f"more than {MAX_ATTACHMENTS} attachments")
    encoded = root.find("e:AttachmentEncoded", {"e": NS})
    contents: dict[str, etree._Element] = {}
    if encoded is not None:
        for att in encoded.findall("e:Attachment", {"e": NS}):
            cid = _text(att, "e:ContentId", "Attachment/ContentId", limit=100)
            if cid in contents:
                raise EdxmlError(f"attachment {cid} appears twice")
            contents[cid] = att
    out = []
    for ref in refs:
        cid = _text(ref, "e:ContentId", "Reference/ContentId", limit=100)
        name = _text(ref, "e:AttachmentName", "Reference/AttachmentName", limit=255)
        declared_sha = _text(ref, "e:SHA256", f"SHA256 of {name}", limit=64).lower()
        listed = contents.pop(cid, None)
        if listed is None:
            raise EdxmlError(f"the content of attachment {name!r} ({cid}) is missing")
        content = _find(listed, "e:Content", f"Content of {name}").text or ""
        if len(content) > (max_bytes * 4) // 3 + 8:
            raise EdxmlError(f"attachment {name!r} is larger than {max_bytes} bytes")
        try:
            data = base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            raise EdxmlError(f"attachment {name!r} is not valid base64") from None
        if hashlib.sha256(data).hexdigest() != declared_sha:
            raise EdxmlError(f"attachment {name!r} does not match its SHA-256 in the manifest")
        out.append(Attachment(name=name, data=data,
                              content_type=_text(ref, "e:ContentType", "ContentType", required=False, limit=100)
                              or "application/octet-stream",
                              description=_text(ref, "e:Description", "Description", required=False, limit=500),
                              content_id=cid))
    if contents:
        raise EdxmlError("an attachment is not listed in the manifest")
    return tuple(out)


def parse_status(data: bytes, *, max_bytes: int = 1024 * 1024) -> StatusMessage:
    root = _parse_root(data, max_bytes)
    header = _find(_find(root, "e:edXMLEnvelope", "edXMLEnvelope"), "e:edXMLHeader", "edXMLHeader")
    st = _find(header, "e:Status", "Status")
    code = _text(st, "e:StatusCode", "StatusCode", limit=2)
    if code not in STATUS_TEXT:
        raise EdxmlError(f"unknown status code {code!r}")
    description = _text(st, "e:Description", "Description", required=False, limit=2000)
    if code in ("02", "16") and not description:
        raise EdxmlError(f"status {code} needs a reason in Description")
    rf = _find(st, "e:ResponseFor", "ResponseFor")
    to_id = _text(rf, "e:OrganId", "ResponseFor/OrganId", limit=13)
    if not ORGAN_ID.match(to_id):
        raise EdxmlError(f"ResponseFor/OrganId {to_id!r} is not a 13-character agency code")
    return StatusMessage(message_id=_text(st, "e:MessageId", "MessageId", limit=64),
                         sender=_organ_of(st, "e:From", "From"), to=Organ(to_id),
                         response_document_id=_text(rf, "e:DocumentId", "ResponseFor/DocumentId", limit=100),
                         status_code=code, description=description,
                         timestamp=_timestamp(_text(st, "e:Timestamp", "Timestamp", limit=40), "Timestamp"),
                         staff=_text(st, "e:StaffInfo/e:Staff", "StaffInfo/Staff", required=False, limit=200))
