"""The autograde executor: nbgrader's `Execute`, made safe against a hostile or broken submission.

- Before any learner code, a hidden first cell runs `autograder.guard.install()` (integrity
  snapshot, memory limit); it is removed from the graded notebook afterwards.
- A cell that kills the kernel (os._exit, a segfault, the memory limit) gets an error output
  and so loses its own points; the kernel is restarted and the cells before it replayed, so
  the rest of the notebook is graded normally.
- Output is capped per cell while it arrives, so printing without end cannot exhaust the grader.
- A time limit for the whole notebook: once spent, remaining cells are marked as not run.
"""
from __future__ import annotations

import copy
import time

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute
from traitlets import Integer

ABORTED = "KernelDied"  # the ename of a cell whose kernel died or hung; it is not replayed
_MESSAGE_ONLY = {"QuestionFailed", "NotAnswered", "Mismatch", "ForbiddenCall"}
GUARD_SOURCE = "import autograder.guard as _g; _g.install(memory_limit_mb={mb}, cpu_threads={threads}); del _g"


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """nbgrader's Execute with an integrity guard, kernel-death recovery, output and time limits."""

    notebook_timeout = Integer(900, help="Seconds for the whole notebook; later cells are not run.").tag(config=True)
    max_output_bytes = Integer(200_000, help="Output kept per cell; the rest is dropped.").tag(config=True)
    memory_limit_mb = Integer(8192, help="Address-space limit of the kernel on CPU-only machines; "
                                         "0 for none.").tag(config=True)
    cpu_threads = Integer(1, help="torch CPU threads in the grading kernel; 0 leaves torch's default.").tag(
        config=True)
    max_restarts = Integer(3, help="Kernel restarts per notebook before the remaining cells are "
                                   "marked as not run.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        guard = new_code_cell(GUARD_SOURCE.format(mb=self.memory_limit_mb, threads=self.cpu_threads))
        nb.cells.insert(0, guard)
        self._started = time.monotonic()
        self._restarts = 0
        self._output_bytes: dict[int, int] = {}
        try:
            return super().preprocess(nb, resources, km)
        finally:
            nb.cells = [cell for cell in nb.cells if cell is not guard]

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if time.monotonic() - self._started > self.notebook_timeout:
            cell.outputs = [_error("NotebookTimeout", f"not run: the notebook used up its "
                                   f"{self.notebook_timeout} s before reaching this cell.")]
            return cell, resources
        if self._restarts > self.max_restarts:
            cell.outputs = [_error(ABORTED, "not run: the kernel died too many times.")]
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs.append(_error(ABORTED, "the kernel died while running this cell (did it call exit, "
                                       "crash, or use more memory than allowed?). It was restarted and the "
                                       "cells above it run again."))
            self._restart(index)
            return cell, resources
        except CellTimeoutError:
            # The kernel stopped answering (it broke its own machinery, say): a fresh one carries on.
            cell.outputs.append(_error(ABORTED, "the kernel stopped responding while running this cell. It was "
                                       "restarted and the cells above it run again."))
            self._restart(index)
            return cell, resources
        if cell.metadata.get("nbgrader", {}).get("grade"):
            for out in cell.outputs:
                # A failed check's message says everything; its traceback would only show the tests' code.
                if out.output_type == "error" and out.ename in _MESSAGE_ONLY:
                    out.traceback = [f"{out.ename}: {out.evalue}"]
        return cell, resources

    def _restart(self, index: int) -> None:
        """Start a fresh kernel and replay the code cells before `index` (their outputs are discarded)."""
        self._restarts += 1
        self.log.warning("Kernel died at cell %d; restarting (%d)", index, self._restarts)
        run_sync(self.km.restart_kernel)(now=True)
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        originals = list(self.nb.cells[:index])  # execute_cell stores its copy in the notebook: put ours back
        try:
            for i, earlier in enumerate(originals):
                if earlier.cell_type == "code" and not any(o.get("ename") == ABORTED for o in earlier.outputs):
                    try:
                        self.execute_cell(copy.deepcopy(earlier), i, store_history=False)
                    except (DeadKernelError, CellTimeoutError):
                        run_sync(self.km.restart_kernel)(now=True)
                        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        finally:
            self.nb.cells[:index] = originals

    def output(self, outs, msg, display_id, cell_index):
        size = len(str(msg.get("content", "")))
        used = self._output_bytes.get(cell_index, 0)
        self._output_bytes[cell_index] = used + size
        if used + size <= self.max_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.max_output_bytes:
            outs.append(new_output("stream", name="stdout",
                                   text=f"\n[output truncated: more than {self.max_output_bytes} bytes]\n"))
        return None
