"""`make demo`: the instructor's whole job on the embedded default data, in a course folder `demo/`.

Release the assignment, hand it to a small class (the reference answers, an untouched
release, correct answers written differently, and learners with realistic mistakes from
`autograder.catalogue`), autograde everyone with real nbgrader, generate feedback, export
the gradebook, then print the grade table and per-question pass rates and plot the grades.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import catalogue, course

MISTAKE_LEARNERS = ("mistakes-a", "mistakes-b", "mistakes-c")


def build_class(release_dir: Path) -> dict[str, dict]:
    """learner → {notebook file name → filled-in notebook}."""
    reference = course.reference_answers()
    by_answer: dict[str, list] = {}
    for variant in catalogue.variants():
        by_answer.setdefault(variant.answer, []).append(variant)
    alternatives = {a: next(v.source for v in vs if v.correct) for a, vs in by_answer.items()
                    if any(v.correct for v in vs)}
    learners = {"reference": reference, "untouched": {}, "alternatives": {**reference, **alternatives}}
    for j, learner in enumerate(MISTAKE_LEARNERS):
        answers = dict(reference)
        for i, (answer, vs) in enumerate(sorted(by_answer.items())):
            mistakes = [v for v in vs if not v.correct]
            if mistakes and (i + j) % len(MISTAKE_LEARNERS) == 0:  # about a third of the answers wrong each
                answers[answer] = mistakes[(i + j) % len(mistakes)].source
        learners[learner] = answers
    return {learner: {p.name: course.fill(p, answers) for p in sorted(release_dir.glob("*.ipynb"))}
            for learner, answers in learners.items()}


def grade_table(rows: list[dict]) -> tuple[str, str]:
    """The learner × notebook table of scores, and the per-question pass rates, as text."""
    import pandas as pd
    df = pd.DataFrame(rows)
    per_nb = df.groupby(["learner", "notebook"])[["score", "max_score"]].sum()
    table = (per_nb["score"].map("{:g}".format) + "/" + per_nb["max_score"].map("{:g}".format)).unstack()
    totals = df.groupby("learner")[["score", "max_score"]].sum()
    table["total %"] = (100 * totals["score"] / totals["max_score"]).round(1)
    rates = df.groupby(["notebook", "cell"])["passed"].mean().mul(100).round(0).astype(int)
    return table.to_string(), rates.rename("% of learners passing").to_string()


def plot(rows: list[dict], png: Path) -> Path:
    """Bar chart of each learner's total and a histogram of the class's grades."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import pandas as pd
    df = pd.DataFrame(rows)
    totals = df.groupby("learner")[["score", "max_score"]].sum()
    pct = (100 * totals["score"] / totals["max_score"]).sort_values()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.barh(pct.index, pct.values, color="tab:blue")
    ax1.set_xlabel("grade (%)")
    ax1.set_xlim(0, 100)
    ax1.set_title("Grade per learner")
    ax2.hist(pct.values, bins=range(0, 101, 10), color="tab:green", edgecolor="white")
    ax2.set_xlabel("grade (%)")
    ax2.set_ylabel("learners")
    ax2.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax2.set_title("Grade distribution")
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return png


def run(root: Path, db_url: str | None = None) -> dict[str, Path]:
    """Run the whole job in the course folder `root` (rebuilt); return where the results are."""
    started = time.monotonic()
    print(f"Course folder: {root}")
    course.new_course(root)
    released = course.release(root, db_url)
    print(f"Released {len(released)} notebooks with nbgrader generate_assignment.")
    learners = build_class(root / "release" / course.ASSIGNMENT)
    for learner, notebooks in learners.items():
        course.submit(root, learner, notebooks)
    print(f"Collected {len(learners)} submissions: {', '.join(learners)}.")
    course.autograde(root, db_url=db_url, progress=True)
    feedback_dir = course.feedback(root, db_url)
    csv = course.export(root, root / "grades.csv", db_url)
    rows = course.grades(course.db_url_of(root, db_url))
    table, rates = grade_table(rows)
    print("\nGrades (points per notebook):\n" + table)
    print("\nPass rate per question:\n" + rates)
    png = plot(rows, root / "grade_distribution.png")
    totals = {}
    for r in rows:
        s, m = totals.get(r["learner"], (0.0, 0.0))
        totals[r["learner"]] = (s + (r["score"] or 0), m + r["max_score"])
    problems = [f"{name} got {totals[name][0]:g}/{totals[name][1]:g}, expected {want}"
                for name, want in (("reference", "full marks"), ("alternatives", "full marks"),
                                   ("untouched", "zero"))
                if (totals[name][0] == totals[name][1]) != (want == "full marks") or
                (want == "zero" and totals[name][0] != 0)]
    print(f"\nDone in {time.monotonic() - started:.0f} s.")
    print(f"  grades (CSV):        {csv}")
    print(f"  feedback (HTML):     {feedback_dir}/<learner>/{course.ASSIGNMENT}/")
    print(f"  grade plot (PNG):    {png}")
    print(f"  gradebook:           {course.db_url_of(root, db_url)}")
    if problems:
        raise SystemExit("The demo's grading is wrong: " + "; ".join(problems))
    return {"csv": csv, "feedback": feedback_dir, "plot": png}


def main(argv: list[str] | None = None) -> int:
    """`workbook demo [--root DIR] [--db-url URL]`."""
    parser = argparse.ArgumentParser(prog="workbook demo", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=course.REPO / "demo", help="course folder (rebuilt)")
    parser.add_argument("--db-url", help="gradebook URL (default: sqlite:///<root>/gradebook.db)")
    args = parser.parse_args(argv)
    run(args.root.resolve(), args.db_url)
    return 0
