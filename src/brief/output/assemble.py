"""Join a recipient's cover and the shared body into one tagged PDF with pikepdf (qpdf).

The body is the base document: its pages, links, bookmarks, named destinations, metadata, title
and language stay as they are. The cover page goes first; its structure elements go first under
the body's Document element, its parent-tree keys move past the body's, and it gets a bookmark
and the page label "Cover" while the body keeps 1..n, as its printed "Page X of Y" says.
"""
from __future__ import annotations

from io import BytesIO
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, NumberTree, Pdf, String

from brief.errors import BuildError

COVER_LABEL = "Cover"


def assemble(cover: bytes, body: bytes, bookmark: str, label: str) -> bytes:
    """Return the cover followed by the body as one tagged PDF, the same bytes for the same inputs."""
    try:
        with Pdf.open(BytesIO(body)) as pdf, Pdf.open(BytesIO(cover)) as front:
            if len(front.pages) != 1:
                raise BuildError(f"{label}: the cover has {len(front.pages)} pages; a cover is one page")
            shift = _next_key(pdf)
            kids = _detach_cover_structure(front, shift)
            pdf.pages.insert(0, front.pages[0])  # copies the page and its resources, remembering the mapping
            _merge_structure(pdf, front, kids)
            _bookmark(pdf, pdf.pages[0].obj, bookmark)
            pdf.Root.PageLabels = Dictionary(Nums=Array([0, Dictionary(P=String(COVER_LABEL)),
                                                         1, Dictionary(S=Name.D, St=1)]))
            out = BytesIO()
            pdf.save(out, deterministic_id=True)  # /ID from the content: the same bytes on every run
            return out.getvalue()
    except (pikepdf.PdfError, KeyError, AttributeError, ValueError) as e:
        raise BuildError(f"{label}: joining the cover to the edition failed ({type(e).__name__}: {e}); "
                         "the edition or cover PDF is not the tagged PDF brief prints") from None


def _next_key(pdf: Pdf) -> int:
    """Return the first parent-tree key the body does not use."""
    root = pdf.Root.StructTreeRoot
    keys = list(NumberTree(root.ParentTree).keys())
    return max([int(root.get("/ParentTreeNextKey", 0)), *(k + 1 for k in keys)])


def _document(tree: Any) -> Dictionary:
    """Return the Document element a tagged PDF's structure tree starts with."""
    top = tree.K
    element = top[0] if isinstance(top, Array) and len(top) == 1 else top
    if not isinstance(element, Dictionary) or element.get("/S") != Name.Document:
        raise ValueError("the structure tree does not start with one Document element")
    return element


def _detach_cover_structure(front: Pdf, shift: int) -> list[Any]:
    """Renumber the cover's parent-tree keys past the body's; return its top elements, parent link cut.

    The cut keeps the copy small: copying an element copies what it points to, and its /P leads
    to the cover's whole tree.
    """
    page = front.pages[0].obj
    if "/StructParents" in page:
        page.StructParents = int(page.StructParents) + shift
    for annot in page.get("/Annots", Array()):
        if "/StructParent" in annot:
            annot.StructParent = int(annot.StructParent) + shift
    tree = front.Root.StructTreeRoot
    numbers = NumberTree(tree.ParentTree)
    tree.ParentTree = front.make_indirect(Dictionary(Nums=Array(
        [x for key, value in sorted(numbers.items()) for x in (key + shift, value)])))
    kids = list(_document(tree).K)
    for kid in kids:
        if not isinstance(kid, Dictionary):
            raise ValueError("the cover's Document element holds content directly, not structure elements")
        del kid["/P"]
    return kids


def _merge_structure(pdf: Pdf, front: Pdf, kids: list[Any]) -> None:
    """Put the cover's elements first under the body's Document; merge the parent trees and role maps."""
    tree, cover_tree = pdf.Root.StructTreeRoot, front.Root.StructTreeRoot
    document = _document(tree)
    copied = [_copy(pdf, kid) for kid in kids]
    for kid in copied:
        kid.P = document
    document.K = Array([*copied, *(document.K if isinstance(document.K, Array) else [document.K])])
    numbers = NumberTree(tree.ParentTree)
    for key, value in NumberTree(cover_tree.ParentTree).items():
        numbers[key] = _copy(pdf, value)
    tree.ParentTreeNextKey = max(numbers.keys()) + 1
    for name in ("/RoleMap", "/ClassMap"):
        if name in cover_tree:
            merged = tree.get(name, Dictionary())
            for role, meaning in cover_tree[name].items():
                if role not in merged:  # the body's meaning wins: its elements were tagged with it
                    merged[role] = _copy(pdf, meaning)
            tree[name] = merged


def _copy(pdf: Pdf, obj: Any) -> Any:
    """Copy an object of the cover into the body (qpdf maps each cover object to one copy)."""
    if isinstance(obj, (Array, Dictionary)) and obj.is_indirect:
        return pdf.copy_foreign(obj)
    if isinstance(obj, Array):
        return Array([_copy(pdf, x) for x in obj])
    if isinstance(obj, Dictionary):
        return Dictionary({key: _copy(pdf, value) for key, value in obj.items()})
    return obj


def _bookmark(pdf: Pdf, page: Dictionary, title: str) -> None:
    """Add a first bookmark for the cover, before the body's own."""
    outlines = pdf.Root.get("/Outlines")
    if outlines is None:
        outlines = pdf.Root.Outlines = pdf.make_indirect(Dictionary(Type=Name.Outlines, Count=0))
    item = pdf.make_indirect(Dictionary(Title=String(title), Parent=outlines, Dest=Array([page, Name.Fit])))
    first = outlines.get("/First")
    if first is not None:
        item.Next, first.Prev = first, item
    else:
        outlines.Last = item
    outlines.First = item
    outlines.Count = int(outlines.get("/Count", 0)) + 1
