"""report and check: the summary against NumPy, the glued keys, and every way a claim fails."""

import numpy as np
import pytest
import torch

from mdn_src.claims import ClaimFailed, check, report

VALUES = np.array([14.2, 11.8, 17.5])


def test_summary_matches_numpy_with_ddof_1():
    s = report("r", VALUES, glue=False)
    assert s.mean == pytest.approx(VALUES.mean(), rel=1e-15)
    assert s.sd == pytest.approx(np.std(VALUES, ddof=1), rel=1e-15)
    assert s.median == 14.2 and s.n == 3
    assert str(s) == "14.500 ± 2.862"
    # a cell ending in report() shows this: mean ± sd, n and the t interval of the mean
    assert repr(s) == "r: 14.500 ± 2.862 (n = 3; 95% interval [7.391, 21.61])"
    assert report("r", VALUES, digits=1, glue=False).text == "14.5 ± 2.9"


def test_percent_text_scales_only_the_text():
    s = report("share", [0.96, 0.90], digits=0, percent=True, glue=False)
    assert s.text == "93% ± 4%" and s.mean == pytest.approx(0.93)


def test_a_single_run_is_labelled_as_one():
    s = report("one", [1.25], glue=False)
    assert s.text == "1.250 (one run)" and np.isnan(s.sd)
    assert repr(s) == "one: 1.250 (one run)"


def test_worst_is_the_value_nearest_the_failing_side():
    assert report("r", VALUES, at_least=10, glue=False).worst == 11.8
    assert report("r", VALUES, at_most=20, glue=False).worst == 17.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"at_least": 12}, "every value must be >= 12, but the worst is 11.8"),
        ({"at_most": 17}, "every value must be <= 17, but the worst is 17.5"),
        ({"at_least": 15, "of": "mean"}, r"the mean \(14.5\) must be >= 15"),
        ({"at_most": 14, "of": "median"}, r"the median \(14.2\) must be <= 14"),
    ],
)
def test_a_broken_band_raises_with_the_values(kwargs, message):
    with pytest.raises(ClaimFailed, match=message):
        report("ratio", VALUES, glue=False, **kwargs)


def test_bounds_are_inclusive():
    report("r", VALUES, at_least=11.8, at_most=17.5, glue=False)


def test_count_claims_count_true_values():
    collapsed = np.array([True, False, True, True])
    report("c", collapsed, of="count", at_least=3, glue=False)
    with pytest.raises(ClaimFailed, match=r"count of true values \(3 of 4\) must be <= 2"):
        report("c", collapsed, of="count", at_most=2, glue=False)
    with pytest.raises(ValueError, match="needs booleans"):
        report("c", [0.5, 1.0], of="count", glue=False)


def test_nonfinite_values_need_consent_and_fail_every_seed_claims():
    with pytest.raises(ValueError, match="contain NaN or inf"):
        report("nll", [1.0, np.nan], glue=False)
    s = report("nll", [1.0, 2.0, np.inf], allow_nonfinite=True, of="median", at_most=2, glue=False)
    assert s.median == 2.0
    assert repr(s) == "nll: inf ± nan (n = 3)"  # no interval of a diverged run
    with pytest.raises(ClaimFailed):
        report("nll", [1.0, np.nan], allow_nonfinite=True, at_most=5, glue=False)


def test_tensors_and_lists_are_accepted():
    s = report("t", torch.tensor([1.0, 3.0]), glue=False)
    assert s.mean == 2.0 and s.values.dtype == np.float64


@pytest.mark.parametrize(
    ("values", "kwargs", "error", "message"),
    [
        ([], {}, ValueError, "at least one value"),
        ([[1.0, 2.0]], {}, ValueError, "must be 1-D"),
        (["a"], {}, TypeError, "must be numbers"),
        ([1j], {}, TypeError, "must be real"),
        ([1.0], {"of": "max"}, ValueError, "of must be one of"),
        ([1.0], {"at_least": "1"}, TypeError, "at_least must be a real number"),
        ([1.0], {"at_most": float("nan")}, ValueError, "at_most must be finite"),
        ([1.0], {"at_least": 2, "at_most": 1}, ValueError, "must not exceed"),
        ([1.0], {"digits": -1}, ValueError, "digits must be"),
    ],
)
def test_bad_arguments_raise_clear_errors(values, kwargs, error, message):
    with pytest.raises(error, match=message):
        report("x", values, glue=False, **kwargs)


