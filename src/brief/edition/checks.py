"""Check audience profiles against the section registry, and load a pack with every rule applied."""
from __future__ import annotations

from pathlib import Path

from brief.content import model as m
from brief.content.load import Content
from brief.content.load import load_pack as load_content
from brief.content.yamlload import Document
from brief.edition.covers import check_covers
from brief.edition.newsroom import check_newsroom
from brief.edition.render import layouts, template_dirs
from brief.edition.sections import OPTIONS, SECTIONS, SectionKind, honouring
from brief.edition.tailor import pack_slug
from brief.errors import Problem


def load_pack(root: Path) -> Content:
    """Load and validate the pack at root, its profiles' sections included; raise ContentError listing every problem."""
    return load_content(root, rules=(check_profiles, check_layouts, check_file_names, check_covers,
                                            check_newsroom))


def check_layouts(c: Content, docs: dict[str, Document]) -> tuple[list[Problem], list[Problem]]:
    """Every profile's layout exists, among the built-in ones or the pack's own."""
    offered = layouts(c.root)
    names = set(offered["built-in"]) | set(offered["pack"])
    errors = []
    for name, profile in c.audiences.items():
        wanted = profile.template
        if wanted and not wanted.endswith(".j2") and wanted not in names:
            mine = ", ".join(offered["pack"]) or "none (add templates/layouts/NAME.html.j2 to make one)"
            errors.append(docs[f"content/audiences/{name}.yaml"].problem(
                ("template",), f"unknown layout '{wanted}'; built-in layouts: {', '.join(offered['built-in'])}; "
                               f"this pack's: {mine}"))
        elif wanted and wanted.endswith(".j2") and not _template_exists(c.root, wanted):
            errors.append(docs[f"content/audiences/{name}.yaml"].problem(
                ("template",), f"template '{wanted}' not found in templates/ or the built-in templates; built-in "
                               f"layouts: {', '.join(offered['built-in'])} (name one with template: NAME)"))
    return errors, []


def _template_exists(root: Path, name: str) -> bool:
    return any((base / name).is_file() for base in template_dirs(root))


def check_file_names(c: Content, docs: dict[str, Document]) -> tuple[list[Problem], list[Problem]]:
    """Output files are named from the pack's title; a title with no letters brief can use needs short_title."""
    if pack_slug(c):
        return [], []
    doc = docs["content/pack.yaml"]
    field = "short_title" if c.pack.short_title else "title"
    return [doc.problem((field,), f"the {field} has no Latin letters or digits to name the output files with; "
                                  "add short_title: with some (e.g. short_title: Treaty 2025)")], []


def check_profiles(c: Content, docs: dict[str, Document]) -> tuple[list[Problem], list[Problem]]:
    """Return (problems, warnings) in the profiles' section lists."""
    errors: list[Problem] = []
    versions = len(c.versions.versions) if c.versions else 0
    for name, profile in c.audiences.items():
        doc = docs[f"content/audiences/{name}.yaml"]
        for i, section in enumerate(profile.sections):
            errors += _section_problems(doc, i, section, profile, versions)
        errors += _repeated_sections(doc, profile)
    return errors, []


def _repeated_sections(doc: Document, profile: m.Audience) -> list[Problem]:
    """A section kind may be listed once per profile (unknown kinds are reported as such, once each)."""
    first: dict[str, int] = {}
    found = []
    for i, section in enumerate(profile.sections):
        if section.kind not in first or section.kind not in SECTIONS:
            first.setdefault(section.kind, i)
            continue
        line = doc.place(("sections", first[section.kind]))[0]
        found.append(doc.problem(("sections", i), f"section '{section.kind}' is listed twice (first at line {line}); "
                                 "list each section once, with all its options there"))
    return found


def _section_problems(doc: Document, i: int, section: m.Section, profile: m.Audience, versions: int) -> list[Problem]:
    kind = SECTIONS.get(section.kind)
    if kind is None:
        return [doc.problem(("sections", i),
                            f"unknown section '{section.kind}'; known sections: {', '.join(SECTIONS)}")]
    found = [doc.problem(("sections", i, option), f"'{option}' has no effect on a '{kind.name}' section; "
                         f"it applies to: {', '.join(honouring(option))}", key=True)
             for option in OPTIONS if getattr(section, option) not in (None, []) and option not in kind.options]
    found += _version_problems(doc, i, kind, versions)
    if kind.name == "bottom_line" and profile.bottom_line is None:
        found.append(doc.problem(("sections", i), "the profile lists a 'bottom_line' section but has no "
                                 "'bottom_line:' text; add one (text and sources)"))
    return found


def _version_problems(doc: Document, i: int, kind: SectionKind, versions: int) -> list[Problem]:
    if kind.versions and not versions:
        return [doc.problem(("sections", i),
                            f"section '{kind.name}' needs content/versions.yaml, which this pack lacks")]
    if kind.versions == 2 and versions < 2:
        return [doc.problem(("sections", i), f"a '{kind.name}' section compares two versions, but "
                            "content/versions.yaml has only one; add the earlier version or drop the section")]
    return []
