"""HTML extraction with BeautifulSoup (lxml): the declared charset, blocks, title, date.

Navigation, banners, menus, footers and scripts go in two steps: here, by what
the markup says (tags, roles, class names); across pages of one site, by blocks
that repeat (see `kb.extract.boilerplate`), which catches what markup does not say.
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


def decode_html(data: bytes, content_type: str, where: str) -> tuple[str, str, list[str]]:
    """Decode by the HTTP header's charset, then the page's own declaration, then by sniffing.

    A page whose declared charset does not decode it is decoded by detection,
    with a warning, rather than failed or filled with replacement characters.
    """
    notes: list[str] = []
    declared: list[str] = []
    m = re.search(r"charset=([\w.:-]+)", content_type or "", re.I)
    if m:
        declared.append(m.group(1).strip("'\""))
    in_page = EncodingDetector.find_declared_encoding(
        data[:4096], is_html=True, search_entire_document=False
    )
    if in_page:
        declared.append(in_page)
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
            return data.decode(_python_codec(encoding)), encoding, notes
        except (UnicodeDecodeError, LookupError):
            note = f"declared charset {encoding!r} does not decode the page; detected instead"
            if encoding in declared and note not in notes:
                notes.append(note)
    from charset_normalizer import from_bytes

    best = from_bytes(data[:500_000]).best()
    if best is None:
        raise SourceError("not HTML: the file is binary or in an unknown encoding", source=where)
    return data.decode(best.encoding, errors="replace"), best.encoding, notes


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
    page_title = normalize_text(soup.title.get_text(" ")) if soup.title else ""
    _strip_boilerplate_markup(soup)
    root = soup.body or soup
    blocks = _blocks(root)
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


def _strip_boilerplate_markup(soup: BeautifulSoup) -> None:
    """Drop scripts, menus, banners and footers by what the markup says they are.

    One pass over the tree, in document order, never into a dropped subtree; whether a
    tag holds a heading is worked out once for all tags beforehand. (Asking each tag
    with `find()`, or bs4's `decomposed`, which falls back to a search, made a page of
    5,000 nested divs take 25 s, and 20,000 take minutes.)
    """
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    holds_h1 = _ancestors(soup.find_all("h1"))
    for tag in soup.find_all(list(_DROP_TAGS)):
        if _is_decomposed(tag) or (tag.name == "header" and id(tag) in holds_h1):
            continue  # inside something dropped already; or an <article><header><h1>: content
        tag.decompose()
    holds_heading = _ancestors(soup.find_all(["h1", "h2"]))
    stack: list[Tag] = [soup]
    while stack:
        tag = stack.pop()
        if tag is not soup and tag.name not in ("html", "body", "main", "article"):
            role = str(tag.get("role") or "").lower()
            attrs = " ".join([*(tag.get("class") or []), str(tag.get("id") or "")])
            if role in ("navigation", "banner", "contentinfo", "search") or (
                attrs and _BOILERPLATE_ATTR.search(attrs) and id(tag) not in holds_heading
            ):
                tag.decompose()
                continue
        stack.extend(reversed([child for child in tag.contents if isinstance(child, Tag)]))


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
