"""The gradebook side of parallel grading: snapshots out, one learner's results in, one writer.

A worker grades one learner with the real `nbgrader autograde`, into a private SQLite copy of
the part of the gradebook that this needs, so that nothing but the parent process ever writes
to the course's gradebook (SQLite by default; PostgreSQL for several graders):

    base = structure(db_url, "lesson5")          # the assignment: notebooks, cells (bytes of a SQLite file)
    rows = learner_rows(db_url, "lesson5", sid)  # that learner's rows as they stand (student, submission...)
    ... the worker: restore(path, base, rows); nbgrader autograde; results(path_url, "lesson5", sid) ...
    merge(db_url, "lesson5", sid, results)       # one transaction: all of that learner's results, or none

The merge writes exactly what `nbgrader autograde` writes for a learner (the student, the
submission's timestamp, each submitted notebook's late penalty, each grade's `auto_score` and
`needs_manual_grade`, each comment's `auto_comment`) and leaves what graders wrote by hand
(manual scores, extra credit, manual comments, extensions) as it is. Because the snapshot holds
the learner's own rows as they were (manual scores, extension), nbgrader's rules that depend on
them (a regraded cell with a manual score needs review; the late penalty) run as in a serial run.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from nbgrader import api
from sqlalchemy.orm import Session

STRUCTURE = ("assignment", "notebook", "base_cell", "grade_cells", "solution_cells", "task_cells", "source_cell")
LEARNER = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")
RETRIES = 5  # merges retried on a conflict with another writer (two graders creating the same learner at once)


class GradebookError(RuntimeError):
    """The gradebook does not hold what grading needs (no such assignment), or a merge cannot apply."""


def engine(db_url: str) -> sa.Engine:
    """An engine for `db_url` that waits for other writers instead of failing at once (SQLite's lock)."""
    if db_url.startswith("sqlite"):
        return sa.create_engine(db_url, connect_args={"timeout": 120}, future=True)
    return sa.create_engine(db_url, future=True, pool_pre_ping=True)


def _table(name: str) -> sa.Table:
    return api.Base.metadata.tables[name]


def _select(conn, name: str, where) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(sa.select(_table(name)).where(where))]


def _structure_rows(conn, assignment: str) -> dict[str, list[dict]]:
    t = api.Base.metadata.tables
    rows = {"assignment": _select(conn, "assignment", t["assignment"].c.name == assignment)}
    if not rows["assignment"]:
        raise GradebookError(f"the gradebook has no assignment {assignment!r}: run `nbgrader generate_assignment "
                             f"{assignment}` (or `workbook release`) first")
    aid = rows["assignment"][0]["id"]
    rows["course"] = _select(conn, "course", t["course"].c.id == rows["assignment"][0]["course_id"])
    rows["notebook"] = _select(conn, "notebook", t["notebook"].c.assignment_id == aid)
    nb_ids = [r["id"] for r in rows["notebook"]]
    rows["base_cell"] = _select(conn, "base_cell", t["base_cell"].c.notebook_id.in_(nb_ids))
    cell_ids = [r["id"] for r in rows["base_cell"]]
    for name in ("grade_cells", "solution_cells", "task_cells"):
        rows[name] = _select(conn, name, t[name].c.id.in_(cell_ids))
    rows["source_cell"] = _select(conn, "source_cell", t["source_cell"].c.notebook_id.in_(nb_ids))
    return rows


def _insert(conn, rows: dict[str, list[dict]]) -> None:
    for table in api.Base.metadata.sorted_tables:  # parents before children
        if rows.get(table.name):
            conn.execute(table.insert(), rows[table.name])


def structure(db_url: str, assignment: str, course_id: str = "default_course") -> bytes:
    """The bytes of a new SQLite gradebook holding `assignment` as the course's gradebook has it, and nothing else."""
    src = engine(db_url)
    try:
        with src.connect() as conn:
            if "assignment" not in sa.inspect(conn).get_table_names():
                raise GradebookError(f"the gradebook {redacted(db_url)} is empty: run `nbgrader generate_assignment "
                                     f"{assignment}` (or `workbook release`) with it first")
            rows = _structure_rows(conn, assignment)
            rows["alembic_version"] = [r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]
    except sa.exc.OperationalError as exc:
        raise GradebookError(f"cannot read the gradebook {redacted(db_url)}: {exc.orig or exc}") from exc
    finally:
        src.dispose()
    with tempfile.TemporaryDirectory(prefix="workbook-snapshot-") as tmp:
        path = Path(tmp) / "gradebook.db"
        dst = sa.create_engine(f"sqlite:///{path}", future=True)
        try:
            api.Base.metadata.create_all(bind=dst)  # the schema as nbgrader makes it, stamped with the same version
            with dst.begin() as conn:
                conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
                for version in rows.pop("alembic_version"):
                    conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
                if not rows["course"]:
                    rows["course"] = [{"id": course_id}]
                _insert(conn, rows)
        finally:
            dst.dispose()
        return path.read_bytes()


