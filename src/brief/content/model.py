"""Define the typed content model of a pack (one pydantic model per file)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError


class Strict(BaseModel):
    """Base model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Characters that cannot be seen in an editor, refused where they are typed (docs/content.md):
# - C0/C1 controls and odd line breaks break XML feeds and mail headers and print as empty boxes;
# - bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) make text display in an
#   order other than the one it is stored in ("Trojan Source"), so a reviewer reads something else;
# - zero-width characters (U+200B-U+200D, U+2060, U+FEFF: a byte-order mark inside a value) split
#   words and ids invisibly. Emoji sequences joined with U+200D are refused too: keep it simple.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
_INVISIBLES = "\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
_CONTROL = re.compile(f"[{_CONTROLS}{_INVISIBLES}]")
_CONTROL_ONLY = re.compile(f"[{_CONTROLS}]")

SHOWN_WIDTH = 80  # longest value echoed in a message


def shown(value: object) -> str:
    """Return repr(value) for a message, cut to SHOWN_WIDTH characters so a huge value is not echoed whole."""
    text = repr(value)
    return text if len(text) <= SHOWN_WIDTH else text[: SHOWN_WIDTH - 2] + "\u2026" + text[-1]


def invisible_character(text: str) -> tuple[int, str] | None:
    """Return (0-based index, description) of the first invisible character in text, or None."""
    bad = _CONTROL.search(text)
    if bad is None:
        return None
    char = bad.group()
    if _CONTROL_ONLY.match(char):
        return bad.start(), f"invisible control character U+{ord(char):04X}"
    return bad.start(), f"invisible character U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')})"


def visible(text: str) -> str:
    """Return text with each invisible character written out as <U+XXXX>, safe to print."""
    return _CONTROL.sub(lambda found: f"<U+{ord(found.group()):04X}>", text)


def _visible(value: object) -> object:
    # Runs before any other check of a text field (ids, addresses and URLs included), so the
    # message names the character rather than calling the whole value malformed.
    found = invisible_character(value) if isinstance(value, str) else None
    if found:
        raise ValueError(f"contains the {found[1]} at position {found[0] + 1}; delete it")
    return value


def _one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("must be a single line; remove the line break (use '>-' to fold a long value)")
    return value


def _digits(value: object) -> object:
    # int("1_000") and float("1_000") accept the underscore; content is written in plain digits.
    if isinstance(value, str) and "_" in value:
        raise ValueError(f"{shown(value)} has an underscore; write digits only (1000, not 1_000)")
    return value


def _sane(value: Decimal) -> Decimal:
    # Decimal takes 1e999 as finite; no quantity a brief reports is anywhere near that.
    if abs(value.adjusted()) > 100:
        raise PydanticCustomError("finite_number", "must be a finite number")
    return value


_Visible = BeforeValidator(_visible)
Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64), _Visible]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _Visible]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _Visible, AfterValidator(_one_line)]
# Mail needs plain ASCII addresses (no SMTPUTF8 here): catch the others in the content.
Email = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"),
                  _Visible]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$"), _Visible]
# Whole numbers and figures: digits as typed; no '_' separators, no nan or infinity.
Whole = Annotated[int, BeforeValidator(_digits)]
# Exact decimals (never floats): 10^25 stays 10000000000000000000000000, 0.1 stays 0.1.
Number = Annotated[Decimal, Field(allow_inf_nan=False), BeforeValidator(_digits), AfterValidator(_sane)]

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @property
    def start(self) -> date:
        """Return the first day the date can mean (used for ordering)."""
        return date(self.year, self.month or 1, self.day or 1)

    def iso(self) -> str:
        return "-".join([f"{self.year:04d}"] + [f"{v:02d}" for v in (self.month, self.day) if v])

    def __str__(self) -> str:
        if self.day:
            return self.start.strftime("%-d %B %Y")
        if self.month:
            return self.start.strftime("%B %Y")
        return str(self.year)


def _partial_date(value: object) -> PartialDate:
    if isinstance(value, PartialDate):
        return value
    if isinstance(value, date):
        return PartialDate(value.year, value.month, value.day)
    m = _DATE.match(str(value).strip())
    if not m:
        raise ValueError(f"{shown(value)} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
    y = int(m.group(1))
    mo, d = (int(g) if g else None for g in m.groups()[1:])
    try:
        date(y, mo or 1, d or 1)
    except ValueError as e:
        raise ValueError(f"{shown(value)} is not a real date ({e})") from None
    return PartialDate(y, mo, d)


def _full_date(value: object) -> date:
    pd = _partial_date(value)
    if pd.precision != "day":
        raise ValueError(f"{shown(value)} must be a full date, YYYY-MM-DD")
    return pd.start


FuzzyDate = Annotated[PartialDate, BeforeValidator(_partial_date)]
Day = Annotated[date, BeforeValidator(_full_date)]


def _citation(value: object) -> object:
    # A citation may be written as just the source id.
    return {"source": value} if isinstance(value, str) else value


class Citation(Strict):
    source: Id
    locator: Text | None = None  # page, paragraph or section within the source


Cite = Annotated[Citation, BeforeValidator(_citation)]
Sources = list[Cite]

AUDIENCE_ALL = "all"

# A word from the pack's vocabulary (content/vocabulary.yaml, or the built-in one): an area, a
# kind, a status. Checked against the vocabulary with its line, after the files are read.
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), _Visible,
                 AfterValidator(_one_line)]


