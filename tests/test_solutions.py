"""Every exercise in the series has a checker or a model answer, and model answers are never printed by default."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gan_helpers import exercises
from gan_helpers.exercises import solutions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ITEM = re.compile(r"^(?:(\d+)\. \*\*|\*\*(\d+)\. )", re.MULTILINE)  # "1. **Title**" or "**1. Title**"
NAMED = re.compile(r"""solution\(["'](\d{2}\.\d+)["']\)""")


def exercise_blocks(path: Path) -> dict[int, str]:
    """Each exercise of a notebook's "## Exercises" section: its number and its text plus the code cells after it.

    An exercise starts at a Markdown line "K. **title**" (or "**K. title**") and runs to the next such line, code
    cells included.
    """
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    start = next((i for i, c in enumerate(cells) if "## Exercises" in "".join(c["source"])), None)
    if start is None:
        return {}
    blocks: dict[int, str] = {}
    current = None
    for i, cell in enumerate(cells[start:]):
        text = "".join(cell["source"])
        if i == 0:
            text = text[text.index("## Exercises") :]
        if cell["cell_type"] != "markdown":
            if current is not None:
                blocks[current] += "\n" + text
            continue
        items = list(ITEM.finditer(text))
        if current is not None:
            blocks[current] += "\n" + text[: items[0].start() if items else len(text)]
        for item, after in zip(items, [*items[1:], None], strict=True):
            current = int(item[1] or item[2])
            blocks[current] = text[item.start() : after.start() if after else len(text)]
    return blocks


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] != "00"], ids=lambda p: p.name)
def test_every_exercise_has_a_checker_or_a_model_answer(path):
    blocks = exercise_blocks(path)
    assert blocks, f"{path.name} has no numbered exercises under '## Exercises'"
    assert sorted(blocks) == list(range(1, len(blocks) + 1)), f"{path.name}: exercises numbered {sorted(blocks)}"
    unchecked = [
        k
        for k, text in blocks.items()
        if "gh.exercises.check_" not in text and f'solution("{path.name[:2]}.{k}")' not in text
    ]
    assert not unchecked, (
        f"{path.name}: exercises {unchecked} have neither a checker call nor a "
        f'gh.exercises.solution("{path.name[:2]}.K") to reveal'
    )


def test_every_model_answer_is_named_by_its_notebook_and_every_named_one_exists():
    named = set()
    for path in NOTEBOOKS:
        for k, text in exercise_blocks(path).items():
            for key in NAMED.findall(text):
                assert key == f"{path.name[:2]}.{k}", f"{path.name}, exercise {k} names solution {key}"
                named.add(key)
    assert named == set(exercises.solution_keys()), (
        f"named in notebooks but without an answer: {sorted(named - set(exercises.solution_keys()))}; "
        f"answers no notebook names: {sorted(set(exercises.solution_keys()) - named)}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_committed_cell_prints_a_model_answer(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    revealing = [
        i
        for i, c in enumerate(cells)
        if c["cell_type"] == "code"
        and any(not line.lstrip().startswith("#") and "solution(" in line for line in c["source"])
    ]
    assert not revealing, f"{path.name}: cells {revealing} call solution(); the notebook only names the call"


def test_a_model_answer_is_shown_as_markdown_and_a_bad_key_says_what_to_do():
    keys = exercises.solution_keys()
    assert keys, "no model answers at all"
    answer = exercises.solution(keys[0])
    assert answer.text and keys[0] in answer._repr_markdown_() and keys[0] in str(answer)
    with pytest.raises(ValueError, match=r"look like '02\.3'"):
        exercises.solution("2.3")
    with pytest.raises(KeyError, match="answers exist for"):
        exercises.solution("99.1")


def test_an_answer_filed_under_the_wrong_notebook_is_refused(tmp_path, monkeypatch):
    (tmp_path / "02.md").write_text("## 03.1\n\nmisfiled\n", encoding="utf-8")
    monkeypatch.setattr(solutions, "_FOLDER", tmp_path)
    solutions._answers.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"belongs in 03\.md"):
            solutions.solution_keys()
    finally:
        solutions._answers.cache_clear()
