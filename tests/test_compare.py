"""Unit tests for the comparison engine: matching, classification, redlines, summaries."""
from __future__ import annotations

from pathlib import Path

import pytest

from brief.compare.engine import Segment, UnknownVersion, compare, redline, version_warnings
from brief.content.model import VersionsFile
from brief.edition.checks import load_pack

FIXTURES = Path(__file__).parent / "fixtures" / "versions"


def prov(key: str, text: str, area: str = "scope", **extra) -> dict:
    return {"key": key, "area": area, "text": text, "sources": [f"src-{key}"], **extra}


def version(vid: str, provisions: list[dict], signed: str | None = None, **extra) -> dict:
    v = {"id": vid, "label": f"label {vid}", "kind": "renewal", "status": "in force",
         "provisions": provisions, "sources": ["src"], **extra}
    if signed:
        v["signed"] = signed
    return v


def vf(*versions: dict) -> VersionsFile:
    return VersionsFile.model_validate({"agreement": "Test Accord", "versions": list(versions)})


def rows_by_key(c):
    return {r.key: r for r in c.rows}


def sides(segments: tuple[Segment, ...]) -> tuple[str, str]:
    """Rebuild (FROM text, TO text) from a redline."""
    return ("".join(s.text for s in segments if s.op != "insert"),
            "".join(s.text for s in segments if s.op != "delete"))


@pytest.fixture(scope="module")
def renewal() -> VersionsFile:
    return load_pack(FIXTURES / "renewal").versions


# ---- classification --------------------------------------------------------------

def test_added_removed_changed_unchanged():
    c = compare(vf(
        version("a", [prov("keep", "Same words."), prov("edit", "Old words here."), prov("gone", "Dropped.")]),
        version("b", [prov("keep", "Same words."), prov("edit", "New words here.", effect="narrows"),
                      prov("new", "Brand new.", area="data")]),
    ))
    rows = rows_by_key(c)
    assert {k: r.change for k, r in rows.items()} == {
        "keep": "unchanged", "edit": "changed", "gone": "removed", "new": "added"}
    assert rows["edit"].effect == "narrows"
    assert rows["edit"].from_text == "Old words here." and rows["edit"].to_text == "New words here."
    assert rows["gone"].to_key is None and rows["gone"].to_text is None
    assert rows["gone"].redline == (Segment("delete", "Dropped."),)
    assert rows["new"].from_key is None and rows["new"].from_text is None and rows["new"].from_stated
    assert rows["new"].redline == (Segment("insert", "Brand new."),)
    assert rows["keep"].redline == (Segment("equal", "Same words."),) and rows["keep"].effect is None
    assert [s.source for s in rows["edit"].from_sources] == ["src-edit"]
    assert not c.identical


def test_whitespace_only_difference_is_unchanged():
    c = compare(vf(version("a", [prov("k", "Two  words\nhere.")]), version("b", [prov("k", "Two words here.")])))
    assert c.rows[0].change == "unchanged"


def test_rename_via_replaces_matches_the_old_key():
    c = compare(vf(
        version("a", [prov("board", "A board of four meets yearly.", area="governance")]),
        version("b", [prov("joint-board", "A board of four meets yearly.", area="governance", replaces=["board"])]),
    ))
    (row,) = c.rows
    assert (row.change, row.renamed, row.from_key, row.to_key, row.key) == (
        "unchanged", True, "board", "joint-board", "joint-board")


def test_split_gives_one_row_per_new_provision_from_the_same_old_one():
    c = compare(vf(
        version("a", [prov("ip", "Each party owns what it creates.", area="intellectual property")]),
        version("b", [
            prov("ip-patents", "Patents go to the inventor's party.", area="intellectual property",
                 replaces=["ip"], effect="clarifies"),
            prov("ip-licences", "Each party licenses joint inventions free.", area="intellectual property",
                 replaces=["ip"], effect="strengthens"),
        ]),
    ))
    rows = rows_by_key(c)
    assert set(rows) == {"ip-patents", "ip-licences"}  # no "removed ip" row
    for r in rows.values():
        assert r.renamed and r.from_key == "ip" and r.change == "changed"
        assert r.from_text == "Each party owns what it creates."
    assert rows["ip-licences"].effect == "strengthens" and rows["ip-patents"].effect == "clarifies"


