"""The old names of gan_helpers.training still resolve for one release: each warns, names its new home, and is
the very object of that home. (The only file allowed to use them: tests/test_layout.py leaves test_deprecated*
out of its scan.)"""

from __future__ import annotations

import importlib
import warnings

import pytest

from gan_helpers import training

MOVED = sorted(training._MOVED.items())


@pytest.mark.parametrize(("old", "new_home"), MOVED, ids=[old for old, _ in MOVED])
def test_old_name_warns_names_its_new_home_and_is_the_same_object(old, new_home):
    module, new = new_home
    assert old not in vars(training)  # otherwise __getattr__ (and its warning) would never run
    with pytest.warns(DeprecationWarning) as caught:
        value = getattr(training, old)
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 1
    assert f"gan_helpers.training.{old}" in messages[0] and f"{module}.{new}" in messages[0]
    assert caught[0].filename == __file__  # the warning points at the line that used the old name
    assert value is getattr(importlib.import_module(module), new)


def test_new_names_do_not_warn_and_unknown_names_raise_attribute_error():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in training.__all__:
            getattr(training, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        training.no_such_name  # noqa: B018
