"""`make kit`: the learner kit, `dist/kit/` — what learners get instead of this repository.

    dist/kit/lesson5_workbook_kit-<version>-py3-none-any.whl   the `workbook` package, nothing else
    dist/kit/lesson5/*.ipynb                                    the release notebooks
    dist/kit/nbgrader_config.py                                 a template for the learner's ~/.jupyter
    dist/kit/README.md                                          for learners (from kit/README.md)

The wheel is built offline from a staging folder holding a copy of `workbook/`, the release
notebooks (as package data), a generated pyproject.toml registering only the learner's
`workbook` subcommands, and Jupyter configuration installed into the environment
(`etc/jupyter/`): nbgrader's instructor parts switched off, the course id and time limit.

Nothing in the kit may hold reference code: `build` refuses to leave a kit behind when `leaks`
finds any (a function of `solutions/` in the wheel or a notebook, a solution or hidden-test
marker, a module that is not `workbook`'s). `learner_env` installs a kit into a virtual
environment holding only it (and PyTorch), built once and reused while its requirements stay.
"""
from __future__ import annotations

import ast
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "lesson5"
DEFAULT_OUT = REPO / "dist" / "kit"
DEFAULT_VENV = REPO / "build" / "learner-venv"
TEMPLATES = REPO / "kit"
DIST_NAME = "lesson5-workbook-kit"
TORCH = "torch==2.13.0"  # installed first, explicitly: a looser pin pulls a multi-GB CUDA build from PyPI
TIMEOUT = 60  # seconds per cell, as nbgrader_config.py's c.Execute.timeout
LEARNER_COMMANDS = {"check": "workbook.check:check_main", "lab": "workbook.lab:lab_main",
                    "data": "workbook.data:data_main"}
REQUIREMENTS = ["torch>=2.2", "numpy>=1.26", "pandas>=2.1", "matplotlib>=3.8", "tqdm>=4.66",
                "jupyterlab>=4.2,<5", "nbgrader>=0.9.6,<0.10", "nbclient>=0.10", "nbformat>=5.9",
                "ipykernel>=6.29", "mlxtend>=0.23"]
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
# Installed into <environment>/etc/jupyter/ by the wheel: source in the staged tree → destination folder.
JUPYTER_DATA = {"workbook/jupyter/labconfig/page_config.d/workbook-learner.json": "etc/jupyter/labconfig/page_config.d",
                "workbook/jupyter/jupyter_server_config.d/workbook-learner.json": "etc/jupyter/jupyter_server_config.d",
                "nbgrader_config.py": "etc/jupyter"}


class KitError(RuntimeError):
    """The kit could not be built, or holds what learners must not get."""


