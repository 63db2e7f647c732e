"""Who is asking and what they may see: HTTP Basic (login + token), or for the pages a
session cookie from the login form, and roles per course.

One rule set for the git endpoint, the JSON API and the pages. Things a user may not see
answer 404, as if they did not exist, so ids of other students and courses do not leak.
"""
from __future__ import annotations

from flask import g, request, session
from sqlalchemy import select
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Forbidden, NotFound, Unauthorized

from autograder.db import get_session
from autograder.models import (STAFF_ROLES, Course, Membership, Role, Submission, Token,
                               User)
from autograder.tokens import authenticate

REALM = "autograder"
ID_MAX = 2**63 - 1  # larger ids cannot exist (and SQLite refuses to compare with them)


def current_user() -> User | None:
    """The user named by the request's Basic credentials, if the token is right; on the pages
    (blueprint ``web``) also the user of the session cookie, while its token is live.

    Git and the JSON API never take the cookie, so a page's session cannot act on them from
    another site (the pages' own forms carry a CSRF token)."""
    if "user" not in g:
        auth = request.authorization
        g.user = None
        if auth is not None and auth.type == "basic" and auth.username and auth.password:
            g.user = authenticate(get_session(), auth.username, auth.password)
        elif request.blueprint == "web":
            g.user = session_user()
    return g.user


def session_user() -> User | None:
    """The session's user; logged out as soon as the token it logged in with is revoked."""
    token_id = session.get("token_id")
    token = get_session().get(Token, token_id) if isinstance(token_id, int) else None
    if token is None or token.revoked_at is not None:
        return None
    return get_session().get(User, token.user_id)


def require_user() -> User:
    user = current_user()
    if user is None:
        raise Unauthorized("log in with your user name and access token",
                           www_authenticate=WWWAuthenticate("basic", {"realm": REALM}))
    return user


def role_in(course: Course, user: User) -> Role | None:
    return get_session().scalar(select(Membership.role).where(
        Membership.course_id == course.id, Membership.user_id == user.id))


def course_for(slug: str, user: User) -> tuple[Course, Role]:
    """The course and the user's role in it; 404 unless the user belongs to it."""
    course = get_session().scalar(select(Course).where(Course.slug == slug))
    role = role_in(course, user) if course is not None else None
    if role is None:
        raise NotFound(f"no course {slug!r} for you")
    return course, role


def staff_course(slug: str, user: User) -> Course:
    """The course if the user is a TA or instructor of it."""
    course, role = course_for(slug, user)
    if role not in STAFF_ROLES:
        raise Forbidden("only the course's TAs and instructors may do this")
    return course


def visible_submission(submission_id: int, user: User) -> tuple[Submission, Role]:
    """A submission the user may read: their own, or any in a course they teach."""
    submission = get_session().get(Submission, submission_id) if submission_id <= ID_MAX \
        else None
    role = role_in(submission.course, user) if submission is not None else None
    allowed = role in STAFF_ROLES or (role is Role.student and submission.student_id == user.id)
    if not allowed:
        raise NotFound(f"no submission {submission_id} for you")
    return submission, role
