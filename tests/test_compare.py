"""Unit tests for the comparison engine: matching, classification, redlines, summaries.

A row states a difference only where a source states it (docs/diff.md, "What a row says"):
`changed` needs a declared effect or two quoted texts (`form: text`) that differ; `added` needs
`effect: adds`; `removed` needs a `drops:` entry; otherwise a row says what is known (first
described, not described, restated with no change stated).
"""
from __future__ import annotations

import re
from itertools import permutations
from pathlib import Path

import pytest

from brief.compare.engine import PAST, Comparison, Segment, UnknownVersion, compare, redline, version_warnings
from brief.content.model import VersionsFile
from brief.edition.checks import load_pack

FIXTURES = Path(__file__).parent / "fixtures" / "versions"
MINIMAL = Path(__file__).parent / "fixtures" / "minimal"


def prov(key: str, text: str, area: str = "scope", **extra) -> dict:
    return {"key": key, "area": area, "text": text, "sources": [f"src-{key}"], **extra}


def quoted(key: str, text: str, area: str = "scope", **extra) -> dict:
    """A provision in the instrument's own words (form: text)."""
    return prov(key, text, area, form="text", **extra)


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


@pytest.fixture(scope="module")
def staged() -> VersionsFile:
    """proposal → Parliament position (leaves oversight unstated) → final act."""
    return load_pack(FIXTURES / "staged").versions


# ---- classification --------------------------------------------------------------

def test_descriptions_state_only_the_declared_change():
    # Summaries (the default form): only the declared effect is a change; nothing is "added"
    # or "removed" without a source saying so, and no redline is drawn.
    c = compare(vf(
        version("a", [prov("keep", "Same words."), prov("edit", "Old words here."), prov("gone", "Dropped.")]),
        version("b", [prov("keep", "Same words."), prov("edit", "New words here.", effect="narrows"),
                      prov("new", "Brand new.", area="data")]),
    ))
    rows = rows_by_key(c)
    assert {k: r.change for k, r in rows.items()} == {
        "keep": "unchanged", "edit": "changed", "gone": "not described", "new": "first described"}
    assert rows["edit"].effect == "narrows" and rows["edit"].label == "narrowed"
    assert rows["edit"].from_text == "Old words here." and rows["edit"].to_text == "New words here."
    assert rows["gone"].to_key is None and rows["gone"].to_text is None and rows["gone"].to_sources == ()
    assert rows["new"].from_key is None and rows["new"].from_text is None and rows["new"].from_stated
    assert rows["keep"].effect is None and rows["new"].effect is None and rows["gone"].effect is None
    assert all(r.redline == () for r in c.rows)  # two descriptions: never word-level
    assert [s.source for s in rows["edit"].from_sources] == ["src-edit"]
    assert not c.identical


def test_quoted_texts_added_removed_changed_unchanged():
    # The same inputs as quoted texts, with a source for the addition and for the removal.
    c = compare(vf(
        version("a", [quoted("keep", "Same words."), quoted("edit", "Old words here."), quoted("gone", "Dropped.")]),
        version("b", [quoted("keep", "Same words."), quoted("edit", "New words here.", effect="narrows"),
                      quoted("new", "Brand new.", area="data", effect="adds")],
                drops=[{"key": "gone", "sources": ["notice-b"]}]),
    ))
    rows = rows_by_key(c)
    assert {k: r.change for k, r in rows.items()} == {
        "keep": "unchanged", "edit": "changed", "gone": "removed", "new": "added"}
    assert rows["edit"].effect == "narrows"
    assert [(s.op, s.text) for s in rows["edit"].redline if s.op != "equal"] == [("delete", "Old"), ("insert", "New")]
    assert sides(rows["edit"].redline) == ("Old words here.", "New words here.")
    assert rows["gone"].to_key is None and rows["gone"].to_text is None
    assert [s.source for s in rows["gone"].to_sources] == ["notice-b"]  # the source that says so
    assert rows["new"].effect == "adds" and rows["new"].label == "added" and rows["new"].from_text is None
    # Only two quoted sides that differ get a redline.
    assert rows["keep"].redline == rows["gone"].redline == rows["new"].redline == ()
    assert rows["edit"].worded and rows["keep"].worded and not rows["new"].worded


