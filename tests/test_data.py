"""Data generators and feature scaling."""

from __future__ import annotations

import math

import pytest

from tinygrad_edu.data import (
    PASS_FAIL_FEATURES,
    YOU,
    StandardScaler,
    make_blobs,
    make_grades,
    make_moons,
    make_pass_fail,
    make_spiral,
    standardize,
    to_pm1,
    train_test_split,
)

GENERATORS = [make_pass_fail, make_grades, make_moons, make_spiral, make_blobs]


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
    for bad in (0.0, 1.0, "0.2", None):
        with pytest.raises(ValueError, match="test_fraction must be between 0 and 1"):
            train_test_split(X, y, test_fraction=bad)