def test_merge_is_one_renamed_row_with_the_old_texts_joined():
    c = compare(vf(
        version("a", [prov("notice", "Register with the embassy.", area="researcher safety"),
                      prov("host", "The host assists visitors.", area="researcher safety")]),
        version("b", [prov("safety", "Register with the embassy; the host reports detentions.",
                           area="researcher safety", replaces=["notice", "host"], effect="strengthens")]),
    ))
    (row,) = c.rows
    assert row.renamed and row.from_keys == ("notice", "host") and row.from_key == "notice, host"
    assert row.from_text == "Register with the embassy. The host assists visitors."
    assert row.change == "changed" and row.effect == "strengthens"
    assert [s.source for s in row.from_sources] == ["src-notice", "src-host"]


def test_added_in_an_area_from_does_not_state():
    c = compare(vf(
        version("a", [prov("scope", "Physics.")], not_stated=["security"]),
        version("b", [prov("scope", "Physics."), prov("screening", "Projects are screened.", area="security")]),
    ))
    row = rows_by_key(c)["screening"]
    assert row.change == "added" and row.from_stated is False and row.from_text is None
    assert c.from_not_stated == ("security",)
    assert "(the sources do not describe this area for the label a)" in c.summary()


def test_removed_in_an_area_to_does_not_state():
    c = compare(vf(
        version("a", [prov("military", "Military work is excluded.", area="exclusions")]),
        version("b", [], not_stated=["exclusions"]),
    ))
    (row,) = c.rows
    assert row.change == "removed" and row.to_stated is False and row.from_stated
    assert c.summary() == "1 provision removed (the sources do not describe this area for the label b)"


def test_extension_compares_as_the_text_it_inherits(renewal):
    c = compare(renewal, "accord-2010", "extension-2015")
    changes = {r.key: r.change for r in c.rows}
    assert changes.pop("term") == "changed"
    assert set(changes.values()) == {"unchanged"} and len(changes) == 8
    # The extension states nothing new about security, so it inherits the gap.
    assert c.to_not_stated == ("security",)


def test_default_compares_the_last_two_versions(renewal):
    c = compare(renewal)
    assert (c.from_version.id, c.to_version.id) == ("extension-2015", "accord-2020")
    rows = rows_by_key(c)
    assert rows["scope"].effect == "narrows"
    assert rows["ip-patents"].from_key == rows["ip-licences"].from_key == "ip"
    assert rows["joint-board"].renamed and rows["joint-board"].change == "unchanged"
    assert rows["screening"].from_stated is False
    assert rows["military"].change == "removed" and rows["military"].to_stated is False


def test_non_adjacent_versions_follow_replaces_through_the_versions_between(renewal):
    c = compare(renewal, "accord-2010", "accord-2020")
    rows = rows_by_key(c)
    assert rows["ip-patents"].from_key == "ip" and rows["joint-board"].from_key == "board"
    assert "ip" not in rows and "board" not in rows
    # term changed twice with different (or no) declared effects: no single effect applies.
    assert rows["term"].change == "changed" and rows["term"].effect is None
    assert rows["scope"].effect == "narrows"


def test_backwards_comparison_reverses_effects(renewal):
    c = compare(renewal, "accord-2020", "extension-2015")
    rows = rows_by_key(c)
    assert rows["scope"].effect == "broadens"
    assert rows["ip"].from_keys == ("ip-patents", "ip-licences") and rows["ip"].renamed
    assert rows["screening"].change == "removed"


# ---- ordering, identity, selection -------------------------------------------------

def test_rows_are_ordered_by_area_then_key(renewal):
    areas = load_pack(FIXTURES / "renewal").vocabulary.keys("areas")  # the pack's own display order
    c = compare(renewal, areas=areas)
    order = [(areas.index(r.area), r.key) for r in c.rows]
    assert order == sorted(order)
    assert [a for a, _ in c.by_area()] == ["scope", "exclusions", "intellectual property", "data", "security",
                                            "researcher safety", "dispute resolution", "governance", "term"]
    assert [r.key for r in dict(c.by_area())["intellectual property"]] == ["ip-licences", "ip-patents"]
    assert [a for a, _ in c.by_area(["term", "scope"])] == ["scope", "term"]


def test_same_version_is_identical(renewal):
    c = compare(renewal, "accord-2020", "accord-2020")
    assert c.identical and c.same_version
    assert {r.change for r in c.rows} == {"unchanged"}
    assert c.summary() == "No changes; 8 provisions unchanged"


def test_unknown_version_lists_the_known_ones(renewal):
    with pytest.raises(UnknownVersion) as e:
        compare(renewal, "accord-1999", "accord-2020")
    assert str(e.value) == "unknown version 'accord-1999'; known versions: accord-2010, extension-2015, accord-2020"


