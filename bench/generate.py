"""Generate a scaled benchmark corpus shaped like the bundled one, deterministically by seed.

    .venv/bin/python -m bench.generate --size 1000            # -> bench/work/corpus-1000-s0/

The mix (chosen to look like IOM Turkmenistan's material, which is mostly web
pages with fewer, longer PDFs):

- 25 % PDF: training manuals (modules, numbered sections, outline), laws
  (chapters, "Article N." / "Статья N." / "N-nji madda.", inserted articles such as
  "12-1", outline) and newsletters; 4-16 pages each.
- 65 % HTML: news, project pages and event reports on three sites with menus,
  banners and footers (markup boilerplate and blocks repeated across a site).
- 10 % Markdown notes.

Languages: 45 % English, 35 % Russian, 20 % Turkmen. About 10 sections a document.

fpdf2 needs about 0.1 s a page here, too slow for thousands of PDFs. So a pool of
distinct base PDFs (two per kind and language, ~30 pages each) is written once with
fpdf2, and every corpus PDF is a run of consecutive pages of one base, re-assembled
with pypdf (~25 ms) with its own title, date and outline. Page texts repeat across
PDFs; page runs, titles and outlines do not, so no two files are byte-identical.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from bench.phrases import LANGUAGES, ROMAN, Language

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "work"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# Bump when the generator's output changes, so cached corpora are regenerated.
GENERATOR_VERSION = "2"

# (kind, format, share of the corpus)
KINDS: tuple[tuple[str, str, float], ...] = (
    ("manual", "pdf", 0.10),
    ("law", "pdf", 0.08),
    ("newsletter", "pdf", 0.07),
    ("news", "html", 0.35),
    ("project", "html", 0.15),
    ("report", "html", 0.15),
    ("note", "text", 0.10),
)
LANG_SHARES: tuple[tuple[str, float], ...] = (("en", 0.45), ("ru", 0.35), ("tk", 0.20))
SITES: tuple[tuple[str, str], ...] = (
    ("turkmenistan.iom.int", "IOM Turkmenistan"),
    ("ynam-ngo.example.tm", "Ynam public association"),
    ("ct-partners.example.org", "Counter-trafficking partners in Central Asia"),
)
PDF_POOL_PER_KIND = 2
PDF_POOL_PAGES = 30


@dataclass(frozen=True)
class PoolShape:
    """How many base PDFs per kind and language, and how many pages each (tests use a tiny pool)."""

    pages: int = PDF_POOL_PAGES
    per_kind: int = PDF_POOL_PER_KIND


DEFAULT_POOL = PoolShape()
PDF_PAGES: dict[str, tuple[int, int]] = {"manual": (8, 16), "law": (5, 10), "newsletter": (4, 8)}


@dataclass(frozen=True)
class DocSpec:
    """One generated document: what it is and where it goes."""

    index: int
    kind: str
    fmt: str
    lang: str
    path: str  # relative to the corpus folder

    def rng(self, seed: int, variant: int = 0) -> random.Random:
        return random.Random(f"{seed}:{self.index}:{variant}")


@dataclass
class CorpusInfo:
    size: int
    seed: int
    root: Path
    docs: list[DocSpec] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.docs:
            out[d.fmt] = out.get(d.fmt, 0) + 1
        return out


# --- text composition ---------------------------------------------------------------------------


class Composer:
    """Sentences, paragraphs and titles from the templates of one language."""

    def __init__(self, lang: Language, rng: random.Random) -> None:
        self.lang = lang
        self.rng = rng

    def fill(self, template: str, **fixed: object) -> str:
        r, lang = self.rng, self.lang
        year = r.randint(2008, 2026)
        orgs = r.sample(lang.orgs, 2)
        slots: dict[str, object] = {
            "org": orgs[0], "org2": orgs[1], "topic": r.choice(lang.topics), "group": r.choice(lang.groups),
            "place": r.choice(lang.places), "year": year, "year2": year + r.randint(1, 4),
            "number": r.choice((12, 25, 40, 68, 120, 215, 340, 1250, 2400)), "small": r.choice((3, 5, 7, 10, 14, 30)),
            "month": r.choice(lang.months), "day": r.randint(1, 28),
        }  # fmt: skip
        slots.update(fixed)
        text = template.format(**slots)
        return text[:1].upper() + text[1:]

    def sentence(self, legal: bool = False) -> str:
        return self.fill(
            self.rng.choice(self.lang.legal_sentences if legal else self.lang.sentences)
        )

    def paragraph(self, low: int = 2, high: int = 5, legal: bool = False) -> str:
        return " ".join(self.sentence(legal) for _ in range(self.rng.randint(low, high)))

    def pick(self, options: tuple[str, ...], k: int) -> list[str]:
        return self.rng.sample(options, min(k, len(options)))


def turkmen_ordinal(n: int) -> str:
    """'5-nji', '6-njy', '10-njy': the suffix follows the vowel of the number's last word."""
    back_last_digit = {6, 9}
    back_tens = {10, 30, 40, 60, 90}
    if n % 10:
        return f"{n}-{'njy' if n % 10 in back_last_digit else 'nji'}"
    return f"{n}-{'njy' if n % 100 in back_tens else 'nji'}"


