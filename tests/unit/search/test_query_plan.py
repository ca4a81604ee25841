"""The relevance plan: stop words, minimum-should-match, typing schemes, joined syllables, typos."""

from __future__ import annotations

from search.lexicon import is_syllable, one_edit_variants, split_syllables, unify_iy, untype
from search.query_plan import Alt, did_you_mean, minimum_should_match, plan_query, search_passes, typo_candidates
from search.vietnamese import analyze, folded_tokens


def test_stop_words_never_decide_a_match() -> None:
    plan = plan_query("kế hoạch của UBND về việc phòng chống dịch tả lợn châu Phi")
    content = [c.alts[0].tokens for c in plan.optional]
    assert ("cua",) not in content and ("ve",) not in content and ("viec",) not in content
    assert len(content) == 10 and plan.minimum == 8
    v_v = plan_query("V/v phòng chống thiên tai")
    assert [c.alts[0].tokens for c in v_v.clauses] == [("phong",), ("chong",), ("thien",), ("tai",)]
    assert not any(c.required for c in v_v.clauses)  # "V/v" is no required phrase any more


def test_quoted_phrases_and_notations_stay_required() -> None:
    plan = plan_query('"phòng chống" 15/QĐ-UBND thiên tai')
    assert [c.alts[0].tokens for c in plan.required] == [("phong", "chong"), ("15", "qd", "ubnd")]
    assert plan.minimum == 2


def test_only_stop_words_match_on_them() -> None:
    assert [c.alts[0].tokens for c in plan_query("của các").clauses] == [("cua",), ("cac",)]


def test_minimum_should_match() -> None:
    assert [minimum_should_match(n) for n in range(1, 9)] == [1, 2, 3, 3, 4, 5, 6, 6]


def test_i_y_spellings_fold_alike() -> None:
    assert folded_tokens("kĩ năng kỹ năng lí lịch lý lịch") == ["ki", "nang", "ki", "nang", "li", "lich", "li", "lich"]
    assert analyze("Kỹ thuật, quý, tuyết, yêu").folded == "ki thuat quy tuyet yeu"
    assert unify_iy("my") == "mi" and unify_iy("quy") == "quy" and unify_iy("tay") == "tay"


def test_syllables_typed_joined_are_split() -> None:
    assert split_syllables("boiduong") == ("boi", "duong")
    assert split_syllables("chuyendoiso") == ("chuyen", "doi", "so")
    assert split_syllables("tainguyen") == ("tai", "nguyen")
    assert split_syllables("nghieng") is None and split_syllables("ubnd") is None
    assert is_syllable("nghieng") and not is_syllable("ddat")
    plan = plan_query("bồidưỡng")
    assert Alt("phrase", ("boi", "duong")) in plan.clauses[0].alts


def test_telex_and_vni_typing() -> None:
    assert [untype(w) for w in ("ddat", "ddai", "quanr", "quarn", "vieetj", "d9at", "thuwc")] == [
        "dat", "dai", "quan", "quan", "viet", "dat", "thuc"]
    assert untype("so") is None and untype("ubnd") is None


def test_typo_variants_only_in_the_second_pass() -> None:
    plan = plan_query("thiên tia")
    strict, loose = search_passes(plan)
    assert not strict.fuzzy_tokens() and "tai" in loose.fuzzy_tokens()
    assert "doanh" in one_edit_variants("doan") and "tai" in one_edit_variants("tia")
    assert "truong" in one_edit_variants("thuong") and "thuong" not in one_edit_variants("thuong")
    assert one_edit_variants("15") == () and one_edit_variants("so") == ()


def test_did_you_mean_replaces_only_words_found_nowhere() -> None:
    plan = plan_query("thiên tia")
    candidates = typo_candidates(plan)
    assert did_you_mean("thiên tia", candidates, {"thien": 3, "tai": 5, "ita": 9 - 9}) == "thiên tai"
    assert did_you_mean("thiên tia", candidates, {"thien": 3, "tia": 1, "tai": 5}) is None
    assert did_you_mean("thiên tia", candidates, {"thien": 3}) is None


def test_adjacency_and_prefix_boosts() -> None:
    boosts = plan_query("so tai chinh").boosts
    assert any(b.kind == "phrase" and b.tokens == ("so", "tai") for b in boosts)
    assert any(b.kind == "phrase" and b.tokens == ("so", "tai", "chinh") for b in boosts)
    prefix = plan_query("giải phó*").boosts
    assert any(b.kind == "phrase_prefix" and b.tokens == ("giải", "phó") and b.exact for b in prefix)