def test_report_glues_the_summary(monkeypatch):
    glued = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda key, value, display: glued.update({key: value}))
    report("ratio", VALUES, at_least=10)
    assert glued["ratio"] == "14.500 ± 2.862"
    assert glued["ratio_worst"] == 11.8 and glued["ratio_n"] == 3
    assert glued["ratio_min"] == 11.8 and glued["ratio_max"] == 17.5
    assert set(glued) == {
        "ratio",
        *(f"ratio_{s}" for s in ("mean", "sd", "median", "min", "max", "worst", "n")),
        "ratio_floor",
        "ratio_ceil",
        *(f"ratio_{s}" for s in ("se", "ci_low", "ci_high", "ci")),
    }
    assert glued["ratio_floor"] == "11.800" and glued["ratio_ceil"] == "17.500"
    # mean ± t(0.975, 2) * sd / sqrt(3), with t = 4.302652729911275 (scipy, float64)
    assert glued["ratio_ci"] == "[7.391, 21.609]"


def test_interval_is_the_student_t_interval_of_the_mean():
    from scipy import stats

    from mdn_src.claims import summarize

    values = np.array([0.3, -0.1, 0.25, 0.4, 0.05])
    s = summarize(values)
    assert s.se == pytest.approx(values.std(ddof=1) / np.sqrt(5), rel=1e-12)
    reference = stats.t.interval(0.9, 4, loc=values.mean(), scale=stats.sem(values))
    np.testing.assert_allclose(s.interval(0.9), reference, rtol=1e-12)
    low95, high95 = s.interval()
    assert low95 < reference[0] and high95 > reference[1]  # a wider interval at 95%
    assert np.isnan(summarize([1.0]).se)
    with pytest.raises(ValueError, match="needs 2 values at least"):
        summarize([1.0], name="one").interval()
    for level in (0, 1, 1.5, True, "0.9"):
        with pytest.raises(ValueError, match="level must be a number in"):
            s.interval(level)


def test_an_interval_claim_bounds_both_ends_of_the_interval():
    from mdn_src.claims import paired

    a = np.array([1.00, 2.00, 3.00, 4.00])
    b = a + np.array([0.10, 0.12, 0.08, 0.11])  # a lower (better) by about 0.1 in every seed
    s = paired("a_minus_b", a, b, of="interval", at_most=0.0, at_least=-0.2, glue=False)
    low, high = s.interval()
    assert -0.2 < low < high < 0
    with pytest.raises(
        ClaimFailed, match=r"95% interval of the mean \[-0.1\d*, -0.0\d*\] must be <= -0.1"
    ):
        paired("a_minus_b", a, b, of="interval", at_most=-0.1, glue=False)
    with pytest.raises(ClaimFailed, match="must be >= -0.1"):
        paired("a_minus_b", a, b, of="interval", at_least=-0.1, glue=False)
    # every seed ahead, but too few and too noisy for the interval to exclude 0
    noisy = a + np.array([0.01, 0.5, 0.02, 0.01])
    report("noisy", a - noisy, at_most=0.0, glue=False)
    with pytest.raises(ClaimFailed, match="interval of the mean"):
        paired("noisy", a, noisy, of="interval", at_most=0.0, glue=False)
    with pytest.raises(ValueError, match="needs 2 values at least"):
        report("one", [0.5], of="interval", at_most=1.0, glue=False)


def test_floor_and_ceil_never_overstate_a_bound(monkeypatch):
    glued = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda key, value, display: glued.update({key: value}))
    report("r", [11.46, 12.0, 17.44], digits=1)
    assert glued["r_floor"] == "11.4" and glued["r_ceil"] == "17.5"  # not 11.5 and 17.4
    report("p", [0.5649, 0.9], digits=0, percent=True)
    assert glued["p_floor"] == "56%" and glued["p_ceil"] == "90%"


