"""A whole class at once: `workbook autograde` against a serial `nbgrader autograde`, and where the time goes.

    python benchmarks/class_scale.py                      # 100 learners × every notebook (long)
    python benchmarks/class_scale.py --learners 10 --notebooks 01_embeddings

One JSON object per line, each ratio measured in this one run on this machine:
- `speedup_jobs2`: serial `nbgrader autograde` of the class ÷ `workbook autograde --jobs 2` (target ≥ 1.8 on 2 cores);
- `overhead_jobs1`: `--jobs 1` ÷ serial (target ≤ 1.1);
- `notebook_over_floor`: seconds per learner-notebook in a worker ÷ the floor, a notebook that only
  imports torch graded the same way (kernel start in the sandbox + `import torch`; target ≤ 1.5);
- `worker_memory`: peak resident memory of a grading process and of its sandboxed kernels;
- `dask_over_jobs`: a local Dask cluster of 2 single-threaded workers ÷ `--jobs 2`;
- `identical`: the parallel runs' gradebooks equal the serial one's;
- `phase`: one line per part of grading one reference learner of each notebook, in process
  (kernel start and bootstrap, each cell; the grader's requests to the kernel), and `import`: the
  cost of an import inside a fresh sandboxed kernel (torch, matplotlib, scikit-learn, torch._dynamo...).

The class mixes perfect, partial (one catalogued mistake per notebook), wrong (every catalogued
mistake it can hold), broken (a syntax error, a file that is not a notebook) and hostile (a kernel
that kills itself, forbidden calls) submissions, from `autograder.catalogue` and the reference answers.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import authoring, catalogue, course
from autograder.course import gradebook as gbk
from autograder.course import parallel, worker

A = course.ASSIGNMENT
KINDS = ("perfect", "partial", "wrong", "broken", "hostile")


OUT = sys.stdout  # main() points it at the real stdout and sends fd 1 (kernels' noise) to stderr


def emit(**fields) -> None:
    print(json.dumps({"benchmark": "class_scale", **fields}), file=OUT, flush=True)


# -- the class -------------------------------------------------------------------------------------
def build_class(root: Path, learners: int, seed: int = 0) -> dict[str, str]:
    """Submit `learners` learners (every released notebook each) under `root`; learner → kind."""
    rng = random.Random(seed)
    release = root / "release" / A
    reference = course.reference_answers()
    paths = authoring.notebooks(release)
    by_notebook = {p.name: [v for v in catalogue.variants(p.stem) if catalogue.expected_losses(v)] for p in paths}
    kinds = {}
    for i in range(learners):
        kind = KINDS[i % len(KINDS)]
        student = f"{kind}-{i:03d}"
        files = {}
        for p in paths:
            mistakes = by_notebook.get(p.name, [])
            answers = dict(reference)
            if kind == "partial" and mistakes:
                v = rng.choice(mistakes)
                answers[v.answer] = v.source
            elif kind == "wrong":
                for group in catalogue.pack(mistakes)[:1]:
                    answers.update({v.answer: v.source for v in group})
            elif kind == "hostile":
                hostile = [v for v in mistakes if "forbidden" in v.name]
                if hostile:
                    v = rng.choice(hostile)
                    answers[v.answer] = v.source
            nb = course.fill(p, answers)
            if kind == "broken":
                cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
                cell.source = "def oops(:\n    pass"  # a syntax error in the first answer
            if kind == "hostile" and p == paths[0]:
                cell = next(c for c in nb.cells if c.cell_type == "code" and not c.metadata.get("nbgrader"))
                cell.source = "import os\nos._exit(3)  # kills the kernel: the grader recovers\n" + cell.source
            files[p.name] = nb
        course.submit(root, student, files)
        if kind == "broken" and len(paths) > 1:
            (root / "submitted" / student / A / paths[-1].name).write_text("{ not a notebook")
        kinds[student] = kind
    return kinds


def copy_course(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# -- the runs --------------------------------------------------------------------------------------
def timed(fn, *args, **kw):
    start = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - start


def measured(fn, *args, **kw):
    """(result, wall seconds, CPU seconds of this process and every process it started and waited for, load).

    (The sandboxed kernels are killed, not waited for: their CPU is in each learner's `cpu_seconds` instead.)"""
    import os
    import resource

    def cpu():
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    before, load = cpu(), os.getloadavg()[0]
    out, wall = timed(fn, *args, **kw)
    return out, wall, cpu() - before, round((load + os.getloadavg()[0]) / 2, 1)


def floor(tmp: Path, learners: int) -> tuple[float, float, float]:
    """A notebook that only imports torch, graded: (seconds in a warm worker, its CPU seconds there, seconds per
    notebook of a serial nbgrader run of `learners` of them)."""
    root = tmp / "floor"
    course.new_course(root, notebooks=[])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch")],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    authoring.save(nb, root / "source" / A / "00_floor.ipynb")
    course.release(root)
    for i in range(learners):
        course.submit(root, f"floor-{i}", {"00_floor.ipynb": authoring.read(root / "release" / A / "00_floor.ipynb")})
    serial = copy_course(root, tmp / "floor-serial")
    _, serial_s = timed(course.autograde, serial)
    report = parallel.autograde_class(root, jobs=1, progress=False)
    graded = [o for o in report.outcomes if o.status == "graded"]
    return (statistics.median(o.seconds for o in graded), statistics.median(o.cpu_seconds for o in graded),
            serial_s / learners)


def dask_run(root: Path, workers: int):
    """Like `measured(autograde_class)` on a LocalCluster started beforehand (its start is not counted; its
    worker processes' CPU is, once they are ended)."""
    from distributed import LocalCluster
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           memory_limit=0)

    def run():
        try:
            return parallel.autograde_class(root, scheduler=cluster.scheduler_address, progress=False)
        finally:
            cluster.close()
    return measured(run)


