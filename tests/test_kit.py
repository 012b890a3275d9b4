"""The learner kit (`make kit`): answer-free, and enough on its own.

- the learner side never imports the instructor side or the answers (import graph, statically);
- `workbook` lists what is installed: here the instructor's commands too, in the kit only the learner's;
- the kit holds no reference code: no module but `workbook` in the wheel, no solution or hidden-test
  marker, and no function anywhere in it (the wheel's files, the notebooks' code cells) whose
  normalised AST is that of a function or method of `solutions/` (and the check finds one planted);
- the kit works alone, in a fresh environment holding only it and PyTorch: `import solutions` and
  `import autograder` fail there; every release notebook runs top to bottom with the stubs and
  reports "not answered yet"; with the reference answers pasted into its answer cells it passes
  its visible tests; `workbook check` says what to do about a renamed, missing or foreign notebook;
  JupyterLab there has nbgrader's learner parts only.
"""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

import kit_env
from autograder import course
from autograder.course import kit

REPO = kit.REPO
RELEASE = REPO / "release" / kit.ASSIGNMENT


# --- fast: the import graph, the command, the leak check itself ----------------------------------------

def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def test_the_learner_side_never_imports_the_instructor_side():
    files = sorted((REPO / "workbook").rglob("*.py"))
    assert len(files) > 8
    bad = {str(p.relative_to(REPO)): sorted(_imports(p) & {"autograder", "solutions"}) for p in files}
    assert not {k: v for k, v in bad.items() if v}


def test_learner_commands_import_nothing_of_the_course():
    code = ("import sys\nfrom workbook import cli, check, lab, learner_tests, notebooks, run\n"
            "cli.main(['--help'])\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('autograder', 'solutions')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.splitlines()[-1] == "[]", done.stdout


def test_workbook_lists_the_installed_commands():
    done = subprocess.run([str(Path(sys.executable).parent / "workbook"), "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")}
    assert {"check", "lab", "data", "demo", "release", "kit"} <= listed, done.stdout
    assert "Write the learner kit" in done.stdout  # each command's own docstring
    unknown = subprocess.run([str(Path(sys.executable).parent / "workbook"), "grade-everything"],
                             capture_output=True, text=True)
    assert unknown.returncode == 2 and "no command 'grade-everything'" in unknown.stderr


def _fake_kit(root: Path, notebook_code: str = "x = 1", wheel_files: dict | None = None) -> Path:
    (root / kit.ASSIGNMENT).mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# hi"),
                                         nbformat.v4.new_code_cell("%matplotlib inline\n" + notebook_code)])
    nbformat.write(nb, str(root / kit.ASSIGNMENT / "01_embeddings.ipynb"))
    with zipfile.ZipFile(root / kit.wheel_name("0.0.0"), "w") as zf:
        for name, text in (wheel_files or {"workbook/__init__.py": "x = 1\n"}).items():
            zf.writestr(name, text)
    return root


def test_the_leak_check_finds_reference_code_however_named(tmp_path):
    references = kit.reference_functions()
    assert {"embeddings.one_hot", "optimizers.Adam.step", "collab_bias.DotProductBias.forward"} <= set(
        references.values())
    source = (REPO / "solutions" / "embeddings.py").read_text()
    one_hot = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == "one_hot")
    renamed = ast.unparse(one_hot).replace("def one_hot(", "def my_helper(", 1)
    assert kit.leaks(_fake_kit(tmp_path / "clean"), references) == []
    found = kit.leaks(_fake_kit(tmp_path / "cell", notebook_code=renamed), references)
    assert len(found) == 1 and "`my_helper`" in found[0] and "solutions.embeddings.one_hot" in found[0]
    found = kit.leaks(_fake_kit(tmp_path / "wheel", wheel_files={
        "workbook/helpers.py": renamed, "solutions/__init__.py": "", "workbook/x.py": "# ### BEGIN SOLUTION\n"}),
        references)
    assert any("solutions.embeddings.one_hot" in f for f in found)
    assert any("more than the workbook package: solutions" in f for f in found)
    assert any("BEGIN SOLUTION" in f for f in found)


