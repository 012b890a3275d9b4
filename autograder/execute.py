"""The autograde executor: nbgrader's `Execute`, with the learner's code in a sandbox and every score decided here.

- The kernel runs under bubblewrap (`autograder.sandbox`), seeing nothing of the course; where
  bubblewrap is missing, nothing is graded (unless `allow_unsandboxed`, loudly).
- Ordinary cells (answers, demonstrations) run in that kernel, with an output cap, a per-cell and
  a per-notebook time limit, and recovery when a cell kills or hangs the kernel (a fresh sandbox,
  the cells above replayed).
- A graded cell never runs in the kernel. The grader looks up its declared `Check`, runs each
  case's scenario in the kernel over the data-only channel (`autograder.kernel`), compares the
  answers with the reference here (`autograder.grade`), and writes the cell's outputs itself:
  the `Record` (text and JSON) and, unless it passed, an error. nbgrader's `SaveAutoGrades` then
  scores the cell from those outputs. An answer that reaches for the grading machinery
  (`autograder.static`) is flagged for grading by hand.
"""
from __future__ import annotations

import copy
import shutil
import time

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Integer

from . import exercises, sandbox, static
from .grade import grader
from .kernel import KernelGone, KernelRunner, bootstrap_code, folder_size
from .steps import UNREADABLE

