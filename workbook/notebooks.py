"""Find, load and validate a learner's workbook notebooks, with a message saying what to do when one is wrong.

Where the untouched (release) notebooks are, `RELEASE_DIR`:
- in the course repository: `release/lesson5/`;
- in an installed learner kit: the copy inside the package (`workbook/release/lesson5/`).

Which notebooks `workbook check` takes by default, `default_notebooks()`: those in the current
folder, else in its `lesson5/` (where nbgrader's Assignment List fetches them), else, in the
repository, `release/lesson5/`.

Nothing here runs a notebook (`workbook.run` does) or imports nbgrader (seconds to import).
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

# jsonschema (through nbformat) imports the optional `rfc3987_syntax`, which builds a large
# grammar at import time (2-7 s; python-jsonschema/jsonschema#1392). nbformat's schema never
# uses the "iri" format it serves, so a learner's check need not wait for it.
if "rfc3987_syntax" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # `import` now raises ImportError

import nbformat  # noqa: E402

ASSIGNMENT = "lesson5"  # nbgrader's assignment id, and the course id
PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parent  # the repository, when workbook/ is a checkout (in a kit: site-packages)
_PACKAGED = PACKAGE / "release" / ASSIGNMENT  # written by `make kit` into the kit's wheel only
RELEASE_DIR = _PACKAGED if _PACKAGED.is_dir() else REPO / "release" / ASSIGNMENT
IN_KIT = RELEASE_DIR == _PACKAGED
DEFAULT_TIMEOUT = 60  # seconds per cell, as the course's c.Execute.timeout


# --- cells ---------------------------------------------------------------------------------

def meta(cell) -> dict:
    """A cell's nbgrader metadata ({} when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def graded_cells(nb) -> list:
    """The graded cells (nbgrader ``grade: true``), in notebook order."""
    return [c for c in nb.cells if meta(c).get("grade") and meta(c).get("grade_id")]


def cell_ids(nb, graded_only: bool) -> list[str]:
    """grade_ids of the graded code cells, and unless `graded_only` of the other locked ones too."""
    return [meta(c)["grade_id"] for c in nb.cells
            if c.cell_type == "code" and meta(c).get("grade_id")
            and (meta(c).get("grade") or (not graded_only and meta(c).get("locked")))]


def graded_ids(nb) -> set[str]:
    """grade_ids of the graded cells: a workbook notebook's own names (`one_hot_values`), unlike `setup`."""
    return {meta(c)["grade_id"] for c in graded_cells(nb)} if nb is not None else set()


def is_locked(cell) -> bool:
    """As nbgrader's `is_locked`: graded cells are locked, answer cells never."""
    m = meta(cell)
    return False if m.get("solution", False) else True if m.get("grade", False) else m.get("locked", False)


def checksum(cell) -> str:
    """nbgrader's checksum of a cell (`nbgrader.utils.compute_checksum`), without importing nbgrader."""
    m = meta(cell)
    md5 = hashlib.md5()
    for part in (cell.source, cell.cell_type, str(m.get("grade", False)), str(m.get("solution", False)),
                 str(is_locked(cell)), m["grade_id"]):
        md5.update(part.encode("utf-8"))
    if m.get("grade", False):
        md5.update(str(float(m["points"])).encode("utf-8"))
    return md5.hexdigest()


def edited(nb) -> list[str]:
    """grade_ids of locked or graded cells whose source no longer matches their nbgrader checksum."""
    return [meta(c)["grade_id"] for c in nb.cells
            if meta(c).get("checksum") and is_locked(c) and meta(c).get("grade_id") and checksum(c) != meta(c)["checksum"]]


def fill_answers(release_nb, source_nb):
    """The release notebook with each answer cell's source taken from `source_nb` (matched by grade_id).

    What a learner who wrote those answers would have: the visible tests only. Instructors and
    the project's tests use it with the course's source notebooks.
    """
    answers = {meta(c)["grade_id"]: c.source for c in source_nb.cells
               if meta(c).get("solution") and meta(c).get("grade_id")}
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        if meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


