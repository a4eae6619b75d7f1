"""Layout regressions: sample pages compared with reviewed reference images.

Regenerate the references with `make update-references` after a design change
you have looked at; the PNGs live in tests/visual/.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from conftest import REPO
from pipeline.content import read_source
from pipeline.project import Project
from pipeline.render import Renderer
from visual_samples import MAX_CHANGED_SHARE, REFERENCES, SAMPLES, changed_share, render_samples


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    source = read_source(Project(REPO))
    return render_samples(source, Renderer(source), tmp_path_factory.mktemp("visual"))


@pytest.mark.parametrize("name", [s.name for s in SAMPLES])
def test_page_matches_reference(rendered, name):
    reference = REFERENCES / f"{name}.png"
    assert reference.exists(), f"no reference image {reference}; run `make update-references`"
    share = changed_share(reference, rendered[name])
    assert share <= MAX_CHANGED_SHARE, f"{name}: {share:.2%} of pixels changed; look at {rendered[name]} against {reference}"


def test_comparison_catches_a_moved_block(rendered, tmp_path):
    name = "en-US-card-front"
    shifted = tmp_path / "shifted.png"
    image = Image.open(rendered[name]).convert("RGB")
    moved = Image.new("RGB", image.size, "white")
    moved.paste(image, (0, 6))  # everything 6 px (3.8 mm) lower
    moved.save(shifted)
    assert changed_share(REFERENCES / f"{name}.png", shifted) > MAX_CHANGED_SHARE
    covered = tmp_path / "covered.png"
    image = Image.open(rendered[name]).convert("RGB")
    ImageDraw.Draw(image).rectangle((10, 10, 60, 20), fill="white")  # a line of text gone
    image.save(covered)
    assert changed_share(REFERENCES / f"{name}.png", covered) > MAX_CHANGED_SHARE
