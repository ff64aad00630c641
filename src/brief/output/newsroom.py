"""Write the newsroom files of the editions just built, beside each: build/<audience>/newsroom/.

``<slug>-facts.pdf`` and ``.html`` (the one-page quotable-facts sheet),
``<slug>-facts.csv`` and ``.json`` (the same facts as data) and
``<slug>-press-contacts.vcf``. They are recorded in build/manifest.json as the
edition's files, so an edition missing one is rebuilt, and `brief publish`
lists them in the release (brief.publish.newsroom).
"""
from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from brief.output.atomic import write_bytes_atomic, write_text_atomic
from brief.output.inputs import Input
from brief.output.manifest import Manifest, output_file

if TYPE_CHECKING:
    from brief.content.load import Content
    from brief.edition.render import Page

FACTS_PAGES = 1  # the facts sheet's page budget


def newsroom_inputs(content: Content, profile: Any) -> list[Input]:
    """Return the content files newsroom files are made from, for an edition that asks for them."""
    from brief.edition.newsroom import READS, wanted

    return [Input(name, Path(content.root) / name) for name in READS] if wanted(profile) else []


@dataclass(frozen=True)
class FactsJob:
    """A facts sheet made and sent to the printers, to print beside the editions."""

    found: Any
    page: Page
    printing: Future


def start_newsroom(pool: Executor, content: Content, names: list[str]) -> dict[str, FactsJob]:
    """Make the facts sheets of the named editions that want them, and send them to the printers now."""
    from brief.edition import newsroom as n
    from brief.edition.render import environment
    from brief.output.printing import print_one

    started: dict[str, FactsJob] = {}
    for name in (name for name in names if n.wanted(content.audiences[name])):
        profile = content.audiences[name]
        found = n.facts(content, profile)
        page = n.facts_page(content, profile, found, environment(content))
        started[name] = FactsJob(found, page, pool.submit(print_one, page))
    return started


def write_newsroom(started: dict[str, FactsJob], content: Content, manifest: Manifest, build_dir: Path,
                   hashes: dict[str, str]) -> list[str]:
    """Write the newsroom files of the editions built now: recorded with the hash just taken, without them yet.

    Return why any failed; such an edition leaves the manifest, so the next build makes it again.
    """
    from brief.edition.newsroom import FOLDER

    failures = []
    for name, job in started.items():
        record = manifest.editions.get(name)
        if record is None or record.source_hash != hashes.get(name):
            continue
        if any(PurePosixPath(f.path).parts[1:2] == (FOLDER,) for f in record.files):
            continue  # an earlier build's record (this run failed to print the edition): left as it was
        why = _write_one(job, content, name, manifest, build_dir)
        if why:
            failures.append(why)
            del manifest.editions[name]
    return failures


def _write_one(job: FactsJob, content: Content, name: str, manifest: Manifest, build_dir: Path) -> str | None:
    """Write one edition's newsroom files and add them to its record; return why not, if not."""
    from brief.edition import newsroom as n

    profile, found, page = content.audiences[name], job.found, job.page
    try:
        printed = job.printing.result()
    except Exception as e:  # a worker's BuildError or crash: the edition is not finished
        return f"{name}: the facts sheet could not be printed: {getattr(e, 'message', e)}"
    if printed.missing:
        return f"{name}: the facts sheet's PDF lacks what its HTML has: {'; '.join(printed.missing)}"
    if printed.pages > FACTS_PAGES:
        return (f"{name}: the quotable-facts sheet runs to {printed.pages} pages, not one; shorten the figures' "
                "labels or tag fewer figures and quotes for this audience")
    folder = page.out_dir
    folder.mkdir(parents=True, exist_ok=True)
    texts = {f"{page.slug}.html": page.html, f"{page.slug}.csv": n.facts_csv(found),
             f"{page.slug}.json": n.facts_json(content, profile, found),
             f"{page.slug.removesuffix('-facts')}-press-contacts.vcf":
                 n.vcard(n.press_contacts(content, profile), content.pack.organisation)}
    for file, text in texts.items():
        write_text_atomic(folder / file, text)
    write_bytes_atomic(folder / f"{page.slug}.pdf", printed.pdf)
    pages = {f"{page.slug}.pdf": printed.pages}
    extra = [output_file(build_dir, folder / f, pages.get(f)) for f in sorted([*texts, f"{page.slug}.pdf"])]
    record = manifest.editions[name]
    manifest.editions[name] = replace(record, files=tuple(sorted([*record.files, *extra], key=lambda o: o.path)))
    return None
