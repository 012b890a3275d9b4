"""The trusted grader and the instructor's tooling (never in the learner kit).

The trusted grader:
- `exercise` (what a check and a variant are) and `exercises.<notebook>`: the declarations, one
  module per notebook, from which the grading, the catalogue, the tests and the notebooks' hidden
  blocks are all read;
- `cases`: the one generator of test inputs; `forbidden`: what an exercise may forbid;
- `grade`: run a check's scenario on each case, compare with the reference, name known mistakes;
- `inside`: the code that runs in the learner's sandboxed kernel (sent there as source);
- `sandbox` (bubblewrap), `kernel` (the data-only channel to the kernel), `static` (reading the
  learner's code), `execute` (nbgrader's executor, sandboxed, scoring graded cells itself) and
  `steps` (the course's other autograde steps);
- `hidden`: the hidden-test block of a source notebook; `authoring`: keeping notebooks in step.
The instructor side is `course` (release, the exchange, autograde, feedback, the demo, the kit).
"""
