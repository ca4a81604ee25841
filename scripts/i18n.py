"""Keep the interface translations in step with the code (no network needed).

    python scripts/i18n.py update    # extract messages, merge them into every catalogue, compile .mo
    python scripts/i18n.py check     # exit 1 when a message is untranslated or a .mo is stale

Messages are English in the code and templates; ``docsvc/web/translations/vi`` translates them.
The compiled ``messages.mo`` files are committed (packaged with the app; nothing compiles at run time).
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "docsvc" / "web"
TRANSLATIONS = WEB / "translations"
LOCALES = ("vi",)
METHODS = [("pages/**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


def extract() -> Catalog:
    catalog = Catalog(project="docsvc", domain="messages")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(WEB), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"trimmed": "true"}}):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _header(catalog: Catalog) -> None:
    """A stable header, so that updating without new messages changes nothing."""
    stamp = datetime(2026, 12, 1, tzinfo=UTC)
    catalog.project, catalog.version, catalog.fuzzy = "docsvc", "", False
    catalog.copyright_holder, catalog.msgid_bugs_address = "docsvc contributors", ""
    catalog.last_translator = catalog.language_team = "docsvc contributors"
    catalog.creation_date = catalog.revision_date = stamp


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, domain="messages")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    return [m.id for m in template if m.id and not (catalog.get(m.id) and catalog.get(m.id).string)]


def update() -> None:
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _header(catalog)
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=120, omit_header=False, sort_output=True, include_lineno=False)
        path.with_suffix(".mo").write_bytes(compiled(load(locale)))
        missing = untranslated(template, catalog)
        print(f"{locale}: {len(template)} messages, {len(missing)} untranslated")


def check() -> int:
    template = extract()
    problems = 0
    for locale in LOCALES:
        catalog = load(locale)
        missing = untranslated(template, catalog)
        for msgid in missing:
            print(f"{locale}: untranslated: {msgid!r}")
        mo = po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(catalog):
            print(f"{locale}: {mo} is stale: run python scripts/i18n.py update")
            problems += 1
        problems += len(missing)
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["update"]:
        update()
    elif sys.argv[1:] == ["check"]:
        sys.exit(check())
    else:
        sys.exit(__doc__)