def _version() -> str:
    found = re.search(r'^version\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    return found.group(1) if found else "0.0.0"


def wheel_name(version: str) -> str:
    return f"{DIST_NAME.replace('-', '_')}-{version}-py3-none-any.whl"


@dataclasses.dataclass
class Kit:
    root: Path
    wheel: Path
    notebooks: list[Path]
    readme: Path
    seconds: float = 0.0

    @classmethod
    def at(cls, root: Path) -> "Kit":
        """The kit already written in `root`."""
        root = Path(root)
        wheels = sorted(root.glob("*.whl"))
        if not wheels:
            raise KitError(f"no kit in {root}: run `make kit`")
        return cls(root, wheels[-1], sorted((root / ASSIGNMENT).glob("*.ipynb")), root / "README.md")

    def describe(self) -> str:
        return (f"Learner kit in {self.root} ({self.seconds:.1f} s, checked answer-free):\n"
                f"  {self.wheel.name}  ({self.wheel.stat().st_size / 1e3:.0f} kB)\n"
                f"  {ASSIGNMENT}/  {len(self.notebooks)} notebooks\n  nbgrader_config.py  README.md")


# --- building -----------------------------------------------------------------------------------

def _fill(template: Path, **values) -> str:
    return string.Template(template.read_text()).substitute(values)


def _package_data(stage: Path) -> dict[str, list[str]]:
    """package → its non-Python files (relative paths), each under the nearest folder holding an __init__.py."""
    data: dict[str, list[str]] = {}
    for path in sorted((stage / "workbook").rglob("*")):
        if not path.is_file() or path.suffix in (".py", ".pyc"):
            continue
        pkg = path.parent
        while not (pkg / "__init__.py").is_file():
            pkg = pkg.parent
        data.setdefault(".".join(pkg.relative_to(stage).parts), []).append(str(path.relative_to(pkg)))
    return data


def _pyproject(stage: Path, version: str) -> str:
    packages = sorted(".".join(p.parent.relative_to(stage).parts) for p in (stage / "workbook").rglob("__init__.py"))
    data_files: dict[str, list[str]] = {}
    for src, dest in JUPYTER_DATA.items():
        data_files.setdefault(dest, []).append(src)
    toml = [
        "[build-system]", 'requires = ["setuptools>=68"]', 'build-backend = "setuptools.build_meta"', "",
        "[project]", f'name = "{DIST_NAME}"', f'version = "{version}"',
        'description = "The lesson-5 workbook for learners: device, data, plots, visible tests, workbook check and lab."',
        'readme = "README.md"', 'requires-python = ">=3.10"',
        "dependencies = [" + ", ".join(json.dumps(r) for r in REQUIREMENTS) + "]", "",
        "[project.scripts]", 'workbook = "workbook.cli:main"', "",
        '[project.entry-points."workbook.commands"]', *[f'{k} = "{v}"' for k, v in LEARNER_COMMANDS.items()], "",
        "[tool.setuptools]", "packages = " + json.dumps(packages), "include-package-data = false", "",
        "[tool.setuptools.package-data]", *[f"{json.dumps(k)} = {json.dumps(v)}" for k, v in _package_data(stage).items()],
        "", "[tool.setuptools.data-files]", *[f"{json.dumps(k)} = {json.dumps(v)}" for k, v in data_files.items()], ""]
    return "\n".join(toml)


def _stage(stage: Path, release_dir: Path, version: str) -> None:
    shutil.copytree(REPO / "workbook", stage / "workbook",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "release"))
    notebooks = stage / "workbook" / "release" / ASSIGNMENT
    notebooks.mkdir(parents=True)
    for nb in sorted(release_dir.glob("*.ipynb")):
        shutil.copy2(nb, notebooks / nb.name)
    (stage / "nbgrader_config.py").write_text(_fill(TEMPLATES / "nbgrader_config.py", course_id=ASSIGNMENT,
                                                    timeout=TIMEOUT))
    (stage / "README.md").write_text(_fill(TEMPLATES / "README.md", wheel=wheel_name(version),
                                           torch=TORCH, assignment=ASSIGNMENT, course_id=ASSIGNMENT, version=version))
    (stage / "pyproject.toml").write_text(_pyproject(stage, version))