# ---- pack.yaml -----------------------------------------------------------------

class Contact(Strict):
    id: Id
    name: Line
    role: Line
    email: Email
    phone: Line | None = None
    note: Line | None = None  # written into the contact's vCard (brief.edition.newsroom), e.g. "sample contact"


class Pack(Strict):
    title: Line
    short_title: Line | None = None  # names the output files (e.g. "US–China STA"); default: the title
    subtitle: Line | None = None
    topic: Text
    as_of: Day
    edition: Annotated[Whole, Field(ge=1)]
    organisation: Line
    author: Line | None = None
    keywords: list[Line] = []
    contacts: list[Contact] = []
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$"), _Visible] = "en"
    # Numbers and dates are written the locale's way (babel: en_US, en_GB, de_DE...); default: the language.
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$"), _Visible] | None = None
    page_size: Literal["Letter", "A4"] = "Letter"
    embargo: AwareDatetime | None = None
    handling: Line | None = None


# ---- sources.yaml --------------------------------------------------------------

class Source(Strict):
    id: Id
    title: Line | None = None  # the source's own title, in full; printed in quotation marks
    description: Line | None = None  # what the source is, when it has no title ("Press briefing, ...")
    author: Line | None = None
    publisher: Line | None = None
    date: FuzzyDate | None = None
    undated: Text | None = None  # why there is no date; required when date is absent
    kind: Literal["report", "opinion", "news", "official", "analysis", "testimony", "dataset"]
    url: Url | None = None
    file: Text | None = None  # a local copy of its text, relative to the pack directory: quotations are checked
    front_matter: Annotated[Whole, Field(ge=0)] = 0  # paragraphs of the copy before paragraph 1 (byline, date)
    # Take the title from this line of the copy (`# ` stripped), so the pack quotes it without restating it.
    title_line: Annotated[Whole, Field(ge=1)] | None = None


class SourcesFile(Strict):
    sources: list[Source]


# ---- assessments.yaml ----------------------------------------------------------

Confidence = Literal["high", "moderate", "low"]
Priority = Annotated[Whole, Field(ge=1, le=5)]  # 1 = most important


# Sourced information or the organisation's own judgement (ICD 203): editions tell them apart.
Basis = Literal["sourced", "judgement"]


class Claim(Strict):
    text: Text  # what this source says, paraphrased or quoted
    source: Cite


class Dispute(Strict):
    """Sources that disagree about an item: each claim with who makes it."""

    about: Line | None = None  # what is disputed, when the item does not say it
    claims: Annotated[list[Claim], Field(min_length=2)]


class Assessment(Strict):
    id: Id
    headline: Line
    body: Text
    confidence: Confidence
    basis: Basis = "sourced"
    dispute: Dispute | None = None
    audiences: list[Text] = [AUDIENCE_ALL]
    priority: Priority = 3
    sources: Sources


class AssessmentsFile(Strict):
    assessments: list[Assessment]


# ---- stakeholders.yaml ---------------------------------------------------------

Stance = Literal["support", "oppose", "conditional", "mixed"]


class Quote(Strict):
    text: Text  # the exact words, without surrounding quotation marks
    speaker: Line
    source: Cite


class Stakeholder(Strict):
    id: Id
    name: Line
    kind: Word  # a stakeholder kind from the vocabulary
    country: Line | None = None
    stance: Stance
    position: Text
    interests: list[Text] = []
    quote: Quote | None = None
    audiences: list[Text] = [AUDIENCE_ALL]
    priority: Priority = 3
    sources: Sources


class StakeholdersFile(Strict):
    stakeholders: list[Stakeholder]


# ---- versions.yaml (versions of an agreement, a regulation, a programme) -------

class Provision(Strict):
    key: Id  # stable across versions: the same key means the same provision
    area: Word  # an area from the vocabulary
    text: Text
    # "text": the instrument's own words, quoted from a source that reproduces them;
    # "summary": a source's description of them. Only two texts are compared word by word.
    form: Literal["text", "summary"] = "summary"
    effect: Word | None = None  # how this version's text changes the one it replaces (a vocabulary effect)
    dispute: Dispute | None = None
    replaces: list[Id] = []  # keys in the previous version this one renames or splits
    sources: Sources