@pytest.mark.parametrize("effect", [None, "adds", "narrows", "broadens", "strengthens", "weakens", "clarifies",
                                    "renews"])
def test_added_only_when_a_source_says_the_provision_is_new(effect):
    extra = {"effect": effect} if effect else {}
    c = compare(vf(version("a", [prov("k", "Kept.")]),
                   version("b", [prov("k", "Kept."), prov("n", "New text.", **extra)])))
    row = rows_by_key(c)["n"]
    if effect == "adds":
        assert (row.change, row.label, row.effect) == ("added", "added", "adds")
    elif effect is None:
        assert (row.change, row.label, row.effect) == ("first described", "first described", None)
    else:
        assert (row.change, row.label, row.effect) == ("changed", PAST[effect], effect)
    assert row.from_text is None and row.redline == ()
    assert ("added" in c.summary()) == (effect == "adds")


def test_stated_effect_without_earlier_text_is_not_an_addition():
    # A source says screening was strengthened: it existed, but the sources do not give
    # the earlier text. It reads "strengthened", FROM not stated, never "added".
    c = compare(vf(
        version("a", [prov("scope", "Physics.")], not_stated=["security"]),
        version("b", [prov("scope", "Physics."),
                      prov("screening", "Projects are screened.", area="security", effect="strengthens")]),
    ))
    row = rows_by_key(c)["screening"]
    assert (row.change, row.label, row.effect) == ("changed", "strengthened", "strengthens")
    assert row.from_stated is False and row.from_text is None and row.from_key is None
    assert c.counts()["added"] == 0 and c.counts()["strengthened"] == 1
    assert c.summary() == "1 provision strengthened (the sources do not give the label a text); 1 unchanged"


def test_stated_effect_without_earlier_text_in_a_described_area():
    c = compare(vf(version("a", [prov("k", "Kept.")]),
                   version("b", [prov("k", "Kept."), prov("n", "Screened.", effect="strengthens")])))
    row = rows_by_key(c)["n"]
    assert row.change == "changed" and row.from_stated is False
    assert c.summary() == "1 provision strengthened (the sources do not give the label a text); 1 unchanged"


def test_first_described_in_an_area_from_does_not_state():
    c = compare(vf(
        version("a", [prov("scope", "Physics.")], not_stated=["security"]),
        version("b", [prov("scope", "Physics."), prov("screening", "Projects are screened.", area="security")]),
    ))
    row = rows_by_key(c)["screening"]
    assert row.change == "first described" and row.from_stated is False and row.from_text is None
    assert c.from_not_stated == ("security",)
    assert c.summary() == "1 provision first described in the label b; 1 unchanged"


def test_not_described_in_an_area_to_does_not_state():
    c = compare(vf(
        version("a", [prov("military", "Military work is excluded.", area="exclusions")]),
        version("b", [], not_stated=["exclusions"]),
    ))
    (row,) = c.rows
    assert row.change == "not described" and row.to_stated is False and row.from_stated
    assert c.summary() == "1 provision not described in the label b"


def test_removed_only_when_a_version_up_to_to_drops_it():
    a = version("a", [prov("k", "Kept."), prov("gone", "Dropped."), prov("quiet", "Unmentioned.")])
    b = version("b", [prov("k", "Kept.")], drops=[{"key": "gone", "sources": [{"source": "notice", "locator": "§ 2"}]}])
    c = version("c", [prov("k", "Kept.")])
    for comparison in (compare(vf(a, b)), compare(vf(a, b, c), "a", "c")):
        rows = rows_by_key(comparison)
        assert rows["gone"].change == "removed" and rows["gone"].label == "removed"
        assert [(s.source, s.locator) for s in rows["gone"].to_sources] == [("notice", "§ 2")]
        assert rows["quiet"].change == "not described" and rows["quiet"].to_sources == ()
        assert comparison.counts()["removed"] == 1 and comparison.counts()["not described"] == 1
    # A drop after TO says nothing about TO.
    assert rows_by_key(compare(vf(a, c, b), "a", "c"))["gone"].change == "not described"


