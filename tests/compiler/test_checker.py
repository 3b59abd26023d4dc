"""The checker: units, names, groups, templates; one test per diagnostic it promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyadsl.api import check_file, check_text, compile_file, compile_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "supermarket" / "programme.loya"

HEADER = """programme "T" {
    currency RUB minor 2
    timezone "Europe/Moscow"
}
group g "G" {
    priority 1
    stacking stack_all
    basis original
}
skus some = ["A", "B"]
brands own = ["BR1"]
"""


def codes(text: str) -> list[str]:
    return [d.code for d in check_text(HEADER + text, "t.loya").diagnostics if d.is_error]


def campaign(body: str) -> str:
    return "campaign c {\n    group g\n" + body + "\n}\n"


def test_example_programme_checks() -> None:
    result = check_file(EXAMPLE)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.programme is not None
    assert len(result.programme.campaigns) == 23
    assert result.programme.state.tiers is not None and [lv.name for lv in result.programme.state.tiers.levels] == ["bronze", "silver", "gold"]
    assert [g.name for g in result.programme.groups] == ["personal", "promo", "receipt_offers", "points"]


def test_valid_campaign_has_no_errors() -> None:
    assert codes(campaign("    when receipt.total >= 100.00 RUB\n    then discount 10% on receipt")) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("    when receipt.total + 5 points >= 100.00 RUB\n    then discount 10% on receipt", "LOY202"),
        ("    when receipt.total >= 10%\n    then discount 10% on receipt", "LOY203"),
        ("    when receipt.total >= 1000\n    then discount 10% on receipt", "LOY203"),
        ("    when receipt.totl >= 100.00 RUB\n    then discount 10% on receipt", "LOY201"),
        ("    when sku in some\n    then discount 10% on receipt", "LOY215"),
        ("    when receipt.total >= 100.00 USD\n    then discount 10% on receipt", "LOY208"),
        ("    when receipt.total\n    then discount 10% on receipt", "LOY204"),
        ("    then discount 150% on receipt", "LOY207"),
        ("    then discount 10 points on receipt", "LOY202"),
        ("    then free 3 in 3 units of lines where sku in some", "LOY207"),
        ("    then accrue 5 on receipt", "LOY202"),
        ("    when count(lines where brand in some) >= 1\n    then discount 1% on receipt", "LOY203"),
        ("    priority 1\n    priority 2\n    then discount 1% on receipt", "LOY213"),
        ("    then tiers receipt.total {\n        >= 100.00 RUB: discount 1% on receipt\n"
         "        >= 200.00 RUB: discount 2% on receipt\n    }", "LOY212"),
        ("    audience receipt.total >= 1.00 RUB\n    then discount 1% on receipt", "LOY206"),
        ("    then accrue x5 of nobody on receipt", "LOY201"),
    ],
)
def test_type_and_name_errors(body: str, code: str) -> None:
    assert code in codes(campaign(body))


def test_unknown_name_suggests_the_closest() -> None:
    result = check_text(HEADER + campaign("    then discount 10% on lines where sku in smoe"), "t.loya")
    [d] = [d for d in result.diagnostics if d.code == "LOY201"]
    assert d.hint == "did you mean `some`?"
    assert d.span is not None and d.span.file == "t.loya" and d.span.line > 10


def test_several_errors_are_reported_in_one_run() -> None:
    text = campaign("    when receipt.totl >= 1.00 RUB\n    then discount 10% on receipt") + (
        "campaign d {\n    group nope\n    then discount 1 points on receipt\n}\n"
    )
    found = codes(text)
    assert "LOY201" in found and found.count("LOY201") >= 2 and "LOY202" in found


def test_group_must_state_its_policy() -> None:
    text = 'programme "T" { currency RUB minor 2  timezone "Europe/Moscow" }\n' \
           "group g { priority 1 }\ncampaign c { group g then discount 1% on receipt }\n"
    found = [d for d in check_text(text, "t.loya").diagnostics if d.code == "LOY211"]
    assert found and "stacking and basis" in found[0].message


def test_campaign_needs_a_group_and_an_action() -> None:
    assert "LOY214" in codes("campaign c { then discount 1% on receipt }\n")
    assert "LOY214" in codes(campaign(""))


def test_duplicate_declarations() -> None:
    assert "LOY205" in codes('skus some = ["C"]\n')


def test_missing_header() -> None:
    result = check_text("group g { priority 1 stacking stack_all basis original }\n", "t.loya")
    assert "LOY210" in [d.code for d in result.diagnostics]


def test_template_arguments_are_typed() -> None:
    text = (
        "template t(rate: percent, items: skus) { then discount rate on lines where sku in items }\n"
        "campaign c uses t(rate = 10.00 RUB, items = some) { group g }\n"
    )
    assert "LOY206" in codes(text)
    ok = (
        "template t(rate: percent, items: skus) { then discount rate on lines where sku in items }\n"
        "campaign c uses t(rate = 10%, items = some) { group g }\n"
    )
    assert codes(ok) == []


def test_multiplier_needs_a_fixed_percentage() -> None:
    text = campaign("    then accrue 3% on receipt") + (
        "campaign m {\n    group g\n    then accrue x5 of c on lines where brand in own\n}\n"
    )
    result = check_text(HEADER + text, "t.loya")
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.programme is not None
    m = result.programme.campaigns[1]
    assert m.multiplier_base == "c"


def test_import_not_found_and_stdlib_import() -> None:
    assert "LOY107" in codes('import "std:no_such_mechanic"\n')


def test_bundles_are_byte_identical_for_the_same_sources() -> None:
    first, _ = compile_file(EXAMPLE)
    second, _ = compile_file(EXAMPLE)
    assert first is not None and first == second


def test_sku_index_lists_campaigns_that_need_skus() -> None:
    import json

    data, _ = compile_file(EXAMPLE)
    assert data is not None
    payload = json.loads(data.split(b"\n", 2)[2])
    names = [c["name"] for c in payload["campaigns"]]
    three_for_two = names.index("three_for_two")
    assert payload["campaigns"][three_for_two]["footprint"]["needs_skus"]
    assert all(three_for_two in payload["sku_index"][s]
               for s in payload["campaigns"][three_for_two]["footprint"]["needs_skus"])
    happy = payload["campaigns"][names.index("happy_dairy")]["footprint"]
    assert happy["weekdays"] == [1, 2, 3, 4, 5] and happy["hours"] == [36000, 57600]
    assert happy["min_total"] == 100000 and happy["categories"] == ["dairy"]


def test_compile_text_refuses_a_broken_programme() -> None:
    data, result = compile_text("programme {", "broken.loya")
    assert data is None and not result.ok
    assert all(d.span is None or d.span.file == "broken.loya" for d in result.diagnostics)


def test_relative_imports_and_csv_lists_are_part_of_the_bundle_manifest(tmp_path: Path) -> None:
    import json

    (tmp_path / "lists.loya").write_text('skus promo = ["A", "B"]\n', encoding="utf-8")
    (tmp_path / "brands.csv").write_text("brand,name\nBR1,Один\nBR2,Два\n", encoding="utf-8")
    main = tmp_path / "main.loya"
    main.write_text(HEADER.replace('skus some = ["A", "B"]\nbrands own = ["BR1"]\n', "")
                    + 'import "lists.loya"\nbrands mine from "brands.csv" column "brand"\n'
                    + campaign("    then discount 5% on lines where sku in promo and brand in mine"),
                    encoding="utf-8")
    data, result = compile_file(main)
    assert data is not None, [str(d) for d in result.diagnostics]
    manifest = json.loads(data.split(b"\n", 2)[2])["manifest"]
    assert [s["path"] for s in manifest["sources"]] == ["brands.csv", "lists.loya", "main.loya"]
    (tmp_path / "brands.csv").write_text("brand\nBR3\n", encoding="utf-8")
    changed, _ = compile_file(main)
    assert changed is not None and changed != data  # the list's content is part of the bundle


def test_mutual_imports_load_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "a.loya").write_text('import "b.loya"\nbrands from_a = ["BR1"]\n', encoding="utf-8")
    (tmp_path / "b.loya").write_text('import "a.loya"\nimport "main.loya"\nbrands from_b = ["BR2"]\n',
                                     encoding="utf-8")
    main = tmp_path / "main.loya"
    main.write_text(HEADER + 'import "a.loya"\n'
                    + campaign("    then discount 5% on lines where brand in from_a or brand in from_b"),
                    encoding="utf-8")
    result = check_file(main)
    assert result.ok, [str(d) for d in result.diagnostics]  # no LOY205: nothing was declared twice
    assert sorted(result.sources) == ["a.loya", "b.loya", "main.loya"]


def test_every_clause_kind_has_its_checker_pass() -> None:
    """`_check_campaign` dispatches each clause to ``_clause_<NodeName>``: a new clause kind without
    its pass must fail here, not as an internal error on a user's programme."""
    from loyadsl.check.checker import Checker
    from loyadsl.syntax import nodes as n

    kinds = [k for k in vars(n).values() if isinstance(k, type) and issubclass(k, n.Clause) and k is not n.Clause]
    assert len(kinds) >= 13
    assert [k.__name__ for k in kinds if not callable(getattr(Checker, f"_clause_{k.__name__}", None))] == []