def article_heading(lang: Language, number: str, title: str) -> str:
    if lang.code == "tk":
        base, _, rest = number.partition("-")
        label = turkmen_ordinal(int(base)) if not rest else f"{number}-nji"
        return f"{label} madda. {title}"
    return lang.article.format(n=number, title=title)


def _ordinal(c: Composer, n: int) -> str:
    return turkmen_ordinal(n) if c.lang.code == "tk" else str(n)


def publication_line(c: Composer, year: int, month: int, day: int) -> str:
    return c.lang.published.format(
        day=_ordinal(c, day), month=c.lang.months[month - 1], year=_ordinal(c, year)
    )


# --- the plan -----------------------------------------------------------------------------------


def plan(size: int, seed: int = 0) -> list[DocSpec]:
    """Which documents a corpus of `size` holds: kinds and languages in fixed shares, shuffled."""
    kinds: list[tuple[str, str]] = []
    for kind, fmt, share in KINDS:
        kinds.extend([(kind, fmt)] * round(size * share))
    kinds = (kinds + [("news", "html")] * size)[:size]
    langs: list[str] = []
    for lang, share in LANG_SHARES:
        langs.extend([lang] * round(size * share))
    langs = (langs + ["en"] * size)[:size]
    rng = random.Random(f"plan:{seed}:{size}")
    rng.shuffle(kinds)
    rng.shuffle(langs)
    docs = []
    for index, ((kind, fmt), lang) in enumerate(zip(kinds, langs, strict=True)):
        docs.append(DocSpec(index, kind, fmt, lang, _path_for(index, kind, fmt, lang)))
    return docs


def _path_for(index: int, kind: str, fmt: str, lang: str) -> str:
    if fmt == "pdf":
        return f"pdf/{kind}s/{kind}-{index:05d}-{lang}.pdf"
    if fmt == "html":
        site = SITES[index % len(SITES)][0]
        return f"web/{site}/{kind}-{index:05d}-{lang}.html"
    return f"notes/{kind}-{index:05d}-{lang}.md"


def sources_toml() -> str:
    lines = [
        "# Generated benchmark corpus (bench/generate.py). Paths are relative to this file.",
        "",
    ]
    for kind in ("manual", "law", "newsletter"):
        lines += ["[[source]]", f'folder = "pdf/{kind}s"', f'collection = "{kind}s"', ""]
    for site, _ in SITES:
        lines += [
            "[[source]]",
            f'folder = "web/{site}"',
            f'collection = "{site}"',
            f'site = "{site}"',
            "",
        ]
    lines += ["[[source]]", 'folder = "notes"', 'collection = "notes"', ""]
    return "\n".join(lines)


# --- HTML and text ------------------------------------------------------------------------------

