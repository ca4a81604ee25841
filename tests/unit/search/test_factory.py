"""open_index: which adapter a URL opens, and typed errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import ConfigurationError, SearchIndex, open_index
from search.elastic import ElasticIndex
from search.sqlite_fts import SqliteFtsIndex


def test_embedded_urls(tmp_path: Path) -> None:
    index = open_index(f"embedded:{tmp_path / 'a.sqlite'}")
    assert isinstance(index, SqliteFtsIndex) and index.path == tmp_path / "a.sqlite"
    index = open_index(f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert isinstance(index, SqliteFtsIndex) and index.path == tmp_path / "b.sqlite"
    assert open_index("embedded:var/search.sqlite").path == Path("var/search.sqlite")  # type: ignore[attr-defined]
    # the options an Elasticsearch URL takes are accepted (and mean nothing) for a file
    assert isinstance(open_index(f"embedded:{tmp_path / 'd.sqlite'}", index="docsvc", refresh=True), SqliteFtsIndex)


def test_elasticsearch_url_with_index_name() -> None:
    index = open_index("http://127.0.0.1:9200", index="docsvc-x")
    assert isinstance(index, ElasticIndex) and index.alias == "docsvc-x"
    index.close()


@pytest.mark.parametrize(("url", "options"), [
    ("", {}), ("ftp://x", {}), ("embedded:", {}), ("embedded:dir/", {}),
    ("embedded:x.sqlite", {"replicas": 1}), ("http://127.0.0.1:9200", {"index": "Bad Name"}),
    ("http://127.0.0.1:9200", {"index": "_hidden"}),
])
def test_bad_urls_and_options(url: str, options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        open_index(url, **options)


def test_both_adapters_implement_the_port(tmp_path: Path) -> None:
    assert isinstance(open_index(f"embedded:{tmp_path / 'c.sqlite'}"), SearchIndex)
    assert isinstance(open_index("http://127.0.0.1:9200"), SearchIndex)
