"""Beyond one machine: `workbook autograde --scheduler ADDRESS` on a real Dask cluster, into PostgreSQL.

A `dask scheduler` and two `dask worker` processes on 127.0.0.1 (`servers.dask_scheduler`) grade
the learners as tasks; the workers get each learner's files and a gradebook snapshot as data
(no shared folder is used), and the results come back to this process, the one writer of the
PostgreSQL gradebook.
"""
import pytest

from autograder import course
from autograder.course import parallel
from servers import dask_scheduler, learners, new_database, postgres, released_course, submit  # noqa: F401

pytestmark = pytest.mark.slow


def test_class_graded_on_a_dask_cluster_into_postgres(postgres, dask_scheduler, tmp_path):  # noqa: F811
    from distributed import Client
    db = new_database(postgres, "dask_class")
    root = released_course(tmp_path / "course", db_url=db)
    klass = learners(root)
    names = ["perfect", "mistake", "untouched"]
    for s in names:
        submit(root, s, klass[s][0], klass[s][1])
    with Client(dask_scheduler) as client:
        worker_pids = set(client.run(lambda: __import__("os").getpid()).values())

    report = parallel.autograde_class(root, scheduler=dask_scheduler, db_url=db, progress=False)
    assert report.ok, parallel.table(report)
    assert report.where == dask_scheduler and report.workers == 2
    assert [o.status for o in report.outcomes] == ["graded"] * 3
    assert {o.pid for o in report.outcomes} <= worker_pids, "graded somewhere other than the Dask workers"

    lost = {s: set() for s in names}
    for r in course.grades(db):
        if not r["passed"]:
            lost[r["learner"]].add(r["cell"])
    assert lost == {s: klass[s][2] for s in names}
    for s in names:
        assert list((root / "autograded" / s / course.ASSIGNMENT).glob("*.ipynb")), f"no autograded notebook of {s}"
