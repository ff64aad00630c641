"""The section registry: every section kind an edition can show, declared once.

Each entry says what the kind is called, its default heading, the content files
it reads (for incremental builds), which profile options it honours, how many
versions it needs, the function that selects its content (by name, so a no-op
build never imports the models), and its template.
Validation, tailoring, the manifest and the templates all read it; adding a
section kind is one entry here and one template in templates/editions/sections/.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brief.content import model as m
    from brief.content.load import Content
    from brief.edition.select import Selected
    from brief.edition.views import Citer

    Selector = Callable[[Content, m.Audience, m.Section, Citer], Selected]

# Options a profile may set on a section; each kind lists the ones it honours.
OPTIONS = ("max", "max_priority", "areas", "mode")


@dataclass(frozen=True)
class SectionKind:
    """One kind of section: its name, default heading, inputs, options and selector."""

    name: str
    title: str
    reads: tuple[str, ...] = ()  # content files besides pack.yaml, sources.yaml and the profile
    options: tuple[str, ...] = ()
    versions: int = 0  # how many agreement versions it needs
    select: str | None = None  # its function in brief.edition.select (or "module:function"); None: the tailor's
    wide: tuple[str | None, ...] = ()  # the modes in which it needs the full width (None: its default mode)

    @property
    def template(self) -> str:
        return f"sections/{self.name}.html.j2"

    def is_wide(self, mode: str | None) -> bool:
        """True when the section, in this mode, runs across every column of a multi-column layout."""
        return mode in self.wide

    def selector(self) -> Selector | None:
        """Return the function that selects this section's content (imported only when an edition is tailored)."""
        if self.select is None:
            return None
        module, _, name = self.select.rpartition(":")
        return getattr(importlib.import_module(module or "brief.edition.select"), name)


_VERSIONS = "content/versions.yaml"
# Every file with items a snapshot keeps: what is new in an edition may come from any of them.
_ITEMS = tuple(f"content/{name}.yaml" for name in ("assessments", "stakeholders", "versions", "timeline", "figures",
                                                     "recommendations", "questions", "glossary"))

SECTIONS: Mapping[str, SectionKind] = {k.name: k for k in (
    SectionKind("bottom_line", "Bottom line", wide=(None,)),
    SectionKind("assessments", "Key judgements", ("content/assessments.yaml",), ("max", "max_priority"),
                select="assessments"),
    SectionKind("changes", "What changed", (_VERSIONS,), ("areas", "mode"), versions=2, select="changes",
                wide=(None, "table")),
    SectionKind("scope", "What it covers now", (_VERSIONS,), ("areas",), versions=1, select="scope",
                wide=(None,)),
    SectionKind("provisions", "Provisions by area", (_VERSIONS,), ("areas",), versions=1, select="provisions"),
    SectionKind("stakeholders", "Who stands where", ("content/stakeholders.yaml",), ("max", "max_priority"),
                select="stakeholders"),
    SectionKind("timeline", "Timeline", ("content/timeline.yaml", _VERSIONS), ("max",), select="timeline",
                wide=(None,)),
    SectionKind("figures", "Key figures", ("content/figures.yaml",), ("max",), select="figures"),
    SectionKind("recommendations", "Recommendations", ("content/recommendations.yaml",), ("max", "max_priority"),
                select="recommendations"),
    SectionKind("questions", "Questions and answers", ("content/questions.yaml",), ("max",),
                select="questions"),
    SectionKind("glossary", "Glossary", ("content/glossary.yaml",), ("max",), select="glossary"),
    SectionKind("contacts", "Contacts", (), ("max",), select="contacts"),
    SectionKind("sources", "Sources"),
    # Reads the previous release's content snapshot too (brief.output.previous adds it to the inputs).
    SectionKind("whats_new", "What is new in this edition", _ITEMS, ("max",), select="brief.edition.whatsnew:select",
                wide=(None,)),
)}


def honouring(option: str) -> tuple[str, ...]:
    """Return the section kinds that honour an option, in registry order."""
    return tuple(k.name for k in SECTIONS.values() if option in k.options)