# --- where notebooks are --------------------------------------------------------------------

def show(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def released() -> list[Path]:
    """The untouched notebooks, in order."""
    return sorted(RELEASE_DIR.glob("*.ipynb"))


def release_copy(path: Path) -> Path | None:
    """The untouched notebook of the same name, unless `path` is that notebook."""
    release = RELEASE_DIR / Path(path).name
    try:
        if release.is_file() and release.resolve() != Path(path).resolve():
            return release
    except OSError:
        pass
    return None


def restore_hint(path: Path) -> str:
    """How to get an untouched copy of `path` back."""
    release = RELEASE_DIR / Path(path).name
    if release.is_file():
        return (f"get a fresh copy of {show(release)} (or fetch the assignment again in the Assignment List "
                "after moving your folder aside), then copy your answers into it")
    return "get a fresh copy of the notebook (fetch the assignment again), then copy your answers into it"


def default_folder() -> Path | None:
    """The folder `workbook check` looks in by default (see the module's docstring), or None."""
    cwd = Path.cwd()
    for folder in (cwd, cwd / ASSIGNMENT):
        if folder.is_dir() and any(folder.glob("*.ipynb")):
            return folder
    return RELEASE_DIR if not IN_KIT and RELEASE_DIR.is_dir() else None


def default_notebooks() -> list[Path]:
    """Every notebook of the default folder, in order ([] when there is none)."""
    folder = default_folder()
    return sorted(folder.glob("*.ipynb")) if folder else []


def expand(paths) -> list[Path]:
    """Notebooks named, with each folder replaced by its notebooks."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir() and any(p.glob("*.ipynb")):
            out += sorted(p.glob("*.ipynb"))
        else:
            out.append(p)
    return out


def folder_problems(folder: Path) -> dict[str, str]:
    """Workbook notebooks that an assignment folder lacks: file name → what to do.

    Only for a folder that is one (it holds at least one of the workbook's notebooks);
    nbgrader collects notebooks by name, so a missing or renamed one is not graded.
    """
    folder = Path(folder)
    names = {p.name for p in folder.glob("*.ipynb")}
    expected = [p for p in released()]
    if folder.resolve() == RELEASE_DIR.resolve() or not names & {p.name for p in expected}:
        return {}
    return {p.name: (f"{p.name} is missing from {show(folder)}: the autograder looks for each notebook by its "
                     f"name, so it would get no marks. If you renamed it, rename it back; otherwise copy "
                     f"{show(p)} into {show(folder)} (or fetch the assignment again).")
            for p in expected if p.name not in names}


# --- reading one notebook ---------------------------------------------------------------------

def _foreign(path: Path, nb) -> tuple[str, str]:
    """(problem, note) when `nb`'s questions are not those of the workbook notebook its name says."""
    ids = graded_ids(nb)
    same = RELEASE_DIR / path.name
    if same.is_file() and ids & graded_ids(read(same)):
        return "", ""
    for other in released():
        if other.name != path.name and ids & graded_ids(read(other)):
            if (path.parent / other.name).is_file():
                return (f"{show(path)} is a copy of {other.name}: the autograder grades {other.name} only, so put "
                        f"your answers there (and check that one).", "")
            return (f"{show(path)} is the workbook's {other.name} under another name: the autograder looks for "
                    f"each notebook by its name, so rename it back to {other.name}.", "")
    if same.is_file():
        return (f"{show(path)} has the name of a workbook notebook but none of its questions: it probably comes "
                f"from another course (or another version of this one). Restore this one: {restore_hint(path)}.", "")
    if released():
        return "", (f"{path.name} is not one of this workbook's notebooks ({ASSIGNMENT}; another course?): "
                    "checked as it is.")
    return "", ""


def read(path: Path):
    """The notebook at `path`, or None when it cannot be read (no message: see `load`)."""
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception:
        return None


def load(path: Path):
    """(notebook, "") or (None, a message saying what is wrong and what to do)."""
    path = Path(path)
    if path.is_dir():
        return None, f"{show(path)} is a folder, not a notebook: name the .ipynb files in it."
    if not path.exists():
        hint = (f" It is one of the workbook's notebooks: {restore_hint(path)}."
                if (RELEASE_DIR / path.name).is_file() else " Check the name (notebooks end in .ipynb).")
        return None, f"{show(path)} does not exist.{hint}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{show(path)} cannot be read ({type(exc).__name__}: {exc})."
    if not text.strip():
        return None, (f"{show(path)} is empty: it may have been cut off while saving. "
                      f"Restore it: {restore_hint(path)}.")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, (f"{show(path)} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
                      "it may have been cut off while saving, or edited as text. Open it in JupyterLab's "
                      "text editor (right-click > Open With > Editor) to repair it, or restore it: "
                      f"{restore_hint(path)}.")
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, (f"{show(path)} is JSON but not a Jupyter notebook (no list of cells). "
                      f"Restore it: {restore_hint(path)}.")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # an old or damaged notebook format
        first = str(exc).splitlines()[0] if str(exc) else ""
        return None, (f"{show(path)} is not a notebook nbformat can read ({type(exc).__name__}: {first}). "
                      f"Restore it: {restore_hint(path)}.")
    if not graded_cells(nb):
        lost = (" It has the name of a workbook notebook, so its nbgrader cell metadata was probably lost "
                "(copying cells into a new notebook, or a tool that strips metadata, does that)."
                if (RELEASE_DIR / path.name).is_file() else "")
        where = f" Check a notebook from {show(RELEASE_DIR)}, or" if released() else ""
        return None, (f"{show(path)} is not a workbook notebook: it has no graded test cells "
                      f"(cells with nbgrader metadata).{lost}{where} restore this one: {restore_hint(path)}.")
    problem, _ = _foreign(path, nb)
    return (None, problem) if problem else (nb, "")


def inspect(path: Path, nb) -> tuple[list[str], list[str], dict[str, float], str]:
    """What the file of a loaded notebook shows before it runs, against its untouched copy.

    Returns (missing test cells, notes, points of every question, a problem with what to do, or "").
    """
    release = release_copy(path)
    points = {meta(c)["grade_id"]: float(meta(c).get("points", 0) or 0) for c in graded_cells(nb)}
    missing: list[str] = []
    notes: list[str] = [note for note in [_foreign(path, nb)[1]] if note]
    problems: list[str] = []
    ours = read(release) if release is not None else None
    if ours is not None:
        points.update({meta(c)["grade_id"]: float(meta(c).get("points", 0) or 0) for c in graded_cells(ours)})
        have = set(cell_ids(nb, graded_only=False))
        missing = [gid for gid in cell_ids(ours, graded_only=True) if gid not in have]
        lost = [gid for gid in cell_ids(ours, graded_only=False) if gid not in have and gid not in missing]
        if lost:
            s, them = ("s", "them") if len(lost) > 1 else ("", "it")
            notes.append(f"locked cell{s} {', '.join(f'`{g}`' for g in lost)} deleted: the cells after {them} may "
                         f"fail. Copy {them} back from {show(release)}.")
    if missing:
        s, are, these = ("s", "are", "these questions") if len(missing) > 1 else ("", "is", "this question")
        problems.append(f"test cell{s} {', '.join(f'`{g}`' for g in missing)} {are} missing, so {these} cannot be "
                        f"checked. The autograder puts deleted test cells back, but check your work first: copy the "
                        f"cell{s} back from {show(release)} (or Edit > Undo Delete Cell in JupyterLab).")
    changed = edited(nb)
    if changed:  # what passes here may not pass the original tests, which the autograder runs
        s, were = ("s", "were") if len(changed) > 1 else ("", "was")
        problems.append(f"test or locked cell{s} {', '.join(f'`{g}`' for g in changed)} {were} edited: the "
                        "autograder runs the original tests, so these results may differ from your grade. Undo "
                        f"the edits, or copy the original cells back from {show(release or RELEASE_DIR / path.name)}.")
    return missing, notes, points, "; ".join(problems)
