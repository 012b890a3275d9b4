"""nbgrader settings that come with the lesson-5 learner kit.

The kit's wheel installs this file as <environment>/etc/jupyter/nbgrader_config.py, so that
`nbgrader`, the Assignment List and the Validate button of that environment know the course.
Where the exchange is belongs to your site: put it in ~/.jupyter/nbgrader_config.py (see the kit's README).
"""
c = get_config()  # noqa: F821  (provided by nbgrader)

c.CourseDirectory.course_id = "$course_id"
# Validate runs each cell under the autograder's time limit.
c.Execute.timeout = $timeout
# Refuse a submission that lacks one of the notebooks (renamed or deleted), instead of only warning:
# the autograder grades each notebook by its name.
c.ExchangeSubmit.strict = True
