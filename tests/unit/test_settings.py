"""Settings: embedded defaults, and one clear error naming the variable for every bad value."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from docsvc.settings import ConfigError, load_settings


def test_embedded_defaults_follow_the_data_dir(tmp_path: Path) -> None:
    s = load_settings({"DOCSVC_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path}/docsvc.sqlite"
    assert s.storage_url == f"file://{tmp_path}/objects"
    assert s.search_url == f"embedded:{tmp_path}/search.sqlite"
    assert s.broker_is_embedded and s.database_is_sqlite and not s.storage_is_s3
    assert s.signature_level == "B-LT" and s.secrecy_policy == "connected"
    assert s.effective_tsa_url == "http://127.0.0.1:8000/pki/tsa"


def test_real_backend_settings_parse() -> None:
    s = load_settings({
        "DOCSVC_DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:5432/docsvc",
        "DOCSVC_STORAGE_URL": "s3://docsvc", "DOCSVC_S3_ENDPOINT": "http://127.0.0.1:9000",
        "DOCSVC_S3_ACCESS_KEY": "a", "DOCSVC_S3_SECRET_KEY": "b",
        "DOCSVC_SEARCH_URL": "http://127.0.0.1:9200", "DOCSVC_BROKER_URL": "redis://127.0.0.1:6379/0",
        "DOCSVC_MAX_UPLOAD_MB": "25", "DOCSVC_HIDE_TOP_SECRET_SUBJECT": "false",
    })
    assert s.storage_is_s3 and s.search_is_elasticsearch and not s.broker_is_embedded
    assert s.max_upload_mb == 25 and s.hide_top_secret_subject is False
    assert s.describe()["DOCSVC_DATABASE_URL"] == "postgresql+psycopg://u:***@127.0.0.1:5432/docsvc"
    assert s.describe()["DOCSVC_S3_SECRET_KEY"] == "***"
    # Login rate limits are shared by every worker through the broker's Redis unless set apart.
    assert s.ratelimit_storage_url == "redis://127.0.0.1:6379/0"


def test_login_limit_settings() -> None:
    s = load_settings({})
    assert s.ratelimit_storage_url == "memory://" and s.trusted_proxy_hops == 0
    s = load_settings({"DOCSVC_LOGIN_RATE_PER_ACCOUNT": "5/hour", "DOCSVC_TRUSTED_PROXY_HOPS": "0",
                       "DOCSVC_RATELIMIT_STORAGE_URL": "redis://:pw@10.0.0.5:6379/2"})
    assert s.login_rate_per_account == "5/hour" and s.trusted_proxy_hops == 0
    assert s.describe()["DOCSVC_RATELIMIT_STORAGE_URL"] == "redis://:***@10.0.0.5:6379/2"


@pytest.mark.parametrize("env, variable, fragment", [
    ({"DOCSVC_DATABASE_URL": "mysql://x"}, "DOCSVC_DATABASE_URL", "postgresql"),
    ({"DOCSVC_STORAGE_URL": "ftp://x"}, "DOCSVC_STORAGE_URL", "s3://"),
    ({"DOCSVC_STORAGE_URL": "s3://Bad_Bucket"}, "DOCSVC_STORAGE_URL", "bucket"),
    ({"DOCSVC_STORAGE_URL": "s3://docsvc"}, "DOCSVC_S3_ENDPOINT", "required"),
    ({"DOCSVC_SEARCH_URL": "solr://x"}, "DOCSVC_SEARCH_URL", "Elasticsearch"),
    ({"DOCSVC_BROKER_URL": "kafka://x"}, "DOCSVC_BROKER_URL", "redis"),
    ({"DOCSVC_MAX_UPLOAD_MB": "ten"}, "DOCSVC_MAX_UPLOAD_MB", "whole number"),
    ({"DOCSVC_MAX_UPLOAD_MB": "-1"}, "DOCSVC_MAX_UPLOAD_MB", "positive"),
    ({"DOCSVC_SECRECY_POLICY": "open"}, "DOCSVC_SECRECY_POLICY", "connected"),
    ({"DOCSVC_SIGNATURE_LEVEL": "B-X"}, "DOCSVC_SIGNATURE_LEVEL", "B-LT"),
    ({"DOCSVC_HIDE_TOP_SECRET_SUBJECT": "maybe"}, "DOCSVC_HIDE_TOP_SECRET_SUBJECT", "true or false"),
    ({"DOCSVC_ENCRYPTION_KEYS": "k1:" + base64.b64encode(b"short").decode()}, "DOCSVC_ENCRYPTION_KEYS", "32 bytes"),
    ({"DOCSVC_ENCRYPTION_KEYS": "nokey"}, "DOCSVC_ENCRYPTION_KEYS", "keyid:base64key"),
    ({"DOCSVC_TRUST_ROOTS": "/nonexistent/root.pem"}, "DOCSVC_TRUST_ROOTS", "no such certificate"),
    ({"DOCSVC_HOLIDAYS": "2026-13"}, "DOCSVC_HOLIDAYS", "YYYY-MM-DD"),
    ({"DOCSVC_FETCH_ALLOW": "10.0.0.0/8, http://pki.example.vn"}, "DOCSVC_FETCH_ALLOW", "neither a host name"),
    ({"DOCSVC_FETCH_ALLOW": "10.0.0.0/40"}, "DOCSVC_FETCH_ALLOW", "CIDR"),
    ({"DOCSVC_FETCH_TIMEOUT_SECONDS": "0"}, "DOCSVC_FETCH_TIMEOUT_SECONDS", "positive"),
    ({"DOCSVC_S3_TIMEOUT_SECONDS": "0"}, "DOCSVC_S3_TIMEOUT_SECONDS", "positive"),
    ({"DOCSVC_SEARCH_TIMEOUT_SECONDS": "0"}, "DOCSVC_SEARCH_TIMEOUT_SECONDS", "positive"),
    ({"DOCSVC_ENVIRONMENT": "production"}, "DOCSVC_SECRET_KEY", "production"),
    ({"DOCSVC_LOGIN_RATE_PER_ACCOUNT": "lots"}, "DOCSVC_LOGIN_RATE_PER_ACCOUNT", "10 per minute"),
    ({"DOCSVC_LOGIN_RATE_PER_ADDRESS": "1/minute;2/hour"}, "DOCSVC_LOGIN_RATE_PER_ADDRESS", "per minute"),
    ({"DOCSVC_RATELIMIT_STORAGE_URL": "memcached://x"}, "DOCSVC_RATELIMIT_STORAGE_URL", "redis://"),
    ({"DOCSVC_TRUSTED_PROXY_HOPS": "-1"}, "DOCSVC_TRUSTED_PROXY_HOPS", "zero or more"),
    ({"DOCSVC_ENVIRONMENT": "production", "DOCSVC_SECRET_KEY": "s" * 48,
      "DOCSVC_ENCRYPTION_KEYS": "k1:" + base64.b64encode(b"k" * 32).decode()}, "DOCSVC_AUDIT_KEY", "production"),
    ({"DOCSVC_AUDIT_KEY": "a1:" + base64.b64encode(b"short").decode()}, "DOCSVC_AUDIT_KEY", "32 bytes"),
    ({"DOCSVC_AUDIT_CHECKPOINT_RETENTION_YEARS": "0"}, "DOCSVC_AUDIT_CHECKPOINT_RETENTION_YEARS", "positive"),
    ({"DOCSVC_DATABSE_URL": "sqlite:///x"}, "DOCSVC_DATABSE_URL", "unknown setting"),
    ({"DOCSVC_TRUST_INTERMEDIATES": "/nonexistent/ca.pem"}, "DOCSVC_TRUST_INTERMEDIATES", "no such certificate"),
    ({"DOCSVC_LOCAL_SIGNER_PORT": "70000"}, "DOCSVC_LOCAL_SIGNER_PORT", "TCP port"),
    ({"DOCSVC_SIGNING_PREPARE_MINUTES": "2000"}, "DOCSVC_SIGNING_PREPARE_MINUTES", "1 to 1440"),
    ({"DOCSVC_CSC_URL": "ftp://ky-so.example.vn"}, "DOCSVC_CSC_URL", "http(s)://"),
    ({"DOCSVC_CSC_URL": "https://ky-so.example.vn"}, "DOCSVC_CSC_CLIENT_ID", "DOCSVC_CSC_CLIENT_SECRET"),
])
def test_bad_values_name_the_variable(env: dict[str, str], variable: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.variable == variable
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_encryption_keys_and_active_key() -> None:
    k1 = base64.b64encode(b"a" * 32).decode()
    k2 = base64.b64encode(b"b" * 32).decode()
    s = load_settings({"DOCSVC_ENCRYPTION_KEYS": f"k1:{k1},k2:{k2}", "DOCSVC_ENCRYPTION_KEY_ACTIVE": "k2"})
    assert s.encryption_key_active == "k2"
    with pytest.raises(ConfigError) as info:
        load_settings({"DOCSVC_ENCRYPTION_KEYS": f"k1:{k1}", "DOCSVC_ENCRYPTION_KEY_ACTIVE": "k9"})
    assert info.value.variable == "DOCSVC_ENCRYPTION_KEY_ACTIVE"