def _dates(value: object) -> object:
    # One date or several (staged application: "applies from: [2025-02-02, 2026-08-02]").
    if isinstance(value, dict):
        return {k: v if isinstance(v, list) else [v] for k, v in value.items()}
    return value


class Drop(Strict):
    """A provision of the previous version that a source says this version removes."""

    key: Id
    sources: Sources


class Version(Strict):
    id: Id
    label: Line
    kind: Word  # a version kind from the vocabulary
    # Dated milestones by date kind (vocabulary `date_kinds`): signed, effective, expires,
    # or a pack's own (proposed, adopted, entry into force, applies from...). The three
    # classic ones may also be written as fields of their own.
    signed: FuzzyDate | None = None
    effective: FuzzyDate | None = None
    expires: FuzzyDate | None = None
    dates: Annotated[dict[Word, list[FuzzyDate]], BeforeValidator(_dates)] = {}
    status: Word  # a version status from the vocabulary
    summary: Text | None = None
    inherits: Id | None = None  # an extension carries another version's provisions unchanged
    not_stated: list[Word] = []  # areas the sources do not describe for this version
    provisions: list[Provision] = []
    drops: list[Drop] = []  # provisions a source says this version removes (else a missing one is "not described")
    sources: Sources

    def milestones(self) -> list[tuple[str, PartialDate]]:
        """Return every dated milestone as (date kind, date), oldest first."""
        found = [(k, d) for k, d in (("signed", self.signed), ("effective", self.effective),
                                      ("expires", self.expires)) if d is not None]
        found += [(k, d) for k, ds in self.dates.items() for d in ds]
        return sorted(found, key=lambda kd: kd[1].start)

    def first_date(self) -> PartialDate | None:
        """Return the earliest milestone, used to order versions."""
        found = self.milestones()
        return found[0][1] if found else None


class VersionsFile(Strict):
    # What the versions are versions of: an agreement, a regulation, a programme.
    # `agreement:` is read too, so packs written before `subject:` still load.
    subject: Line | None = None
    agreement: Line | None = None
    versions: list[Version]

    @property
    def name(self) -> str:
        return self.subject or self.agreement or "the subject"


# ---- timeline.yaml -------------------------------------------------------------

class TimelineEvent(Strict):
    id: Id
    date: FuzzyDate
    title: Line
    description: Text | None = None
    kind: Word = "other"  # an event kind from the vocabulary
    audiences: list[Text] = [AUDIENCE_ALL]
    sources: Sources


class TimelineFile(Strict):
    events: list[TimelineEvent]


# ---- figures.yaml --------------------------------------------------------------

class Figure(Strict):
    id: Id
    quantity: Id  # what is measured; figures sharing it are compared for conflicts
    label: Text  # what the number measures, in words
    value: Number
    qualifier: Literal["exactly", "about", "nearly", "over", "under", "at least", "up to"] = "exactly"
    unit: Line | None = None  # "EUR" (an ISO currency code), "%", or words ("protocols")
    # How a large number reads: "words" (35 million), "exponent" (10^25) or "digits" (35,000,000).
    style: Literal["words", "exponent", "digits"] = "words"
    as_of: FuzzyDate | None = None
    # Figures sharing a quantity: a series (different dates) or a conflict (same claim, different
    # values). Left out, brief decides from the dates; set it when the dates do not tell.
    relation: Literal["series", "conflict"] | None = None
    audiences: list[Text] = [AUDIENCE_ALL]
    sources: Sources


def figure_relation(figures: list[Figure]) -> str:
    """Return how figures of one quantity relate: 'single', 'agree', 'series' or 'conflict'.

    Different dates make a series (a value over time); the same claim with different values
    is a conflict. An author's explicit `relation:` on any of them decides.
    """
    if len(figures) < 2:
        return "single"
    stated = {f.relation for f in figures if f.relation}
    if len(stated) == 1:
        return stated.pop()
    if len({f.as_of for f in figures}) == len(figures) and None not in {f.as_of for f in figures}:
        return "series"
    return "conflict" if len({(f.value, f.qualifier) for f in figures}) > 1 else "agree"


class FiguresFile(Strict):
    figures: list[Figure]


# ---- recommendations.yaml, questions.yaml, glossary.yaml -----------------------

class Recommendation(Strict):
    id: Id
    audience: Text
    text: Text
    rationale: Text | None = None
    basis: Basis = "sourced"  # "judgement": the rationale goes beyond what its sources say
    priority: Priority = 3
    sources: Sources = []


class RecommendationsFile(Strict):
    recommendations: list[Recommendation]