def learner_rows(db_url: str, assignment: str, student: str, conn=None) -> dict[str, list[dict]]:
    """The learner's own rows (student, submission, submitted notebooks, grades, comments) for `assignment`."""
    if conn is None:
        eng = engine(db_url)
        try:
            with eng.connect() as c:
                return learner_rows(db_url, assignment, student, c)
        finally:
            eng.dispose()
    t = api.Base.metadata.tables
    rows = {"student": _select(conn, "student", t["student"].c.id == student)}
    aid = conn.execute(sa.select(t["assignment"].c.id).where(t["assignment"].c.name == assignment)).scalar()
    subs = _select(conn, "submitted_assignment", sa.and_(t["submitted_assignment"].c.assignment_id == aid,
                                                         t["submitted_assignment"].c.student_id == student))
    rows["submitted_assignment"] = subs
    rows["submitted_notebook"] = _select(conn, "submitted_notebook",
                                         t["submitted_notebook"].c.assignment_id.in_([s["id"] for s in subs]))
    nb_ids = [r["id"] for r in rows["submitted_notebook"]]
    rows["grade"] = _select(conn, "grade", t["grade"].c.notebook_id.in_(nb_ids))
    rows["comment"] = _select(conn, "comment", t["comment"].c.notebook_id.in_(nb_ids))
    return rows


def restore(path: Path, base: bytes, rows: dict[str, list[dict]]) -> str:
    """Write the snapshot (`base` plus the learner's `rows`) as a SQLite gradebook at `path`; its URL."""
    path.write_bytes(base)
    url = f"sqlite:///{path}"
    eng = sa.create_engine(url, future=True)
    try:
        with eng.begin() as conn:
            _insert(conn, rows)
    finally:
        eng.dispose()
    return url


def results(db_url: str, assignment: str, student: str) -> dict:
    """What `nbgrader autograde` wrote for one learner, by notebook and cell name (plain data)."""
    eng = sa.create_engine(db_url, future=True)
    try:
        with Session(eng) as s:
            sub = _submission(s, assignment, student)
            if sub is None:
                raise GradebookError(f"nbgrader wrote no submission of {assignment} for {student}")
            out = {"timestamp": sub.timestamp, "notebooks": [], "grades": [], "comments": []}
            for nb in sub.notebooks:
                name = nb.notebook.name
                out["notebooks"].append({"notebook": name, "late_submission_penalty": nb.late_submission_penalty})
                out["grades"] += [{"notebook": name, "cell": g.cell.name, "auto_score": g.auto_score,
                                   "needs_manual_grade": bool(g.needs_manual_grade)} for g in nb.grades]
                out["comments"] += [{"notebook": name, "cell": c.cell.name, "auto_comment": c.auto_comment}
                                    for c in nb.comments]
            return out
    finally:
        eng.dispose()


def _submission(s: Session, assignment: str, student: str):
    return (s.query(api.SubmittedAssignment)
            .join(api.Assignment, api.Assignment.id == api.SubmittedAssignment.assignment_id)
            .filter(api.Assignment.name == assignment, api.SubmittedAssignment.student_id == student)
            .one_or_none())


def _new_submission(s: Session, assignment, student) -> api.SubmittedAssignment:
    """A submission with every notebook, grade and comment of the assignment, as nbgrader's add_submission makes."""
    with s.no_autoflush:
        sub = api.SubmittedAssignment(assignment=assignment, student=student)
        for notebook in assignment.notebooks:
            nb = api.SubmittedNotebook(notebook=notebook)
            sub.notebooks.append(nb)
            for cell in [*notebook.grade_cells, *notebook.task_cells]:
                nb.grades.append(api.Grade(cell=cell))
            for cell in [*notebook.solution_cells, *notebook.task_cells]:
                nb.comments.append(api.Comment(cell=cell))
        s.add(sub)  # cascades to its notebooks, grades and comments
    s.flush()
    return sub


