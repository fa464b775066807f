"""The web interface's optional login: one account, HTTP Basic authentication.

Standard library only, so that `kb serve --help` does not import the web stack.
"""

from __future__ import annotations

import base64
import hmac

LOGIN_USER = "kb"
PASSWORD_ENV = "KB_WEB_PASSWORD"


def password_matches(header: str | None, password: str) -> bool:
    """Whether an `Authorization: Basic …` header carries the login's user and password
    (compared in constant time)."""
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        user, _, given = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    same_user = hmac.compare_digest(user.encode(), LOGIN_USER.encode())
    return hmac.compare_digest(given.encode(), password.encode()) and same_user
