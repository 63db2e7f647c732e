"""Submissions to regrade after a rubric change, on the seeded database."""
from autograder.models import Grade
from autograder.rubric.stale import stale_submissions


def test_only_submissions_without_a_grade_under_the_current_version(session, course):
    versions = {}
    for g in session.query(Grade).filter(Grade.module == "02_tensor"):
        versions.setdefault(g.submission_id, set()).add(g.rubric_version)
    s1, s3 = sorted(versions, key=lambda sid: "2+new" in versions[sid])
    assert (versions[s1], versions[s3]) == ({"1+a"}, {"1+old", "2+new"})
    assert stale_submissions(session, course.id, "02_tensor", "2+new") == [s1]
    assert stale_submissions(session, course.id, "02_tensor", "3+next") == sorted([s1, s3])
    assert stale_submissions(session, course.id, "01_setup", "1+a") == []
    assert stale_submissions(session, course.id + 1, "02_tensor", "3+next") == []