def test_check_raises_only_when_false():
    check("ordering", True)
    check("ordering", np.bool_(True))
    check("ordering", torch.tensor(True))
    with pytest.raises(ClaimFailed, match="K = 3 is within one se: 0.2 > 0.1"):
        check("K = 3 is within one se", False, "0.2 > 0.1")
    with pytest.raises(TypeError, match="holds must be a bool"):
        check("x", 1)


def test_the_module_example_runs():
    import doctest

    import mdn_src.claims

    result = doctest.testmod(mdn_src.claims)
    assert result.attempted >= 4 and result.failed == 0


def test_summarize_is_report_without_glue_or_check():
    from mdn_src.claims import summarize

    s = summarize([0.5, -1.0, 2.0], name="gap", digits=2)
    assert s.text == "0.50 ± 1.50" and s.mean == 0.5 and s.sd == 1.5 and s.median == 0.5
    assert s.worst == 2.0 and summarize([0.5, -1.0, 2.0], worst="low").worst == -1.0
    assert str(summarize([3.0])) == "3.000 (one run)"
    with pytest.raises(ValueError, match="worst must be"):
        summarize([1.0], worst="max")
    with pytest.raises(ValueError, match="digits must be an int >= 0"):
        summarize([1.0], digits=-1)


def test_paired_reports_the_seed_by_seed_difference():
    from mdn_src.claims import paired

    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.25, 3.0])
    s = paired("a_minus_b", a, b, at_most=0.0, glue=False)
    np.testing.assert_array_equal(s.values, a - b)
    with pytest.raises(ClaimFailed, match="every value must be <= -0.1"):
        paired("a_minus_b", a, b, at_most=-0.1, glue=False)
    with pytest.raises(ValueError, match="one value per seed each, got 3 and 2"):
        paired("a_minus_b", a, b[:2], glue=False)


@pytest.mark.parametrize("name", ["", 3, None])
def test_a_claim_needs_a_name(name):
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        report(name, [1.0], glue=False)


def test_summarize_refuses_nan_unless_allowed():
    from mdn_src.claims import summarize

    with pytest.raises(ValueError, match="contain NaN or inf"):
        summarize([1.0, float("nan")])
    assert summarize([1.0, float("inf"), 3.0], allow_nonfinite=True).worst == 3.0


@pytest.mark.parametrize(
    "holds", [torch.tensor([True, True]), torch.tensor(1), torch.tensor([1.0])]
)
def test_check_refuses_tensors_that_are_not_one_bool(holds):
    with pytest.raises(TypeError, match="holds must be a bool"):
        check("a tensor claim", holds)


def test_seeds_needed_is_the_first_n_whose_interval_excludes_zero():
    from scipy import stats

    from mdn_src import seeds_needed

    # by hand: t(0.975, 5) / sqrt(6) = 1.0496 >= 1 and t(0.975, 6) / sqrt(7) = 0.9249 < 1
    assert seeds_needed(1.0, 1.0) == 7
    assert seeds_needed(1.0, -1.0) == 7  # only the size of the difference matters
    # many seeds: the t quantile tends to the normal's 1.96, so n -> (1.96 sd / d)^2
    n = seeds_needed(1.0, 0.05)
    assert abs(n - (1.959964 / 0.05) ** 2) < 10
    half = lambda k: stats.t.ppf(0.975, k - 1) / np.sqrt(k) * 1.0  # noqa: E731
    assert half(n) < 0.05 <= half(n - 1)
    assert seeds_needed(1.0, 1.0, level=0.5) == 2  # t(0.75, 1) / sqrt(2) = 0.707
    assert seeds_needed(1.0, 1e-6, limit=100) == 101
    for kwargs, message in [
        (dict(sd=0.0, difference=1.0), "sd must be > 0"),
        (dict(sd=1.0, difference=0.0), "difference must be non-zero"),
        (dict(sd=float("nan"), difference=1.0), "sd must be a finite number"),
        (dict(sd=1.0, difference=1.0, level=1.0), "level must be a number in"),
        (dict(sd=1.0, difference=1.0, limit=1), "limit must be an int >= 2"),
    ]:
        with pytest.raises(ValueError, match=message):
            seeds_needed(**kwargs)
