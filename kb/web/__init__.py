"""The web interface for trainers and legal advisors: `kb serve`, or `create_app(home)`."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `kb.web.login` (read by every `kb` command through
    # `kb serve`'s options) does not import the web stack.
    if name == "create_app":
        from kb.web.app import create_app

        return create_app
    raise AttributeError(f"module 'kb.web' has no attribute {name!r}")
