"""What an exercise is: a declaration that the grading, the catalogue, the tests and the notebook read.

    CHECKS = [Check("one_hot_values", 2, "one_hot", "basic.call", one_hot_cases, forbid("F.one_hot"))]
    VARIANTS = [alternative("one_hot", "rows of the identity", "def one_hot(idx, n): ..."),
                mistake("one_hot", "counting classes from 1 instead of 0", "def one_hot...",
                        also=("embedding_matmul_values",))]

A `Check` is one graded cell: its points, the answers (answer cells) it exercises, the
scenario it runs, the cases it runs it on, the forbidden operations and the tolerance. A
`Variant` is one answer a learner could write: a correct `alternative`, which must get full
marks, or a `mistake`, which must lose the points of the cells it names, and whose name is
what the learner reads when their answer matches it ("This is what Adam without bias
correction gives."). A mistake is written once: the grader runs its source to recognise it,
the catalogue hands it to the demo's learners, the tests prove it is graded as declared.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .cases import Case


@dataclass(frozen=True)
class Variant:
    """One answer to the answer cell `answer`: `loses` names the graded cells it must fail (none: correct)."""
    answer: str
    name: str
    source: str
    loses: tuple[str, ...] = ()
    cuda_only: bool = False  # a mistake that shows only on a GPU (a tensor made on the CPU, say)

    @property
    def correct(self) -> bool:
        return not self.loses


def alternative(answer: str, name: str, source: str) -> Variant:
    """A correct answer written differently: it must get full marks."""
    return Variant(answer, name, source.strip() + "\n")


def mistake(answer: str, name: str, source: str, loses: tuple[str, ...] = (), also: tuple[str, ...] = (),
            cuda_only: bool = False) -> Variant:
    """A plausible mistake: it must lose `loses` (default: the cells graded on `answer` first), plus `also`.

    `name` is the learner's message when their answer's values match this one's. A `cuda_only`
    mistake loses its points only where there is a GPU, and must pass elsewhere.
    """
    return Variant(answer, name, source.strip() + "\n", (tuple(loses) or ("<primary>",)) + tuple(also), cuda_only)


@dataclass
class Check:
    """One graded cell: `grade_id`, `points`, the answers it grades, and how.

    `cases()` makes the scenario's inputs (in the trusted grader); `forbidden` holds the rules
    of `autograder.forbidden`; `tolerance` the rtol/atol of `workbook.compare` where the
    dtype's default is not right; `title` is what the learner knows the question by.
    """
    grade_id: str
    points: float
    answers: tuple[str, ...]
    scenario: str
    cases: Callable[[], list[Case]]
    forbidden: tuple[dict, ...] = ()
    tolerance: dict = field(default_factory=dict)
    title: str = ""
    doc: str = ""
    variants: tuple[Variant, ...] = ()  # answers declared with the check (a question's right and wrong ones)

    def __post_init__(self):
        if isinstance(self.answers, str):
            self.answers = (self.answers,)
        self.title = self.title or self.answers[0]
        self.doc = self.doc or (self.cases.__doc__ or "").strip().split("\n")[0]


def resolve(checks: list[Check], variants: list[Variant]) -> list[Variant]:
    """The variants with each mistake's default `loses` made explicit: the checks whose first answer it is."""
    primary: dict[str, list[str]] = {}
    for c in checks:
        primary.setdefault(c.answers[0], []).append(c.grade_id)
    out = []
    for v in variants:
        if "<primary>" in v.loses:
            rest = tuple(g for g in v.loses if g != "<primary>")
            v = Variant(v.answer, v.name, v.source, tuple(primary.get(v.answer, ())) + rest, v.cuda_only)
        out.append(v)
    return out


def question(grade_id: str, points: float, name: str, answer, choices: tuple[str, ...] = (),
             rel_tol: float = 0.01, doc: str = "", right: dict[str, str] | None = None,
             wrong: dict[str, str] | None = None) -> Check:
    """A questionnaire question with one right answer, which the learner assigns to the variable `name`:
    one of `choices` (a letter, compared without case or spaces), or a number (within `rel_tol`).

    `right` and `wrong` are answers a learner could give, {what it is: the expression assigned to
    `name`}: the check's correct alternatives and its mistakes (see `variants_of`); a learner whose
    answer has a wrong one's value is told which mistake it is. The reference
    module holds `name = answer` too: `authoring.sync` writes the answer cell from it.
    """
    import math

    from workbook.record import Comparison

    def key(value):  # letters are compared without case or spaces
        return value.strip().lower() if isinstance(value, str) else value

    def same(value, want) -> bool:
        if choices:
            return key(value) == key(want)
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and abs(value - want) <= rel_tol * abs(want))

    named = [(what, eval(expr, {"math": math})) for what, expr in (wrong or {}).items()]  # our own declarations

    def expect(out, case):
        value = out.get("value")
        if choices and key(value) not in [c.lower() for c in choices]:
            return [Comparison(case.label, False, f"{name} is {value!r}: answer with one of "
                                                  f"{', '.join(repr(c) for c in choices)}")]
        if not choices and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return [Comparison(case.label, False, f"{name} is {value!r}: answer with a number")]
        if same(value, answer):
            return [Comparison(case.label, True)]
        mistakes = [what for what, wrong_value in named if same(value, wrong_value)]
        return [Comparison(case.label, False, f"{name} = {value!r} is not the right answer",
                           mistake=" or ".join(mistakes) or None)]

    def cases():
        return [Case(f"your answer, {name}", {"name": name}, expect=expect)]
    cases.__doc__ = doc or f"{name} holds the right answer."
    given = [alternative(name, what, f"{name} = {expr}") for what, expr in (right or {}).items()]
    given += [mistake(name, what, f"{name} = {expr}") for what, expr in (wrong or {}).items()]
    return Check(grade_id, points, (name,), "basic.value", cases, title=name, variants=tuple(given))


def variants_of(checks: list[Check]) -> list[Variant]:
    """The variants declared with `checks` themselves (a questionnaire's right and wrong answers)."""
    return [v for c in checks for v in c.variants]


def edits(answer: str, base: str, table: dict[str, tuple[str, ...]], **kw) -> list[Variant]:
    """Mistakes that are each a few edits of one answer's source: {name: (old, new, old, new, ...)}, each
    (old, new) pair swapped in turn (see `edit`); `kw` goes to `mistake` (what they lose)."""
    for name, pairs in table.items():
        assert len(pairs) % 2 == 0, (name, pairs)
    return [mistake(answer, name, edit(base, *zip(pairs[::2], pairs[1::2])), **kw)
            for name, pairs in table.items()]


def edit(text: str, *pairs: tuple) -> str:
    """`text` with each (old, new) or (old, new, count) of `pairs` swapped in turn (see `swap`)."""
    for old, new, *count in pairs:
        text = swap(text, old, new, *count)
    return text


def swap(text: str, old: str, new: str, count: int = 1) -> str:
    """`text` with `old` (which must occur `count` times) replaced by `new`: a variant is a small edit of another
    answer's source, written once."""
    assert text.count(old) == count, (old, text.count(old))
    return text.replace(old, new)
