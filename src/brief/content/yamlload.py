"""Load YAML safely, keeping every scalar as typed and every node's place."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from brief.content.model import visible
from brief.errors import Problem

Path_ = tuple  # a location in the data: ('stakeholders', 2, 'stance')

# Plain (unquoted) scalars that mean "no value". Everything else stays a string:
# `NO`, `1.10`, `012345` and `1:30` reach validation exactly as the author typed them.
_NULLS = {"", "~", "null", "Null", "NULL"}
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:null",
}


# LibYAML when present (about 5x faster; the event stream still carries marks).
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    """A SafeLoader whose resolver types nothing: all scalars resolve to str."""


# Drop every implicit resolver (bool, int, float, timestamp, null, merge...).
_Loader.yaml_implicit_resolvers = {}


class _YAMLProblem(Exception):
    def __init__(self, mark, message: str):
        self.mark, self.message = mark, message


# Content needs a handful of levels. Stop well before LibYAML's own limit (1000) or Python's
# recursion limit, so the message is the same whichever parser is installed.
MAX_DEPTH = 100
_TOO_DEEP = "nested too deeply to be content; flatten the lists and mappings"


class _TooDeep(Exception):
    pass


MAX_FILE_BYTES = 5 * 1024 * 1024
"""The largest file brief reads from a pack: 5 MB.

A pack is untrusted input. Content files are text typed by people (the largest real one is tens
of kilobytes), so anything bigger is a mistake or an attack (a log, a dump, a link to /dev/zero):
it is refused, checked with os.stat before a byte is read, and the read itself stops at the limit.
"""

SNIPPET_WIDTH = 120  # characters of the offending line printed under a problem

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def file_problem(path: Path, root: Path | None = None) -> str | None:
    """Return why brief must not read path, or None when it is a regular file of at most MAX_FILE_BYTES.

    With root, path must also resolve (symlinks followed) to a place inside root. Decided from
    realpath and os.stat alone: the file is not opened, so nothing of it can be echoed.
    """
    real = os.path.realpath(path)
    if root is not None:
        top = os.path.realpath(root)
        if os.path.commonpath([real, top]) != top:
            return (f"leads outside the pack (to {real}); brief reads only files inside the pack directory: "
                    "copy the file in instead of linking to it")
    try:
        st = os.stat(real)
    except OSError as e:
        if os.path.islink(path):
            return f"is a symbolic link to {real}, which cannot be read ({e.strerror}); fix or remove the link"
        return f"cannot read file: {e.strerror}"
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "a special file")
        return f"is {kind}, not a regular file; brief reads only plain files here"
    if st.st_size > MAX_FILE_BYTES:
        return too_large(st.st_size)
    return None


def too_large(size: int | None = None, advice: str = "trim it or split it") -> str:
    """Say a file is over MAX_FILE_BYTES (size in bytes when known), and what to do."""
    size_text = f" {size:,} bytes," if size is not None else ""
    return f"is{size_text} over the {MAX_FILE_BYTES // 2**20} MB limit for a file brief reads from a pack; {advice}"


def read_checked(path: Path, display: str, root: Path | None) -> tuple[bytes | None, Problem | None]:
    """Return the bytes of path, after file_problem found nothing wrong with it; else None and why."""
    why = file_problem(path, root)
    if why is not None:
        return None, Problem(display, None, None, "", why)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        # Open what was checked (NOFOLLOW: a link swapped in since is refused), confirm it, and
        # never read past the limit even if the file grew meanwhile.
        fd = os.open(os.path.realpath(path), flags)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None, Problem(display, None, None, "", "is not a regular file; brief reads only plain "
                                     "files here")
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        return None, Problem(display, None, None, "", f"cannot read file: {e.strerror}")
    if len(raw) > MAX_FILE_BYTES:
        return None, Problem(display, None, None, "", too_large())
    return raw, None


def _compose(text: str):
    """Return the document's root node, refusing anchors and aliases with the place they stand."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooDeep()
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if isinstance(event, yaml.AliasEvent):
            raise _YAMLProblem(event.start_mark, f"alias '*{event.anchor}' is not allowed; write the value out in full")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _YAMLProblem(event.start_mark, f"anchor '&{anchor}' is not allowed; write the value out in full")
    return yaml.compose(text, Loader=_Loader)


@dataclass
class Document:
    """A loaded YAML file: plain data plus the line/column of each value and key."""

    file: str
    data: Any
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def place(self, path: Path_, key: bool = False) -> tuple[int | None, int | None]:
        """Return (line, col) of the value at path, or of its nearest ancestor."""
        table = self.key_marks if key else self.marks
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if key and p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (1, 1))

    def problem(self, path: Path_, message: str, where: str | None = None, key: bool = False) -> Problem:
        """Make a Problem at the place of path."""
        line, col = self.place(path, key=key)
        return Problem(self.file, line, col, where if where is not None else dotted(path), message,
                       snippet(self.lines, line, col))