_NAV = ("Who we are", "Our work", "News", "Projects", "Publications", "Contacts")


def render_html(spec: DocSpec, seed: int, variant: int = 0) -> bytes:
    rng = spec.rng(seed)
    c = Composer(LANGUAGES[spec.lang], rng)
    year, month, day = rng.randint(2008, 2026), rng.randint(1, 12), rng.randint(1, 28)
    title = _title(c, spec.kind, year, month)
    site, site_name = SITES[spec.index % len(SITES)]
    headings = c.pick(c.lang.section_headings, rng.randint(4, 9))
    sections = [(h, [c.paragraph() for _ in range(rng.randint(1, 3))]) for h in headings]
    if variant:
        # A changed page: one paragraph rewritten and one added, as an editor would.
        vc = Composer(c.lang, spec.rng(seed, variant))
        target = sections[vc.rng.randrange(len(sections))]
        target[1][0] = vc.paragraph()
        target[1].append(vc.paragraph())
    body = [f'<h1 class="page-title">{escape(title)}</h1>',
            f'<div class="field--date">{escape(publication_line(c, year, month, day))}</div>']  # fmt: skip
    for heading, paragraphs in sections:
        body.append(f"<h2>{escape(heading)}</h2>")
        body.extend(f"<p>{escape(p)}</p>" for p in paragraphs)
    nav = "".join(
        f'<li class="menu-item"><a href="/{n.lower().replace(" ", "-")}">{n}</a></li>' for n in _NAV
    )
    page = f"""<!DOCTYPE html>
<html lang="{spec.lang}">
<head>
<meta charset="utf-8">
<title>{escape(title)} | {escape(site_name)}</title>
<meta name="date" content="{year:04d}-{month:02d}-{day:02d}">
<script>window.dataLayer = window.dataLayer || [];</script>
</head>
<body class="page-node-type-{spec.kind}">
<header class="site-header"><div class="site-branding">{escape(site_name)}</div>
<nav class="menu--main"><ul>{nav}</ul></nav></header>
<div class="region-highlighted"><p>Do you plan to travel abroad? Call the hotline first: +(993 12) 463514.</p></div>
<main id="main-content"><article>
{chr(10).join(body)}
</article></main>
<div class="region-content-bottom"><p>{escape(site_name)} works with the Government of Turkmenistan, civil society and international partners against trafficking in persons.</p></div>
<footer class="site-footer"><p>© {escape(site_name)}. All rights reserved.</p><p>{escape(site)}</p></footer>
</body>
</html>
"""
    return page.encode("utf-8")


def render_text(spec: DocSpec, seed: int, variant: int = 0) -> bytes:
    rng = spec.rng(seed)
    c = Composer(LANGUAGES[spec.lang], rng)
    year, month, day = rng.randint(2008, 2026), rng.randint(1, 12), rng.randint(1, 28)
    title = _title(c, "report", year, month)
    lines = [f"# {title}", "", publication_line(c, year, month, day), ""]
    for heading in c.pick(c.lang.section_headings, rng.randint(4, 8)):
        lines += [f"## {heading}", ""]
        for _ in range(rng.randint(1, 3)):
            lines += [c.paragraph(), ""]
    if variant:
        lines += [
            f"## {c.lang.section_headings[-1]} ({variant})",
            "",
            Composer(c.lang, spec.rng(seed, variant)).paragraph(),
            "",
        ]
    return "\n".join(lines).encode("utf-8")


def _title(c: Composer, kind: str, year: int, month: int) -> str:
    lang = c.lang
    if kind == "project":
        return c.fill(lang.project_title, year=year, year2=year + 2)
    if kind == "newsletter":
        return lang.newsletter_title.format(month=lang.months[month - 1], year=_ordinal(c, year))
    if kind == "manual":
        return c.fill(lang.manual_title)
    return c.fill(c.rng.choice(lang.news_titles))


# --- PDFs: a pool of base documents, re-assembled -----------------------------------------------


