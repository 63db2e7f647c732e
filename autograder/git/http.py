"""git smart HTTP (`info/refs`, `git-upload-pack`, `git-receive-pack`) via `git http-backend`.

Git itself speaks the protocol; this module decides who may talk to which repo, streams the
request and response bodies through the CGI process (never holding a pack in memory), and
hands git the settings that enforce our rules: our hooks (``core.hooksPath``, answered in
this process through a ``HookBridge``) and the push size cap (``receive.maxInputSize``, so
the refusal reaches the client as git's own message).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from werkzeug.exceptions import (BadGateway, ClientDisconnected, Forbidden, HTTPException,
                                 NotFound)

from autograder.access import course_for, require_user
from autograder.db import get_session
from autograder.pushes.bridge import HookBridge
from autograder.pushes.hooks_dir import HOOK_CLIENT, hooks_dir
from autograder.git.quarantine import sweep_now_and_then
from autograder.pushes.decide import PushContext
from autograder.models import STAFF_ROLES, Repo, User

bp = Blueprint("git", __name__, url_prefix="/git")

SERVICES = ("git-upload-pack", "git-receive-pack")
CHUNK = 64 * 1024
# Read this much past the cap so git's own "pack exceeds maximum allowed size" reaches the
# client before we drop the connection.
DRAIN_SLACK = 16 * 1024 * 1024
PACK_TOO_BIG = b"pack exceeds maximum allowed size"
SIDEBAND_MESSAGE = b"\x02"     # side-band channel 2: shown to the user as "remote: ..."


@bp.errorhandler(HTTPException)
def _plain_error(error: HTTPException):
    """git prints a text/plain error body to the user as ``remote: ...`` lines."""
    response = Response(f"{error.description}\n", status=error.code, mimetype="text/plain")
    if error.code == 401:
        response.headers.update(error.get_headers())
        response.mimetype = "text/plain"
    return response


@bp.route("/<course_slug>/<login>.git/info/refs", methods=["GET"])
def info_refs(course_slug: str, login: str):
    service = request.args.get("service", "")
    if service not in SERVICES:
        raise Forbidden("this server speaks git's smart HTTP protocol only; update git")
    user = require_user()
    return _run_backend(_authorised_repo(course_slug, login, service, user), user, "info/refs")


@bp.route("/<course_slug>/<login>.git/<any('git-upload-pack', 'git-receive-pack'):service>",
          methods=["POST"])
def rpc(course_slug: str, login: str, service: str):
    user = require_user()
    return _run_backend(_authorised_repo(course_slug, login, service, user), user, service)


def _authorised_repo(course_slug: str, login: str, service: str, user: User) -> Repo:
    """Students push to and fetch their own repo; staff fetch every repo of their course."""
    course, role = course_for(course_slug, user)
    repo = get_session().scalar(select(Repo).join(Repo.owner).where(
        Repo.course_id == course.id, User.login == login))
    own = repo is not None and repo.owner_id == user.id
    if service == "git-receive-pack":
        if role in STAFF_ROLES:
            raise Forbidden(f"you are on the staff of {course_slug} ({role.value}): staff "
                            f"clone and fetch students' repos but never push to them; to "
                            f"change a grade, use an override or a regrade")
        if not own:
            raise Forbidden(f"you can push only to your own repo: "
                            f"/git/{course_slug}/{user.login}.git")
    elif not (own or (repo is not None and role in STAFF_ROLES)):
        raise NotFound(f"no repo {course_slug}/{login}.git for you")
    return repo


def _git_settings() -> dict[str, str]:
    """Our hooks and the push size cap, as git's environment-borne configuration."""
    config = current_app.config
    git_settings = {"core.hooksPath": str(hooks_dir(Path(config["REPOS_DIR"]))),
                    "receive.maxInputSize": str(config["MAX_PUSH_BYTES"])}
    env = {"GIT_CONFIG_COUNT": str(len(git_settings)),
           "AUTOGRADER_PYTHON": sys.executable, "AUTOGRADER_HOOK_CLIENT": str(HOOK_CLIENT)}
    for index, (key, value) in enumerate(git_settings.items()):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def _hook_bridge(repo: Repo) -> HookBridge:
    """The channel this push's hooks use to reach this process (see ``autograder.pushes.decide``)."""
    config = current_app.config
    public_url = (config["PUBLIC_URL"] or request.host_url).rstrip("/")
    context = PushContext(current_app.extensions["autograder.sessions"], repo.id, public_url,
                          config["BROKER_URL"] or "", Path(config["REPOS_DIR"]))
    return HookBridge(context, current_app.logger)


