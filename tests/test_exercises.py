import numpy as np

from helpers.exercises import check


def test_unanswered_is_reported_not_raised(capsys):
    assert check(None, 3.0) is False
    assert "not answered yet" in capsys.readouterr().out


def test_numbers_within_relative_tolerance(capsys):
    assert check(1.005, 1.0, rel=0.01) is True
    assert check(1.02, 1.0, rel=0.01) is False
    out = capsys.readouterr().out
    assert "correct!" in out and "not quite" in out


def test_arrays_strings_and_wrong_types():
    assert check([1.0, np.nan], [1.0, np.nan]) is True
    assert check([1.0, 2.0], [1.0]) is False
    assert check("disparity", "disparity") is True
    assert check("metres", 2.0) is False
