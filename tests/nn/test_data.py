"""Data generators and feature scaling."""

from __future__ import annotations

import math

import pytest

from tinygrad_edu.data import (
    PASS_FAIL_FEATURES,
    YOU,
    StandardScaler,
    make_blobs,
    make_circles,
    make_grades,
    make_moons,
    make_pass_fail,
    make_spiral,
    make_xor,
    standardize,
    to_pm1,
    train_test_split,
)

GENERATORS = [make_pass_fail, make_grades, make_moons, make_circles, make_xor, make_spiral,
              make_blobs]


@pytest.mark.parametrize("make", GENERATORS)
def test_seeded_and_plain_python(make):
    X1, y1 = make(seed=3)
    X2, y2 = make(seed=3)
    X3, _ = make(seed=4)
    assert (X1, y1) == (X2, y2)
    assert X1 != X3
    assert len(X1) == len(y1) > 0
    assert all(isinstance(row, list) and len(row) == 2 for row in X1)
    assert all(type(v) is float and math.isfinite(v) for row in X1 for v in row)


def test_pass_fail_ranges_rule_and_noise():
    X, y = make_pass_fail(400, seed=0)
    assert len(X) == 400 and set(y) == {0, 1}
    assert all(0 <= lec <= 10 and lec == int(lec) for lec, _ in X)
    assert all(0 <= m <= 8 and 2 * m == int(2 * m) for _, m in X)
    # no noise: exactly the documented rule
    Xc, yc = make_pass_fail(400, noise=0.0, seed=0)
    assert yc == [1 if 0.6 * lec + 0.8 * m - 5.5 > 0 else 0 for lec, m in Xc]
    # with noise, some labels go against the rule, but most follow it
    agree = sum(t == (1 if 0.6 * lec + 0.8 * m - 5.5 > 0 else 0) for (lec, m), t in zip(X, y))
    assert 0.7 * 400 < agree < 400
    assert YOU == (5.0, 4.0) and PASS_FAIL_FEATURES[0] == "lectures attended"


def test_grades_are_a_noisy_linear_function():
    X, y = make_grades(300, seed=0)
    assert all(0.0 <= g <= 10.0 for g in y)
    errors = [g - (1 + 0.35 * lec + 0.55 * m) for (lec, m), g in zip(X, y)]
    assert abs(sum(errors) / len(errors)) < 0.15
    assert 0.3 < math.sqrt(sum(e * e for e in errors) / len(errors)) < 0.7


def test_circles_and_xor_without_noise_follow_their_rule():
    X, y = make_circles(40, noise=0.0, factor=0.3, seed=1)
    assert sorted(y) == [0] * 20 + [1] * 20
    for (a, b), t in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(0.3 if t == 1 else 1.0)
    X, y = make_xor(50, noise=0.0, seed=1)
    assert y == [1 if a * b > 0 else 0 for a, b in X]
    assert 0 < sum(y) < 50 and all(abs(v) <= 1 for row in X for v in row)
    with pytest.raises(ValueError, match="factor must be between 0 and 1"):
        make_circles(10, factor=1.5)


def test_moons_shape():
    X, y = make_moons(101, noise=0.0, seed=0)
    assert y.count(0) == 50 and y.count(1) == 51
    for (a, b), label in zip(X, y):
        if label == 0:  # upper moon: unit circle around (0, 0), upper half
            assert math.hypot(a, b) == pytest.approx(1.0) and b >= -1e-12
        else:  # lower moon: unit circle around (1, 0.5), lower half
            assert math.hypot(a - 1, b - 0.5) == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_multiclass_sets():
    X, y = make_spiral(20, classes=4, seed=0)
    assert len(X) == 80 and sorted(set(y)) == [0, 1, 2, 3] and y.count(2) == 20
    assert all(math.hypot(a, b) <= 1.0 + 1e-12 for a, b in X)
    X, y = make_blobs(30, centers=3, std=0.0, seed=0)
    assert sorted(set(y)) == [0, 1, 2] and y.count(1) == 10
    for (a, b), c in zip(X, y):
        angle = 2 * math.pi * c / 3
        assert (a, b) == pytest.approx((2 * math.cos(angle), 2 * math.sin(angle)))


