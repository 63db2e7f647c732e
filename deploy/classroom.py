"""A course on a running system, driven as its instructor would: the ``autograder`` CLI to
create it and import the roster, the results API to watch grading and read the gradebook.

Shared by the demo, the end-to-end tests and the burst bench.
"""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml


FINISHED = {"graded", "failed"}          # infra_error is retried by the workers: not final


def course_snapshot(course_file: Path, dest: Path, modules: list[str] | None = None,
                    milestones: list[str] | None = None, slug: str | None = None) -> Path:
    """Copy a course file and the rubrics it uses into ``dest``, keeping only the given
    modules / milestones (None: all of them), optionally as another course ``slug``; returns
    the new course file, ``dest/<slug>.yaml``.

    The workers read rubrics from one directory (AUTOGRADER_RUBRICS_DIR), so a copy lets a
    run grade a subset, or change a rubric, without touching the checkout's ``rubrics/``.
    """
    course_file, dest = Path(course_file), Path(dest)
    config = yaml.safe_load(course_file.read_text())
    config["slug"] = slug or config["slug"]
    for key, keep in (("modules", modules), ("milestones", milestones)):
        items = config.get(key) or []
        unknown = set(keep or ()) - {item["id"] for item in items}
        if unknown:
            raise ValueError(f"{course_file}: no {key} {sorted(unknown)}")
        config[key] = [item for item in items if keep is None or item["id"] in keep]
    kept = {item["id"] for item in config["modules"] + config["milestones"]} | {"*"}
    for key in ("extensions", "excused"):   # they may name only assignments of the course
        config[key] = [item for item in config.get(key) or [] if item["assignment"] in kept]
    dest.mkdir(parents=True, exist_ok=True)
    for item in config["modules"] + config["milestones"]:
        shutil.copyfile(course_file.parent / item["rubric"], dest / item["rubric"])
    snapshot = dest / f"{config['slug']}.yaml"
    snapshot.write_text(yaml.safe_dump(config, sort_keys=False))
    return snapshot


def _tokens(cli_stdout: str) -> dict[str, str]:
    """``login -> token`` from the CSV the CLI prints (login, name, token)."""
    return {row["login"]: row["token"] for row in csv.DictReader(io.StringIO(cli_stdout))}


@dataclass
class Classroom:
    api_url: str
    slug: str
    instructor: tuple[str, str]                     # (login, token)
    tokens: dict[str, str] = field(default_factory=dict)   # student login -> token

    @classmethod
    def create(cls, cli: Callable[..., subprocess.CompletedProcess], api_url: str,
               course_file: Path, students: list[tuple[str, str]],
               instructor: str | None = None,
               sections: dict[str, str] | None = None) -> Classroom:
        """Create the course, enrol ``students`` ((login, name), repos seeded with the
        starter, in ``sections`` login -> section if given) and an instructor (new:
        ``<slug>-instructor`` by default); tokens are kept
        to act as them.  ``cli(*args)`` runs
        ``autograder ARGS`` where the service runs, and must see ``course_file``'s folder
        at the same path (the roster CSV is written there)."""
        config = yaml.safe_load(Path(course_file).read_text())
        slug = config["slug"]
        instructor = instructor or f"{slug}-instructor"
        # extensions and excusals may name only enrolled students: the course is created
        # without them, and those of ``students`` applied by `course update` once enrolled
        logins = {login for login, _ in students}
        student_rules = {key: [rule for rule in config.pop(key, None) or []
                               if rule["student"] in logins] for key in ("extensions", "excused")}
        first = Path(course_file).with_name(f"{slug}-without-student-rules.yaml")
        first.write_text(yaml.safe_dump(config, sort_keys=False))
        cli("course", "create", str(first))
        roster = Path(course_file).parent / f"{slug}-roster.csv"
        with roster.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["name", "email", "student_id", "sis_id", "section"])
            writer.writerows([name, f"{login}@example.edu", login, f"SIS-{login}",
                              (sections or {}).get(login, "")] for login, name in students)
        tokens = _tokens(cli("roster", "import", slug, str(roster)).stdout)
        staff = _tokens(cli("staff", "add", slug, instructor, "--name", "Demo Instructor",
                                  "--role", "instructor").stdout)
        if any(student_rules.values()):
            final = Path(course_file).with_name(f"{slug}-enrolled.yaml")
            final.write_text(yaml.safe_dump({**config, **student_rules}, sort_keys=False))
            cli("course", "update", str(final), "--by", instructor,
                "--reason", "extensions and excusals of enrolled students")
        return cls(api_url, slug, (instructor, staff[instructor]), tokens)

    # -- the results API, as the instructor --------------------------------------------------
    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(method, f"{self.api_url}/api/v1{path}",
                                    auth=self.instructor, timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def submissions(self) -> list[dict]:
        items, page = [], 1
        while True:
            body = self.api("GET", f"/courses/{self.slug}/submissions",
                            params={"page": page, "per_page": 200}).json()
            items += body["items"]
            if len(items) >= body["total"] or not body["items"]:
                return items
            page += 1

    def submission(self, submission_id: int) -> dict:
        return self.api("GET", f"/submissions/{submission_id}").json()

    def gradebook(self) -> dict:
        return self.api("GET", f"/courses/{self.slug}/gradebook").json()

    def canvas_csv(self) -> str:
        return self.api("GET", f"/courses/{self.slug}/export",
                        params={"format": "canvas"}).text

    def wait_finished(self, ids: set[int], timeout: float,
                      progress: Callable[[Counter, float], None] | None = None
                      ) -> dict[int, dict]:
        """Poll until every submission in ``ids`` is graded or failed; returns them by id.
        ``progress`` gets the status counts and the elapsed seconds at each poll."""
        started = time.monotonic()
        while True:
            current = {s["id"]: s for s in self.submissions() if s["id"] in ids}
            done = {i: s for i, s in current.items() if s["status"] in FINISHED}
            counts = Counter(s["status"] for s in current.values())
            if progress:
                progress(counts, time.monotonic() - started)
            if len(done) == len(ids):
                return done
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"after {timeout:.0f} s: {dict(counts)}; waiting for "
                                   f"{sorted(ids - set(done))}")
            time.sleep(1.0)
