"""`make demo`: the instructor's whole job on the embedded default data, in a course folder `demo/`.

Generate the assignment and the learner kit, release the assignment through nbgrader's
exchange (`demo/exchange/`) to a small class (the reference answers, an untouched release,
correct answers written differently, and learners with realistic mistakes from
`autograder.catalogue`). Each learner has a home of their own (`demo/homes/<learner>/`) and
the learner environment (the kit and PyTorch only, `build/learner-venv/`, made once): they
fetch the assignment, work, check their files and submit, all with nbgrader. Then collect,
autograde everyone with real nbgrader, generate and release feedback, let every learner fetch
theirs, export the gradebook, print the grade table and per-question pass rates, and plot the grades.
"""
from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import catalogue, course
from . import exchange, kit

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


def _each(learners: list, step, jobs: int) -> list:
    """`step(learner)` for every learner, `jobs` at a time (each mostly waits on an nbgrader process)."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(step, learners))


def run(root: Path, db_url: str | None = None, venv: Path = kit.DEFAULT_VENV, jobs: int = 3) -> dict[str, Path]:
    """Run the whole job in the course folder `root` (rebuilt); return where the results are."""
    started = time.monotonic()
    print(f"Course folder: {root}")
    course.new_course(root)
    released = course.release(root, db_url)
    print(f"Released {len(released)} notebooks with nbgrader generate_assignment.")
    built = kit.build(root / "kit", root / "release" / course.ASSIGNMENT)
    print(f"Learner kit: {built.root} ({built.wheel.name}, the notebooks, a README; checked answer-free).")
    if not (Path(venv) / "bin" / "python").exists():
        print(f"Making the learners' environment in {venv} (the kit and PyTorch only; once, about a minute) ...",
              flush=True)
    env = kit.learner_env(built, venv)
    print(f"Learners' environment: {env.venv} ({'made' if env.built else 'reused'}, {env.seconds:.0f} s).")
    ex = exchange.Exchange(root / "exchange")
    exchange.release_assignment(root, ex, db_url)
    print(f"Released {course.ASSIGNMENT} to the exchange {ex.root} with nbgrader release_assignment.")

    notebooks = build_class(root / "release" / course.ASSIGNMENT)
    learners = [exchange.Learner(name, root / "homes" / name, env, ex) for name in notebooks]

    def learn(learner: exchange.Learner) -> exchange.Submission:
        learner.setup()
        learner.fetch()                     # nbgrader fetch_assignment, in their home
        learner.work(notebooks[learner.name])
        learner.validate(run=False)         # workbook check --no-run: every notebook there, and this course's
        return learner.submit()             # nbgrader submit

    _each(learners, learn, jobs)
    print(f"{len(learners)} learners fetched it into their homes ({root / 'homes'}/<learner>/{course.ASSIGNMENT}), "
          "worked, checked their files with workbook check and submitted with nbgrader submit.")
    collected = exchange.collect(root, ex, db_url)
    print(f"Collected {len(collected)} submissions with nbgrader collect: {', '.join(sorted(collected))}.")
    course.autograde(root, db_url=db_url, progress=True)
    feedback_dir = course.feedback(root, db_url)
    exchange.release_feedback(root, ex, db_url)
    fetched = dict(zip((learner.name for learner in learners), _each(learners, exchange.Learner.fetch_feedback, jobs)))
    print(f"Released feedback with nbgrader release_feedback; {sum(bool(f) for f in fetched.values())} learners "
          "fetched theirs with nbgrader fetch_feedback.")
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
    problems += [f"{name} fetched no feedback" for name, pages in fetched.items() if not pages]
    print(f"\nDone in {time.monotonic() - started:.0f} s.")
    print(f"  grades (CSV):        {csv}")
    print(f"  feedback (HTML):     {feedback_dir}/<learner>/{course.ASSIGNMENT}/")
    print(f"  learners' feedback:  {root / 'homes'}/<learner>/{course.ASSIGNMENT}/feedback/<timestamp>/")
    print(f"  grade plot (PNG):    {png}")
    print(f"  gradebook:           {course.db_url_of(root, db_url)}")
    print(f"  exchange:            {ex.root}")
    if problems:
        raise SystemExit("The demo's grading is wrong: " + "; ".join(problems))
    return {"csv": csv, "feedback": feedback_dir, "plot": png, "exchange": ex.root, "homes": root / "homes"}


def main(argv: list[str] | None = None) -> int:
    """`workbook demo [--root DIR] [--db-url URL]`."""
    parser = argparse.ArgumentParser(prog="workbook demo", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=course.REPO / "demo", help="course folder (rebuilt)")
    parser.add_argument("--db-url", help="gradebook URL (default: sqlite:///<root>/gradebook.db)")
    parser.add_argument("--venv", type=Path, default=kit.DEFAULT_VENV,
                        help=f"the learners' environment (made once, then reused; default {kit.DEFAULT_VENV})")
    parser.add_argument("--jobs", type=int, default=3, help="learners working at the same time (default 3)")
    args = parser.parse_args(argv)
    run(args.root.resolve(), args.db_url, args.venv.resolve(), args.jobs)
    return 0