def snippet(lines: list[str], line: int | None, col: int | None = None) -> str | None:
    """Return the offending line to print under a problem: at most SNIPPET_WIDTH characters, around col."""
    if not line or not 0 < line <= len(lines):
        return None
    text = lines[line - 1]
    if len(text) > SNIPPET_WIDTH:
        start = max(0, min((col or 1) - 1 - SNIPPET_WIDTH // 2, len(text) - SNIPPET_WIDTH))
        end = start + SNIPPET_WIDTH
        text = ("\u2026" if start else "") + text[start:end] + ("\u2026" if end < len(text) else "")
    return visible(text)


def dotted(path: Path_) -> str:
    """Format ('stakeholders', 2, 'stance') as stakeholders[2].stance."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + visible(str(part))
    return out


def load(path: Path, display: str, root: Path | None = None) -> tuple[Document | None, list[Problem]]:
    """Read one YAML file; return its Document or the problems that stopped it.

    The file must be a regular file of at most MAX_FILE_BYTES and, when root is given, lie inside
    root once symlinks are resolved; otherwise it is not read at all.
    """
    raw, refused = read_checked(path, display, root)
    if raw is None:
        return None, [refused] if refused else []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        return None, [Problem(display, line, None, "",
                              f"not valid UTF-8 (byte 0x{raw[e.start]:02x}); save the file as UTF-8")]
    # A byte-order mark at the very start is encoding metadata, not content (one inside a value is refused).
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    try:
        node = _compose(text)
    except _YAMLProblem as e:
        return None, [_at(display, e.mark, e.message, lines)]
    except (_TooDeep, RecursionError):
        return None, [Problem(display, 1, 1, "", _TOO_DEEP)]
    except yaml.reader.ReaderError as e:
        # LibYAML reports a bad character by offset only: turn it into line and column.
        before = text[: e.position]
        line, col = before.count("\n") + 1, e.position - (before.rfind("\n") + 1) + 1
        char = e.character if isinstance(e.character, str) else chr(e.character)
        return None, [Problem(display, line, col, "", f"the invisible control character U+{ord(char):04X} "
                              "is not allowed in YAML; delete it", snippet(lines, line, col))]
    except yaml.MarkedYAMLError as e:
        if "maximum nesting depth" in str(e.problem):  # LibYAML's own limit, met while scanning ahead
            return None, [Problem(display, 1, 1, "", _TOO_DEEP)]
        mark = e.problem_mark or e.context_mark
        msg = e.problem or e.context or "unreadable"
        if e.context and e.problem:
            msg += f" {e.context}"
            if e.context_mark and mark and e.context_mark.line != mark.line:
                msg += f" that starts at line {e.context_mark.line + 1}"
        return None, [_at(display, mark, f"malformed YAML: {msg}; check quotes, colons and indentation", lines)]
    except yaml.YAMLError as e:  # pragma: no cover - PyYAML always marks scanner errors
        return None, [Problem(display, None, None, "", f"malformed YAML: {e}")]
    if node is None:
        return None, [Problem(display, 1, 1, "", "file is empty; it must hold a mapping of keys to values")]
    if not isinstance(node, MappingNode):
        return None, [_at(display, node.start_mark, "the file must be a mapping of keys to values (key: value), not a "
                          + ("list" if isinstance(node, SequenceNode) else "single value"), lines)]
    doc = Document(display, None, lines=lines)
    problems: list[Problem] = []
    try:
        doc.data = _build(node, (), doc, problems)
    except RecursionError:
        return None, [Problem(display, 1, 1, "", _TOO_DEEP)]
    return (None if problems else doc), problems


def _at(file: str, mark, message: str, lines: list[str]) -> Problem:
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    return Problem(file, line, col, "", message, snippet(lines, line, col))


def _build(node: Node, path: Path_, doc: Document, problems: list[Problem]) -> Any:
    doc.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if node.tag not in _STANDARD_TAGS and not (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str"):
        # PyYAML leaves unresolved plain scalars as str thanks to the empty resolver;
        # any tag still here was written explicitly (!!python/object, !!int, !custom).
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        problems.append(doc.problem(path, f"tag '{tag}' is not allowed; remove it and write a plain value"))
        return None
    if isinstance(node, ScalarNode):
        if not node.style and node.value in _NULLS:  # plain style: None in PyYAML, "" in LibYAML
            return None
        return node.value
    if isinstance(node, SequenceNode):
        return [_build(child, path + (i,), doc, problems) for i, child in enumerate(node.value)]
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            problems.append(_at(doc.file, key_node.start_mark, "a key must be a plain word, not a list or mapping",
                                doc.lines))
            continue
        key = key_node.value
        if key == "<<":
            problems.append(_at(doc.file, key_node.start_mark,
                                "merge keys ('<<') are not allowed; write the keys out", doc.lines))
            continue
        kpath = path + (key,)
        if key in result or kpath in doc.key_marks:
            first = doc.key_marks[kpath]
            problems.append(_at(doc.file, key_node.start_mark,
                                f"{dotted(kpath)}: duplicate key '{key}' (first set at line {first[0]}); keep one",
                                doc.lines))
            continue
        doc.key_marks[kpath] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        result[key] = _build(value_node, kpath, doc, problems)
    return result
