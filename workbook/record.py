"""Records of what a check found: a `Comparison` per compared value, a `Record` per graded cell.

Text is one rendering of a record; tools read the record itself. A test cell shows its record
as a display output with two representations: `text/plain` for people, and `MIME` (JSON) for
`workbook check`, the demo and the reports, which never parse the printed ✓ and ✗.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

MIME = "application/vnd.workbook.record+json"
TICK, CROSS = "✓", "✗"
SHOWN = 6  # failures listed in full; the rest are counted

PASSED, FAILED, NOT_ANSWERED, FLAGGED = "passed", "failed", "not answered", "flagged"


@dataclass
class Comparison:
    """One compared value: what it was, whether it matched, and if not, by how much and where."""
    what: str
    passed: bool
    message: str = ""                 # why it failed, in words
    largest: float | None = None      # the largest difference found
    where: list[int] | None = None    # the index of the largest difference
    got: float | None = None          # the values there
    expected: float | None = None
    mistake: str | None = None        # the known mistake whose values the answer's match

    def text(self) -> str:
        """`what: message` and the known mistake it matches, in one line."""
        line = f"{self.what}: {self.message}" if self.message and not self.message.startswith(self.what) \
            else (self.message or f"{self.what}: failed")
        return line + (f" This is what {self.mistake} gives." if self.mistake else "")


@dataclass
class Record:
    """What the checks of one graded cell (one question) found."""
    grade_id: str
    title: str                        # what the learner knows it by: "one_hot", "Adam(decoupled=True)"
    status: str = PASSED              # PASSED, FAILED, NOT_ANSWERED or FLAGGED
    checks: int = 0                   # how many checks ran
    failed: int = 0                   # how many of them failed
    failures: list[Comparison] = field(default_factory=list)  # what failed, each fault once
    passes: list[str] = field(default_factory=list)   # names of passed checks, kept by the visible tests
    message: str = ""                 # one line for NOT_ANSWERED and FLAGGED
    flags: list[str] = field(default_factory=list)    # why an instructor should look at it
    points: float | None = None
    max_points: float | None = None
    mistake: str | None = None        # the known mistake the answer's values match

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def summary(self) -> str:
        """One line: `one_hot: 2 of 45 checks failed.`"""
        if self.status == NOT_ANSWERED:
            return f"{self.title}: {self.message}"
        if self.status == FLAGGED:
            return f"{self.title}: flagged for your instructor to grade by hand: {'; '.join(self.flags)}."
        if self.status == PASSED:
            return f"{self.title}: all {self.checks} checks passed." if self.checks != 1 else \
                f"{self.title}: the check passed."
        mistake = f" This is what {self.mistake} gives." if self.mistake else ""
        return f"{self.title}: {self.failed} of {self.checks} checks failed.{mistake}"

    def details(self) -> list[str]:
        """Each failure (the first `SHOWN` in full) and a count of the checks that passed."""
        if self.status not in (FAILED, FLAGGED):
            return []
        lines = [f"  {CROSS} {c.text()}" for c in self.failures[:SHOWN]]
        if len(self.failures) > SHOWN:
            lines.append(f"  {CROSS} ... and {len(self.failures) - SHOWN} more failed checks like these.")
        n_passed = self.checks - self.failed
        if self.status == FAILED and n_passed > 0:
            lines.append(f"  {TICK} {n_passed} other check{'s' if n_passed > 1 else ''} passed.")
        return lines

    def render(self) -> str:
        """The summary line, then the details."""
        return "\n".join([self.summary(), *self.details()])

    def error(self) -> tuple[str, str] | None:
        """(ename, evalue) of the error a cell with this record ends in, or None when it passed.

        nbgrader scores a graded cell that ends in an error as zero.
        """
        if self.passed:
            return None
        return {NOT_ANSWERED: "NotAnswered", FLAGGED: "FlaggedForReview"}.get(self.status, "ChecksFailed"), \
            self.summary()

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Record":
        """The record a test cell showed (its `MIME` output), checked field by field."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - fields
        if unknown:
            raise ValueError(f"not a workbook record: unknown fields {sorted(unknown)}")
        data = dict(data)
        data["failures"] = [Comparison(**c) for c in data.get("failures", [])]
        return cls(**data)

    def bundle(self, text: str | None = None) -> dict:
        """The display bundle of this record: JSON for tools, and `text` (default: the summary when it
        passed, else the details; the error line says the rest) for people."""
        if text is None:
            text = self.summary() if self.passed else "\n".join(self.details())
        return {"text/plain": text, MIME: self.to_json()}


def from_outputs(outputs) -> Record | None:
    """The record among a cell's outputs (nbformat output dicts), if it showed one."""
    for out in outputs:
        data = out.get("data", {}) if isinstance(out, dict) else {}
        if out.get("output_type") in ("display_data", "execute_result") and MIME in data:
            return Record.from_json(data[MIME])
    return None
