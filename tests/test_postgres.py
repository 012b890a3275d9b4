"""A real PostgreSQL gradebook (WORKBOOK_DB_URL=postgresql+psycopg://...) for several graders at once.

The server is Debian's `postgresql`, started in a temporary folder on a local port
(`servers.postgres`). nbgrader releases the assignment into it; two graders run `workbook
autograde` at the same moment on different learners, each the one writer of its own results.
"""
import os
import subprocess
import sys

import pytest

from autograder import course
from autograder.course import gradebook as gbk
from autograder.course import parallel
from servers import learners, postgres, released_course, submit  # noqa: F401  (postgres: a session fixture)

pytestmark = pytest.mark.slow
A = course.ASSIGNMENT


def test_nbgrader_releases_into_postgres_and_two_graders_grade_at_once(postgres, tmp_path):  # noqa: F811
    root = released_course(tmp_path / "course", db_url=postgres)
    klass = learners(root)
    graders = [["perfect", "forbidden"], ["mistake"]]
    for group in graders:
        for s in group:
            submit(root, s, klass[s][0], klass[s][1])
    env = dict(os.environ, WORKBOOK_DB_URL=postgres)
    procs = [subprocess.Popen([sys.executable, "-m", "autograder.course.parallel", "--root", str(root), "--jobs", "1",
                               "--no-progress", "--student", *group], cwd=course.REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for group in graders]
    outs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(outs)
    assert "2 graded, 0 failed" in outs[0] and "1 graded, 0 failed" in outs[1]

    lost = {}
    for r in course.grades(postgres):
        lost.setdefault(r["learner"], set())
        if not r["passed"]:
            lost[r["learner"]].add(r["cell"])
    assert lost == {s: klass[s][2] for group in graders for s in group}
    rows = gbk.rows(postgres, A)
    assert any(r["learner"] == "forbidden" and r.get("needs_manual_grade") for r in rows)

    csv = course.export(root, tmp_path / "grades.csv", db_url=postgres).read_text()
    assert "perfect" in csv and "mistake" in csv
    # a re-run finds everything graded, in PostgreSQL as in SQLite
    report = parallel.autograde_class(root, db_url=postgres, progress=False)
    assert {o.status for o in report.outcomes} == {"skipped"}
