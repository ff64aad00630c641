"""Read a pack's recipients (content/recipients.csv or .yaml): who gets a personalised copy of which edition.

A CSV is what a CRM exports: UTF-8, optional leading ``#`` comment lines, then a header row. Columns
beyond the known ones are kept in ``Recipient.fields`` for covers to show. Every problem is reported
at once, each with its file and line, and nothing is built.
"""
from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from brief.content.model import Email, Id, Line, shown, visible
from brief.content.yamlload import load as load_yaml
from brief.content.yamlload import read_checked
from brief.errors import ContentError, Problem

CSV_NAME, YAML_NAME = "content/recipients.csv", "content/recipients.yaml"
REQUIRED = ("id", "name", "organisation", "email", "audience")
OPTIONAL = ("state", "district", "committee", "salutation")
KNOWN = REQUIRED + OPTIONAL
ALIASES = {"office": "organisation"}  # what some CRMs call the column
MAX_RECIPIENTS = 100_000  # far beyond any mailing; a bigger file is a mistake
_FIELD_NAME = r"^[a-z][a-z0-9_]*$"  # extra columns become template variables: keep them plain


class Recipient(BaseModel):
    """One recipient: who they are, which edition they get, and the cover's fields, with their row's place."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id  # names their PDF (build/<audience>/recipients/<id>.pdf): lower-case letters, digits, hyphens
    name: Line
    organisation: Line
    email: Email
    audience: Id
    state: Line | None = None
    district: Line | None = None
    committee: Line | None = None
    salutation: Line | None = None
    fields: dict[Annotated[str, StringConstraints(pattern=_FIELD_NAME)], str] = {}
    file: str = ""
    line: int = 0

    @property
    def key(self) -> str:
        """Return the recipient's work-item key, the same in every process: 'recipient:<audience>/<id>'."""
        return f"recipient:{self.audience}/{self.id}"

    def value(self, field: str) -> str | None:
        """Return a known or extra field's value (None or '' when the row leaves it empty)."""
        return getattr(self, field) if field in KNOWN else self.fields.get(field)


def load_recipients(root: Path, audiences: Collection[str]) -> tuple[Recipient, ...]:
    """Return the pack's recipients in file order (() when it has none); raise ContentError listing every problem."""
    root = Path(root)
    present = [name for name in (CSV_NAME, YAML_NAME) if os.path.lexists(root / name)]
    if not present:
        return ()
    if len(present) == 2:
        raise ContentError([Problem(YAML_NAME, None, None, "", f"both {CSV_NAME} and {YAML_NAME} exist; "
                                    "keep one list of recipients")])
    display = present[0]
    problems: list[Problem] = []
    rows = list(_csv_rows(root, problems) if display == CSV_NAME else _yaml_rows(root, problems))
    if len(rows) > MAX_RECIPIENTS:
        raise ContentError([Problem(display, None, None, "", f"{len(rows):,} recipients; at most "
                                    f"{MAX_RECIPIENTS:,} are read from one file: split the list")])
    recipients = [r for r in (_validate(display, line, data, problems) for line, data in rows) if r is not None]
    problems += _crosscheck(display, recipients, sorted(audiences))
    if problems:
        raise ContentError(problems)
    return tuple(recipients)


def _read_text(root: Path, display: str, problems: list[Problem]) -> str | None:
    """Return the file's text (UTF-8, a leading byte-order mark dropped), or None with a problem."""
    raw, refused = read_checked(root / display, display, root)
    if raw is None:
        problems += [refused] if refused else []
        return None
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        problems.append(Problem(display, line, None, "", f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the "
                                "file as UTF-8 (in a spreadsheet: 'CSV UTF-8')"))
        return None