@pytest.mark.parametrize("call, message", [
    (lambda: make_pass_fail(0), "positive int"),
    (lambda: make_moons(10, noise=-1), "noise"),
    (lambda: make_spiral(10, classes=0), "classes"),
    (lambda: to_pm1([0, 2]), "label 1 is 2"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_to_pm1():
    assert to_pm1([0, 1, 1, 0]) == [-1, 1, 1, -1]


def test_standardize_and_query_point():
    X = [[0.0, 10.0], [2.0, 10.0], [4.0, 10.0]]
    Xs, scaler = standardize(X)
    s = math.sqrt(8 / 3)  # population std of 0, 2, 4
    assert Xs == [[-2 / s, 0.0], [0.0, 0.0], [2 / s, 0.0]]  # constant column: std taken as 1
    assert scaler.mean == [2.0, 10.0] and scaler.std == [s, 1.0]
    assert scaler.transform_one([5, 4]) == [3 / s, -6.0]
    assert scaler.transform([[5, 4]]) == [[3 / s, -6.0]]
    assert scaler.inverse_transform_one(scaler.transform_one([5, 4])) == pytest.approx([5, 4])
    # columns of the scaled training data have mean 0 and std 1
    X, _ = make_pass_fail(50, seed=0)
    Xs, _ = standardize(X)
    for j in range(2):
        col = [r[j] for r in Xs]
        assert sum(col) / 50 == pytest.approx(0.0, abs=1e-12)
        assert math.sqrt(sum(v * v for v in col) / 50) == pytest.approx(1.0)


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="fit"):
        StandardScaler().transform_one([1.0])
    scaler = StandardScaler().fit([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="3 features, the scaler was fitted on 2"):
        scaler.transform_one([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="row 1 has 1 features"):
        StandardScaler().fit([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="not a number"):
        StandardScaler().fit([[1.0, "x"]])
    with pytest.raises(ValueError, match="non-empty"):
        standardize([])


def test_scaler_accepts_numpy():
    np = pytest.importorskip("numpy")
    scaler = StandardScaler().fit(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert scaler.mean == [2.0, 3.0]
    assert scaler.transform_one(np.array([3.0, 4.0])) == [1.0, 1.0]


def test_train_test_split():
    X = [[float(i)] for i in range(20)]
    y = list(range(20))
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_fraction=0.25, seed=0)
    assert len(Xte) == 5 and len(Xtr) == 15
    assert sorted(ytr + yte) == y
    assert all(row == [float(t)] for row, t in zip(Xtr + Xte, ytr + yte))
    assert train_test_split(X, y, seed=0) == train_test_split(X, y, seed=0)
    with pytest.raises(ValueError, match="20 rows in X but 3 labels"):
        train_test_split(X, [1, 2, 3])
    for bad in (0.0, 1.0, math.nan):
        with pytest.raises(ValueError, match="test_fraction must be between 0 and 1"):
            train_test_split(X, y, test_fraction=bad)
    for bad in ("0.2", None):
        with pytest.raises(TypeError, match="test_fraction must be a number"):
            train_test_split(X, y, test_fraction=bad)


# ---------------------------------------------------------------------------------------------
# Hostile input (issue 12, items 10, 11, 14): clear errors or correct results
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, where", [
    (math.nan, "is nan"), (math.inf, "is inf"), (-math.inf, "is -inf"),
    (10**400, "holds an int of 401 digits"),
])
def test_scaler_refuses_nan_inf_and_huge_features(bad, where):
    X = [[1.0, 2.0], [3.0, bad], [5.0, 6.0]]
    with pytest.raises(ValueError, match=rf"row 1, column 1 {where}"):
        standardize(X)
    with pytest.raises(ValueError, match=rf"row 1, column 1 {where}"):
        StandardScaler().fit(X)
    scaler = StandardScaler().fit([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=rf"the row, column 1 {where}"):
        scaler.transform_one([0.0, bad])
    with pytest.raises(ValueError, match=rf"row 2, column 1 {where}"):
        scaler.transform([[0.0, 0.0], [1.0, 1.0], [0.0, bad]])
    with pytest.raises(ValueError, match=where):
        scaler.inverse_transform_one([bad, 0.0])


def test_transform_one_nan_is_an_error_not_nan():
    scaler = StandardScaler().fit([[1.0], [2.0]])
    with pytest.raises(ValueError, match="is nan; features must be finite"):
        scaler.transform_one([math.nan])
    with pytest.raises(TypeError, match="holds str '1.5', not a number"):
        scaler.transform_one(["1.5"])  # no silent float("1.5")
    with pytest.raises(TypeError, match="list of 1 numbers, got set"):
        scaler.transform_one({1.0})


def test_scaler_columns_near_the_float_limit():
    big = 1.7976931348623157e308  # the largest float
    Xs, scaler = standardize([[1e308], [1e308], [1e308]])
    assert scaler.mean == [1e308] and scaler.std == [1.0] and Xs == [[0.0]] * 3
    Xs, scaler = standardize([[1e200], [-1e200]])
    assert scaler.mean == [0.0] and scaler.std == [1e200] and Xs == [[1.0], [-1.0]]
    Xs, scaler = standardize([[big], [-big]])
    assert scaler.std == [big] and Xs == [[1.0], [-1.0]]
    assert scaler.inverse_transform(Xs) == [[big], [-big]]
    # mean big/3 and std as numpy computes them on the scaled-down numbers
    np = pytest.importorskip("numpy")
    col = [big, big, -big]
    Xs, scaler = standardize([[v] for v in col])
    assert scaler.mean[0] == pytest.approx(big / 3, rel=1e-15)
    numpy_std = math.ldexp(float(np.std(np.array(col) / 2.0**1000)), 1000)
    assert scaler.std[0] == pytest.approx(numpy_std, rel=1e-15)
    assert [r[0] for r in Xs] == pytest.approx([1 / math.sqrt(2)] * 2 + [-math.sqrt(2)],
                                               rel=1e-15)
    # ordinary columns: the same numbers as before (a power-of-two scaling is exact)
    X, _ = make_pass_fail(30, seed=1)
    _, scaler = standardize(X)
    for j in range(2):
        col = [r[j] for r in X]
        mean = math.fsum(col) / 30
        assert scaler.mean[j] == mean
        assert scaler.std[j] == math.sqrt(math.fsum((v - mean) ** 2 for v in col) / 30)


def test_scaler_results_beyond_the_float_range_are_overflow_errors():
    scaler = StandardScaler().fit([[0.0], [1e-300]])
    with pytest.raises(OverflowError, match=r"column 0: the result overflows a float"):
        scaler.transform_one([1e300])
    with pytest.raises(OverflowError, match="overflows"):
        StandardScaler().fit([[0.0], [4.0]]).inverse_transform_one([1e308])


def test_train_test_split_never_leaves_an_empty_set():
    with pytest.raises(ValueError, match=r"2 row\(s\) with test_fraction=0.9 leave 0 for "
                                         "training"):
        train_test_split([[1.0], [2.0]], [0, 1], test_fraction=0.9)
    for n in (0, 1):
        with pytest.raises(ValueError, match=f"at least 2 rows .*got {n}"):
            train_test_split([[1.0]] * n, [0] * n)
    Xtr, Xte, _, _ = train_test_split([[1.0], [2.0]], [0, 1], test_fraction=0.1)
    assert len(Xtr) == 1 and len(Xte) == 1  # the test set gets one row at the least


def test_train_test_split_inputs():
    np = pytest.importorskip("numpy")
    X, y = [[float(i)] for i in range(10)], list(range(10))
    ref = train_test_split(X, y, seed=3)
    assert train_test_split(np.array(X), np.array(y), np.float64(0.25), np.int64(3)) == ref
    for bad in ((r for r in X), {1: [1.0]}, {1.0, 2.0}, "abc", 5):
        with pytest.raises(TypeError, match="X must be a list"):
            train_test_split(bad, y)
    with pytest.raises(TypeError, match="seed must be an int"):
        train_test_split(X, y, seed=1.5)


def test_generators_take_numpy_integers():
    np = pytest.importorskip("numpy")
    assert make_moons(np.int64(20), seed=np.int32(4)) == make_moons(20, seed=4)
    assert make_spiral(np.int64(5), np.uint8(3), seed=np.int64(1)) == make_spiral(5, 3, seed=1)
    assert make_blobs(np.int16(9), np.int64(3)) == make_blobs(9, 3)
    assert make_pass_fail(np.int64(7), np.float64(0.5)) == make_pass_fail(7, 0.5)


@pytest.mark.parametrize("call, error, message", [
    (lambda: make_pass_fail(2.0), TypeError, "n must be a positive int, got float"),
    (lambda: make_moons(10**12), ValueError, "at most 10,000,000"),
    (lambda: make_spiral(10**4, 10**4), ValueError, r"n_per_class \* classes"),
    (lambda: make_grades(5, noise=math.inf), ValueError, "noise must be a number from 0"),
    (lambda: make_blobs(5, std=math.nan), ValueError, "std must be"),
    (lambda: make_moons(5, seed="a"), TypeError, "seed must be an int"),
    (lambda: to_pm1(5), TypeError, "must be a list"),
    (lambda: to_pm1([0, [1]]), ValueError, r"label 1 is \[1\]"),
    (lambda: to_pm1([0, "1"]), ValueError, "label 1 is '1'"),
    (lambda: StandardScaler().fit([[]]), ValueError, "row 0 is empty"),
    (lambda: StandardScaler().fit({1: [1.0]}), ValueError, "non-empty list of rows"),
    (lambda: StandardScaler().fit([{1.0}]), TypeError, "row 0 must be a list"),
])
def test_more_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_to_pm1_takes_numpy_labels():
    np = pytest.importorskip("numpy")
    assert to_pm1(np.array([0, 1, 1])) == [-1, 1, 1]
    assert to_pm1([np.int64(1), np.bool_(False), 1.0, True]) == [1, -1, 1, 1]
