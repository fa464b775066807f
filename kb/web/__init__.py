"""The web interface for trainers and legal advisors: `kb serve`, or `create_app(home)`."""

from kb.web.app import create_app

__all__ = ["create_app"]