def test_one_version_cannot_be_compared_by_default():
    with pytest.raises(UnknownVersion, match="lists only this version"):
        compare(vf(version("a", [prov("k", "Text.")])))


def test_from_only_compares_with_the_latest(renewal):
    c = compare(renewal, "accord-2010")
    assert c.to_version.id == "accord-2020"


def test_out_of_order_comparison_warns(renewal):
    (warning,) = version_warnings(renewal, "accord-2020", "accord-2010")
    assert "FROM 'accord-2020' (2020-02-01) is dated after TO 'accord-2010' (2010-01-15)" in warning
    assert version_warnings(renewal) == []
    assert version_warnings(renewal, "accord-2020", "accord-2020") == []


def test_undated_versions_listed_backwards_warn():
    versions = vf(version("a", [prov("k", "One.")]), version("b", [prov("k", "Two.")]))
    (warning,) = version_warnings(versions, "b", "a")
    assert "listed after" in warning


# ---- redline ---------------------------------------------------------------------

def test_redline_marks_exactly_the_deleted_words():
    old = "Drinking water and irrigation supply shared between both cities."
    new = "Drinking water supply shared between both cities."
    segs = redline(old, new)
    assert [s.text.strip() for s in segs if s.op == "delete"] == ["and irrigation"]
    assert not [s for s in segs if s.op == "insert"]
    assert sides(segs) == (old, new)


def test_redline_marks_replaced_and_inserted_words():
    old = "Researchers must notify the ministry within 30 days."
    new = "Researchers shall report to the ministry within 10 working days."
    segs = redline(old, new)
    assert [(s.op, s.text.strip()) for s in segs if s.op != "equal"] == [
        ("delete", "must notify"), ("insert", "shall report to"), ("delete", "30"), ("insert", "10 working")]
    assert sides(segs) == (old, new)


def test_redline_joins_edits_separated_only_by_short_shared_words():
    segs = redline("Each party owns the intellectual property its researchers create.",
                   "Each party licenses jointly created inventions to the other free of charge.")
    assert [s.op for s in segs] == ["equal", "delete", "insert", "equal"]
    assert segs[1].text == "owns the intellectual property its researchers create"


def test_redline_keeps_punctuation_apart_from_words():
    segs = redline("Data stays in China.", "Data stays in China, except for published results.")
    assert segs == (Segment("equal", "Data stays in China"), Segment("insert", ", except for published results"),
                    Segment("equal", "."))


def test_changed_row_carries_the_redline(renewal):
    row = rows_by_key(compare(renewal))["scope"]
    assert [(s.op, s.text) for s in row.redline if s.op != "equal"] == [("delete", ", chemistry")]
    assert sides(row.redline) == (row.from_text, row.to_text)


# ---- counts and summary ------------------------------------------------------------

def test_summary_wording_and_plurals():
    c = compare(vf(
        version("a", [prov("s1", "Alpha."), prov("s2", "Beta."), prov("s3", "Gamma."), prov("s4", "Delta."),
                      prov("gone", "Old.", area="data")]),
        version("b", [prov("s1", "Alpha two.", effect="narrows"), prov("s2", "Beta two.", effect="narrows"),
                      prov("s3", "Gamma two.", effect="strengthens"), prov("s4", "Delta."),
                      prov("n1", "New one.", area="term"), prov("n2", "New two.", area="term"),
                      prov("n3", "New three.", area="governance")]),
    ))
    assert c.summary() == "3 provisions added, 2 narrowed, 1 strengthened, 1 removed; 1 unchanged"
    assert c.counts()["added"] == 3 and c.counts()["narrowed"] == 2 and c.counts()["removed"] == 1
    assert c.summary(["data"]) == "1 provision removed"
    assert c.summary(["term"]) == "2 provisions added"
    assert c.summary(["scope"]) == "2 provisions narrowed, 1 strengthened; 1 unchanged"


def test_change_without_effect_counts_as_changed():
    c = compare(vf(version("a", [prov("k", "One.")]), version("b", [prov("k", "Two.")])))
    assert c.summary() == "1 provision changed" and c.counts()["changed"] == 1


def test_fixture_summary(renewal):
    assert compare(renewal).summary() == (
        "1 provision added (the sources do not describe this area for the 2015 extension), 2 narrowed, "
        "2 strengthened, 1 clarified, 2 removed (1 in an area the sources do not describe for the 2020 renewal); "
        "2 unchanged")


def test_unknown_area_filter_is_an_error(renewal):
    with pytest.raises(ValueError, match="unknown area"):
        compare(renewal).summary(["sopce"])
