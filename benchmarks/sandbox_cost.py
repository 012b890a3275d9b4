"""What the sandbox and the trusted scoring cost, against grading in process as a plain nbgrader course would.

    python benchmarks/sandbox_cost.py [--notebooks 01_embeddings ...] [--learners 3]

Both runs autograde the same class (the reference answers) with real `nbgrader autograde`:
- *in process*: nbgrader's own `Execute` runs each graded cell's hidden block in the learner's
  kernel (`autograder.hidden.check`): the checks share the process with the learner's code;
- *sandboxed*: the course's configuration: the kernel under bubblewrap, every graded cell scored by
  the trusted grader over the data-only channel.
Prints one JSON object per notebook: the seconds per learner-notebook of each, their ratio (target
≤ 1.3), and the peak resident memory of a sandboxed grading kernel.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder import course  # noqa: E402

IN_PROCESS = f'''exec(open({str(REPO / "nbgrader_config.py")!r}).read())
from nbgrader.preprocessors import Execute
c.Autograde.autograde_preprocessors = [Execute if p is SandboxedExecute else p
                                       for p in c.Autograde.autograde_preprocessors]
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:"]
'''


class PeakMemory:
    """Samples the peak resident memory (VmHWM) of sandboxed processes (their own user ids) while it runs."""

    def __init__(self):
        self.peak_mb, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.2):
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    text = status.read_text()
                except OSError:
                    continue
                uid = int(text.split("Uid:")[1].split()[0])
                if uid >= 200_000 and "VmHWM:" in text:
                    self.peak_mb = max(self.peak_mb, int(text.split("VmHWM:")[1].split()[0]) / 1024)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def grade(root: Path, notebook: str, learners: int, config_dir: Path | None) -> float:
    """Seconds per learner-notebook of one real `nbgrader autograde` of `learners` reference submissions."""
    course.new_course(root, notebooks=[notebook])
    course.release(root)
    release = root / "release" / course.ASSIGNMENT / f"{notebook}.ipynb"
    answers = course.reference_answers()
    for i in range(learners):
        course.submit(root, f"learner-{i}", {release.name: course.fill(release, answers)})
    env = dict(os.environ, WORKBOOK_COURSE_ROOT=str(root), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", course.ASSIGNMENT, "--force"],
                   cwd=config_dir or REPO, env=env, check=True, capture_output=True)
    seconds = (time.perf_counter() - started) / learners
    scores = [r for r in course.grades(course.db_url_of(root)) if not r["passed"]]
    if scores:
        raise SystemExit(f"{notebook}: the reference answers lost points: {scores[:3]}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="*", default=["01_embeddings"])
    parser.add_argument("--learners", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in-process").mkdir()
        (tmp / "in-process" / "nbgrader_config.py").write_text(IN_PROCESS)
        for notebook in args.notebooks:
            in_process = grade(tmp / f"a-{notebook}", notebook, args.learners, tmp / "in-process")
            with PeakMemory() as memory:
                sandboxed = grade(tmp / f"b-{notebook}", notebook, args.learners, None)
            print(json.dumps({"benchmark": "sandbox_cost", "notebook": notebook, "learners": args.learners,
                              "in_process_s": round(in_process, 2), "sandboxed_s": round(sandboxed, 2),
                              "ratio": round(sandboxed / in_process, 3), "target_ratio": 1.3,
                              "peak_kernel_mb": round(memory.peak_mb, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
