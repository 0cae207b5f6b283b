"""Model answers a student reveals on purpose: ``gh.exercises.solution("02.3")``; nothing prints them by default.

An exercise that is an open question (an experiment to run, a result to explain) has no checker; its model answer
lives in ``gan_helpers/exercises/solutions/NN.md`` under a heading ``## NN.K`` (notebook NN, exercise K), written
as Markdown. Notebooks only *name* the call; a student runs it in a cell of their own when they want to compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["ModelAnswer", "solution", "solution_keys"]

_FOLDER = Path(__file__).with_name("solutions")
_KEY = re.compile(r"^\d{2}\.\d+$")
_HEADING = re.compile(r"^## (\d{2}\.\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ModelAnswer:
    """One exercise's model answer: shown as Markdown in Jupyter, as plain text elsewhere."""

    key: str
    text: str

    def _repr_markdown_(self) -> str:
        return f"**Model answer to exercise {self.key}**\n\n{self.text}"

    def __str__(self) -> str:
        return f"Model answer to exercise {self.key}\n\n{self.text}"

    def __repr__(self) -> str:
        return str(self)


@cache
def _answers() -> dict[str, str]:
    """Every model answer, by key, read from the ``solutions/NN.md`` files (each split at its ``## NN.K`` lines)."""
    answers: dict[str, str] = {}
    for path in sorted(_FOLDER.glob("[0-9][0-9].md")):
        text = path.read_text(encoding="utf-8")
        parts = _HEADING.split(text)  # [preamble, key1, body1, key2, body2, ...]
        for key, body in zip(parts[1::2], parts[2::2], strict=True):
            if not key.startswith(path.stem + "."):
                raise ValueError(f"{path.name} holds answer {key}, which belongs in {key[:2]}.md")
            if key in answers:
                raise ValueError(f"{path.name} holds two answers to exercise {key}")
            answers[key] = body.strip()
    return answers


def solution_keys() -> tuple[str, ...]:
    """The keys of every exercise that has a model answer, in order ("01.5", "02.3", ...)."""
    return tuple(sorted(_answers(), key=lambda k: (int(k[:2]), int(k[3:]))))


def solution(key: str) -> ModelAnswer:
    """The model answer to exercise ``key`` ("NN.K": notebook NN, exercise K), to compare with your own.

    Raises ``ValueError`` for a malformed key and ``KeyError``, naming the exercises that have answers, for an
    exercise without one (its checker is the way to check it).
    """
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(f"exercise keys look like '02.3' (notebook 02, exercise 3), not {key!r}")
    answers = _answers()
    if key not in answers:
        known = ", ".join(solution_keys()) or "none"
        raise KeyError(f"exercise {key} has no model answer (it has a checker instead?); answers exist for: {known}")
    return ModelAnswer(key, answers[key])