def test_two_descriptions_that_differ_are_restated_with_no_redline():
    c = compare(vf(version("a", [prov("k", "The accord covers physics, says the explainer.")]),
                   version("b", [prov("k", "Physics research is in scope, the ministry writes.")])))
    (row,) = c.rows
    assert (row.change, row.label, row.effect) == ("restated", "with no change stated", None)
    assert row.redline == () and not row.worded
    assert row.from_text == "The accord covers physics, says the explainer."
    assert row.to_text == "Physics research is in scope, the ministry writes."
    assert [s.source for s in row.from_sources] == [s.source for s in row.to_sources] == ["src-k"]
    assert c.summary() == "1 provision with no change stated"
    assert c.counts()["with no change stated"] == 1 and c.counts()["changed"] == 0


@pytest.mark.parametrize("forms", [("summary", "text"), ("text", "summary")])
def test_description_against_quoted_text_has_no_redline(forms):
    old, new = forms
    c = compare(vf(version("a", [prov("k", "One.", form=old)]), version("b", [prov("k", "Two.", form=new)])))
    (row,) = c.rows
    assert (row.change, row.redline, row.from_form, row.to_form) == ("restated", (), old, new)
    # A stated effect is reported, still without striking a description through.
    c = compare(vf(version("a", [prov("k", "One.", form=old)]),
                   version("b", [prov("k", "Two.", form=new, effect="narrows")])))
    (row,) = c.rows
    assert (row.change, row.label, row.redline) == ("changed", "narrowed", ())


def test_whitespace_only_difference_is_unchanged():
    for make in (prov, quoted):
        c = compare(vf(version("a", [make("k", "Two  words\nhere.")]), version("b", [make("k", "Two words here.")])))
        assert c.rows[0].change == "unchanged"


def test_renews_reads_renewed():
    c = compare(vf(version("a", [quoted("term", "Five years from 2015.", area="term")]),
                   version("b", [quoted("term", "Five years from 2020.", area="term", effect="renews")])))
    (row,) = c.rows
    assert (row.change, row.effect, row.label) == ("changed", "renews", "renewed")
    assert c.summary() == "1 provision renewed" and c.counts()["renewed"] == 1 and c.counts()["changed"] == 0


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


def test_extension_compares_as_the_text_it_inherits(renewal):
    c = compare(renewal, "accord-2010", "extension-2015")
    changes = {r.key: r.change for r in c.rows}
    assert changes.pop("term") == "changed"  # two quoted texts that differ, no effect stated
    assert rows_by_key(c)["term"].effect is None
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
    assert rows["screening"].from_stated is False and rows["screening"].change == "changed"
    assert rows["screening"].label == "strengthened"
    assert rows["military"].change == "not described" and rows["military"].to_stated is False
    assert rows["data-sharing"].change == "removed"  # accord-2020 lists it under drops:
    assert [(s.source, s.locator) for s in rows["data-sharing"].to_sources] == [("analysis-2020", "p. 3")]


def test_non_adjacent_versions_follow_replaces_through_the_versions_between(renewal):
    c = compare(renewal, "accord-2010", "accord-2020")
    rows = rows_by_key(c)
    assert rows["ip-patents"].from_key == "ip" and rows["joint-board"].from_key == "board"
    assert "ip" not in rows and "board" not in rows
    # term changed twice, once with no declared effect: no single effect applies, and only
    # one step states one, so no steps are named either.
    assert rows["term"].change == "changed" and rows["term"].effect is None and rows["term"].steps == ()
    assert rows["scope"].effect == "narrows"
    assert rows["data-sharing"].change == "removed"


def test_backwards_comparison_reverses_effects(renewal):
    c = compare(renewal, "accord-2020", "extension-2015")
    rows = rows_by_key(c)
    assert rows["scope"].effect == "broadens"
    assert rows["ip"].from_keys == ("ip-patents", "ip-licences") and rows["ip"].renamed
    # No source says the 2015 extension lacked screening: its sources do not describe security.
    assert rows["screening"].change == "not described" and rows["screening"].to_stated is False
    assert "removed" not in {r.change for r in c.rows} and "added" not in {r.change for r in c.rows}


# ---- areas an intermediate version leaves unstated -----------------------------------