def _apply(s: Session, assignment_name: str, student_id: str, res: dict) -> None:
    assignment = s.query(api.Assignment).filter(api.Assignment.name == assignment_name).one_or_none()
    if assignment is None:
        raise GradebookError(f"the gradebook has no assignment {assignment_name!r}")
    student = s.get(api.Student, student_id)
    if student is None:
        student = api.Student(id=student_id)
        s.add(student)
        s.flush()
    sub = _submission(s, assignment_name, student_id) or _new_submission(s, assignment, student)
    if res["timestamp"] is not None:
        sub.timestamp = res["timestamp"]
    notebooks = {nb.notebook.name: nb for nb in sub.notebooks}
    grades = {(nb, g.cell.name): g for nb, snb in notebooks.items() for g in snb.grades}
    comments = {(nb, c.cell.name): c for nb, snb in notebooks.items() for c in snb.comments}
    want = ({r["notebook"] for r in res["notebooks"]}, {(r["notebook"], r["cell"]) for r in res["grades"]},
            {(r["notebook"], r["cell"]) for r in res["comments"]})
    if want != (set(notebooks), set(grades), set(comments)):
        raise GradebookError(f"the assignment {assignment_name!r} changed in the gradebook while {student_id} was "
                             "graded (notebooks or graded cells differ): grade this learner again")
    for r in res["notebooks"]:
        notebooks[r["notebook"]].late_submission_penalty = r["late_submission_penalty"]
    for r in res["grades"]:
        g = grades[r["notebook"], r["cell"]]
        g.auto_score, g.needs_manual_grade = r["auto_score"], r["needs_manual_grade"]
    for r in res["comments"]:
        comments[r["notebook"], r["cell"]].auto_comment = r["auto_comment"]


def merge(db_url: str, assignment: str, student: str, res: dict, eng: sa.Engine | None = None) -> None:
    """Write one learner's results (`results(...)` of their graded snapshot) into the gradebook, in one transaction.

    Retried when another writer got in the way (SQLite busy, a PostgreSQL conflict on a new learner).
    """
    own = eng is None
    eng = eng or engine(db_url)
    try:
        for attempt in range(RETRIES):
            try:
                with Session(eng, autoflush=True) as s, s.begin():
                    _apply(s, assignment, student, res)
                return
            except (sa.exc.IntegrityError, sa.exc.OperationalError):
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.2 * 2 ** attempt)
    finally:
        if own:
            eng.dispose()


def scores(db_url: str, assignment: str, students=None, eng: sa.Engine | None = None) -> dict[str, dict]:
    """learner → {score, max_score, late_penalty, needs_manual_grade (cells)} as the gradebook has them now."""
    own = eng is None
    eng = eng or engine(db_url)
    out = {}
    try:
        with Session(eng) as s:
            q = (s.query(api.SubmittedAssignment)
                 .join(api.Assignment, api.Assignment.id == api.SubmittedAssignment.assignment_id)
                 .filter(api.Assignment.name == assignment))
            if students is not None:
                q = q.filter(api.SubmittedAssignment.student_id.in_(list(students)))
            for sub in q:
                manual = sum(bool(g.needs_manual_grade) for nb in sub.notebooks for g in nb.grades)
                out[sub.student_id] = {"score": sub.score, "max_score": sub.max_score,
                                       "late_penalty": sub.late_submission_penalty or 0.0, "needs_manual_grade": manual}
    finally:
        if own:
            eng.dispose()
    return out


def rows(db_url: str, assignment: str) -> list[dict]:
    """Every (learner, notebook, cell) of `assignment` with what autograde wrote: for comparing two gradebooks."""
    eng = engine(db_url)
    out = []
    try:
        with Session(eng) as s:
            subs = (s.query(api.SubmittedAssignment)
                    .join(api.Assignment, api.Assignment.id == api.SubmittedAssignment.assignment_id)
                    .filter(api.Assignment.name == assignment))
            for sub in subs:
                for nb in sub.notebooks:
                    base = {"learner": sub.student_id, "timestamp": sub.timestamp, "notebook": nb.notebook.name}
                    out.append({**base, "cell": None, "kind": "notebook",
                                "late_submission_penalty": nb.late_submission_penalty})
                    out += [{**base, "cell": g.cell.name, "kind": "grade", "auto_score": g.auto_score,
                             "manual_score": g.manual_score, "needs_manual_grade": bool(g.needs_manual_grade)}
                            for g in nb.grades]
                    out += [{**base, "cell": c.cell.name, "kind": "comment", "auto_comment": c.auto_comment}
                            for c in nb.comments]
    finally:
        eng.dispose()
    return sorted(out, key=lambda r: (r["learner"], r["notebook"], r["kind"], r["cell"] or ""))


def redacted(db_url: str) -> str:
    """`db_url` without its password, for messages."""
    try:
        return sa.engine.make_url(db_url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: say nothing of it
        return "<gradebook>"
