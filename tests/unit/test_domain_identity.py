"""Pure identity rules: agency codes, passwords, secrecy levels."""

from __future__ import annotations

import pytest

from docsvc.domain.identity import Secrecy, organ_id_problem, password_problem


@pytest.mark.parametrize("code", ["000.00.00.H41", "G12.34.56.A01", "H41.01.02.K99"])
def test_valid_organ_ids(code: str) -> None:
    assert organ_id_problem(code) is None


@pytest.mark.parametrize("code, fragment", [
    ("000.00.00.H4", "13 characters"), ("000.00.00.H411", "13 characters"),
    ("000-00-00-H41", "000.00.00.H41"), ("000.00.00.141", "000.00.00.H41"), ("000.00.00.h41", "000.00.00.H41"),
])
def test_invalid_organ_ids(code: str, fragment: str) -> None:
    problem = organ_id_problem(code)
    assert problem is not None and fragment in problem


def test_password_policy() -> None:
    assert password_problem("abc12", "") == "must be at least 10 characters"
    assert password_problem("onlyletters", "") == "must contain letters and digits"
    assert password_problem("nguyenvan2026", "nguyenvan") == "must not contain the username"
    assert password_problem("Mật-khẩu-2026", "lan") is None


def test_secrecy_parse_and_order() -> None:
    assert Secrecy.parse("Tối mật") is Secrecy.TOI_MAT
    assert Secrecy.parse("tuyet_mat") is Secrecy.TUYET_MAT
    assert Secrecy.parse(1) is Secrecy.MAT
    assert Secrecy.NONE < Secrecy.MAT < Secrecy.TOI_MAT < Secrecy.TUYET_MAT
    with pytest.raises(ValueError):
        Secrecy.parse("secret")
