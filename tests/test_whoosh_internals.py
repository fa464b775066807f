"""Whoosh's private layout is used in search/whoosh_internals.py only, for one Whoosh.

The module refuses, in one line, a Whoosh other than the pinned one; and no other module
of search/ imports Whoosh's internals or uses a private name of a Whoosh object, checked
on the source (as a reviewer would grep) so that the rule holds for code added later.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import whoosh

import search
from kb.errors import KBError
from search import whoosh_internals
from search.whoosh_internals import (
    WHOOSH_DISTRIBUTION,
    WHOOSH_VERSION,
    WhooshVersionError,
    check_whoosh_version,
)

REPO = Path(__file__).resolve().parent.parent
SEARCH = Path(search.__file__).resolve().parent
INTERNALS = Path(whoosh_internals.__file__).resolve()

# Whoosh modules that are its storage and process machinery, not its API.
INTERNAL_MODULES = (
    "whoosh.codec",
    "whoosh.filedb",
    "whoosh.multiproc",
    "whoosh.externalsort",
    "whoosh.util.numeric",  # the codecs' number and length encodings
)
# Public classes whose only extension points are private methods and fields.
INTERNAL_CLASSES = {"SegmentWriter", "PostingPool", "MpWriter", "SubWriterTask", "SegmentReader"}
ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@cache
def whoosh_private_names() -> frozenset[str]:
    """Every private name Whoosh's own source defines or uses: attributes, methods,
    class fields and parameters (`_ids`, `_perdoc`, `_flush_segment`, `_lk`…)."""
    names: set[str] = set()
    for path in Path(whoosh.__file__).parent.rglob("*.py"):
        with warnings.catch_warnings():  # Whoosh's old escapes in strings
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return frozenset(n for n in names if _private(n))


def _from_whoosh(obj: Any) -> bool:
    """Whether `obj` is a class that is, or derives from, one of Whoosh's."""
    return inspect.isclass(obj) and any(
        c.__module__.split(".")[0] == "whoosh" for c in inspect.getmro(obj)
    )


