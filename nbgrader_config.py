"""nbgrader configuration of the Lesson 5 workbook (course id, limits, the sandboxed executor, gradebook)."""
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput,
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput, OverwriteCells,
                                    OverwriteKernelspec, SaveAutoGrades)

from autograder.execute import SandboxedExecute
from autograder.steps import DropEmptyMetadata, FlagForReview, Quarantine, SafeNotebookExporter

c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "lesson5"
# nbgrader's own folders (source/, release/, submitted/, autograded/, feedback/) live under the
# course root; our packages `solutions/` and `autograder/` are not nbgrader folders.
c.CourseDirectory.root = os.environ.get("WORKBOOK_COURSE_ROOT", os.path.dirname(os.path.abspath(__file__)))
if os.environ.get("WORKBOOK_DB_URL"):  # e.g. postgresql+psycopg://..., else sqlite:///<root>/gradebook.db
    c.CourseDirectory.db_url = os.environ["WORKBOOK_DB_URL"]
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.png"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A file that is not a notebook is graded as an empty one (and flagged), not a crash of the batch.
c.Autograde.exporter_class = SafeNotebookExporter
c.Autograde.sanitize_preprocessors = [
    Quarantine, ClearOutput, DeduplicateIds, DropEmptyMetadata, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
]
# Learner code runs in a bubblewrap sandbox; every graded cell is scored by the trusted grader.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, FlagForReview, AssignLatePenalties, CheckCellMetadata,
]
# Deleted test cells come back from the gradebook; edited ones are overwritten from it.
c.OverwriteCells.add_missing_cells = True
# Limits, from measured run times (benchmarks/notebook_runtime.py): the slowest cell of a
# reference notebook under grading takes under 10 s and the slowest notebook under 30 s on a 2-core CPU.
c.Execute.timeout = 60
c.Execute.shutdown_kernel = "immediate"  # a graceful shutdown of a torch kernel waits seconds for nothing
c.SandboxedExecute.notebook_timeout = 300
c.SandboxedExecute.limits = {"memory_mb": 4096}  # a reference notebook peaks near 1.2 GB of address space
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

# Feedback shows each test's result and message, not the hidden tests' code (nbgrader issue #917).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