def test_unstated_area_in_between_is_carried_through(staged):
    # The Parliament position's sources do not describe oversight: comparing across it, the
    # proposal's oversight provision is neither removed nor re-added.
    c = compare(staged, "proposal", "final")
    oversight = [r for r in c.rows if r.area == "oversight"]
    assert [(r.key, r.change, r.from_key, r.to_key) for r in oversight] == [
        ("oversight", "unchanged", "oversight", "oversight")]
    assert oversight[0].from_stated and oversight[0].to_stated
    # The only row without a counterpart is the one a source says is new.
    assert [(r.key, r.change) for r in c.rows if r.from_key is None or r.to_key is None] == [("register", "added")]
    assert [r.key for r in c.rows].count("oversight") == 1
    # Backwards, too.
    back = [r for r in compare(staged, "final", "proposal").rows if r.key == "oversight"]
    assert [(r.change, r.from_key, r.to_key) for r in back] == [("unchanged", "oversight", "oversight")]


def test_unstated_area_adjacent_steps_say_what_is_known(staged):
    (gone,) = [r for r in compare(staged, "proposal", "position").rows if r.key == "oversight"]
    assert gone.change == "not described" and gone.to_stated is False
    (back,) = [r for r in compare(staged, "position", "final").rows if r.key == "oversight"]
    assert back.change == "first described" and back.from_stated is False


def test_change_across_an_unstated_version_is_against_the_last_stated_text():
    c = compare(vf(
        version("a", [quoted("k", "Audits every year.", area="oversight"), prov("s", "Scope.")]),
        version("b", [prov("s", "Scope.")], not_stated=["oversight"]),
        version("c", [quoted("k", "Audits every two years.", area="oversight", effect="weakens"), prov("s", "Scope.")]),
    ), "a", "c")
    row = rows_by_key(c)["k"]
    assert (row.change, row.label, row.from_key) == ("changed", "weakened", "k")
    assert sides(row.redline) == ("Audits every year.", "Audits every two years.")
    assert len(c.rows) == 2


# ---- effects across several steps ------------------------------------------------

def test_different_effects_across_steps_are_each_named(staged):
    row = rows_by_key(compare(staged, "proposal", "final"))["penalties"]
    assert row.change == "changed" and row.effect is None and row.label == "changed"
    assert row.steps == (("proposal", "Parliament position", "strengthens"),
                         ("Parliament position", "final act", "weakens"))
    c = compare(staged, "proposal", "final")
    assert c.counts()["strengthened"] == c.counts()["weakened"] == 0 and c.counts()["changed"] == 1


def test_one_effect_every_step_states_is_the_net_effect():
    c = compare(vf(version("a", [quoted("k", "One.")]), version("b", [quoted("k", "Two.", effect="strengthens")]),
                   version("c", [quoted("k", "Three.", effect="strengthens")])), "a", "c")
    (row,) = c.rows
    assert (row.change, row.effect, row.steps) == ("changed", "strengthens", ())


def test_different_effects_across_steps_are_named_backwards_too(staged):
    row = rows_by_key(compare(staged, "final", "proposal"))["penalties"]
    assert row.effect is None
    assert row.steps == (("final act", "Parliament position", "strengthens"),
                         ("Parliament position", "proposal", "weakens"))


def test_steps_effects_and_renewal_in_the_staged_fixture(staged):
    rows = rows_by_key(compare(staged, "proposal", "final"))
    assert rows["review"].label == "renewed" and rows["review"].steps == ()
    assert rows["register"].change == "added" and rows["register"].effect == "adds"
    assert rows["scope"].change == "restated" and rows["scope"].redline == ()
    # A description (proposal) against a quoted text (final act): no redline.
    assert (rows["data-access"].change, rows["data-access"].from_form, rows["data-access"].to_form) == (
        "restated", "summary", "text")
    assert rows["data-access"].redline == ()


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
    assert row.from_form == row.to_form == "text"
    assert [(s.op, s.text) for s in row.redline if s.op != "equal"] == [("delete", ", chemistry")]
    assert sides(row.redline) == (row.from_text, row.to_text)


