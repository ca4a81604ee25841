"""Attacks on the audit log (issue 14 §7) against the keyed chain and the signed checkpoints.

The attacker here holds the database (drops the append-only triggers, rewrites rows, moves the
head) and in some tests the HMAC audit key too; what they cannot do is sign as the service's
checkpoint key or rewrite an object under compliance retention. Each test runs on the local
object folder and, when DOCSVC_S3_ENDPOINT is set, on S3 (Object Lock)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from docsvc.db.models import AuditCheckpoint, AuditEvent, AuditHead
from docsvc.services import audit
from docsvc.services.audit_checkpoints import PREFIX, ChainBroken, object_name
from tests.api.test_audit import _events
from tests.conftest import HAS_REAL_S3, real_backend_overrides


@pytest.fixture(params=["local-store", pytest.param("s3-store", marks=[
    pytest.mark.real_backend, pytest.mark.skipif(not HAS_REAL_S3, reason="DOCSVC_S3_ENDPOINT is not set")])])
def settings_overrides(request: pytest.FixtureRequest, backend: str) -> dict[str, Any]:
    if request.param == "s3-store" and backend != "real":
        return {k: v for k, v in real_backend_overrides().items() if k.startswith(("storage_url", "s3_"))}
    if request.param == "s3-store":
        pytest.skip("the real backend already runs on S3")
    return {}


def _drop_guards(container: Any) -> None:
    """The append-only triggers dropped, as a database owner can (idempotent)."""
    with container.db.engine.begin() as conn:
        if container.db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))


def _cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSVC_")}
    for name in ("database_url", "data_dir", "storage_url", "s3_endpoint", "s3_access_key", "s3_secret_key",
                 "s3_region", "ca_passphrase", "public_url"):
        value = getattr(settings, name)
        if value:
            env[settings.env_name(name)] = str(value)
    return subprocess.run([sys.executable, "-m", "docsvc", "audit", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _rewrite(container: Any, from_seq: int, edit: Callable[[AuditEvent], None],
             rehash: Callable[[AuditEvent], None]) -> None:
    """Edit row ``from_seq``, relink and rehash it and every later row, and move the head."""
    _drop_guards(container)
    with container.db.write() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        prev = rows[from_seq - 2].hash if from_seq > 1 else audit.GENESIS_HASH
        for ev in rows[from_seq - 1:]:
            if ev.seq == from_seq:
                edit(ev)
            ev.prev_hash = prev
            rehash(ev)
            prev = ev.hash
        s.get(AuditHead, 1).last_hash = prev


def _plain_sha256(ev: AuditEvent) -> None:
    """The old attack: the project's own (unkeyed) hash function."""
    ev.key_id = None
    ev.hash = audit.legacy_event_hash(ev)


def _with_key(container: Any) -> Callable[[AuditEvent], None]:
    """An attacker who also stole DOCSVC_AUDIT_KEY."""
    def rehash(ev: AuditEvent) -> None:
        ev.hash = audit.keyed_event_hash(ev, container.audit_keys.keys[ev.key_id])
    return rehash


def _deny(ev: AuditEvent) -> None:
    ev.outcome = "denied"


def _kinds(result: Any) -> list[str]:
    return [p.kind for p in result.report.problems]


def test_intact_log_with_checkpoints(container: Any, settings: Any) -> None:
    _events(container, 5)
    first = container.audit_checkpoints.create()
    assert first is not None and (first.seq, first.count, first.legacy_until) == (5, 5, 0)
    assert container.audit_checkpoints.create() is None  # the head has not moved
    _events(container, 3)
    with container.db.read() as s:
        assert [e.key_id for e in s.execute(select(AuditEvent)).scalars()] == [container.audit_keys.active] * 8
    stored = container.store.get_named(object_name(5))
    assert stored.info.retention_mode.value == "compliance"
    assert stored.info.retain_until.year >= first.time.year + 10  # DOCSVC_AUDIT_CHECKPOINT_RETENTION_YEARS

    report = container.audit_checkpoints.verify().to_dict()
    assert report["status"] == "intact" and report["checked"] == 8 and report["checkpoints"] == 1
    assert report["anchored_to"] == 5 and report["keyed_chain_only"] == {"first_seq": 6, "last_seq": 8}
    text = _cli(settings, "verify")
    assert text.returncode == 0, text.stdout + text.stderr
    assert "the latest covers rows 1-5" in text.stdout
    assert "rows 6-8 are after the latest checkpoint: verified by the keyed chain only" in text.stdout
    assert "audit log intact: 8 events verified" in text.stdout


