"""The login form: user name and access token in, a session cookie out; and logging out.

The token is the one git and the API take; the cookie remembers which token, so rotating
the token (``autograder token rotate``) also ends the sessions opened with the old one.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from sqlalchemy import select

from autograder.db import get_session
from autograder.models import Token
from autograder.tokens import authenticate, hash_token
from autograder.web import bp


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not send people elsewhere."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") \
            or target.startswith("//"):
        return url_for("web.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        name, token = request.form.get("login", "").strip(), request.form.get("token", "").strip()
        user = authenticate(get_session(), name, token) if name and token else None
        if user is not None:
            session.clear()
            session["token_id"] = get_session().scalar(select(Token.id).where(
                Token.user_id == user.id, Token.token_hash == hash_token(token)))
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        error = "That user name and access token do not match."
    return render_template("web/login.html", error=error,
                           next=request.args.get("next", "")), 401 if error else 200


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("web.login"))