def test_every_redline_rebuilds_both_quoted_texts(renewal, staged):
    for versions in (renewal, staged):
        ids = [v.id for v in versions.versions]
        for a, b in permutations(ids, 2):
            for row in compare(versions, a, b).rows:
                if row.redline:
                    assert row.worded and sides(row.redline) == (row.from_text, row.to_text)
                else:
                    assert not (row.worded and row.change == "changed")


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
    assert c.summary() == ("2 provisions narrowed, 1 strengthened, 3 first described in the label b, "
                           "1 not described in the label b; 1 unchanged")
    n = c.counts()
    assert n["added"] == 0 and n["narrowed"] == 2 and n["removed"] == 0
    assert n["first described"] == 3 and n["not described"] == 1
    assert c.summary(["data"]) == "1 provision not described in the label b"
    assert c.summary(["term"]) == "2 provisions first described in the label b"
    assert c.summary(["scope"]) == "2 provisions narrowed, 1 strengthened; 1 unchanged"


def test_change_without_effect_counts_as_changed_only_between_quoted_texts():
    c = compare(vf(version("a", [quoted("k", "One.")]), version("b", [quoted("k", "Two.")])))
    assert c.summary() == "1 provision changed" and c.counts()["changed"] == 1
    c = compare(vf(version("a", [prov("k", "One.")]), version("b", [prov("k", "Two.")])))
    assert c.summary() == "1 provision with no change stated" and c.counts()["changed"] == 0


def test_fixture_summary(renewal):
    assert compare(renewal).summary() == (
        "2 provisions narrowed, 3 strengthened (1 without the 2015 extension text in the sources), 1 clarified, "
        "1 removed, 1 not described in the 2020 renewal; 2 unchanged")


def test_staged_summary(staged):
    assert compare(staged, "proposal", "final").summary() == (
        "1 provision added, 1 renewed, 1 changed, 2 with no change stated; 1 unchanged")


_PART = re.compile(r"^(\d+) (?:provisions? )?(.+?)(?: in the .+| \(.+\))?$")


def _summary_counts(summary: str) -> dict[str, int]:
    """Return {label: count} from a summary line, leaving out the parenthesised sub-counts."""
    if summary == "No provisions to compare":
        return {}
    if summary.startswith("No changes; "):
        return {"unchanged": int(summary.split()[2])}
    head, _, tail = summary.partition("; ")
    out = {}
    for part in head.split(", ") + ([tail] if tail else []):
        m = _PART.match(part)
        assert m, f"unreadable summary part {part!r} in {summary!r}"
        out[m.group(2)] = int(m.group(1))
    return out


def _comparisons():
    for name in ("renewal", "staged"):
        versions = load_pack(FIXTURES / name).versions
        ids = [v.id for v in versions.versions]
        for a in ids:
            for b in ids:
                yield f"{name}:{a}..{b}", compare(versions, a, b)
    yield "minimal", compare(load_pack(MINIMAL).versions)
    yield "own effect", compare(vf(version("a", [prov("k", "One."), prov("j", "J.")]),
                                   version("b", [prov("k", "Two.", effect="suspends"), prov("j", "J.")])))


@pytest.mark.parametrize("name, c", list(_comparisons()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_count_equals_the_rows_it_counts(name, c: Comparison):
    area_sets = [()] + [(a,) for a in c.areas] + [tuple(c.areas[:2])]
    for areas in area_sets:
        rows = [r for r in c.rows if not areas or r.area in areas]
        n = c.counts(areas)
        unstated = n.pop("not_stated")
        assert sum(n.values()) == len(rows), (areas, n)
        for label, count in n.items():
            assert count == sum(r.label == label for r in rows), (areas, label)
        assert unstated == sum((not r.from_stated) or (not r.to_stated) for r in rows)
        # The summary line names each non-zero count, and nothing else.
        assert _summary_counts(c.summary(areas)) == {k: v for k, v in n.items() if v}, (areas, c.summary(areas))


def test_pack_effect_is_counted_as_written():
    c = compare(vf(version("a", [prov("k", "One.")]), version("b", [prov("k", "Two.", effect="suspends")])))
    assert c.rows[0].label == "suspends" and c.counts()["suspends"] == 1
    assert c.summary() == "1 provision suspends"


def test_unknown_area_filter_is_an_error(renewal):
    with pytest.raises(ValueError, match="unknown area"):
        compare(renewal).summary(["sopce"])
