"""Access tokens: shown once, stored only as a hash.

Tokens are 256 random bits, so a plain SHA-256 is enough to make a stolen database useless
for logging in (a slow password hash only matters for guessable secrets).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from autograder.models import Token, User, utcnow


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User) -> str:
    """Revoke the user's live tokens and return a new one (the only time it is visible).

    The caller commits, so issuing tokens for a whole roster stays one transaction.
    """
    session.execute(update(Token).where(Token.user_id == user.id, Token.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))
    token = secrets.token_urlsafe(32)
    while token.startswith("-"):    # a CSV cell starting with "-" is a spreadsheet formula
        token = secrets.token_urlsafe(32)
    session.add(Token(user_id=user.id, token_hash=hash_token(token)))
    session.flush()
    return token


def authenticate(session: Session, login: str, token: str) -> User | None:
    """The user whose live token this is, or None."""
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        return None
    wanted = hash_token(token)
    live = session.scalars(select(Token.token_hash).where(
        Token.user_id == user.id, Token.revoked_at.is_(None)))
    return user if any(hmac.compare_digest(wanted, h) for h in live) else None
