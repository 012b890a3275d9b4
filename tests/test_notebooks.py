"""The notebooks as committed: clean sources, a release that is not stale, and the check both ways: the
sources pass `nbgrader validate`, every release stub fails its tests. (That the answer cells are in step
with `solutions/` is tests/test_exercises.py's.)"""
import json
import shutil

import pytest

from autograder import authoring, course

SOURCE = course.REPO / "source" / course.ASSIGNMENT
RELEASE = course.REPO / "release" / course.ASSIGNMENT
SOURCES = authoring.notebooks(SOURCE)
NAMES = [p.name for p in SOURCES]


def test_every_notebook_of_the_spec_is_there():
    expected = ["01_embeddings", "02_collab_bias", "03_weight_decay", "04_optimizers", "05_cross_entropy",
                "06_mnist_sgd", "07_fine_tuning", "08_entity_embeddings"]
    assert [p.stem for p in SOURCES] == expected


@pytest.mark.parametrize("name", NAMES)
def test_source_is_clean_and_consistent(name):
    assert authoring.problems(authoring.read(SOURCE / name)) == []


def _normalised(path):
    nb = json.loads(path.read_text())
    nb["metadata"].pop("language_info", None)
    return nb


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    """release/ generated now, by nbgrader, from the committed source/."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(SOURCE, root / "source" / course.ASSIGNMENT)
    course.release(root)
    return root / "release" / course.ASSIGNMENT


@pytest.mark.slow
def test_release_is_not_stale(fresh_release):
    committed = sorted(p.name for p in RELEASE.glob("*.ipynb"))
    assert committed == sorted(p.name for p in fresh_release.glob("*.ipynb")), \
        "release/ holds other notebooks than source/: run `make release`"
    for name in committed:
        assert _normalised(RELEASE / name) == _normalised(fresh_release / name), (
            f"release/lesson5/{name} is stale against source/: run `make release` and commit it")


def _validate(paths, *flags):
    return course.nbgrader(course.REPO, "validate", *flags, *map(str, paths))


@pytest.mark.slow
def test_sources_pass_nbgrader_validate():
    log = _validate(SOURCES)
    assert log.count("Success! Your notebook passes all the tests.") == len(SOURCES), log[-3000:]


@pytest.mark.slow
def test_every_release_stub_fails_its_tests():
    log = _validate(sorted(RELEASE.glob("*.ipynb")), "--invert")
    assert log.count("Success! The notebook does not pass any tests.") == len(SOURCES), log[-3000:]
