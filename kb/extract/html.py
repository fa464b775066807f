"""HTML extraction with BeautifulSoup (lxml): the declared charset, blocks, title, date.

Navigation, banners, menus, footers, comments and scripts go in three steps:
- here, by what the markup says (tags, roles, class names, hidden elements), except
  that no such rule drops an element holding most of the page's text (an ASP.NET page
  inside one `<form>`, an article inside a wrapper named "sidebar");
- here, by a main-content pass: trafilatura reads the same page beside BeautifulSoup
  and says which text is the article; our blocks (and so our headings) are kept where
  that text covers them. BeautifulSoup stays the reader: trafilatura only selects;
- across pages of one site, by blocks that repeat (see `kb.extract.boilerplate`),
  which catches what neither markup nor the main-content pass says.
"""

from __future__ import annotations

import hashlib
import re
import warnings as pywarnings

from bs4 import (
    BeautifulSoup,
    CData,
    Comment,
    MarkupResemblesLocatorWarning,
    NavigableString,
    Tag,
    XMLParsedAsHTMLWarning,
)
from bs4.dammit import EncodingDetector
from bs4.element import PreformattedString

from kb.errors import SourceError
from kb.model import Block, Extracted, SourceRef
from kb.normalize import normalize_text

pywarnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)
# An XHTML page or a stray <?xml?> line is still read as HTML, which is what we want.
pywarnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)

_DROP_TAGS = {
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "form", "button",
    "select", "input", "nav", "header", "footer", "aside", "menu", "head", "object", "embed",
}  # fmt: skip
_BOILERPLATE_ATTR = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|footer|header|banner|breadcrumbs?|sidebar|cookie|social|share|"
    r"skip|toolbar|top-?links|site-?map|masthead|hotline|logo|search-?box|pager)([\s_-]|$)",
    re.I,
)
# Furniture around an article that often has its own heading ("Related articles",
# "3 comments"): dropped even with a heading inside (never when it holds most of the text).
_FURNITURE_ATTR = re.compile(
    r"(^|[\s_-])(comments?|comment-?list|replies|related|ticker|newsletter|subscribe|"
    r"subscription|sign-?up|paywall|consent|gdpr|popup|modal|advert|sharing|share-?bar)"
    r"([\s_-]|$)",
    re.I,
)
_BLOCK_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "dt", "dd", "blockquote",
    "pre", "figcaption", "caption", "div", "section", "article", "main", "body", "address",
    "table", "tr", "ul", "ol", "dl", "figure", "center", "html",
}  # fmt: skip
_HEADING_LEVEL = {f"h{n}": n for n in range(1, 7)}
_DATE_META = (
    "article:published_time",
    "date",
    "dc.date",
    "dcterms.date",
    "pubdate",
    "publish-date",
    "dc.date.issued",
)
MAX_DEPTH = 400
# Hidden copies (a collapsed duplicate, an off-screen menu) are not what a reader sees.
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# A markup rule never drops an element holding at least this share of the page's text.
MOST_OF_THE_TEXT = 0.5
# ...and a hidden element is dropped unless it holds this share: the whole page.
WHOLE_PAGE = 0.8
# Which pass says what the article is: "trafilatura" (measured best; our own scoring when
# it finds nothing), "scored" (our own text- and link-density scoring only), "markup"
# (markup rules and repeated blocks only). Switched by bench/extraction.py to compare.
MAIN_CONTENT_PASS = "trafilatura"
# A page with less text than this after the markup rules is all article: there is no
# mass of boilerplate for the main-content pass to tell apart, and it can cut a short
# page's last paragraph.
SHORT_PAGE_CHARS = 1000
# A block is main content when this share of its word trigrams is in the main-content text.
COVERED = 0.5