def _csv_rows(root: Path, problems: list[Problem]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line, {column: value}) for each data row of the CSV; report a bad header or row."""
    text = _read_text(root, CSV_NAME, problems)
    if text is None:
        return
    lines = text.splitlines(keepends=True)
    skipped = next((i for i, line in enumerate(lines) if not line.lstrip().startswith("#") and line.strip()),
                   len(lines))
    reader = csv.reader(io.StringIO("".join(lines[skipped:]), newline=""), strict=True)
    try:
        header = next(reader, None)
        columns = _header(header, skipped + 1, problems)
        if columns is None:
            return
        start = reader.line_num
        for cells in reader:
            line, start = skipped + start + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue  # a blank line
            if len(cells) != len(columns):
                problems.append(Problem(CSV_NAME, line, None, "", f"{len(cells)} cells for {len(columns)} columns; "
                                        "quote a value that holds a comma (\"Smith, Jo\")"))
                continue
            yield line, {c: (v.strip() or None) for c, v in zip(columns, cells, strict=True)}
    except csv.Error as e:
        problems.append(Problem(CSV_NAME, skipped + reader.line_num, None, "", f"malformed CSV: {e}"))


def _header(header: list[str] | None, line: int, problems: list[Problem]) -> list[str] | None:
    """Return the header's column names (aliases resolved), or None after reporting why it does not match."""
    expected = f"expected the columns {', '.join(REQUIRED)} (and optionally {', '.join(OPTIONAL)} or your own)"
    if not header or not any(h.strip() for h in header):
        problems.append(Problem(CSV_NAME, line, None, "header", f"no header row; {expected}"))
        return None
    columns = [_column(h) for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    doubled = sorted({c for c in columns if columns.count(c) > 1})
    odd = [h for h, c in zip(header, columns, strict=True) if not re.match(_FIELD_NAME, c)]
    why = ([f"missing {', '.join(missing)}"] if missing else []) + \
          ([f"{', '.join(doubled)} twice"] if doubled else []) + \
          ([f"column name{'s' if len(odd) > 1 else ''} {', '.join(map(shown, odd))} must start with a letter"]
           if odd else [])
    if why:
        split = next((f" (it seems to separate columns with {name}: save it with commas)" for char, name
                      in ((";", "semicolons"), ("\t", "tabs")) if len(header) == 1 and char in header[0]), "")
        problems.append(Problem(CSV_NAME, line, None, "header", f"{'; '.join(why)}{split}; {expected}"))
        return None
    return columns


def _column(heading: str) -> str:
    """Return a heading as a field name: "First Name" is first_name, "Office" is organisation."""
    name = re.sub(r"[^a-z0-9]+", "_", heading.strip().lower()).strip("_")
    return ALIASES.get(name, name)


def _yaml_rows(root: Path, problems: list[Problem]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line, mapping) for each item of recipients.yaml's `recipients:` list."""
    doc, found = load_yaml(root / YAML_NAME, YAML_NAME, root)
    problems += found
    if doc is None:
        return
    items = doc.data.get("recipients") if isinstance(doc.data, dict) else None
    extra = sorted(set(doc.data) - {"recipients"})
    if not isinstance(items, list) or extra:
        problems.append(doc.problem((), "expected one key, recipients:, holding a list of recipients"))
        return
    for i, item in enumerate(items):
        line = doc.place(("recipients", i))[0] or 1
        if not isinstance(item, dict):
            problems.append(Problem(YAML_NAME, line, None, f"recipients[{i}]", "expected a mapping (id:, name:, ...)"))
            continue
        yield line, {ALIASES.get(str(k), str(k)): v for k, v in item.items()}


def _validate(display: str, line: int, row: dict[str, Any], problems: list[Problem]) -> Recipient | None:
    """Return the row as a Recipient, or None after adding a problem for each bad value."""
    extra = {k: v for k, v in row.items() if k not in KNOWN}
    bad = [k for k, v in extra.items() if v is not None and not isinstance(v, str)]
    for key in bad:
        problems.append(Problem(display, line, None, key, "expected text, not a list or mapping"))
    data = {k: v for k, v in row.items() if k in KNOWN}
    fields = {k: v or "" for k, v in extra.items() if k not in bad}
    try:
        return Recipient.model_validate({**data, "fields": fields, "file": display, "line": line})
    except ValidationError as e:
        for err in e.errors(include_url=False):
            problems.append(Problem(display, line, None, ".".join(map(str, err["loc"])), _message(err)))
        return None


def _message(err: Any) -> str:
    """Say what is wrong with one value, in the words of the rest of brief's messages."""
    field, kind, value = str(err["loc"][0]), err["type"], err.get("input")
    if kind == "missing" or (value is None and kind.endswith("_type")):
        return f"required field '{field}' is empty; fill it in"
    if kind == "string_pattern_mismatch" and field == "email":
        return f"{shown(value)} is not an email address"
    if kind == "string_pattern_mismatch" and field == "id":
        return (f"{shown(value)} is not a valid id; use lower-case letters, digits and hyphens "
                "(it names the recipient's PDF file)")
    if kind == "string_pattern_mismatch" and field == "fields":
        return f"column {shown(err['loc'][-1])} is not a plain name; use a-z, 0-9 and _"
    if kind == "string_pattern_mismatch":
        return f"{shown(value)} is not a valid name; use lower-case letters, digits and hyphens"
    return visible(err["msg"].removeprefix("Value error, "))


def _crosscheck(display: str, recipients: list[Recipient], known: list[str]) -> list[Problem]:
    """Return the problems between rows: a repeated id, an audience the pack has no profile for."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for r in recipients:
        if r.id in first:
            problems.append(Problem(display, r.line, None, "id", f"duplicate id '{r.id}' (first at line "
                                    f"{first[r.id]}); give each recipient its own id"))
        first.setdefault(r.id, r.line)
        if r.audience not in known:
            problems.append(Problem(display, r.line, None, "audience", f"unknown audience '{r.audience}'; "
                                    f"known audiences: {', '.join(known) or '(none)'}"))
    return problems
