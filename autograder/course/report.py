"""`workbook autograde`'s summary: one `Outcome` per learner, the run's `Report`, and the table printed at the end."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Outcome:
    """One line of the summary."""
    student: str
    status: str                           # graded, failed, skipped, interrupted
    reason: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    score: float | None = None
    max_score: float | None = None
    late_penalty: float = 0.0
    needs_manual_grade: int = 0
    worker_rss_mb: float = 0.0
    kernel_rss_mb: float = 0.0
    host: str = ""
    pid: int = 0


@dataclass
class Report:
    outcomes: list[Outcome]
    seconds: float
    workers: int
    where: str                            # "local" or the scheduler's address
    interrupted: bool = False

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.count("failed")


def _summary_row(o: Outcome) -> list[str]:
    score = f"{o.score:g}/{o.max_score:g}" if o.score is not None and o.max_score is not None else "-"
    return [o.student, o.status, score, f"{o.late_penalty:g}" if o.late_penalty else "", str(o.needs_manual_grade or ""),
            f"{o.seconds:.1f}" if o.seconds else "", o.reason]


def table(report: Report) -> str:
    """The summary: one line per learner, then the totals."""
    head = ["learner", "status", "score", "late", "manual", "seconds", "note"]
    rows = [_summary_row(o) for o in sorted(report.outcomes, key=lambda o: (o.status != "failed", o.student))]
    widths = [max([len(head[i])] + [len(r[i]) for r in rows]) for i in range(len(head) - 1)]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)) + ("  " + r[-1] if r[-1] else "")
    lines = [fmt(head), fmt(["-" * w for w in widths] + [""])] + [fmt(r) for r in rows]
    graded = [o for o in report.outcomes if o.status == "graded"]
    per = sum(o.seconds for o in graded) / len(graded) if graded else 0
    lines.append(f"{report.count('graded')} graded, {report.count('failed')} failed, {report.count('skipped')} "
                 f"skipped" + (f", {report.count('interrupted')} not graded (interrupted: run again)"
                               if report.interrupted else "") +
                 f" in {report.seconds:.0f} s on {report.workers} worker(s) ({report.where}); "
                 f"{per:.1f} s per learner in a worker")
    return "\n".join(lines)
