"""The series' reference list: every citation in a notebook is in it, every paper in it is cited, 00 shows it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gan_helpers import references
from gan_helpers.references import REFERENCES, Reference

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NAME = r"[A-Z](?=[\w'\-]*[a-z])[\w'\-]+"  # a capitalised word with a lower-case letter: "BN" is no author
ET_AL = re.compile(rf"({NAME}) et al\.,?\s+\(?(\d{{4}})\b")
AND = re.compile(rf"((?:{NAME},\s+)*{NAME})\s+and\s+({NAME}),?\s+\(?(\d{{4}})\b")


def _prose(path: Path) -> str:
    """A notebook's Markdown, with every run of whitespace (line breaks included) made one space."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.sub(r"\s+", " ", text)


def citations(text: str) -> list[tuple[tuple[str, ...], bool, int]]:
    """Every "A et al. YEAR", "A and B YEAR" or "A, B and C YEAR" in ``text``: (surnames, et_al, year)."""
    found = [((m[1],), True, int(m[2])) for m in ET_AL.finditer(text)]
    for m in AND.finditer(text):
        names = (*re.split(r",\s+", m[1]), m[2])
        found.append((names, False, int(m[3])))
    return found


def matches(ref: Reference, names: tuple[str, ...], et_al: bool, year: int) -> bool:
    """Does the citation name ``ref``? "A et al." needs three or more authors; a list of names must be all of them."""
    if ref.year != year:
        return False
    if et_al:
        return len(ref.surnames) >= 3 and ref.surnames[0] == names[0]
    return ref.surnames == names


def _cited(ref: Reference, text: str) -> bool:
    if len(ref.surnames) == 1:
        return re.search(rf"\b{re.escape(ref.surnames[0])},?\s+\(?{ref.year}\b", text) is not None
    return any(matches(ref, *c) for c in citations(text))


def test_citations_are_found_in_every_form_the_notebooks_use():
    text = (
        "as Goodfellow et al. (2014) showed; (BN, Ioffe and Szegedy 2015); Radford, Metz and Chintala 2016; "
        "Heusel et al., 2017"
    )
    assert citations(text) == [
        (("Goodfellow",), True, 2014),
        (("Heusel",), True, 2017),
        (("Ioffe", "Szegedy"), False, 2015),
        (("Radford", "Metz", "Chintala"), False, 2016),
    ]
    dcgan = references.find("Radford et al. 2016")
    assert matches(dcgan, ("Radford", "Metz", "Chintala"), False, 2016)
    assert not matches(dcgan, ("Radford",), True, 2015), "the year is part of the citation"
    assert not matches(references.find("Miyato and Koyama 2018"), ("Miyato",), True, 2018), "two authors, not et al."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_citation_in_a_notebook_is_in_the_reference_list(path):
    unknown = [c for c in citations(_prose(path)) if not any(matches(r, *c) for r in REFERENCES)]
    assert not unknown, f"{path.name} cites papers missing from gan_helpers/references.py (or misattributed): {unknown}"


def test_every_paper_in_the_list_is_cited_somewhere():
    text = " ".join(_prose(p) for p in NOTEBOOKS)
    uncited = [r.key for r in REFERENCES if not _cited(r, text)]
    assert not uncited, f"in gan_helpers/references.py but cited by no notebook: {uncited}"


def test_the_list_has_one_entry_per_paper_with_its_full_details():
    keys = [r.key for r in REFERENCES]
    assert len(keys) == len(set(keys)), "two references share a citation key"
    for ref in REFERENCES:
        assert ref.authors.count(",") + 1 == len(ref.surnames), f"{ref.key}: author line and surnames disagree"
        assert 1900 < ref.year <= 2026 and ref.title and ref.venue and ref.url.startswith("https://"), ref.key


def test_the_welcome_notebook_shows_the_whole_list():
    cells = json.loads((ROOT / "notebooks" / "00_welcome.ipynb").read_text(encoding="utf-8"))["cells"]
    shown = [c for c in cells if c["cell_type"] == "code" and "gh.references.show()" in "".join(c["source"])]
    assert len(shown) == 1, "00 has one cell that shows the reference list"
    output = json.dumps(shown[0]["outputs"], ensure_ascii=False)
    missing = [r.key for r in REFERENCES if f"**{r.key}**" not in output]
    assert not missing, f"00's stored reference list lacks {missing}: re-run 00"


def test_find_names_the_known_keys_when_a_key_is_wrong():
    assert references.find("Goodfellow et al. 2014").venue == "NeurIPS 2014"
    with pytest.raises(KeyError, match=r"Goodfellow et al\. 2014"):
        references.find("Yarvis 2016")


def test_the_references_published_tutorials_got_wrong_are_right_here():
    assert references.find("Salimans et al. 2016").title == "Improved Techniques for Training GANs"
    assert references.find("Chen et al. 2016").title.startswith("InfoGAN")
    dcgan = references.find("Radford et al. 2016")
    assert dcgan.surnames == ("Radford", "Metz", "Chintala") and dcgan.venue.startswith("ICLR 2016")
    assert not [r for r in REFERENCES if "Yarvis" in r.authors], "a paper that does not exist"
