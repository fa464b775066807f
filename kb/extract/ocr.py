"""Optional OCR for scanned PDFs: `ocrmypdf` (with `tesseract`), used only when both are on PATH.

No Python package is needed: ocrmypdf is run as a program, adds a text layer to
the pages that have none (`--skip-text` leaves pages with text alone), and the
result goes through the ordinary PDF extractor. Tesseract has no Turkmen model:
English and Russian are asked for, whichever of them is installed; Turkmen Latin
text comes out of the English model with its special letters often wrong.

    apt-get install ocrmypdf tesseract-ocr-eng tesseract-ocr-rus
"""

from __future__ import annotations

import ctypes
import resource
import shutil
import signal
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from kb.errors import SourceError

INSTALL_HINT = "install ocrmypdf and tesseract-ocr-rus to read it"
WANTED_LANGUAGES = ("eng", "rus")
try:
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None
# ocrmypdf reports most problems on its last line of stderr; longer reasons are cut here.
MAX_REASON_CHARS = 200


def ocr_tools() -> tuple[str, str] | None:
    """Paths of ocrmypdf and tesseract, or None when either is missing."""
    ocrmypdf, tesseract = shutil.which("ocrmypdf"), shutil.which("tesseract")
    if ocrmypdf is None or tesseract is None:
        return None
    return ocrmypdf, tesseract


def ocr_available() -> bool:
    return ocr_tools() is not None


@lru_cache(maxsize=4)
def _installed_languages(tesseract: str) -> frozenset[str]:
    try:
        done = subprocess.run(
            [tesseract, "--list-langs"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    # The first line is a heading ("List of available languages in ...").
    return frozenset(line.strip() for line in done.stdout.splitlines()[1:] if line.strip())


def ocr_languages(tesseract: str) -> str:
    installed = _installed_languages(tesseract)
    chosen = [lang for lang in WANTED_LANGUAGES if lang in installed]
    return "+".join(chosen or ["eng"])


def ocr_pdf(data: bytes, *, source: str, timeout_s: float | None = None) -> bytes:
    """`data` with a text layer added by ocrmypdf; raises SourceError when OCR fails."""
    tools = ocr_tools()
    if tools is None:
        raise SourceError(
            f"no text layer: the PDF looks scanned; OCR is not enabled ({INSTALL_HINT})",
            source=source,
        )
    ocrmypdf, tesseract = tools
    with tempfile.TemporaryDirectory(prefix="kb-ocr-") as tmp:
        scanned, readable = Path(tmp) / "scanned.pdf", Path(tmp) / "readable.pdf"
        scanned.write_bytes(data)
        command = [
            ocrmypdf, "--skip-text", "--output-type", "pdf", "--jobs", "1", "--quiet",
            "-l", ocr_languages(tesseract), str(scanned), str(readable),
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                preexec_fn=_prepare_child,
            )
        except subprocess.TimeoutExpired:
            raise SourceError(
                f"OCR timed out after {timeout_s:g} s: the scan is too long to read", source=source
            ) from None
        except OSError as exc:
            raise SourceError(f"OCR could not start: {exc.strerror}", source=source) from None
        if done.returncode != 0 or not readable.exists():
            last = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), "")
            reason = (
                last.strip()[:MAX_REASON_CHARS] or f"ocrmypdf exited with code {done.returncode}"
            )
            raise SourceError(f"OCR failed: {reason}", source=source)
        return readable.read_bytes()


def _prepare_child() -> None:
    """Die with the extraction worker (killed on a timeout), and lift its address-space cap:
    tesseract reserves more address space than it uses. Runs between fork and exec, so it
    only calls what is already loaded."""
    if _prctl is not None:
        # PR_SET_PDEATHSIG: fires when the thread that started us ends: the worker's main thread.
        _prctl(1, signal.SIGKILL)
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    except (ValueError, OSError):
        pass
