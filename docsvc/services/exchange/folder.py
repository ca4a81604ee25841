"""Folder transport: a shared folder on an isolated LAN, or removable media carried by hand.

Layout: ``<root>/<recipient OrganId>/<time>_<message id>.xml`` with its detached CMS signature
beside it (``.p7s``). Both are written under ``<root>/.incomplete`` and renamed into place,
signature first, so a reader never sees half a package. Reading takes files in name order (the
time prefix keeps a sender's messages in order) and deletes them after they were handled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from docsvc.services.exchange.edxml import ORGAN_ID
from docsvc.services.exchange.transport import Envelope, Receipt, TransportError

log = logging.getLogger("docsvc.exchange.folder")

_NAME = re.compile(r"^(\d{20})_([A-Za-z0-9-]{1,64})\.xml$")
MAX_FILE_BYTES = 48 * 1024 * 1024


class FolderTransport:
    name = "folder"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def send(self, envelope: Envelope) -> Receipt:
        if not ORGAN_ID.match(envelope.to_organ_id):
            raise TransportError(f"{envelope.to_organ_id!r} is not an agency code", permanent=True)
        if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", envelope.message_id):
            raise TransportError("the message id has characters a file name cannot hold", permanent=True)
        try:
            target = self.root / envelope.to_organ_id
            target.mkdir(parents=True, exist_ok=True)
            staging = self.root / ".incomplete"
            staging.mkdir(parents=True, exist_ok=True)
            stem = f"{time.time_ns():020d}_{envelope.message_id}"
            if envelope.signature is not None:
                self._place(staging, target, f"{stem}.p7s", envelope.signature)
            self._place(staging, target, f"{stem}.xml", envelope.body)
        except OSError as exc:
            raise TransportError(f"cannot write to the exchange folder {self.root}: {exc.strerror or exc}") from exc
        return Receipt(self.name, str(target / f"{stem}.xml"))

    @staticmethod
    def _place(staging: Path, target: Path, name: str, data: bytes) -> None:
        tmp = staging / f"{uuid.uuid4().hex}.part"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target / name)

    def receive(self, organ_ids: Iterable[str], handle: Callable[[Envelope, str], object], *, limit: int = 100) -> int:
        handled = 0
        for organ_id in organ_ids:
            if not ORGAN_ID.match(organ_id):
                continue
            folder = self.root / organ_id
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.xml")):
                if handled >= limit:
                    return handled
                m = _NAME.match(path.name)
                message_id = f"file-{uuid.uuid5(uuid.NAMESPACE_URL, str(path))}" if m is None else m.group(2)
                sig_path = path.with_suffix(".p7s")
                try:
                    if path.stat().st_size > MAX_FILE_BYTES:
                        body = path.read_bytes()[:MAX_FILE_BYTES + 1]  # enough to be refused as too large
                    else:
                        body = path.read_bytes()
                    signature = sig_path.read_bytes()[:1024 * 1024] if sig_path.is_file() else None
                except OSError as exc:
                    log.warning("cannot read %s: %s", path, exc)
                    continue
                handle(Envelope(message_id=message_id, to_organ_id=organ_id, body=body, signature=signature),
                       self.name)
                for p in (path, sig_path):
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                handled += 1
        return handled

    def close(self) -> None:
        return None