class _Checker(ast.NodeVisitor):
    """Collects the uses of Whoosh's internals in one module's source."""

    def __init__(self, tree: ast.Module, module: Any) -> None:
        self.module = module
        self.problems: list[str] = []
        self.imported: dict[str, Any] = {}
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    self.imported[alias.asname or alias.name] = (node.module, alias.name)
        self.classes: list[bool] = []  # for each enclosing class: derives from Whoosh?

    def _resolve(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Name):
            if node.id in self.imported:
                module, name = self.imported[node.id]
                try:
                    return getattr(importlib.import_module(module), name, None)
                except ImportError:
                    return None
            return getattr(self.module, node.id, None)
        if isinstance(node, ast.Attribute):
            return getattr(self._resolve(node.value), node.attr, None)
        return None

    def _report(self, node: ast.AST, what: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', '?')}: {what}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith(INTERNAL_MODULES):
                self._report(node, f"imports {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module.split(".")[0] != "whoosh":
            return
        if module.startswith(INTERNAL_MODULES):
            self._report(node, f"imports from {module}")
        for alias in node.names:
            if _private(alias.name) or alias.name in INTERNAL_CLASSES:
                self._report(node, f"imports {alias.name} from {module}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        whoosh_based = any(_from_whoosh(self._resolve(base)) for base in node.bases)
        if whoosh_based:
            for item in node.body:
                names: list[str] = []
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names = [item.name]
                elif isinstance(item, ast.Assign):
                    names = [t.id for t in item.targets if isinstance(t, ast.Name)]
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names = [item.target.id]
                for name in names:
                    if name in whoosh_private_names():
                        self._report(item, f"{node.name} overrides Whoosh's private {name}")
        self.classes.append(whoosh_based)
        self.generic_visit(node)
        self.classes.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in whoosh_private_names() and not self._own(node.value):
            self._report(node, f"uses .{node.attr}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id in ATTRIBUTE_FUNCTIONS
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in whoosh_private_names()
            and not self._own(node.args[0])
        ):
            self._report(node, f"uses {func.id}(…, {node.args[1].value!r})")
        for keyword in node.keywords:
            if keyword.arg in whoosh_private_names():
                self._report(node, f"passes Whoosh's private argument {keyword.arg}")
        self.generic_visit(node)

    def _own(self, value: ast.expr) -> bool:
        """`self`/`cls` of one of our classes, or one of our classes by name: a private
        name there is ours, even if Whoosh happens to use it too."""
        if not isinstance(value, ast.Name):
            return False
        if value.id in ("self", "cls"):
            return bool(self.classes) and not self.classes[-1]
        target = getattr(self.module, value.id, None)
        return (
            inspect.isclass(target)
            and value.id not in self.imported
            and not _from_whoosh(target)
            and getattr(target, "__module__", None) == self.module.__name__
        )


def whoosh_internals_used(source: str, module: Any) -> list[str]:
    """Where `source` (the text of `module`) uses Whoosh's internals."""
    tree = ast.parse(source)
    checker = _Checker(tree, module)
    checker.visit(tree)
    return checker.problems


def test_no_module_of_search_but_the_internals_uses_whoosh_internals() -> None:
    found: dict[str, list[str]] = {}
    paths = sorted(p for p in SEARCH.rglob("*.py") if p.resolve() != INTERNALS)
    assert len(paths) > 10
    for path in paths:
        name = ".".join(path.relative_to(SEARCH.parent).with_suffix("").parts)
        problems = whoosh_internals_used(
            path.read_text(encoding="utf-8"), importlib.import_module(name)
        )
        if problems:
            found[name] = problems
    assert not found, f"Whoosh internals outside search/whoosh_internals.py: {found}"


def test_the_check_finds_each_kind_of_use(tmp_path: Path) -> None:
    """The uses that were spread over search/ before they moved are each caught."""
    source = """
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.writing import SegmentWriter
from whoosh.query import CompoundQuery
import whoosh.multiproc


class Writer(SegmentWriter):
    def _flush_segment(self):
        self._added = True


class Query(CompoundQuery):
    def _matcher(self, subs, searcher, context):
        return None


class Ours:
    def __init__(self):
        self._ids = []  # our own field, though Whoosh has one of that name

    def ids(self):
        return self._ids


def read(reader, searcher, matcher, ix):
    getattr(searcher, "_ix", None)
    Writer(ix, _lk=False)
    return reader._perdoc, matcher._ids
"""
    module_path = tmp_path / "sample_search_module.py"
    module_path.write_text(source, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("sample_search_module")
        problems = whoosh_internals_used(source, module)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("sample_search_module", None)
    text = "\n".join(problems)
    for expected in (
        "imports from whoosh.codec.whoosh3",
        "imports _lenfield from whoosh.codec.whoosh3",
        "imports SegmentWriter from whoosh.writing",
        "imports whoosh.multiproc",
        "Writer overrides Whoosh's private _flush_segment",
        "Query overrides Whoosh's private _matcher",
        "uses ._added",
        "uses getattr(…, '_ix')",
        "passes Whoosh's private argument _lk",
        "uses ._perdoc",
        "uses ._ids",
    ):
        assert expected in text, (expected, problems)
    # Our own class's `self._ids` and `Ours` itself are not Whoosh's.
    assert len(problems) == 11, problems


def test_the_installed_whoosh_is_the_pinned_one() -> None:
    check_whoosh_version()
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"{WHOOSH_DISTRIBUTION}=={WHOOSH_VERSION}"' in pyproject


@pytest.mark.parametrize(
    ("installed", "module_version", "found"),
    [
        ("2.7.4", "2.7.4", "2.7.4"),
        (None, "2.7.4", "whoosh 2.7.4 not from whoosh-reloaded"),  # `Whoosh` instead
        ("2.7.5", "3.54.0", "whoosh-reloaded 2.7.5 holding whoosh 3.54.0"),  # installed over
    ],
)
def test_another_whoosh_gets_a_one_line_error_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch, installed: str | None, module_version: str, found: str
) -> None:
    real_version = whoosh_internals.metadata.version

    def version(distribution: str) -> str:
        if distribution != WHOOSH_DISTRIBUTION:
            return real_version(distribution)
        if installed is None:
            raise whoosh_internals.metadata.PackageNotFoundError(distribution)
        return installed

    monkeypatch.setattr(whoosh_internals.metadata, "version", version)
    monkeypatch.setattr(whoosh, "versionstring", lambda *a, **k: module_version)
    with pytest.raises(WhooshVersionError) as raised:
        check_whoosh_version()
    message = str(raised.value)
    assert message == (
        f"search needs whoosh-reloaded==2.7.5 (found {found}): pip install whoosh-reloaded==2.7.5"
    )
    assert "\n" not in message
    assert isinstance(raised.value, KBError) and isinstance(raised.value, ImportError)


# Run in a fresh interpreter: the installed whoosh-reloaded reads as 2.7.4.
_OTHER_WHOOSH = """
import importlib.metadata as metadata
import whoosh
real = metadata.version
metadata.version = lambda name: "2.7.4" if name == "whoosh-reloaded" else real(name)
whoosh.versionstring = lambda *args, **kwargs: "2.7.4"
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", _OTHER_WHOOSH + code],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
    )  # fmt: skip


def test_importing_search_with_another_whoosh_fails_at_import() -> None:
    for module in ("search.whoosh_internals", "search.engine", "search.indexer", "search.query"):
        result = _run(f"import {module}")
        assert result.returncode == 1, (module, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last == (
            "search.whoosh_internals.WhooshVersionError: search needs "
            "whoosh-reloaded==2.7.5 (found 2.7.4): pip install whoosh-reloaded==2.7.5"
        ), module


def test_kb_search_with_another_whoosh_prints_one_line(tmp_path: Path) -> None:
    result = _run(
        "import sys\nfrom kb.cli import app\n"
        f"sys.argv = ['kb', 'search', 'trafficking', '--home', {str(tmp_path)!r}]\napp()"
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (
        "error: search needs whoosh-reloaded==2.7.5 (found 2.7.4): "
        "pip install whoosh-reloaded==2.7.5"
    )


def test_postings_of_deleted_documents_are_left_out_like_np_isin() -> None:
    rng = np.random.default_rng(7)
    for size, gone in [(0, 3), (1, 1), (50, 5), (2_000, 300)]:
        ids = np.sort(rng.choice(10_000, size=size, replace=False)).astype(np.int64)
        deleted = {int(d) for d in rng.choice(12_000, size=gone, replace=False)}
        deleted |= {int(i) for i in ids[: size // 10]}  # some that the list does hold
        expected = ~np.isin(ids, np.array(sorted(deleted), dtype=np.int64))
        assert (whoosh_internals._not_in(ids, deleted) == expected).all()


_READ_WITH_DELETIONS = """
import sys
from whoosh import index
from search.whoosh_internals import read_term_postings
ix = index.open_dir(sys.argv[1])
with ix.reader() as reader:
    found = read_term_postings(reader, "body", "hotline")
print(sorted(int(i) for i in found.ids), "numpy.ma" in sys.modules)
"""


def test_reading_postings_with_deletions_does_not_import_numpy_ma(tmp_path: Path) -> None:
    """np.isin's np.unique imports numpy.ma: 7 ms of the first search after a nightly update."""
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema

    ix = index.create_in(str(tmp_path), Schema(key=ID(stored=True, unique=True), body=TEXT))
    with ix.writer() as writer:
        for n in range(6):
            writer.add_document(key=str(n), body=f"call the hotline {n}")
    with ix.writer() as writer:
        writer.delete_by_term("key", "2")
    done = subprocess.run([sys.executable, "-c", _READ_WITH_DELETIONS, str(tmp_path)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert done.stdout.split() == ["[0,", "1,", "3,", "4,", "5]", "False"]