def decode_html(data: bytes, content_type: str, where: str) -> tuple[str, str, list[str]]:
    """Decode by the HTTP header's charset, then the page's own declaration, then by sniffing.

    A page whose declared charset does not decode it is decoded by detection,
    with a warning, rather than failed or filled with replacement characters. UTF-16 is
    recognised by its byte-order mark or, without one, by the zero bytes beside ASCII
    markup. A single-byte charset decodes any bytes, so a declared one (or none) is
    checked against the others the page could be in (Cyrillic, Turkmen Latin): the one
    whose letters read as words wins when it reads clearly better.
    """
    notes: list[str] = []
    utf16 = _utf16_codec(data)
    if utf16:
        try:
            return data.decode(utf16), utf16.replace("-sig", ""), notes
        except UnicodeDecodeError:
            pass
    declared: list[str] = []
    m = re.search(r"charset=([\w.:-]+)", content_type or "", re.I)
    if m:
        declared.append(m.group(1).strip("'\""))
    in_page = EncodingDetector.find_declared_encoding(
        data[:4096], is_html=True, search_entire_document=False
    )
    if in_page:
        declared.append(in_page)
    # A page that says UTF-16 or UTF-32 but has no zero bytes is not: it is 8-bit text.
    declared = [d for d in declared if not re.match(r"(utf|ucs)-?(16|32|2|4)", d, re.I)]
    if data.startswith(b"\xef\xbb\xbf"):
        declared.insert(0, "utf-8-sig")
    if (
        declared
        and not data.isascii()
        and _python_codec(declared[0]) not in ("utf-8", "utf-8-sig", "utf8")
    ):
        # Single-byte charsets decode any bytes, so a UTF-8 page mislabelled as
        # windows-1251 would come out as mojibake; real cp1251 text is almost never valid UTF-8.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            notes.append(
                f"declared charset {declared[0]!r} does not match the bytes; read as UTF-8"
            )
            return text, "utf-8", notes
    for encoding in [*declared, "utf-8"]:
        try:
            text = data.decode(_python_codec(encoding))
        except (UnicodeDecodeError, LookupError):
            note = f"declared charset {encoding!r} does not decode the page; detected instead"
            if encoding in declared and note not in notes:
                notes.append(note)
            continue
        if _is_single_byte(encoding) and not data.isascii():
            better = _best_single_byte(data, text)
            if better is not None:
                notes.append(
                    f"declared charset {encoding!r} does not match the bytes; read as {better[1]}"
                )
                return better[0], better[1], notes
        return text, encoding, notes
    from charset_normalizer import from_bytes

    best = from_bytes(data[:500_000]).best()
    if best is None:
        raise SourceError("not HTML: the file is binary or in an unknown encoding", source=where)
    text = data.decode(best.encoding, errors="replace")
    if _is_single_byte(best.encoding):
        better = _best_single_byte(data, text)
        if better is not None:
            return better[0], better[1], notes
    return text, best.encoding, notes


# The single-byte charsets pages in our languages come in (Russian, Turkmen Cyrillic and
# Latin, English), tried when the declared or detected one reads badly.
_SINGLE_BYTE = ("cp1251", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic", "cp1250", "iso8859_2",
                "cp1254", "cp1252")  # fmt: skip
_CYRILLIC_LOWER = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәөүҗңһ")
_CYRILLIC_UPPER = {ch.upper() for ch in _CYRILLIC_LOWER}
_LATIN_LETTERS = set("äçöüşňýžáéíóúàèìòùâêîôûñÄÇÖÜŞŇÝŽ")


def _letters_score(text: str) -> float:
    """How much the non-ASCII characters look like words: lower-case letters of our
    alphabets count, capitals a little (mojibake of Cyrillic is mostly capitals), symbols
    and letters of other alphabets against."""
    score = 0.0
    for ch in text:
        if ch.isascii():
            continue
        if ch in _CYRILLIC_LOWER or ch in _LATIN_LETTERS:
            score += 1
        elif ch in _CYRILLIC_UPPER:
            score += 0.25
        elif ch in "\u00a0«»–—“”„‘’…№•·°":
            continue
        else:
            score -= 1
    return score


def _best_single_byte(data: bytes, text: str) -> tuple[str, str] | None:
    """Another single-byte reading of `data` that reads clearly better than `text`, if any."""
    sample = data[:200_000]
    current = _letters_score(text[:200_000])
    best: tuple[float, str] | None = None
    for codec in _SINGLE_BYTE:
        try:
            score = _letters_score(sample.decode(codec))
        except UnicodeDecodeError:
            continue
        if best is None or score > best[0]:
            best = (score, codec)
    if best is None or best[0] <= max(current * 1.5, current + 10):
        return None
    return data.decode(best[1]), best[1]


