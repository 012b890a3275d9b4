"""What the workbook's visible and hidden tests use, and the instructor's tooling.

- `cases`: one place that generates test inputs (seeds, shapes, dtypes, devices).
- `compare`: the one tolerance helper; it reports the largest difference and where.
- `watch`: forbidden-call and reference-code detection while a learner function runs.
- `report`: a `Question` runs every check of one graded cell and reports them all.
- `checks.<notebook>`: the hidden tests, one module per notebook, mirroring `solutions`.
- `guard`, `execute`: integrity and fault isolation during `nbgrader autograde`.
"""
