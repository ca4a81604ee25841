"""Active content in a PDF: what a viewer may run or open on its own (issue 14 §8).

:func:`scan` walks every object reachable from the trailer (the catalog, pages, annotations,
form fields, outlines, name trees) without decoding any stream, and names what it finds:

- ``javascript``: a JavaScript action (``/S /JavaScript``, a ``/JS`` entry) or a document-level
  JavaScript name tree (``/Names /JavaScript``), wherever it hangs (open action, annotation,
  field, page, outline);
- ``launch``: a Launch action (``/S /Launch``: start a program or open a file);
- ``automatic_actions``: additional actions (``/AA``) that fire on open, close, page or field
  events, or an ``/OpenAction`` that is an action (not just a destination);
- ``embedded_executable``: an embedded file or file attachment whose name or declared type is a
  program or script (``.exe``, ``.js``, ``.bat``, ``application/x-msdownload`` …);
- ``embedded_file``: any other embedded file or file attachment;
- ``rich_media``: Flash/3D/video annotations (``/RichMedia``, ``/Movie``, ``/Sound``, ``/3D``);
- ``xfa``: an XFA form (``/AcroForm /XFA``), which may carry scripts of its own.

The file is stored unchanged (it may be a signed original: changing a byte breaks its
signatures); the flags are kept with the file, shown by the API and the page, and the content is
served only as a download (``Content-Disposition: attachment``), never inline in the browser.
"""

from __future__ import annotations

import logging
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

log = logging.getLogger("docsvc.uploads")

KINDS = ("javascript", "launch", "automatic_actions", "embedded_executable", "embedded_file", "rich_media", "xfa")
MAX_OBJECTS = 200_000  # a scan touches at most this many objects (a hostile file cannot make it endless)

EXECUTABLE_SUFFIXES = frozenset({
    "exe", "com", "scr", "pif", "bat", "cmd", "msi", "msp", "dll", "cpl", "sys", "js", "jse", "vbs", "vbe", "wsf",
    "wsh", "hta", "ps1", "psm1", "lnk", "jar", "sh", "bash", "py", "pl", "rb", "app", "apk", "elf", "bin", "run",
    "reg", "inf", "docm", "xlsm", "pptm", "iso", "img"})
EXECUTABLE_TYPES = ("application/x-msdownload", "application/x-msdos-program", "application/x-executable",
                    "application/x-sh", "application/x-elf", "application/javascript", "application/x-javascript",
                    "text/javascript", "application/java-archive", "application/x-ms-installer",
                    "application/vnd.microsoft.portable-executable", "application/x-dosexec", "application/hta",
                    "application/x-bat", "application/vnd.ms-word.document.macroenabled",
                    "application/vnd.ms-excel.sheet.macroenabled")
_MEDIA_SUBTYPES = frozenset({"/RichMedia", "/Movie", "/Sound", "/3D", "/Screen"})


def scan(reader: PdfReader) -> list[str]:
    """The kinds of active content in the document (in :data:`KINDS` order; empty when none)."""
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    touched = 0
    while stack and touched < MAX_OBJECTS:
        obj = stack.pop()
        touched += 1
        try:
            if isinstance(obj, IndirectObject):
                ref = (obj.idnum, obj.generation)
                if ref in seen:
                    continue
                seen.add(ref)
                obj = obj.get_object()
            if isinstance(obj, DictionaryObject):  # streams are dictionaries too: their data is not read
                _judge(obj, found)
                stack.extend(obj.values())
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
        except Exception as exc:  # noqa: BLE001 - a broken object is skipped, it cannot be run either
            log.debug("active-content scan skipped an object: %s: %s", type(exc).__name__, exc)
    if stack:
        log.info("active-content scan stopped after %d objects", MAX_OBJECTS)
    return [k for k in KINDS if k in found]


def _judge(d: DictionaryObject, found: set[str]) -> None:
    action = d.get("/S")
    if "/JS" in d or action == "/JavaScript" or "/JavaScript" in d:  # the last: the document's JS name tree
        found.add("javascript")
    if action == "/Launch":
        found.add("launch")
    if "/AA" in d or _is_action(d.get("/OpenAction")):
        found.add("automatic_actions")
    if "/XFA" in d:
        found.add("xfa")
    if d.get("/Subtype") in _MEDIA_SUBTYPES or "/RichMediaContent" in d:
        found.add("rich_media")
    if "/EF" in d:  # a file specification with the file inside
        found.add("embedded_executable" if _is_executable(d) else "embedded_file")
    if d.get("/Subtype") == "/FileAttachment":
        found.add("embedded_executable" if _is_executable(_resolve(d.get("/FS"))) else "embedded_file")


def _is_action(value: Any) -> bool:
    """An action that runs by itself (an open action that only shows a page is not one)."""
    value = _resolve(value)
    return isinstance(value, DictionaryObject) and "/S" in value and value.get("/S") != "/GoTo"


def _is_executable(spec: Any) -> bool:
    """A file specification (dictionary or bare file name) naming or typing a program or script."""
    if not isinstance(spec, DictionaryObject):
        return _executable_name(str(spec or ""))
    if any(_executable_name(str(_resolve(spec.get(k)) or "")) for k in ("/UF", "/F", "/DOS", "/Unix", "/Mac")):
        return True
    ef = _resolve(spec.get("/EF"))
    for stream in (_resolve(v) for v in ef.values()) if isinstance(ef, DictionaryObject) else ():
        mime = _mime(_resolve(stream.get("/Subtype"))) if isinstance(stream, DictionaryObject) else None
        if mime and mime.startswith(EXECUTABLE_TYPES):
            return True
    return False


def _executable_name(name: str) -> bool:
    return "." in name and name.rsplit(".", 1)[-1].strip().lower() in EXECUTABLE_SUFFIXES


def _mime(subtype: Any) -> str | None:
    """A ``/Subtype`` name of an embedded file stream as a MIME type (``/application#2Fx-msdownload``)."""
    if not isinstance(subtype, NameObject):
        return None
    return str(subtype)[1:].replace("#2F", "/").replace("#2f", "/").lower()


def _resolve(value: Any) -> Any:
    try:
        return value.get_object() if isinstance(value, IndirectObject) else value
    except Exception:  # noqa: BLE001 - a dangling reference
        return None
