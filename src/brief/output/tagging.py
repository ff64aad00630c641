"""Make a printed edition's PDF/UA claim hold, and check the tag rules a reader's software relies on.

WeasyPrint 70 draws the page-margin boxes (running heads, "Page X of Y") as marked content whose
structure elements it builds but never links into the tree: a screen reader meets content that is
neither tagged nor an artifact. Here such content becomes a pagination artifact and leaves the
ParentTree, by rewriting the content streams with pikepdf's parser (never by hand), so any PDF
assembled from the printed body (covers, archival copies) carries the fix.
"""
from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pikepdf
from pikepdf import ContentStreamInstruction, Name, Operator

_ARTIFACT = Name.Artifact
_TEXT = {"Tj", "TJ", "'", '"'}
# Painting operators: content a reader could perceive, which must be tagged or an artifact.
_PAINT = _TEXT | {"f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "sh", "Do", "INLINE IMAGE"}
# What may stand directly inside a Table (ISO 32000-1, 14.8.4.3.4); a Caption only first or last.
_TABLE_KIDS = {"/TR", "/THead", "/TBody", "/TFoot", "/Caption"}
_SCOPES = {"/Row", "/Column", "/Both"}


def hold_tags(data: bytes, *fixes: Callable[[pikepdf.Pdf], None]) -> tuple[bytes, list[str]]:
    """Make untagged content (margin boxes) pagination artifacts; return the PDF and what still breaks the rules.

    fixes: other changes to make to the open PDF in the same pass, before it is saved.
    """
    with pikepdf.open(io.BytesIO(data)) as pdf:
        problems = _check(pdf, fix=True)
        for fix in fixes:
            fix(pdf)
        out = io.BytesIO()
        # Streams already compressed are copied as they are; /ID is a hash of the content (byte-identical builds).
        pdf.save(out, deterministic_id=True, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue(), problems


def tag_problems(pdf: pikepdf.Pdf) -> list[str]:
    """Name each breach of the tag rules brief holds to: language, title, nesting, alt text, scope, untagged content."""
    return _check(pdf, fix=False)


def _check(pdf: pikepdf.Pdf, fix: bool) -> list[str]:
    """Walk the tree once and each page's content once, fixing untagged content first if asked."""
    problems = _document_problems(pdf)
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return [*problems, "no structure tree (/StructTreeRoot): the PDF is not tagged"]
    elements = list(_walk(root))
    pages: dict[Any, int] = {page.objgen: n for n, page in enumerate(pdf.pages, 1)}
    found = Counter(f"page {pages.get(_objgen(e.get('/Pg')), '?')}: {why}" for e, why in _element_problems(elements))
    problems += [f"{why} ({n} times)" if n > 1 else why for why, n in found.items()]
    linked = {e.objgen for e in elements}
    parents = pikepdf.NumberTree(root.ParentTree) if "/ParentTree" in root else None
    for n, page in enumerate(pdf.pages, 1):
        loose = _page(pdf, page, parents, linked, fix)
        if loose:
            problems.append(f"page {n}: {loose} painting operator{'s' if loose > 1 else ''} outside both the "
                            "structure tree and artifacts (a screen reader would skip or misread them)")
    return problems


def _page(pdf: pikepdf.Pdf, page: pikepdf.Page, parents: Any, linked: set, fix: bool) -> int:
    """Check one page's content (making its unlinked MCIDs artifacts first, if asked); return how much is untagged."""
    key: Any = page.obj.get("/StructParents")
    owners: Any = parents[int(key)] if parents is not None and key is not None and int(key) in parents else []
    keep = [i for i, owner in enumerate(owners) if _objgen(owner) in linked]
    instructions = pikepdf.parse_content_stream(page)
    if fix and len(keep) < len(owners):
        renumber = {old: new for new, old in enumerate(keep)}
        instructions = _rewrite(instructions, renumber)
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))
        _renumber_owners(owners, keep, renumber, page)
        parents[int(key)] = pikepdf.Array([owners[i] for i in keep])
        keep = list(range(len(keep)))
    return sum(1 for _ in untagged_operators(instructions, set(keep)))


