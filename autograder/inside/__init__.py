"""Code that runs inside the learner's sandboxed kernel (and, over the reference, in the grader).

Every module here imports only the standard library, torch, safetensors and its siblings
(relatively), because the grader sends their source into the sandbox, where nothing of the
course is installed: `channel` (values as data), `watch` (forbidden calls), `learner` (calling
the learner's code), `scenarios` (what a check runs), `agent` (one request in, one answer out).
"""
