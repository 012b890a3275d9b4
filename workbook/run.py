"""Run a notebook top to bottom as nbgrader's validation does: a fresh kernel, its own folder, a limit per cell."""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from .notebooks import DEFAULT_TIMEOUT, nbformat

TIMEOUT_ERROR = "CellTimeoutError"


def fresh_copy(nb):
    """A copy of `nb` with every code cell's outputs and execution count cleared."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def execute(nb, folder: Path, timeout: int = DEFAULT_TIMEOUT, kernel_name: str = "python3") -> str:
    """Run every cell of `nb` (in place) in a fresh kernel, in `folder`, as `nbgrader validate` does.

    ``NBGRADER_EXECUTION=validate`` is set, so the notebooks shrink their demonstrations. Errors
    do not stop the run; a cell past `timeout` seconds is interrupted and gets a
    `CellTimeoutError` output. If the kernel dies, nbclient's DeadKernelError propagates and the
    cells not reached keep ``execution_count None``. The kernel's own stderr (start-up
    warnings) is kept out of the learner's terminal and returned.
    """
    from nbclient import NotebookClient

    env = {**os.environ, "NBGRADER_EXECUTION": "validate", "NBGRADER_VALIDATING": "1"}
    quiet = logging.getLogger("workbook.run.kernel")  # timeouts and deaths are reported in the table instead
    quiet.propagate, quiet.level = False, logging.CRITICAL
    client = NotebookClient(
        # startup_timeout: a first `import torch` from a cold disk, or a busy machine, can take a minute
        nb, timeout=timeout, startup_timeout=180, kernel_name=kernel_name, allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": TIMEOUT_ERROR,
                          "evalue": f"this cell ran longer than {timeout} s and was stopped",
                          "traceback": [f"{TIMEOUT_ERROR}: this cell ran longer than {timeout} s"]},
        extra_arguments=["--HistoryManager.hist_file=:memory:"], record_timing=False,
        resources={"metadata": {"path": str(folder)}}, log=quiet)
    with tempfile.TemporaryFile(mode="w+") as kernel_stderr:
        try:
            client.execute(env=env, stderr=kernel_stderr)
        finally:
            kernel_stderr.seek(0)
            log = kernel_stderr.read()
    return log
