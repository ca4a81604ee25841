"""Orphan sweep: remove objects no database row references, once they are older than a grace
period, and the leftovers of crashed uploads. Never touches retained or held objects.

The grace period covers the window between writing an object and committing the row that refers
to it (objects are written first). A re-put of existing content counts as a fresh write
(``ObjectStore.last_put_at``), so a deduplicated upload is not swept before its row commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage.errors import InvalidArgument, ObjectLockedError, ObjectNotFound, StorageError, StorageUnavailable
from storage.locks import utcnow
from storage.port import ObjectStore


@dataclass
class SweepReport:
    scanned: int = 0
    referenced: int = 0
    deleted: list[str] = field(default_factory=list)
    kept_young: list[str] = field(default_factory=list)
    kept_locked: list[str] = field(default_factory=list)
    leftovers_removed: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"scanned {self.scanned}, referenced {self.referenced}, {verb} {len(self.deleted)}, "
                f"kept {len(self.kept_young)} young and {len(self.kept_locked)} locked, "
                f"{len(self.leftovers_removed)} leftovers, {len(self.errors)} errors")


def sweep_orphans(store: ObjectStore, is_referenced: Callable[[str], bool], grace: timedelta,
                  now: datetime | None = None, *, dry_run: bool = False) -> SweepReport:
    """Delete unreferenced objects last written before ``now - grace`` and not locked; remove
    temporary uploads and orphan records older than that too. ``is_referenced(key)`` must answer
    from the database (the source of truth). Per-object failures are reported, not raised;
    ``StorageUnavailable`` stops the sweep (rerun it later: it is idempotent)."""
    if not isinstance(grace, timedelta) or grace < timedelta(0):
        raise InvalidArgument("the grace period must be a non-negative timedelta")
    now = now or utcnow()
    cutoff = now - grace
    report = SweepReport(dry_run=dry_run)
    for key in store.list():
        report.scanned += 1
        if is_referenced(key):
            report.referenced += 1
            continue
        try:
            if store.stat(key).locked(now):
                report.kept_locked.append(key)
            elif store.last_put_at(key) > cutoff:
                report.kept_young.append(key)
            else:
                if not dry_run:
                    store.delete(key)  # re-checks the lock state under the store's own clock
                report.deleted.append(key)
        except ObjectNotFound:
            continue
        except ObjectLockedError:
            report.kept_locked.append(key)
        except StorageUnavailable:
            raise
        except StorageError as exc:
            report.errors.append((key, str(exc)))
    for leftover in store.leftovers(cutoff):
        try:
            if not dry_run:
                store.remove_leftover(leftover)
            report.leftovers_removed.append(leftover.name)
        except StorageUnavailable:
            raise
        except StorageError as exc:
            report.errors.append((leftover.name, str(exc)))
    return report