def test_plain_sha256_recompute_is_detected(container: Any) -> None:
    """The attack of the report: edit a row and recompute every later hash with SHA-256."""
    _events(container, 6)
    _rewrite(container, 3, _deny, _plain_sha256)
    result = container.audit_checkpoints.verify()
    first = result.report.problems[0]
    assert (first.kind, first.first_seq) == ("legacy_after_switch", 3), result.report.problems
    assert "row 3: unkeyed SHA-256 hash where the keyed chain had begun (at row 1)" in first.message


def test_plain_sha256_rewrite_of_the_whole_log_is_caught_by_the_checkpoint(container: Any) -> None:
    """Rewriting every row as 'legacy' leaves no keyed row to compare with: the checkpoint, which
    recorded that no legacy row exists, names row 1, and its head hash no longer matches."""
    _events(container, 4)
    container.audit_checkpoints.create()
    _rewrite(container, 1, _deny, _plain_sha256)
    result = container.audit_checkpoints.verify()
    assert ("legacy_after_switch", 1) in [(p.kind, p.first_seq) for p in result.report.problems]
    assert "checkpoint_mismatch" in _kinds(result)


def test_rewrite_with_the_stolen_key_is_caught_by_the_checkpoint(container: Any) -> None:
    _events(container, 5)
    container.audit_checkpoints.create()
    _events(container, 3)
    _rewrite(container, 3, _deny, _with_key(container))
    with container.db.read() as s:  # the keyed chain alone is consistent again
        assert audit.verify(s, container.audit_keys).ok
    result = container.audit_checkpoints.verify()
    assert _kinds(result) == ["rewritten", "checkpoint_mismatch"]
    named, summary = result.report.problems
    assert (named.first_seq, named.last_seq) == (3, 3)  # the checkpoint recorded each row's hash
    assert named.message.startswith("row 3: rewritten (hash differs from the one the signed checkpoint of ")
    assert (summary.first_seq, summary.last_seq) == (1, 5)
    assert summary.message.startswith("rows 1-5: do not match the signed checkpoint of ")
    with pytest.raises(ChainBroken, match="row 5 no longer matches the signed checkpoint"):
        container.audit_checkpoints.create()  # a rewritten chain is never anchored


def test_rewrite_with_the_key_after_the_latest_checkpoint_is_not_detected(container: Any) -> None:
    """The documented limit: rows after the latest checkpoint rest on the keyed chain alone."""
    _events(container, 4)
    container.audit_checkpoints.create()
    _events(container, 3)
    _rewrite(container, 6, _deny, _with_key(container))
    result = container.audit_checkpoints.verify()
    assert result.ok and result.unanchored == (5, 7)


def test_cut_tail_is_named(container: Any, settings: Any) -> None:
    _events(container, 8)
    container.audit_checkpoints.create()
    _drop_guards(container)
    with container.db.write() as s:  # delete the last rows and move the head back
        s.execute(delete(AuditEvent).where(AuditEvent.seq > 5))
        head = s.get(AuditHead, 1)
        head.last_seq, head.last_hash = 5, s.get(AuditEvent, 5).hash
    with container.db.read() as s:
        assert audit.verify(s, container.audit_keys).ok  # invisible to the chain alone
    cli = _cli(settings, "verify", "--json")
    assert cli.returncode == 1
    report = json.loads(cli.stdout)
    assert report["status"] == "tampered"
    assert [(p["kind"], p["first_seq"], p["last_seq"]) for p in report["problems"]] == [("cut_tail", 6, 8)]
    assert report["problems"][0]["message"].startswith(
        "cut tail: rows 6-8 missing (the log ends at row 5; the signed checkpoint of ")


def _envelope(container: Any, seq: int) -> dict[str, Any]:
    return json.loads(container.store.get_named(object_name(seq)).data)


def test_modified_checkpoint_is_rejected(container: Any) -> None:
    """A copy of a real checkpoint with a changed head (the signature kept) fails its signature."""
    _events(container, 3)
    container.audit_checkpoints.create()
    _events(container, 2)
    envelope = _envelope(container, 3)
    body = json.loads(envelope["checkpoint"])
    forged = {**body, "seq": 5, "count": 5, "head_hash": "f" * 64}
    envelope["checkpoint"] = json.dumps(forged, sort_keys=True, separators=(",", ":"))
    container.store.put_named(object_name(5), json.dumps(envelope).encode(), retain_until=_later())
    result = container.audit_checkpoints.verify()
    problem = result.report.problems[0]
    assert problem.kind == "checkpoint_invalid" and problem.first_seq == 5
    assert "signature check failed" in problem.message
    assert [c.seq for c in result.checkpoints] == [3]  # the forgery anchors nothing


