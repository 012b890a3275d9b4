"""The trusted side's `_grader.tracebacks`: the kernel sends `workbook/tracebacks.py` itself into the sandbox in
this module's place (`autograder.kernel.SHARED`), so the learner's kit and the grader share one source."""
from workbook.tracebacks import short_error, stub_name

__all__ = ["short_error", "stub_name"]