@dataclass
class PoolPdf:
    kind: str
    lang: str
    number: int
    path: str
    # per page (0-based): the headings that start on it, as (title, outline level 1..)
    headings: list[list[tuple[str, int]]]


def _pool_key(kind: str, lang: str, number: int) -> str:
    return f"{kind}-{lang}-{number}"


def _base_pdf(kind: str, lang_code: str, number: int, seed: int, out: Path, pages: int) -> PoolPdf:
    """Write one ~30-page base PDF with fpdf2, recording which headings start on which page."""
    from fpdf import FPDF

    lang = LANGUAGES[lang_code]
    rng = random.Random(f"pool:{seed}:{kind}:{lang_code}:{number}")
    c = Composer(lang, rng)
    pdf = FPDF()
    pdf.set_creation_date(datetime(2024, 1, 1, tzinfo=UTC))
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font("dv", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("dv", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    running = {"manual": "IOM Turkmenistan · Training manual", "law": "Legislation of Turkmenistan",
               "newsletter": "IOM Central Asia · Newsletter"}[kind]  # fmt: skip
    headings: list[list[tuple[str, int]]] = []

    def new_page() -> None:
        pdf.add_page()
        headings.append([])
        pdf.set_font("dv", "", 8)
        pdf.set_xy(20, 10)
        pdf.cell(0, 4, running)
        pdf.set_xy(20, 285)
        pdf.cell(0, 4, str(pdf.page_no()))
        pdf.set_xy(20, 22)

    def heading(text: str, level: int) -> None:
        if pdf.get_y() > 240:
            new_page()
        headings[-1].append((text, level))
        pdf.set_font("dv", "B", 13 if level == 1 else 11)
        pdf.multi_cell(170, 7, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def paragraph(text: str) -> None:
        pdf.set_font("dv", "", 10)
        pdf.set_x(20)
        pdf.multi_cell(170, 5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    pdf.set_left_margin(20)
    new_page()
    # Headers and footers are drawn by hand on each page, so breaks must go through new_page.
    pdf.set_auto_page_break(False)

    def fits(lines: int) -> None:
        if pdf.get_y() + 5 * lines > 270:
            new_page()

    module, article, chapter = 0, 0, 0
    while len(headings) < pages:
        if kind == "manual":
            module += 1
            heading(f"{lang.module_word} {module}. {c.fill(lang.module_title)}", 1)
            for sub, name in enumerate(
                c.pick(lang.subsection_headings, rng.randint(2, 3)), start=1
            ):
                heading(f"{module}.{sub} {name}", 2)
                for _ in range(rng.randint(3, 5)):
                    text = c.paragraph(3, 6)
                    fits(len(text) // 80 + 2)
                    paragraph(text)
        elif kind == "law":
            chapter += 1
            title = lang.chapter_titles[(chapter - 1) % len(lang.chapter_titles)]
            heading(lang.chapter.format(roman=ROMAN[(chapter - 1) % len(ROMAN)], title=title), 1)
            for _ in range(rng.randint(3, 6)):
                article += 1
                numbers = [str(article)] + ([f"{article}-1"] if rng.random() < 0.12 else [])
                for article_number in numbers:
                    heading(
                        article_heading(lang, article_number, rng.choice(lang.article_titles)), 2
                    )
                    for point in range(1, rng.randint(3, 6)):
                        text = f"{point}. {c.paragraph(2, 4, legal=True)}"
                        fits(len(text) // 80 + 2)
                        paragraph(text)
        else:
            heading(c.fill(rng.choice(lang.news_titles)), 1)
            for _ in range(rng.randint(4, 7)):
                text = c.paragraph(3, 6)
                fits(len(text) // 80 + 2)
                paragraph(text)
    path = out / f"{_pool_key(kind, lang_code, number)}.pdf"
    pdf.output(str(path))
    return PoolPdf(kind, lang_code, number, str(path), headings)


def ensure_pdf_pool(seed: int = 0, work: Path = WORK_DIR, workers: int = 2,
                    shape: PoolShape = DEFAULT_POOL) -> dict[str, PoolPdf]:  # fmt: skip
    """The base PDFs, written once per seed, shape and generator version (cached under `work`)."""
    folder = work / f"pdf-pool-s{seed}-v{GENERATOR_VERSION}-{shape.pages}x{shape.per_kind}"
    index = folder / "pool.json"
    if index.exists():
        pool_pdfs = {}
        for key, value in json.loads(index.read_text()).items():
            headings = [[(str(t), int(level)) for t, level in page] for page in value["headings"]]
            # Paths are kept relative to the pool folder, so a moved work folder still works.
            path = str(folder / Path(value["path"]).name)
            pool_pdfs[key] = PoolPdf(**{**value, "headings": headings, "path": path})
        return pool_pdfs
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    jobs = [
        (kind, lang, n) for kind in PDF_PAGES for lang in LANGUAGES for n in range(shape.per_kind)
    ]
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        made = list(
            pool.map(
                _base_pdf,
                *zip(*jobs, strict=True),
                [seed] * len(jobs),
                [tmp] * len(jobs),
                [shape.pages] * len(jobs),
            )
        )
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    pool_pdfs = {}
    for p in made:
        p.path = str(folder / Path(p.path).name)
        pool_pdfs[_pool_key(p.kind, p.lang, p.number)] = p
    index.write_text(json.dumps({k: asdict(v) for k, v in pool_pdfs.items()}, ensure_ascii=False))
    return pool_pdfs


_readers: dict[str, object] = {}


def render_pdf(spec: DocSpec, seed: int, pool: dict[str, PoolPdf], variant: int = 0) -> bytes:
    """A run of consecutive pages of one base PDF, with its own title, date and outline."""
    from pypdf import PdfReader, PdfWriter

    rng = spec.rng(seed)
    per_kind = sum(1 for p in pool.values() if p.kind == spec.kind and p.lang == spec.lang)
    base = pool[_pool_key(spec.kind, spec.lang, rng.randrange(per_kind))]
    low, high = PDF_PAGES[spec.kind]
    available = len(base.headings)
    length = min(rng.randint(low, high), available)
    start = rng.randrange(0, available - length + 1)
    if variant:
        # A changed edition: the run moves by a page (one page dropped, one added).
        if available > length:
            start = start + 1 if start + length < available else start - 1
        elif length > 1:
            length -= 1
    reader = _readers.get(base.path)
    if reader is None:
        reader = _readers[base.path] = PdfReader(base.path)
    assert isinstance(reader, PdfReader)
    c = Composer(LANGUAGES[spec.lang], rng)
    year, month, day = rng.randint(2008, 2026), rng.randint(1, 12), rng.randint(1, 28)
    if spec.kind == "law":
        title = c.lang.law_title.format(n=spec.index)
    else:
        title = f"{_title(c, spec.kind, year, month)} ({spec.index})"
    writer = PdfWriter()
    parent = None
    for offset, page_index in enumerate(range(start, start + length)):
        writer.add_page(reader.pages[page_index])
        for text, level in base.headings[page_index]:
            if level == 1:
                parent = writer.add_outline_item(title=text, page_number=offset)
            else:
                writer.add_outline_item(title=text, page_number=offset, parent=parent)
    writer.add_metadata({"/Title": title, "/Author": "IOM Turkmenistan",
                         "/CreationDate": f"D:{year:04d}{month:02d}{day:02d}000000Z",
                         "/Producer": "ctkb bench generator"})  # fmt: skip
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- the corpus ---------------------------------------------------------------------------------


def render(spec: DocSpec, seed: int, pool: dict[str, PoolPdf] | None, variant: int = 0) -> bytes:
    if spec.fmt == "pdf":
        assert pool is not None
        return render_pdf(spec, seed, pool, variant)
    if spec.fmt == "html":
        return render_html(spec, seed, variant)
    return render_text(spec, seed, variant)


def _write_chunk(
    specs: list[DocSpec], seed: int, root: str, pool: dict[str, PoolPdf] | None
) -> int:
    total = 0
    for spec in specs:
        data = render(spec, seed, pool)
        path = Path(root) / spec.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
    return total


def generate(size: int, out: Path, seed: int = 0, *, work: Path = WORK_DIR, workers: int = 2,
             pool_shape: PoolShape = DEFAULT_POOL) -> CorpusInfo:  # fmt: skip
    """Write a corpus of `size` documents into `out` (replaced), with its sources.toml."""
    started = time.perf_counter()
    docs = plan(size, seed)
    has_pdf = any(d.fmt == "pdf" for d in docs)
    pool = ensure_pdf_pool(seed, work, workers, pool_shape) if has_pdf else None
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    chunks = [docs[i::workers] for i in range(max(1, workers))]
    if size >= 200 and workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as executor:
            written = sum(executor.map(_write_chunk, chunks, [seed] * len(chunks), [str(tmp)] * len(chunks),
                                       [pool] * len(chunks)))  # fmt: skip
    else:
        written = _write_chunk(docs, seed, str(tmp), pool)
    (tmp / "sources.toml").write_text(sources_toml())
    info = CorpusInfo(size=size, seed=seed, root=out, docs=docs, bytes=written)
    info.seconds = time.perf_counter() - started
    (tmp / "corpus.json").write_text(json.dumps({
        "generator": GENERATOR_VERSION, "size": size, "seed": seed, "bytes": written,
        "pool": asdict(pool_shape), "work": str(work),
        "formats": info.counts(), "docs": [asdict(d) for d in docs],
    }, ensure_ascii=False))  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return info


def load_info(root: Path) -> CorpusInfo:
    data = json.loads((root / "corpus.json").read_text())
    docs = [DocSpec(**d) for d in data["docs"]]
    return CorpusInfo(
        size=data["size"], seed=data["seed"], root=root, docs=docs, bytes=data["bytes"]
    )


def ensure_corpus(
    size: int, seed: int = 0, *, work: Path = WORK_DIR, workers: int = 2
) -> CorpusInfo:
    """The cached corpus for (size, seed), generated when missing or from an older generator."""
    root = work / f"corpus-{size}-s{seed}"
    meta = root / "corpus.json"
    if meta.exists() and json.loads(meta.read_text()).get("generator") == GENERATOR_VERSION:
        return load_info(root)
    return generate(size, root, seed, work=work, workers=workers)


def link_copy(src: Path, dst: Path) -> None:
    """A copy made of hard links (instant); files are changed by replacing, never in place."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, copy_function=os.link)


def change_documents(root: Path, fraction: float, seed: int = 0, *, variant: int = 1) -> list[str]:
    """Rewrite `fraction` of the documents as a new edition would; returns their paths.

    Files are replaced (write then rename), so a hard-linked pristine copy is untouched.
    """
    info = load_info(root)
    count = max(1, round(len(info.docs) * fraction))
    chosen = random.Random(f"change:{seed}:{variant}").sample(info.docs, count)
    meta = json.loads((root / "corpus.json").read_text())
    shape = PoolShape(**meta.get("pool", {}))
    work = Path(meta.get("work", WORK_DIR))
    pool = (
        ensure_pdf_pool(info.seed, work, 1, shape) if any(d.fmt == "pdf" for d in chosen) else None
    )
    for spec in chosen:
        path = root / spec.path
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(render(spec, info.seed, pool, variant))
        os.replace(tmp, path)
    return [d.path for d in chosen]


def iter_files(root: Path, fmt: str) -> Iterator[Path]:
    for spec in load_info(root).docs:
        if spec.fmt == fmt:
            yield root / spec.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, help="folder to write (default: cached under bench/work)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if args.out:
        info = generate(args.size, args.out, args.seed, workers=args.workers)
    else:
        info = ensure_corpus(args.size, args.seed, workers=args.workers)
    print(
        f"{info.size} documents in {info.root} ({info.counts()}, {info.bytes / 1e6:.1f} MB)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