def _spin(n: int = 10_000_000) -> float:
    t = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t


def cpu_scaling() -> None:
    """What two processes at once get from this machine: the ceiling of any speed-up of `--jobs 2`."""
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, [1000, 1000]))
        alone = min(pool.submit(_spin).result() for _ in range(3))
        both = min(max(pool.map(_spin, [10_000_000] * 2)) for _ in range(3))
    emit(figure="cpu_scaling", value=round(2 * alone / both, 2),
         note="a pure-Python loop: two at once over one alone, in throughput (2.0 on two idle cores)")


# -- where the time goes ---------------------------------------------------------------------------
def phases(tmp: Path, notebooks: list[str]) -> None:
    """Grade one reference learner of each notebook in this process, timing each part."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    import autograder.execute as ex
    import autograder.grade as gr
    import autograder.kernel as kn
    marks: list[tuple[str, str, float]] = []

    def wrap(cls, name, label=None):
        f = getattr(cls, name)

        def g(self, *a, **k):
            t = time.perf_counter()
            try:
                return f(self, *a, **k)
            finally:
                marks.append((label or name, a[0] if name == "preprocess_cell" else "", time.perf_counter() - t))
        setattr(cls, name, g)
        return f

    saved = [(ex.SandboxedExecute, n, wrap(ex.SandboxedExecute, n)) for n in
             ("start_new_kernel_client", "preprocess_cell", "_cleanup_kernel")]
    saved += [(kn.KernelRunner, "run", wrap(kn.KernelRunner, "run", "request")),
              (gr.Grader, "expected", wrap(gr.Grader, "expected", "reference")),
              (gr.Grader, "mistaken", wrap(gr.Grader, "mistaken", "diagnosis"))]
    try:
        app = worker.autograde_app(())
        for name in notebooks:
            root = tmp / f"phase-{name}"
            course.new_course(root, notebooks=[name])
            course.release(root)
            release = root / "release" / A / f"{name}.ipynb"
            course.submit(root, "ref", {release.name: course.fill(release, course.reference_answers())})
            cd = CourseDirectory(parent=app)
            cd.root, cd.db_url = str(root), course.db_url_of(root)
            cd.assignment_id, cd.student_id = A, "ref"
            conv = Autograde(coursedir=cd, parent=app)
            conv.force = True
            marks.clear()
            _, total = timed(conv.start)
            cells = [m for m in marks if m[0] == "preprocess_cell"]
            graded = sum(t for _, c, t in cells if _is_graded(c))
            ungraded = sorted(((t, c) for _, c, t in cells if not _is_graded(c) and c.cell_type == "code"),
                              key=lambda x: -x[0])
            start = sum(t for n, _, t in marks if n == "start_new_kernel_client")
            requests = [t for n, _, t in marks if n == "request"]
            emit(figure="phase", notebook=name, total_s=round(total, 2), kernel_start_and_bootstrap_s=round(start, 2),
                 graded_cells_s=round(graded, 2), requests=len(requests), requests_s=round(sum(requests), 2),
                 request_ms=round(1000 * statistics.median(requests), 1) if requests else None,
                 reference_s=round(sum(t for n, _, t in marks if n == "reference"), 2),
                 diagnosis_s=round(sum(t for n, _, t in marks if n == "diagnosis"), 2),
                 ungraded_cells_s=round(sum(t for t, _ in ungraded), 2),
                 slowest_ungraded=[{"s": round(t, 2), "cell": c.source.splitlines()[0][:60] if c.source else ""}
                                   for t, c in ungraded[:3]],
                 shutdown_s=round(sum(t for n, _, t in marks if n == "_cleanup_kernel"), 2))
    finally:
        for cls, name, f in saved:
            setattr(cls, name, f)


def _is_graded(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("grade"))


IMPORTS = ["import torch", "import numpy", "import pandas", "import matplotlib.pyplot",
           "import workbook; from workbook.testing import Test", "import torch._dynamo", "import sklearn",
           "import sklearn.linear_model", "import mlxtend.data"]


def imports() -> None:
    """The cost of each import inside a fresh sandboxed kernel (one kernel per import: nothing cached)."""
    from jupyter_core.utils import run_sync

    from autograder import sandbox
    from autograder.kernel import KernelRunner
    from workbook.data import data_dir

    def fresh():
        uid = sandbox.fresh_uid() if hasattr(sandbox, "fresh_uid") else 65534
        folder = sandbox.shared_folder(uid)
        km = sandbox.SandboxedKernelManager(kernel_name="python3", shared_dir=str(folder), sandbox_limits={},
                                            threads=1, data_dirs=[str(data_dir())], sandbox_uid=uid)
        t = time.perf_counter()
        run_sync(km.start_kernel)()
        runner = KernelRunner(km, folder, 120)
        runner.execute("1", 120)
        return km, runner, folder, time.perf_counter() - t

    def close(km, runner, folder):
        runner.close()
        run_sync(km.shutdown_kernel)(now=True)
        shutil.rmtree(folder, ignore_errors=True)

    starts = []
    for code in IMPORTS:
        km, runner, folder, started = fresh()
        starts.append(started)
        try:
            t = time.perf_counter()
            reply = runner.execute(code, 300)
            seconds = time.perf_counter() - t
            emit(figure="import", code=code, seconds=round(seconds, 2), ok=reply.get("status") == "ok")
        finally:
            close(km, runner, folder)
    emit(figure="import", code="(kernel start in the sandbox, to its first reply)",
         seconds=round(statistics.median(starts), 2), ok=True)


# -- main ------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--notebooks", nargs="+", default=None, help="default: every notebook in source/")
    parser.add_argument("--floor-learners", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the runs; the fastest is kept")
    parser.add_argument("--skip", nargs="*", default=[], choices=["serial", "jobs1", "jobs2", "dask", "floor",
                                                                  "phases", "imports"])
    args = parser.parse_args(argv)
    global OUT
    import os
    OUT = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the sandboxed kernels print to the stdout they inherit: keep it off the JSON lines
    tmp = Path(tempfile.mkdtemp(prefix="workbook-class-scale-"))
    try:
        base = tmp / "base"
        course.new_course(base, notebooks=args.notebooks)
        course.release(base)
        names = [p.stem for p in authoring.notebooks(base / "release" / A)]
        kinds = build_class(base, args.learners)
        n_nb = len(names)
        emit(figure="class", learners=args.learners, notebooks=names,
             kinds={k: sum(v == k for v in kinds.values()) for k in KINDS}, cpus=__import__("os").cpu_count())
        cpu_scaling()
        runs, cpu, reports = {}, {}, {}
        configs = [c for c in ("serial", "jobs1", "jobs2", "dask") if c not in args.skip]
        for rnd in range(args.rounds):  # interleaved rounds; the fastest of each is kept (others share this machine)
            for run in configs:
                root = copy_course(base, tmp / f"{run}-{rnd}")
                if run == "serial":
                    report, wall, used, load = measured(course.autograde, root)
                    label = "serial nbgrader autograde"
                elif run == "dask":
                    report, wall, used, load = dask_run(root, 2)
                    label = "workbook autograde --scheduler (a LocalCluster of 2 single-threaded workers)"
                else:
                    jobs = int(run[-1])
                    report, wall, used, load = measured(parallel.autograde_class, root, jobs=jobs, progress=False)
                    label = f"workbook autograde --jobs {jobs}"
                extra = {}
                if run != "serial":
                    extra = dict(graded=report.count("graded"), failed=report.count("failed"),
                                 in_worker_per_learner_notebook_s=round(statistics.median(
                                     o.seconds for o in report.outcomes if o.status == "graded") / n_nb, 2))
                emit(figure="run", run=label, round=rnd, seconds=round(wall, 1), cpu_seconds=round(used, 1),
                     load_average=load, per_learner_notebook_s=round(wall / args.learners / n_nb, 2), **extra)
                if run not in runs or wall < runs[run]:
                    runs[run], cpu[run] = wall, used
                    if run != "serial":
                        reports[run] = report
                    (tmp / run).unlink(missing_ok=True)
                    (tmp / run).symlink_to(root)
        if "serial" in runs and "jobs2" in runs:
            x = runs["serial"] / runs["jobs2"]
            emit(figure="speedup_jobs2", value=round(x, 2), target=1.8, ok=x >= 1.8)
        if "serial" in runs and "jobs1" in runs:
            x = runs["jobs1"] / runs["serial"]
            emit(figure="overhead_jobs1", value=round(x, 2), target=1.1, ok=x <= 1.1)
        if "serial" in cpu and "jobs1" in cpu:
            emit(figure="overhead_jobs1_cpu", value=round(cpu["jobs1"] / cpu["serial"], 2), target=1.1,
                 note="CPU seconds of --jobs 1 over serial: the machinery's cost, whatever else runs here")
        if "dask" in runs and "jobs2" in runs:
            emit(figure="dask_over_jobs", value=round(runs["dask"] / runs["jobs2"], 2), workers=2,
                 cpu_value=round(cpu["dask"] / cpu["jobs2"], 2))
        for run, r in reports.items():
            graded = [o for o in r.outcomes if o.status == "graded"]
            if graded:
                emit(figure="worker_memory", run=run, worker_rss_mb=max(o.worker_rss_mb for o in graded),
                     kernel_rss_mb=max(o.kernel_rss_mb for o in graded))
        if "serial" in runs:
            want = gbk.rows(course.db_url_of(tmp / "serial"), A)
            for run in reports:
                got = gbk.rows(course.db_url_of(tmp / run), A)
                emit(figure="identical", run=run, value=got == want, rows=len(want),
                     differing=sum(a != b for a, b in zip(got, want)) + abs(len(got) - len(want)))
        if "floor" not in args.skip:
            worker_floor, cpu_floor, serial_floor = floor(tmp, args.floor_learners)
            emit(figure="floor", worker_s=round(worker_floor, 2), worker_cpu_s=round(cpu_floor, 2),
                 serial_per_notebook_s=round(serial_floor, 2))
            if "jobs1" in reports:
                graded = [o for o in reports["jobs1"].outcomes if o.status == "graded"]
                per = statistics.median(o.seconds for o in graded) / n_nb
                per_cpu = statistics.median(o.cpu_seconds for o in graded) / n_nb
                x = per / worker_floor
                emit(figure="notebook_over_floor", value=round(x, 2), per_notebook_s=round(per, 2),
                     floor_s=round(worker_floor, 2), cpu_value=round(per_cpu / cpu_floor, 2),
                     per_notebook_cpu_s=round(per_cpu, 2), floor_cpu_s=round(cpu_floor, 2), target=1.5, ok=x <= 1.5)
        if "phases" not in args.skip:
            phases(tmp, names)
        if "imports" not in args.skip:
            imports()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