def _kids(element: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """Yield an element's child structure elements (not its MCIDs or object references)."""
    kids = element.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid


def _objgen(owner: Any) -> tuple[int, int] | None:
    return owner.objgen if isinstance(owner, pikepdf.Dictionary) else None


def _rewrite(instructions: list[Any], renumber: dict[int, int]) -> list[Any]:
    """Return the instructions with unlinked MCIDs made pagination artifacts and the others renumbered."""
    out = []
    for instruction in instructions:
        operands, operator = instruction.operands, instruction.operator
        if str(operator) == "BDC" and len(operands) == 2 and isinstance(operands[1], pikepdf.Dictionary) \
                and "/MCID" in operands[1]:
            old = int(operands[1].MCID)
            if old not in renumber:
                instruction = ContentStreamInstruction(
                    [_ARTIFACT, pikepdf.Dictionary(Type=Name.Pagination)], Operator("BDC"))
            elif renumber[old] != old:
                props = pikepdf.Dictionary({k: v for k, v in operands[1].items()})
                props.MCID = renumber[old]
                instruction = ContentStreamInstruction([operands[0], props], operator)
        out.append(instruction)
    return out


def _renumber_owners(owners: Any, keep: list[int], renumber: dict[int, int], page: pikepdf.Page) -> None:
    """Point each kept element's MCIDs on this page at their new numbers."""
    if all(renumber[i] == i for i in keep):
        return  # the unlinked MCIDs were the page's last ones (margin boxes are drawn last)
    done: set[tuple[int, int]] = set()
    for i in keep:
        owner = owners[i]
        if owner.objgen in done:
            continue
        done.add(owner.objgen)
        kids = owner.K if isinstance(owner.K, pikepdf.Array) else pikepdf.Array([owner.K])
        fixed = pikepdf.Array()
        kid: Any
        for kid in kids:
            if isinstance(kid, int):
                kid = renumber.get(kid, kid)
            elif isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid \
                    and kid.get("/Pg", owner.get("/Pg")) == page.obj:  # a marked-content reference
                kid.MCID = renumber.get(int(kid.MCID), int(kid.MCID))
            fixed.append(kid)
        owner.K = fixed if isinstance(owner.K, pikepdf.Array) else fixed[0]


# ---- the rules, checked -----------------------------------------------------------------------

def _document_problems(pdf: pikepdf.Pdf) -> list[str]:
    """Check what a reader's software needs of the whole document: language, title shown, marked as tagged."""
    problems = []
    if not str(pdf.Root.get("/Lang", "")).strip():
        problems.append("no document language (/Lang)")
    if not str(pdf.docinfo.get("/Title", "")).strip():
        problems.append("no document title (/Title)")
    preferences: Any = pdf.Root.get("/ViewerPreferences", {})
    if not bool(preferences.get("/DisplayDocTitle", False)):
        problems.append("the title is not shown in the window (/DisplayDocTitle)")
    mark_info: Any = pdf.Root.get("/MarkInfo", {})
    if not bool(mark_info.get("/Marked", False)):
        problems.append("not marked as tagged (/MarkInfo /Marked)")
    return problems


def _element_problems(elements: list[pikepdf.Object]) -> Iterator[tuple[pikepdf.Object, str]]:
    """Yield (element, what is wrong) for tables, figures and header cells that break the rules."""
    for element in elements:
        kind = str(element.get("/S"))
        if kind == "/Table":
            kids = [str(k.get("/S")) for k in _kids(element)]
            if "/Table" in kids:
                yield element, "a Table nested in a Table (a <caption> positioned out of the flow?)"
            elif set(kids) - _TABLE_KIDS or "/Caption" in kids[1:-1]:
                yield element, f"a Table holding {', '.join(kids)}: only rows, row groups and a first or last Caption"
        elif kind == "/Figure" and not str(element.get("/Alt", "")).strip():
            yield element, "a Figure without /Alt: give an <img> alt text, an <svg> a <title> or aria-label"
        elif kind == "/TH" and not _scope(element):
            yield element, "a table header cell (TH) without /Scope"


def _walk(root: pikepdf.Object) -> Iterator[pikepdf.Object]:
    """Yield every structure element linked into the tree, once, in reading order."""
    seen: set[tuple[int, int]] = set()
    stack = list(reversed(list(_kids(root))))
    while stack:
        element = stack.pop()
        if element.objgen in seen:
            continue
        seen.add(element.objgen)
        yield element
        stack.extend(reversed(list(_kids(element))))


def _scope(element: pikepdf.Object) -> str | None:
    """Return a header cell's /Scope from its attribute dictionaries, if it has one."""
    attributes = element.get("/A")
    for a in attributes if isinstance(attributes, pikepdf.Array) else [attributes]:
        if isinstance(a, pikepdf.Dictionary) and str(a.get("/Scope")) in _SCOPES:
            return str(a.Scope)
    return None


def untagged_operators(instructions: list[Any], tagged: set[int]) -> Iterator[str]:
    """Yield each painting operator that is neither in an artifact nor in a tagged MCID (a page's parsed content)."""
    stack: list[str | int | None] = []  # per open marked-content sequence: "artifact", its MCID, or None
    for instruction in instructions:
        operands: Any = instruction.operands
        op = str(instruction.operator)
        if op in ("BMC", "BDC"):
            props = operands[1] if op == "BDC" and len(operands) > 1 else None
            if operands and operands[0] == _ARTIFACT:
                stack.append("artifact")
            elif isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                stack.append(int(props.MCID))
            else:
                stack.append(None)
        elif op == "EMC":
            if stack:
                stack.pop()
        elif op in _PAINT and not ("artifact" in stack or _innermost_mcid(stack) in tagged):
            yield op


def _innermost_mcid(stack: list[str | int | None]) -> int | None:
    return next((m for m in reversed(stack) if isinstance(m, int)), None)