def _run_backend(repo: Repo, user: User, path_tail: str) -> Response:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "GIT_PROJECT_ROOT": current_app.config["REPOS_DIR"],
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{repo.path}/{path_tail}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query_string.decode("latin-1"),
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "REMOTE_USER": user.login,
        "REMOTE_ADDR": request.remote_addr or "",
        **_git_settings(),
    }
    for header, variable in (("Content-Encoding", "HTTP_CONTENT_ENCODING"),
                             ("Git-Protocol", "GIT_PROTOCOL")):
        if header in request.headers:
            env[variable] = request.headers[header]
    if request.content_length is not None:
        env["CONTENT_LENGTH"] = str(request.content_length)

    bridge = _hook_bridge(repo) if path_tail == "git-receive-pack" else None
    if bridge is not None:
        env["AUTOGRADER_HOOK_FD"] = str(bridge.child_fd)
    stderr = tempfile.TemporaryFile()
    try:
        process = subprocess.Popen([current_app.config["GIT_BINARY"], "http-backend"],
                                   env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=stderr,
                                   pass_fds=(bridge.child_fd,) if bridge else ())
    except OSError:
        if bridge is not None:
            bridge.close()
        raise
    if bridge is not None:
        bridge.start()
    limit = current_app.config["MAX_PUSH_BYTES"] + DRAIN_SLACK
    current_limit_note = (f"this course server takes pushes of up to "
                          f"{_binary_size(current_app.config['MAX_PUSH_BYTES'])}: keep "
                          f"datasets and large files out of the repo").encode()
    feeder = threading.Thread(target=_feed, args=(request.stream, process.stdin, limit),
                              daemon=True)
    feeder.start()
    logger = current_app.logger
    repos_dir = Path(current_app.config["REPOS_DIR"])

    def finish():
        """Wait for the feeder and git; log what git said (the client sees only the protocol)."""
        feeder.join()
        process.stdout.close()
        returncode = process.wait()
        if bridge is not None:
            bridge.close()
            sweep_now_and_then(repos_dir)
        if returncode != 0:
            stderr.seek(0)
            logger.warning("git http-backend for %s exited %s: %s", repo.path,
                           process.returncode, stderr.read(4000).decode(errors="replace"))
        stderr.close()

    try:
        status, headers = _read_cgi_headers(process.stdout)
    except BadGateway:
        finish()
        raise

    def chunks():
        while chunk := process.stdout.read1(CHUNK):
            yield chunk

    def body():
        try:
            if path_tail == "git-receive-pack":
                yield from _noting_the_push_limit(chunks(), current_limit_note)
            else:
                yield from chunks()
        finally:
            finish()

    return Response(body(), status=status, headers=headers, direct_passthrough=True)


def _binary_size(size: int) -> str:
    return f"{size / 2**20:.4g} MiB" if size >= 2**20 else f"{size / 2**10:.4g} KiB"


def _noting_the_push_limit(chunks, note: bytes):
    """receive-pack's response, passed through pkt-line by pkt-line; after git's own "pack
    exceeds maximum allowed size" (a side-band message that does not say the limit) one more
    side-band message says it."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        packets = []
        while len(buffer) >= 4:
            try:
                length = max(int(buffer[:4], 16), 4)
            except ValueError:      # not pkt-lines: pass the rest through untouched
                yield from (b"".join(packets), buffer, *chunks)
                return
            if len(buffer) < length:
                break
            packet, buffer = buffer[:length], buffer[length:]
            packets.append(packet)
            if packet[4:5] == SIDEBAND_MESSAGE and PACK_TOO_BIG in packet:
                line = SIDEBAND_MESSAGE + note + b"\n"
                packets.append(b"%04x" % (len(line) + 4) + line)
        yield b"".join(packets)
    yield buffer


def _feed(stream, stdin, limit: int) -> None:
    """Copy the request body to git; once git stops reading, drain (up to ``limit``)."""
    received = 0
    git_reading = True
    try:
        while received <= limit and (chunk := _read_or_none(stream)):
            received += len(chunk)
            if git_reading:
                try:
                    stdin.write(chunk)
                except (BrokenPipeError, OSError):
                    git_reading = False
    finally:
        try:
            stdin.close()
        except OSError:
            pass


def _read_or_none(stream) -> bytes | None:
    """The next chunk of the request body; None when the client went away."""
    try:
        return stream.read(CHUNK)
    except (OSError, ClientDisconnected):
        return None


def _read_cgi_headers(stdout) -> tuple[int, list[tuple[str, str]]]:
    status, headers = 200, []
    while line := stdout.readline():
        line = line.rstrip(b"\r\n")
        if not line:
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        else:
            headers.append((name.strip(), value.strip()))
    raise BadGateway("git http-backend ended without a response; see the server log")