def _is_single_byte(encoding: str) -> bool:
    import codecs

    try:
        name = codecs.lookup(_python_codec(encoding)).name
    except LookupError:
        return False
    return not re.match(r"(utf|ucs)|gb|big5|euc|shift|cp9[35]|iso2022|hz|johab", name)


def _utf16_codec(data: bytes) -> str:
    """'utf-16' for a page with a UTF-16 byte-order mark or the zero bytes of UTF-16 markup."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and not data.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"
    head = data[:1024]
    if len(head) < 8:
        return ""
    even_zeros = head[0::2].count(0)
    odd_zeros = head[1::2].count(0)
    half = len(head) // 2
    # ASCII markup in UTF-16 has a zero beside every character (after it in LE); the
    # text's own letters (Cyrillic: 0x04xx) need not, so a quarter of the pairs will do.
    if odd_zeros > 0.25 * half and even_zeros < 0.02 * half:
        return "utf-16-le"
    if even_zeros > 0.25 * half and odd_zeros < 0.02 * half:
        return "utf-16-be"
    return ""


def _python_codec(name: str) -> str:
    name = name.lower()
    return {"win-1251": "cp1251", "x-cp1251": "cp1251", "windows-1251": "cp1251"}.get(name, name)


def extract_html(ref: SourceRef, data: bytes, *, content_type: str = "") -> Extracted:
    where = ref.location
    text, encoding, notes = decode_html(data, content_type, where)
    if _looks_binary(text):
        raise SourceError("not HTML: the file is binary data", source=where)
    try:
        soup = BeautifulSoup(text, "lxml")
    except Exception as exc:
        raise SourceError(f"unreadable HTML: {exc}", source=where) from None

    meta = _meta(soup)
    meta["charset"] = encoding
    address, base = page_address(soup)
    if address:
        meta["address"] = address
    if base:
        meta["base_address"] = base
    page_title = normalize_text(soup.title.get_text(" ")) if soup.title else ""
    main_text = main_content_text(text) if MAIN_CONTENT_PASS == "trafilatura" else None
    _strip_boilerplate_markup(soup, main_chars=len(main_text or ""))
    root = soup.body or soup
    if MAIN_CONTENT_PASS == "scored" or (MAIN_CONTENT_PASS == "trafilatura" and not main_text):
        main_text = scored_main_text(root)
    blocks = _blocks(root)
    if main_text and sum(len(b.text) for b in blocks) >= SHORT_PAGE_CHARS:
        blocks = keep_main_content(blocks, main_text)
    if not any(b.text for b in blocks):
        raise SourceError("no text: the page has no readable content", source=where)
    h1 = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    title = ref.title_hint or h1 or _clean_title(page_title) or where
    return Extracted(
        source=ref,
        format="html",
        title=title,
        blocks=blocks,
        published=meta.get("published", ""),
        metadata=meta,
        warnings=notes,
        block_hashes=[block_hash(b.text) for b in blocks],
    )


def main_content_text(html: str) -> str | None:
    """The article's text as trafilatura finds it (comments left out), or None.

    None when trafilatura is not installed, fails, or finds nothing: the page is then
    cleaned by markup rules and repeated blocks alone.
    """
    try:
        import trafilatura
    except ImportError:
        return None
    try:
        found = trafilatura.extract(
            html, include_comments=False, include_tables=True, deduplicate=False
        )
    except Exception:  # a library's bug on one odd page must not lose the page
        return None
    return found if found and found.strip() else None


_WORDS = re.compile(r"\w+")
_SCORED_TAGS = ["p", "pre", "td", "blockquote", "div"]


def scored_main_text(root: Tag | BeautifulSoup) -> str | None:
    """The article's text by our own scoring: where the long, comma-rich, unlinked text is.

    Each paragraph of 25 characters or more scores 1, plus its commas, plus one per 100
    characters (up to 3), for its parent and half of that for its grandparent; a
    container's score is cut by the share of its text that is link text. The best
    container and those of its siblings scoring a fifth of it or more (or holding a
    long paragraph with few links) are the article.
    """
    scores: dict[int, float] = {}
    tags: dict[int, Tag] = {}
    for para in root.find_all(_SCORED_TAGS):
        if para.name == "div":
            own = " ".join(str(c) for c in para.contents if isinstance(c, NavigableString))
            text = normalize_text(own)
        else:
            text = normalize_text(para.get_text(" "))
        if len(text) < 25:
            continue
        points = 1 + text.count(",") + min(len(text) // 100, 3)
        for share, holder in (
            (1.0, para.parent),
            (0.5, para.parent.parent if para.parent else None),
        ):
            if isinstance(holder, Tag):
                tags[id(holder)] = holder
                scores[id(holder)] = scores.get(id(holder), 0.0) + points * share
    if not scores:
        return None

    def final(tag: Tag) -> float:
        return scores.get(id(tag), 0.0) * (1 - _link_density(tag))

    best = max(tags.values(), key=final)
    best_score = final(best)
    chosen = [best]
    if isinstance(best.parent, Tag):
        for sibling in best.parent.find_all(True, recursive=False):
            if sibling is best:
                continue
            if final(sibling) >= max(10.0, 0.2 * best_score) or (
                sibling.name == "p"
                and len(sibling.get_text(" ", strip=True)) > 80
                and _link_density(sibling) < 0.25
            ):
                chosen.append(sibling)
    text = "\n".join(t.get_text(" ") for t in chosen)
    return text if text.strip() else None


def _link_density(tag: Tag) -> float:
    total = len(tag.get_text(" ", strip=True))
    if not total:
        return 1.0
    linked = sum(len(a.get_text(" ", strip=True)) for a in tag.find_all("a"))
    return min(1.0, linked / total)


def _trigrams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def keep_main_content(blocks: list[Block], main_text: str) -> list[Block]:
    """Keep the blocks the main-content text covers, and the headings over them.

    A block is covered when its letters occur there as they are (spaces aside: the
    main-content pass glues a label to its value, "Start Date2023"), or most of its word
    trigrams do. A short block (one or two words: "Share", "June", a date) is judged with
    the run of short blocks around it (a table's cells, a definition list), else by its
    neighbours, so a month in an archive list does not pass for the article's. A heading
    the main text leaves out (trafilatura drops a page's title) is kept when the block
    under it is kept, so sections are still cut at the page's own headings; a run of
    headings with nothing under them (a related-links list) is not.
    """
    main_words = [w.casefold() for w in _WORDS.findall(main_text)]
    main_grams = _trigrams(main_words)
    main_glued = "".join(main_words)

    def is_covered(words: list[str]) -> bool:
        if "".join(words) in main_glued:
            return True
        grams = _trigrams(words)
        return bool(grams) and sum(g in main_grams for g in grams) >= COVERED * len(grams)

    block_words = [[w.casefold() for w in _WORDS.findall(b.text)] for b in blocks]
    covered: list[bool | None] = [  # None: too short to judge alone
        is_covered(words) if len(words) >= 3 else None for words in block_words
    ]
    keep = [bool(c) for c in covered]
    i = 0
    while i < len(blocks):
        if covered[i] is not None:
            i += 1
            continue
        end = i
        while end < len(blocks) and covered[end] is None:
            end += 1
        run = [w for words in block_words[i:end] for w in words]
        if len(run) >= 3 and end - i > 1:
            run_kept = is_covered(run)
        else:
            run_kept = bool((i > 0 and covered[i - 1]) or (end < len(blocks) and covered[end]))
        for j in range(i, end):
            keep[j] = run_kept and bool(block_words[j]) and "".join(block_words[j]) in main_glued
        i = end
    for i in range(len(blocks) - 2, -1, -1):
        if blocks[i].kind != "heading" or keep[i] or not keep[i + 1]:
            continue
        below = blocks[i + 1]
        if below.kind != "heading" or below.level > blocks[i].level:
            keep[i] = True
    kept = [b for b, k in zip(blocks, keep, strict=True) if k]
    return kept or blocks


def page_address(soup: BeautifulSoup) -> tuple[str, str]:
    """The address the page says it lives at (canonical link, else og:url), and its
    <base href> (the site, not the page: used only to group pages by site)."""
    address = ""
    for tag in soup.find_all("link", href=True):
        rel = tag.get("rel") or []
        rels = rel if isinstance(rel, list) else str(rel).split()
        if "canonical" in [r.lower() for r in rels] and _absolute_http(str(tag["href"])):
            address = str(tag["href"]).strip()
            break
    if not address:
        for tag in soup.find_all("meta", content=True):
            name = str(tag.get("property") or tag.get("name") or "").lower()
            if name == "og:url" and _absolute_http(str(tag["content"])):
                address = str(tag["content"]).strip()
                break
    base = soup.find("base", href=True)
    base_href = str(base["href"]).strip() if isinstance(base, Tag) else ""
    return address, base_href if _absolute_http(base_href) else ""


def _absolute_http(value: str) -> bool:
    return bool(re.match(r"\s*https?://[^/\s]+", value, re.I))


def block_hash(text: str) -> str:
    key = re.sub(r"\s+", " ", text.casefold()).strip()
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return True
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\n\r\t\f") or ch == "\ufffd")
    return bad / len(sample) > 0.05


def _meta(soup: BeautifulSoup) -> dict[str, str]:
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        name = (tag.get("name") or tag.get("property") or tag.get("itemprop") or "").lower()
        content = (tag.get("content") or "").strip()
        if not name or not content:
            continue
        if name in _DATE_META and "published" not in meta:
            meta["published"] = content
        elif name in ("description", "author", "keywords", "og:title"):
            meta[name] = normalize_text(content)
    if "published" not in meta:
        time_tag = soup.find("time")
        if isinstance(time_tag, Tag):
            meta["published"] = str(time_tag.get("datetime") or time_tag.get_text(" ")).strip()
    html = soup.find("html")
    if isinstance(html, Tag) and html.get("lang"):
        meta["html_lang"] = str(html.get("lang"))
    return meta


def _clean_title(title: str) -> str:
    # "Workshop on ... | IOM Turkmenistan" -> the part before the site name.
    parts = re.split(r"\s+[|–—-]\s+", title)
    return max(parts, key=len) if parts else title


_NEVER_TEXT = {"script", "style", "noscript", "template", "svg", "canvas", "head", "object"}


def _strip_boilerplate_markup(soup: BeautifulSoup, main_chars: int = 0) -> None:
    """Drop scripts, hidden copies, menus, banners and footers by what the markup says.

    No rule drops an element holding most of the page's text (of the main content's, when
    the main-content pass found it): that is the article, whatever its wrapper is called.
    One pass over the tree, in document order, never into a dropped subtree; whether a
    tag holds a heading, and how much text it holds, is worked out once for all tags
    beforehand. (Asking each tag with `find()`, or bs4's `decomposed`, which falls back
    to a search, made a page of 5,000 nested divs take 25 s, and 20,000 take minutes.)
    """
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(list(_NEVER_TEXT)):
        if not _is_decomposed(tag):
            tag.decompose()
    chars = _text_lengths(soup)
    all_chars = chars.get(id(soup.body or soup), 0)
    for tag in soup.find_all(_is_hidden):
        # A page hidden whole until a script shows it is still the page; a hidden copy
        # of the article is at most half of it.
        if not _is_decomposed(tag) and chars.get(id(tag), 0) < WHOLE_PAGE * all_chars:
            tag.decompose()
    chars = _text_lengths(soup)
    page_chars = chars.get(id(soup.body or soup), 0)
    most = MOST_OF_THE_TEXT * (min(main_chars, page_chars) if main_chars else page_chars)

    def holds_most(tag: Tag) -> bool:
        return most > 0 and chars.get(id(tag), 0) >= most

    holds_h1 = _ancestors(soup.find_all("h1"))
    for tag in soup.find_all(list(_DROP_TAGS)):
        if _is_decomposed(tag) or (tag.name == "header" and id(tag) in holds_h1):
            continue  # inside something dropped already; or an <article><header><h1>: content
        if holds_most(tag):
            continue  # the <form> of an ASP.NET page, an <aside> that is the article
        tag.decompose()
    holds_heading = _ancestors(soup.find_all(["h1", "h2"]))
    stack: list[Tag] = [soup]
    while stack:
        tag = stack.pop()
        if tag is not soup and tag.name not in ("html", "body", "main", "article"):
            role = str(tag.get("role") or "").lower()
            attrs = " ".join([*(tag.get("class") or []), str(tag.get("id") or "")])
            if (
                role in ("navigation", "banner", "contentinfo", "search")
                or (attrs and _BOILERPLATE_ATTR.search(attrs) and id(tag) not in holds_heading)
                or (attrs and _FURNITURE_ATTR.search(attrs))
            ) and not holds_most(tag):
                tag.decompose()
                continue
        stack.extend(reversed([child for child in tag.contents if isinstance(child, Tag)]))


def _is_hidden(tag: Tag) -> bool:
    if tag.name in ("html", "body"):
        return False
    attrs = tag.attrs
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    style = attrs.get("style")
    return bool(style) and bool(_HIDDEN_STYLE.search(str(style)))


def _text_lengths(soup: BeautifulSoup) -> dict[int, int]:
    """Characters of text under each tag (by id), in one bottom-up pass."""
    chars: dict[int, int] = {}
    for tag in reversed(soup.find_all(True)):
        total = 0
        for child in tag.contents:
            if isinstance(child, Tag):
                total += chars.get(id(child), 0)
            elif isinstance(child, NavigableString) and not _is_markup_string(child):
                total += len(child.strip())
        chars[id(tag)] = total
    if soup.body is None:
        chars[id(soup)] = sum(chars.get(id(c), 0) for c in soup.contents if isinstance(c, Tag))
    return chars


def _ancestors(tags: list[Tag]) -> set[int]:
    """ids of every tag that has one of `tags` inside it (linear: each climb stops at a known one)."""
    seen: set[int] = set()
    for tag in tags:
        parent = tag.parent
        while parent is not None and id(parent) not in seen:
            seen.add(id(parent))
            parent = parent.parent
    return seen


def _is_decomposed(tag: Tag) -> bool:
    # bs4's own `decomposed` property looks the flag up with getattr, and a Tag answers an
    # unknown attribute by searching its subtree for a tag of that name: linear per call.
    return bool(tag.__dict__.get("_decomposed"))


def _blocks(root: Tag | BeautifulSoup) -> list[Block]:
    """Group text nodes by their nearest block-level ancestor, in document order."""
    blocks: list[Block] = []
    current_owner: Tag | None = None
    parts: list[str] = []

    def flush() -> None:
        nonlocal parts
        text = normalize_text(" ".join(parts))
        text = re.sub(r" *\n *", "\n", text)
        if text and any(ch.isalnum() for ch in text):
            # Text with no block around it at all (a page that is one bare line) is a paragraph.
            name = current_owner.name if current_owner is not None else "p"
            if name in _HEADING_LEVEL:
                blocks.append(Block(" ".join(text.split()), "heading", _HEADING_LEVEL[name]))
            elif name == "li":
                blocks.append(Block(" ".join(text.split()), "list"))
            else:
                for para in text.split("\n\n"):
                    if para.strip():
                        blocks.append(Block(" ".join(para.split()), "paragraph"))
        parts = []

    for node in root.descendants:
        if isinstance(node, Tag):
            if node.name == "br":
                parts.append("\n")
            continue
        # Comments, doctypes, <?…?> and <!…> declarations are markup, not text.
        if not isinstance(node, NavigableString) or _is_markup_string(node):
            continue
        owner = _block_owner(node)
        if owner is not current_owner:
            flush()
            current_owner = owner
        parts.append(str(node))
    flush()
    return _merge_definition_pairs(blocks)


def _is_markup_string(node: NavigableString) -> bool:
    return isinstance(node, PreformattedString) and not isinstance(node, CData)


def _block_owner(node: NavigableString) -> Tag | None:
    depth = 0
    parent = node.parent
    while parent is not None and depth < MAX_DEPTH:
        if parent.name in _BLOCK_TAGS:
            return parent
        parent = parent.parent
        depth += 1
    return parent


def _merge_definition_pairs(blocks: list[Block]) -> list[Block]:
    """Join a label block ending with ':' or a short label with no value ("Start Date") to its value."""
    merged: list[Block] = []
    for block in blocks:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.kind == "paragraph"
            and block.kind == "paragraph"
            and prev.text.endswith(":")
            and len(prev.text) < 40
        ):
            prev.text = f"{prev.text} {block.text}"
            continue
        merged.append(block)
    return merged