def test_checkpoint_signed_by_another_key_is_rejected(container: Any) -> None:
    """Signed and time-stamped for real, by a certificate of the same CA that is not the
    service's checkpoint key (e.g. a user's signing key)."""
    from signing.detached import sign_detached
    from signing.keys import Pkcs12KeySource
    _events(container, 4)
    with container.db.read() as s:
        head = s.get(AuditHead, 1)
    p12, _ = container.signatures.ca.issue_pkcs12("user", "Mallory", "123456")
    body = {"format": "docsvc-audit-checkpoint/1", "seq": 4, "head_hash": head.last_hash, "count": 4,
            "time": _now().isoformat(timespec="seconds"), "legacy_until": 0, "previous": None}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    signature = sign_detached(payload, Pkcs12KeySource(p12, "123456"), timestamper=container.settings.effective_tsa_url,
                              trust=container.signatures.trust)
    envelope = {"checkpoint": payload.decode(), "cms": base64.b64encode(signature).decode()}
    container.store.put_named(object_name(4), json.dumps(envelope).encode(), retain_until=_later())
    result = container.audit_checkpoints.verify()
    assert _kinds(result) == ["checkpoint_invalid"]
    assert "not by the service's checkpoint key" in result.report.problems[0].message


def test_checkpoints_are_found_in_the_store_not_in_the_database(container: Any) -> None:
    """Deleting the database's checkpoint rows hides nothing; a row whose object is gone is named;
    a bogus row does not make the next checkpoint start from the wrong place."""
    _events(container, 6)
    container.audit_checkpoints.create()
    _drop_guards(container)
    with container.db.write() as s:
        s.execute(delete(AuditCheckpoint))
        s.execute(delete(AuditEvent).where(AuditEvent.seq > 4))
        head = s.get(AuditHead, 1)
        head.last_seq, head.last_hash = 4, s.get(AuditEvent, 4).hash
        s.add(AuditCheckpoint(seq=2, head_hash="0" * 64, count=2, created_at=_now(), object_name=object_name(2),
                              sha256="0" * 64))
    result = container.audit_checkpoints.verify()
    assert sorted(_kinds(result)) == ["checkpoint_missing", "cut_tail"]
    assert list(container.store.list_named(PREFIX)) == [object_name(6)]
    with pytest.raises(ChainBroken, match="row 6 no longer matches"):  # the store's latest is used, not the row
        container.audit_checkpoints.create()


def test_checkpoints_are_incremental(container: Any) -> None:
    """A new checkpoint checks the row at the previous one against its signed hash and only the
    rows after it; a full verify still finds an edit further back."""
    _events(container, 4)
    container.audit_checkpoints.create()
    _drop_guards(container)
    with container.db.write() as s:
        s.get(AuditEvent, 2).actor_name = "someone-else"  # no rehash: the row's own hash is now wrong
    _events(container, 2)
    second = container.audit_checkpoints.create()
    assert second is not None and (second.seq, second.count, second.previous["seq"]) == (6, 6, 4)
    result = container.audit_checkpoints.verify()
    assert [(p.kind, p.first_seq) for p in result.report.problems] == [("edited", 2)]


def test_legacy_rows_verify_up_to_the_switch_recorded_by_the_first_checkpoint(container: Any) -> None:
    """Rows written before the keyed chain (plain SHA-256, no key id) still verify; the first
    checkpoint records the switch point, so a keyed row re-hashed as legacy later is named."""
    _drop_guards(container)
    with container.db.write() as s:  # what an upgraded database holds
        prev = audit.GENESIS_HASH
        for seq in (1, 2, 3):
            ev = AuditEvent(seq=seq, occurred_at=_now(), actor_name="system", action="old.event", object_type="thing",
                            object_id=str(seq), outcome="success", details={}, prev_hash=prev)
            ev.hash = audit.legacy_event_hash(ev)
            s.add(ev)
            prev = ev.hash
        head = s.get(AuditHead, 1) or AuditHead(id=1)
        head.last_seq, head.last_hash = 3, prev
        s.add(head)
    _events(container, 3)
    checkpoint = container.audit_checkpoints.create()
    assert checkpoint is not None and checkpoint.legacy_until == 3
    assert container.audit_checkpoints.verify().ok
    _events(container, 2)
    _rewrite(container, 7, _deny, _plain_sha256)
    result = container.audit_checkpoints.verify()
    assert ("legacy_after_switch", 7) in [(p.kind, p.first_seq) for p in result.report.problems]