def test_a_kit_with_reference_code_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(kit, "leaks", lambda root, references=None: ["planted"])
    with pytest.raises(kit.KitError, match="planted"):
        kit.build(tmp_path / "kit")
    assert not (tmp_path / "kit").exists()


# --- the kit and its environment (slow: built once per session) ------------------------------------------

@pytest.fixture(scope="session")
def learner_kit(tmp_path_factory):
    return kit_env.kit_and_env(tmp_path_factory)


def _run(env, *cmd, cwd: Path, home: Path, check=False, timeout=900):
    return subprocess.run([str(env.bin / cmd[0]), *cmd[1:]], cwd=cwd, env=kit_env.learner_environ(home),
                          capture_output=True, text=True, timeout=timeout, check=check)


@pytest.mark.slow
def test_the_kit_holds_the_wheel_the_notebooks_and_a_readme(learner_kit):
    built, _ = learner_kit
    assert [p.name for p in built.notebooks] == [p.name for p in sorted(RELEASE.glob("*.ipynb"))]
    assert all(p.read_bytes() == (RELEASE / p.name).read_bytes() for p in built.notebooks)
    readme = built.readme.read_text()
    assert readme.index("torch") < readme.index(f"pip install {built.wheel.name}")  # PyTorch first
    assert "CUDA" in readme and "workbook lab" in readme and "Assignment List" in readme and "workbook check" in readme
    assert "$" + "wheel" not in readme and "c.Exchange.root" in (built.root / "nbgrader_config.py").read_text()
    with zipfile.ZipFile(built.wheel) as zf:
        names = zf.namelist()
        meta = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = next(zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert {n.split("/")[0] for n in names} == {"workbook", f"{kit.DIST_NAME.replace('-', '_')}-0.1.0.dist-info",
                                               f"{kit.DIST_NAME.replace('-', '_')}-0.1.0.data"}
    requires = {line.split(": ", 1)[1].split(">")[0].split("<")[0].split("=")[0].strip()
                for line in meta.splitlines() if line.startswith("Requires-Dist:")}
    assert requires == {"torch", "numpy", "pandas", "matplotlib", "tqdm", "jupyterlab", "nbgrader", "nbclient",
                        "nbformat", "ipykernel", "mlxtend"}
    assert "[workbook.commands]" in entry_points and "demo" not in entry_points and "check =" in entry_points


@pytest.mark.slow
def test_the_kit_is_answer_free(learner_kit):
    built, _ = learner_kit
    assert kit.leaks(built.root) == []
    sources = kit.kit_sources(built.root)
    cells = [name for name in sources if "#cell" in name]
    assert len(cells) > 50 and any(name.startswith(built.wheel.name) for name in cells)  # both copies looked at
    assert not any(part in name for name in sources for part in ("solutions/", "autograder/", "source/"))


@pytest.mark.slow
def test_the_kit_environment_holds_nothing_of_the_course(learner_kit, tmp_path):
    _, env = learner_kit
    for module in ("solutions", "autograder"):
        done = _run(env, "python", "-c", f"import {module}", cwd=tmp_path, home=tmp_path)
        assert done.returncode == 1 and f"No module named '{module}'" in done.stderr
    help_ = _run(env, "workbook", "--help", cwd=tmp_path, home=tmp_path, check=True).stdout
    assert {line.split()[0] for line in help_.splitlines() if line.startswith("  ")} == {"check", "data", "lab"}
    code = ("import json; from jupyter_core.paths import jupyter_config_path;"
            "from jupyterlab_server.config import get_static_page_config;"
            "from jupyter_server.extension.config import ExtensionConfigManager;"
            "m = ExtensionConfigManager(read_config_path=jupyter_config_path());"
            "print(json.dumps([get_static_page_config()['disabledExtensions'], m.get_jpserver_extensions()]))")
    pages, server = json.loads(_run(env, "python", "-c", code, cwd=tmp_path, home=tmp_path, check=True).stdout)
    assert {k for k, v in pages.items() if v} == {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                                                 "@jupyter/nbgrader:create-assignment"}
    assert server["nbgrader.server_extensions.formgrader"] is False
    assert server["nbgrader.server_extensions.course_list"] is False
    assert server["nbgrader.server_extensions.assignment_list"] is True
    assert server["nbgrader.server_extensions.validate_assignment"] is True


def _check(env, folder: Path, home: Path, *args) -> tuple[int, dict]:
    done = _run(env, "workbook", "check", "--json", *args, cwd=folder, home=home)
    return done.returncode, json.loads(done.stdout)


@pytest.mark.slow
def test_the_kit_notebooks_run_alone_stubs_then_reference_answers(learner_kit, tmp_path):
    built, env = learner_kit
    untouched, answered = tmp_path / "untouched" / kit.ASSIGNMENT, tmp_path / "answered" / kit.ASSIGNMENT
    shutil.copytree(built.root / kit.ASSIGNMENT, untouched)
    answered.mkdir(parents=True)
    answers = course.reference_answers()
    for nb in built.notebooks:
        nbformat.write(course.fill(nb, answers), str(answered / nb.name))
    code, report = _check(env, tmp_path, tmp_path, str(untouched), str(answered), "--jobs=2")  # all at once
    assert code == 1 and len(report["notebooks"]) == 2 * len(built.notebooks)
    by_folder = {"untouched": [], "answered": []}
    for nb in report["notebooks"]:
        by_folder[Path(nb["notebook"]).parts[0]].append(nb)
    statuses = {q["status"] for nb in by_folder["untouched"] for q in nb["questions"]}
    assert statuses == {"not answered yet"}, by_folder["untouched"]
    assert all(nb["loaded"] and not nb["problem"] for nb in report["notebooks"])
    failed = {nb["notebook"]: [q for q in nb["questions"] if q["status"] != "passed"] for nb in by_folder["answered"]}
    assert all(nb["ok"] for nb in by_folder["answered"]), {k: v for k, v in failed.items() if v}
    code, report = _check(env, answered, tmp_path, "--no-run")  # the default: the notebooks of this folder
    assert code == 0 and len(report["notebooks"]) == len(built.notebooks)


@pytest.mark.slow
def test_workbook_check_in_the_kit_says_what_to_do(learner_kit, tmp_path):
    built, env = learner_kit
    folder = tmp_path / kit.ASSIGNMENT
    shutil.copytree(built.root / kit.ASSIGNMENT, folder)
    first, second = built.notebooks[0].name, built.notebooks[1].name
    (folder / first).rename(folder / "my_embeddings.ipynb")                    # renamed
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert True")])
    other.cells[0].metadata["nbgrader"] = {"grade": True, "grade_id": "q1_squares", "points": 1, "locked": True,
                                           "solution": False, "schema_version": 3}
    nbformat.write(other, str(folder / second))                               # another course's, same name
    nb = nbformat.read(str(built.notebooks[2]), 4)
    test_cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    nb.cells.remove(test_cell)
    nbformat.write(nb, str(folder / built.notebooks[2].name))                 # a test cell deleted
    code, report = _check(env, folder, tmp_path, "--no-run")
    problems = {Path(nb["notebook"]).name: nb["problem"] or "" for nb in report["notebooks"]}
    assert code == 1
    assert "under another name" in problems["my_embeddings.ipynb"] and f"rename it back to {first}" in problems[
        "my_embeddings.ipynb"]
    assert f"{first} is missing" in problems[first] and "rename it back" in problems[first]
    assert "another course" in problems[second] and "fresh copy" in problems[second]
    assert f"`{test_cell.metadata.nbgrader.grade_id}` is missing" in problems[built.notebooks[2].name]
    assert "copy the cell back" in problems[built.notebooks[2].name]
    assert "site-packages/workbook/release" in problems[built.notebooks[2].name]  # the kit's untouched copy
