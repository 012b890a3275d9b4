"""My nbgrader settings for the lesson-5 workbook: ~/.jupyter/nbgrader_config.py.

nbgrader reads this file for `nbgrader fetch_assignment`, `submit` and `fetch_feedback`, and
JupyterLab's Assignment List does the same.
"""
c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "$course_id"
# The exchange directory your instructor gave you (on JupyterHub: a folder every learner can reach).
c.Exchange.root = "$exchange"