def test_periodic_task_writes_checkpoints(container: Any) -> None:
    from docsvc.tasks.app import PERIODIC, celery_app
    from docsvc.tasks.jobs import audit_checkpoint
    assert PERIODIC["audit-checkpoint"][0] == "docsvc.audit_checkpoint"
    assert PERIODIC["audit-checkpoint"][1].total_seconds() == 600
    _events(container, 2)
    assert celery_app.tasks["docsvc.audit_checkpoint"].apply().get() == {"written": True, "seq": 2}
    _rewrite(container, 1, _deny, _with_key(container))
    _events(container, 1)
    outcome = audit_checkpoint()
    assert outcome["written"] is False and outcome["problems"][0]["kind"] == "checkpoint_mismatch"


def _now() -> Any:
    from datetime import datetime
    return datetime.now(UTC)


def _later() -> Any:
    from datetime import timedelta
    return _now() + timedelta(seconds=5)


def test_checkpoint_written_over_behind_the_store(container: Any) -> None:
    """Local folder: bytes changed in place fail the digest recorded at writing. S3: a new version
    over the retained one is named, and the first version still anchors the rows."""
    import io
    _events(container, 3)
    container.audit_checkpoints.create()
    name = object_name(3)
    forged = json.dumps({**_envelope(container, 3), "cms": ""}).encode()
    if container.settings.storage_is_s3:
        container.store.client.put_object(container.store.bucket, "named/" + name, io.BytesIO(forged), len(forged))
        result = container.audit_checkpoints.verify()
        assert _kinds(result) == ["checkpoint_overwritten"] and result.report.anchored_to == 3
        return
    path = container.store.root / "named" / name
    path.chmod(0o644)
    path.write_bytes(forged)
    result = container.audit_checkpoints.verify()
    assert _kinds(result) == ["checkpoint_invalid"] and result.report.anchored_to == 0
    assert "stored bytes are damaged" in result.report.problems[0].message


def test_unreachable_store_is_not_a_verdict(container: Any, settings: Any) -> None:
    """Exit 3 and no "intact" when the checkpoints cannot be read."""
    from dataclasses import replace
    _events(container, 2)
    down = replace(settings, storage_url="s3://docsvc-down", s3_endpoint="http://127.0.0.1:9", s3_access_key="x",
                   s3_secret_key="y")
    result = _cli(down, "verify", "--json")
    assert result.returncode == 3, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "unverified"


def test_periodic_task_without_an_internal_ca_waits(container: Any) -> None:
    """A deployment without the internal CA yet: the task says why and writes nothing."""
    import shutil

    from docsvc.tasks.jobs import audit_checkpoint
    _events(container, 1)
    shutil.rmtree(container.signatures.ca_dir)
    container.signatures._ca = None
    outcome = audit_checkpoint()
    assert outcome["written"] is False and "docsvc ca init" in outcome["error"]
    assert list(container.store.list_named(PREFIX)) == []


def test_large_gaps_keep_every_nth_row_hash(container: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_MARKS rows since the previous checkpoint, every n-th hash is kept: a rewrite with
    the key is then named to within n rows."""
    from docsvc.services import audit_checkpoints
    monkeypatch.setattr(audit_checkpoints, "MAX_MARKS", 3)
    _events(container, 9)
    checkpoint = container.audit_checkpoints.create()
    assert checkpoint is not None and sorted(checkpoint.marks) == [3, 6, 9]
    _rewrite(container, 5, _deny, _with_key(container))
    result = container.audit_checkpoints.verify()
    named = result.report.problems[0]
    assert (named.kind, named.first_seq, named.last_seq) == ("rewritten", 4, 6)
    assert named.message.startswith("one of rows 4-6: rewritten")


def test_rows_of_a_removed_key_are_reported(container: Any) -> None:
    """Rotation keeps old keys listed: a row whose key DOCSVC_AUDIT_KEY no longer holds is named."""
    import secrets as random
    _events(container, 2)
    rotated = audit.AuditKeys({"a2": random.token_bytes(32)}, "a2")
    with container.db.read() as s:
        report = audit.verify(s, rotated)
    assert [(p.kind, p.first_seq) for p in report.problems] == [("unknown_key", 1), ("unknown_key", 2)]
    assert "DOCSVC_AUDIT_KEY does not hold" in report.problems[0].message