ABORTED = "KernelDied"  # the ename of a cell whose kernel died or hung; it is not replayed


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def record_outputs(record) -> list:
    """A graded cell's outputs for `record`: its display (text and JSON) and, unless it passed, an error."""
    outputs = [new_output("display_data", data=record.bundle())]
    error = record.error()
    if error:
        outputs.append(_error(*error))
    return outputs


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel sandboxed and the graded cells scored in this process."""

    notebook_timeout = Integer(900, help="Seconds for the whole notebook; later cells are not run.").tag(config=True)
    max_output_bytes = Integer(200_000, help="Output kept per cell; the rest is dropped.").tag(config=True)
    max_restarts = Integer(3, help="Fresh sandboxes per notebook before the remaining cells are not run.").tag(
        config=True)
    max_shared_mb = Integer(1024, help="What the sandbox may leave in the folder it shares with the grader.").tag(
        config=True)
    cpu_threads = Integer(1, help="torch CPU threads in the sandbox (0: torch's default).").tag(config=True)
    limits = Dict(help="Sandbox limits: fields of autograder.sandbox.Limits (memory_mb, cpu_seconds, processes, "
                       "file_mb, open_files, tmp_mb).").tag(config=True)
    allow_unsandboxed = Bool(False, help="Grade without the sandbox where bubblewrap is missing. Learner code can "
                                         "then reach the grader and change grades: never for a real class.").tag(
        config=True)

    # -- the kernel ----------------------------------------------------------------------------
    def create_kernel_manager(self):
        if not self.kernel_name:
            self.kernel_name = self.nb.metadata.get("kernelspec", {}).get("name") or "python3"
        uid = sandbox.fresh_uid()
        self._folder = sandbox.shared_folder(uid)
        if self._unsandboxed:
            from jupyter_client.manager import AsyncKernelManager
            self.km = AsyncKernelManager(kernel_name=self.kernel_name, config=self.config)
            return self.km
        from workbook.data import data_dir
        self.km = sandbox.SandboxedKernelManager(
            kernel_name=self.kernel_name, config=self.config, shared_dir=str(self._folder),
            sandbox_limits=dict(self.limits), threads=self.cpu_threads, data_dirs=[str(data_dir())], sandbox_uid=uid)
        return self.km

    def start_new_kernel_client(self):
        kc = super().start_new_kernel_client()
        self._runner = KernelRunner(self.km, self._folder, self.timeout or 60,
                                    alive=lambda: run_sync(self.km.is_alive)())
        try:
            self._runner.execute(bootstrap_code(), self.startup_timeout)
        except KernelGone as exc:  # every check will say so; the notebook goes on
            self._runner.gone = f"the grader could not start in it: {exc}"
        return kc

    def _restart(self, index: int) -> None:
        """A fresh sandbox (a new kernel, a new shared folder), with the code cells before `index` replayed."""
        self._restarts += 1
        self.log.warning("The kernel died or hung at cell %d; starting a fresh sandbox (%d)", index, self._restarts)
        self._runner.close()
        self._cleanup_kernel()
        shutil.rmtree(self._folder, ignore_errors=True)
        self.km = self.create_kernel_manager()
        self.start_new_kernel()
        self.start_new_kernel_client()
        originals = list(self.nb.cells[:index])  # execute_cell stores its copy in the notebook: put ours back
        try:
            for i, earlier in enumerate(originals):
                if earlier.cell_type == "code" and not self._graded(earlier) and \
                        not any(o.get("ename") == ABORTED for o in earlier.outputs):
                    try:
                        self.execute_cell(copy.deepcopy(earlier), i, store_history=False)
                    except (DeadKernelError, CellTimeoutError):
                        break
        finally:
            self.nb.cells[:index] = originals

    # -- the notebook --------------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        self._unsandboxed = False
        try:
            sandbox.preflight()
        except sandbox.SandboxUnavailable:
            if not self.allow_unsandboxed:
                raise
            self.log.error("GRADING WITHOUT A SANDBOX (allow_unsandboxed): learner code can change its own grades")
            self._unsandboxed = True
        name = (resources or {}).get("nbgrader", {}).get("notebook") or ""
        try:
            self._declared = exercises.notebook(name)
            self._grader = grader(self._declared.reference, tuple(self._declared.variants))
        except KeyError:
            self._declared = self._grader = None
        self._flags = static.flags(nb, self._declared)
        unreadable = nb.metadata.get("workbook", {}).get(UNREADABLE)
        if unreadable:
            self._flags = {c.grade_id: [unreadable] for c in getattr(self._declared, "checks", [])}
        self._started, self._restarts, self._output_bytes = time.monotonic(), 0, {}
        self._runner, self._folder = None, None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._runner is not None:
                self._runner.close()
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)

    @staticmethod
    def _graded(cell) -> bool:
        return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("grade"))

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._graded(cell):
            cell.outputs = self._grade(cell, index)
            cell.execution_count = None
            return cell, resources
        if time.monotonic() - self._started > self.notebook_timeout:
            cell.outputs = [_error("NotebookTimeout", f"not run: the notebook used up its {self.notebook_timeout} s "
                                                      "before reaching this cell.")]
            return cell, resources
        if self._restarts > self.max_restarts:
            cell.outputs = [_error(ABORTED, "not run: the kernel died too many times.")]
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, CellTimeoutError) as exc:
            why = "died" if isinstance(exc, DeadKernelError) else "stopped responding"
            cell.outputs.append(_error(ABORTED, f"the kernel {why} while running this cell (did it call exit, crash, "
                                                "loop forever or use more memory than allowed?). The cells above it "
                                                "were run again in a fresh kernel."))
            self._restart(index)
        self._check_shared_folder(index)
        return cell, resources

    def _check_shared_folder(self, index: int) -> None:
        if not self._unsandboxed and folder_size(self._folder) > self.max_shared_mb * 2**20:
            self.log.warning("The sandbox filled its shared folder at cell %d", index)
            self._restart(index + 1)

    def _grade(self, cell, index: int) -> list:
        """The outputs of a graded cell, decided here from its declared check."""
        grade_id = cell.metadata.nbgrader.get("grade_id", "")
        check = None
        if self._declared is not None:
            try:
                check = self._declared.check(grade_id)
            except KeyError:
                pass
        if check is None:
            self.log.error("No declared check for graded cell %r of %s", grade_id, getattr(self._declared, "name", "?"))
            return [_error("NotGraded", f"the grader has no check declared for the cell {grade_id!r}; "
                                        "your instructor will grade it by hand.")]
        try:
            record = self._grader.grade(check, self._runner, self._flags.get(grade_id, []))
        except Exception:  # a fault of the grader's: this cell, not the learner's whole notebook, goes ungraded
            self.log.exception("The grader failed on %s", grade_id)
            return [_error("NotGraded", f"{check.title}: the grader failed on this cell; your instructor will grade "
                                        "it by hand.")]
        if self._runner.gone:
            self._restart(index)
        else:
            self._check_shared_folder(index)
        return record_outputs(record)

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