def build(out: Path = DEFAULT_OUT, release_dir: Path = REPO / "release" / ASSIGNMENT,
          python: str = sys.executable) -> Kit:
    """Write the learner kit into `out` (replaced); raise KitError if it would hold reference code."""
    started = time.monotonic()
    out = Path(out).resolve()
    release = sorted(Path(release_dir).glob("*.ipynb"))
    if not release:
        raise KitError(f"no release notebooks in {release_dir}: run `make release` first")
    version = _version()
    if subprocess.run([python, "-c", "import setuptools"], capture_output=True).returncode != 0:
        raise KitError(f"building the learner wheel offline needs setuptools in {python}: "
                       f"{python} -m pip install 'setuptools>=68'")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="workbook-kit-") as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir()
        _stage(stage, Path(release_dir), version)
        # A fixed date in the zip: the same sources give the same wheel, byte for byte.
        env = dict(os.environ, SOURCE_DATE_EPOCH="1764547200", PIP_DISABLE_PIP_VERSION_CHECK="1")
        done = subprocess.run([python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                               "--quiet", "-w", str(out), str(stage)], cwd=tmp, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(out, ignore_errors=True)
            raise KitError(f"pip wheel failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
        shutil.copy2(stage / "README.md", out / "README.md")
    wheel = next(out.glob("*.whl"))
    (out / ASSIGNMENT).mkdir()
    for nb in release:
        shutil.copy2(nb, out / ASSIGNMENT / nb.name)
    (out / "nbgrader_config.py").write_text(_fill(TEMPLATES / "learner_nbgrader_config.py", course_id=ASSIGNMENT,
                                                  exchange="/srv/nbgrader/exchange"))
    found = leaks(out)
    if found:
        shutil.rmtree(out, ignore_errors=True)
        raise KitError("the kit would hold what learners must not get, so it was not written:\n  " + "\n  ".join(found))
    return Kit(out, wheel, sorted((out / ASSIGNMENT).glob("*.ipynb")), out / "README.md", time.monotonic() - started)


# --- what must not be in it -----------------------------------------------------------------------

class _NoDocstrings(ast.NodeTransformer):
    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        body = node.body[1:] if (node.body and isinstance(node.body[0], ast.Expr)
                                 and isinstance(getattr(node.body[0], "value", None), ast.Constant)
                                 and isinstance(node.body[0].value.value, str)) else node.body
        node.body = body or [ast.Pass()]
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def _functions(tree: ast.AST) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def fingerprint(func: ast.AST) -> str:
    """The function's normalised AST: `ast.dump` of its body without docstrings (its name and signature left out,
    so a renamed copy matches too)."""
    func = _NoDocstrings().visit(ast.parse(ast.unparse(func)).body[0])
    return "\n".join(ast.dump(stmt) for stmt in func.body)


def _qualified(tree: ast.AST, prefix: str):
    """(qualified name, function node) of every function and method, nested ones included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}.{node.name}", node
            yield from _qualified(node, f"{prefix}.{node.name}")
        elif isinstance(node, ast.ClassDef):
            yield from _qualified(node, f"{prefix}.{node.name}")
        else:
            yield from _qualified(node, prefix)


def reference_functions(folder: Path = REPO / "solutions") -> dict[str, str]:
    """fingerprint → `module.Class.method` of every function and method in the reference package."""
    prints = {}
    for path in sorted(Path(folder).glob("*.py")):
        for name, func in _qualified(ast.parse(path.read_text(), str(path)), path.stem):
            if fingerprint(func) != ast.dump(ast.Pass()):  # an empty body would match every empty function
                prints.setdefault(fingerprint(func), name)
    return prints


def _code(source: str) -> str:
    """A code cell as Python: IPython magics and shell escapes commented out."""
    return "\n".join(f"# {line}" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def kit_sources(root: Path) -> dict[str, str]:
    """Every text a kit carries that could hold code: the wheel's files and each notebook's code cells."""
    texts: dict[str, str] = {}

    def notebook(name: str, text: str) -> None:
        nb = nbformat.reads(text, as_version=4)
        texts.update({f"{name}#cell{i}": cell.source for i, cell in enumerate(nb.cells) if cell.cell_type == "code"})

    for wheel in sorted(Path(root).glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                texts[f"{wheel.name}:{name}"] = text
                if name.endswith(".ipynb"):
                    notebook(f"{wheel.name}:{name}", text)
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and path.suffix != ".whl":
            text = path.read_text(errors="replace")
            texts[str(path.relative_to(root))] = text
            if path.suffix == ".ipynb":
                notebook(str(path.relative_to(root)), text)
    return texts


def leaks(root: Path, references: dict[str, str] | None = None) -> list[str]:
    """What in the kit at `root` learners must not get; [] when it is answer-free."""
    references = reference_functions() if references is None else references
    found = []
    for wheel in sorted(Path(root).glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            tops = {name.split("/")[0] for name in zf.namelist()}
        strangers = sorted(t for t in tops if t != "workbook" and not t.endswith((".dist-info", ".data")))
        if strangers:
            found.append(f"{wheel.name} holds more than the workbook package: {', '.join(strangers)}")
    for name, text in kit_sources(root).items():
        for marker in MARKERS:
            if marker in text:
                found.append(f"{name}: holds the marker {marker!r}")
        if not (name.endswith(".py") or "#cell" in name):
            continue
        try:
            tree = ast.parse(_code(text) if "#cell" in name else text)
        except SyntaxError:
            continue  # not Python (a markdown cell, a broken cell): nothing to compare
        for func in _functions(tree):
            ref = references.get(fingerprint(func))
            if ref:
                found.append(f"{name}: function `{func.name}` has the body of the reference `solutions.{ref}`")
    return found


# --- a learner's environment ------------------------------------------------------------------------

@dataclasses.dataclass
class LearnerEnv:
    """A virtual environment holding the kit's wheel, its requirements and PyTorch, nothing of the course."""

    venv: Path
    seconds: float = 0.0   # spent building or updating it this time
    built: bool = False    # made from scratch this time (else reused, the wheel reinstalled if it changed)

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"


def base_python() -> str:
    """A Python ≥ 3.10 for learners' environments that every user can run (not one under a private home)."""
    candidates = [os.environ.get("WORKBOOK_LEARNER_PYTHON", ""), getattr(sys, "_base_executable", ""),
                  sys.executable, "/usr/bin/python3"]
    for candidate in filter(None, candidates):
        path = Path(candidate).resolve()
        if path.is_file() and all(os.stat(p).st_mode & 0o001 for p in path.parents):
            try:
                version = subprocess.run([str(path), "-c", "import sys, venv; print(sys.version_info >= (3, 10))"],
                                         capture_output=True, text=True, timeout=30).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                continue
            if version == "True":
                return str(path)
    return getattr(sys, "_base_executable", sys.executable)


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _pip(venv: Path, *args: str) -> None:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(var, None)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", *args], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise KitError(f"pip {' '.join(args)} failed in {venv} (exit {done.returncode}):\n"
                       f"{(done.stdout + done.stderr)[-3000:]}")


def locked(path: Path):
    """An exclusive lock on the file `path` (made if missing), held for the `with` block."""
    return _locked(Path(path))


def learner_env(kit: Kit | Path, venv: Path = DEFAULT_VENV, python: str | None = None) -> LearnerEnv:
    """The kit installed in the virtual environment `venv`: made once (PyTorch first), then reused.

    It is made again from scratch when the kit's requirements, the PyTorch pin or the base
    Python change; otherwise only a changed wheel is reinstalled. Safe to call from several
    processes at once (a lock file next to it).
    """
    started = time.monotonic()
    root = kit.root if isinstance(kit, Kit) else Path(kit)
    wheel = next(Path(root).glob("*.whl"))
    venv = Path(venv).resolve()
    python = python or base_python()
    want = {"requirements": REQUIREMENTS, "torch": TORCH, "python": python}
    stamp = venv / "workbook-learner-env.json"
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with _locked(venv.parent / f".{venv.name}.lock"):
        have = json.loads(stamp.read_text()) if stamp.is_file() else {}
        built = {k: have.get(k) for k in want} != want or not (venv / "bin" / "python").exists()
        if built:
            shutil.rmtree(venv, ignore_errors=True)
            made = subprocess.run([python, "-m", "venv", str(venv)], capture_output=True, text=True)
            if made.returncode != 0:
                raise KitError(f"{python} -m venv {venv} failed:\n{made.stdout}{made.stderr}")
            _pip(venv, "install", "--quiet", TORCH)
            _pip(venv, "install", "--quiet", str(wheel))
        elif have.get("wheel") != sha:
            _pip(venv, "install", "--quiet", "--force-reinstall", "--no-deps", str(wheel))
        stamp.write_text(json.dumps({**want, "wheel": sha}, indent=1))
    return LearnerEnv(venv, time.monotonic() - started, built)