class Question(Strict):
    id: Id
    question: Line
    answer: Text
    basis: Basis = "sourced"
    audiences: list[Text] = [AUDIENCE_ALL]
    sources: Sources


class QuestionsFile(Strict):
    questions: list[Question]


class Term(Strict):
    term: Line
    definition: Text
    sources: Sources = []


class GlossaryFile(Strict):
    terms: list[Term]


# ---- audiences/<name>.yaml -----------------------------------------------------

class BottomLine(Strict):
    text: Text
    sources: Sources = []


class Section(Strict):
    kind: Text  # a kind from the section registry (brief.edition.sections); checked with its line
    title: Line | None = None
    intro: Text | None = None
    max: Annotated[Whole, Field(ge=1)] | None = None
    max_priority: Priority | None = None  # keep items of this priority or more important
    areas: list[Word] = []  # for changes/provisions/scope: which areas to show (all when empty)
    mode: Literal["summary", "table", "list"] | None = None  # for changes


class Newsroom(Strict):
    """Files for journalists made beside the edition: a quotable-facts sheet, facts as CSV and JSON, a vCard."""

    contacts: list[Id] = []  # pack.yaml contact ids for the vCard; default: the profile's contact


def _section(value: object) -> object:
    return {"kind": value} if isinstance(value, str) else value


# Audience names brief keeps for itself, with why. A profile's editions are written to
# build/<name>/; the other entries brief writes in build/ (manifest.json, sent.json, .brief.lock,
# hidden .*.tmp-* files) cannot collide with a name, which is an id: no dots.
RESERVED_AUDIENCES: dict[str, str] = {
    AUDIENCE_ALL: "it is the tag meaning every audience",
    "dist": "build/dist/ holds published releases",
}


# A recipient field a cover shows or groups notes by: a column of content/recipients.csv.
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=60), _Visible]


class Cover(Strict):
    """A personalised first page for each of the edition's recipients (content/recipients.csv)."""

    template: Id = "standard"  # a cover in templates/covers/NAME.html.j2 (the pack's or the built-in ones)
    fields: list[FieldName] = ["organisation", "state", "district", "committee"]  # shown, in this order
    labels: dict[FieldName, Line] = {}  # a field's label on the cover (default: its name, capitalised)
    notes_by: FieldName | None = None  # pick each recipient's note in recipient_notes.yaml by this field


class Audience(Strict):
    name: Id
    title: Text  # the edition's title line, e.g. "Congressional brief"
    template: Text | None = None  # a layout (single, columns, dense, press, or the pack's own); default single
    page_budget: Annotated[Whole, Field(ge=1)]
    sections: list[Annotated[Section, BeforeValidator(_section)]]
    bottom_line: BottomLine | None = None
    call_to_action: Text | None = None
    contact: Id | None = None  # a contact id from pack.yaml
    compare: tuple[Id, Id] | None = None  # versions for the "changes" section; default the last two
    newsroom: bool | Newsroom = False  # true (or a mapping) for the newsroom files (brief.edition.newsroom)
    cover: Cover | None = None  # a personalised cover per recipient, printed before the edition
    archival: bool = False  # also write a PDF/A-3 copy with the content files attached (brief.output.archival)


# ---- distribution.yaml ---------------------------------------------------------

class Recipient(Strict):
    name: Line
    email: Email
    office: Line | None = None


class DistributionFile(Strict):
    lists: dict[Id, list[Recipient]]  # audience name -> recipients


# ---- recipient_notes.yaml (what a cover says to a group of recipients) --------

class RecipientNote(Strict):
    key: Line  # the value of the profile's cover.notes_by field it is for, e.g. a state's code
    title: Line | None = None
    text: Text
    sources: Sources


class RecipientNotesFile(Strict):
    notes: list[RecipientNote]


# Files of a pack, in load order: (file name under content/, model, required).
FILES: tuple[tuple[str, type[Strict], bool], ...] = (
    ("pack.yaml", Pack, True),
    ("sources.yaml", SourcesFile, True),
    ("assessments.yaml", AssessmentsFile, False),
    ("stakeholders.yaml", StakeholdersFile, False),
    ("versions.yaml", VersionsFile, False),
    ("timeline.yaml", TimelineFile, False),
    ("figures.yaml", FiguresFile, False),
    ("recommendations.yaml", RecommendationsFile, False),
    ("questions.yaml", QuestionsFile, False),
    ("glossary.yaml", GlossaryFile, False),
    ("distribution.yaml", DistributionFile, False),
    ("recipient_notes.yaml", RecipientNotesFile, False),
)

Sourced = (Assessment | Stakeholder | Provision | Version | TimelineEvent | Figure | Recommendation | Question | Term
           | RecipientNote)
