"""Small seeded data sets for the examples, and feature scaling. Plain Python, no dependencies.

Every generator takes ``seed`` and returns ``(X, y)``: ``X`` a list of rows (lists of floats),
``y`` a list of labels or targets. The same seed gives the same data.

The pass/fail example
---------------------
Features: lectures attended (a whole number 0–10) and the last exam score (0–8 marks, in half
marks). The hidden rule: a student's *readiness* is

    r = 0.6 * lectures + 0.8 * marks - 5.5  +  noise,   noise ~ Normal(0, noise)

and the student passes (label 1) when ``r > 0``, fails (label 0) otherwise. The noise makes
some students near the boundary pass or fail against the trend, as real students do. The query
``YOU = (5, 4)`` ("you: 5 lectures, 4 marks") has ``r = 0.7`` before noise: more likely to pass
than not, but not certain.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence, Set
from numbers import Real
from typing import Any

from tinygrad_edu import args

__all__ = [
    "YOU",
    "PASS_FAIL_FEATURES",
    "make_pass_fail",
    "make_grades",
    "make_moons",
    "make_circles",
    "make_xor",
    "make_spiral",
    "make_blobs",
    "to_pm1",
    "train_test_split",
    "StandardScaler",
    "standardize",
]

#: The seed material's question: "you" attended 5 lectures and scored 4 marks.
YOU: tuple[float, float] = (5.0, 4.0)
#: Names of the two pass/fail features, in column order.
PASS_FAIL_FEATURES: tuple[str, str] = ("lectures attended", "last exam score")

Dataset = tuple[list[list[float]], list[Any]]


#: The most rows a generator makes: more is surely a typo, and would exhaust the memory.
MAX_ROWS = 10_000_000


def _check_n(n: object, what: str = "n") -> int:
    """A positive whole number (an int or integer-like such as ``np.int64``), not a bool."""
    return args.whole(n, what, low=1, high=MAX_ROWS)


def _rng(seed: object) -> random.Random:
    if seed is None:  # (args.rng would take None as "the global random": data stays seeded)
        raise TypeError("seed must be an int, got None")
    return args.rng(seed)


def _check_noise(noise: object, what: str = "noise") -> float:
    # a standard normal draw stays below ~8.6, so noise <= 1e300 keeps every point finite
    f = args.number(noise, what, finite=False)
    if not 0 <= f <= 1e300:  # (False for NaN)
        raise ValueError(f"{what} must be a number from 0 to 1e300, got {args.short(noise)}")
    return f


def _students(n: int, rng: random.Random) -> list[list[float]]:
    return [[float(rng.randint(0, 10)), rng.randint(0, 16) / 2.0] for _ in range(n)]


def make_pass_fail(n: int = 100, noise: float = 1.0, seed: int = 0) -> Dataset:
    """``n`` students ``[lectures, marks]`` with label 1 (pass) or 0 (fail); see module doc.

    ``noise`` is the standard deviation of the readiness noise (0 gives a clean linear rule).
    """
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = _rng(seed)
    X = _students(n, rng)
    y = [1 if 0.6 * lec + 0.8 * marks - 5.5 + rng.gauss(0.0, noise) > 0 else 0
         for lec, marks in X]
    return X, y


def make_grades(n: int = 100, noise: float = 0.5, seed: int = 0) -> Dataset:
    """The regression variant: predict the final grade (0–10) from ``[lectures, marks]``.

    ``grade = clip(1 + 0.35 * lectures + 0.55 * marks + Normal(0, noise), 0, 10)``, rounded to
    one decimal. Train with ``mse_loss`` and a linear output.
    """
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = _rng(seed)
    X = _students(n, rng)
    y = []
    for lec, marks in X:
        g = 1.0 + 0.35 * lec + 0.55 * marks + rng.gauss(0.0, noise)
        y.append(round(min(10.0, max(0.0, g)), 1))
    return X, y


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (as scikit-learn's ``make_moons``), labels 0 and 1.

    Upper moon (label 0): ``(cos t, sin t)``, lower moon (label 1): ``(1 - cos t, 0.5 - sin t)``
    for ``t`` evenly spaced in [0, pi]; Gaussian noise of std ``noise`` is added to both
    coordinates and the examples are shuffled. micrograd's demo uses labels ``2*y - 1``
    (see ``to_pm1``) with the hinge loss.
    """
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = _rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    pts: list[tuple[list[float], int]] = []
    for k in range(n_upper):
        t = math.pi * k / (n_upper - 1) if n_upper > 1 else 0.0
        pts.append(([math.cos(t), math.sin(t)], 0))
    for k in range(n_lower):
        t = math.pi * k / (n_lower - 1) if n_lower > 1 else 0.0
        pts.append(([1.0 - math.cos(t), 0.5 - math.sin(t)], 1))
    rng.shuffle(pts)
    X = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for (a, b), _ in pts]
    return X, [label for _, label in pts]


def make_circles(n: int = 100, noise: float = 0.1, factor: float = 0.5, seed: int = 0
                 ) -> Dataset:
    """A small circle (label 1, radius ``factor``) inside a big one (label 0, radius 1), as
    scikit-learn's ``make_circles``; Gaussian noise of std ``noise``, examples shuffled."""
    n = _check_n(n)
    noise = _check_noise(noise)
    factor = args.number(factor, "factor", finite=False)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be between 0 and 1 (the inner radius), got {factor!r}")
    rng = _rng(seed)
    n_outer = n // 2
    pts = [([math.cos(t), math.sin(t)], 0) for t in
           (2 * math.pi * k / n_outer for k in range(n_outer))]
    pts += [([factor * math.cos(t), factor * math.sin(t)], 1) for t in
            (2 * math.pi * k / (n - n_outer) for k in range(n - n_outer))]
    rng.shuffle(pts)
    X = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for (a, b), _ in pts]
    return X, [label for _, label in pts]


def make_xor(n: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Points in the square [-1, 1]^2, label 1 where ``x1 * x2 > 0`` (the quadrants of XOR),
    each coordinate moved by Gaussian noise of std ``noise`` after labelling."""
    n = _check_n(n)
    noise = _check_noise(noise)
    rng = _rng(seed)
    X, y = [], []
    for _ in range(n):
        a, b = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        y.append(1 if a * b > 0 else 0)
        X.append([a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)])
    return X, y


def make_spiral(n_per_class: int = 50, classes: int = 3, noise: float = 0.2,
                seed: int = 0) -> Dataset:
    """``classes`` interleaved spiral arms (CS231n's classic), labels ``0 .. classes-1``.

    Arm ``c``: radius ``r`` from 0 to 1, angle ``4 c + 4 r`` plus Gaussian noise of std
    ``noise``; point ``(r sin a, r cos a)``. Not linearly separable: needs hidden layers.
    """
    n_per_class = _check_n(n_per_class, "n_per_class")
    classes = _check_n(classes, "classes")
    _check_n(n_per_class * classes, "n_per_class * classes")
    noise = _check_noise(noise)
    rng = _rng(seed)
    pts: list[tuple[list[float], int]] = []
    for c in range(classes):
        for k in range(n_per_class):
            r = k / (n_per_class - 1) if n_per_class > 1 else 0.0
            a = 4.0 * c + 4.0 * r + rng.gauss(0.0, noise)
            pts.append(([r * math.sin(a), r * math.cos(a)], c))
    rng.shuffle(pts)
    return [p for p, _ in pts], [c for _, c in pts]


def make_blobs(n: int = 150, centers: int = 3, std: float = 0.5, seed: int = 0) -> Dataset:
    """Gaussian blobs in 2-D around ``centers`` points spread on a circle of radius 2.

    Labels ``0 .. centers-1``, ``n`` points in total, dealt round-robin to the blobs.
    """
    n = _check_n(n)
    centers = _check_n(centers, "centers")
    std = _check_noise(std, "std")
    rng = _rng(seed)
    X: list[list[float]] = []
    y: list[int] = []
    for i in range(n):
        c = i % centers
        angle = 2.0 * math.pi * c / centers
        X.append([2.0 * math.cos(angle) + rng.gauss(0.0, std),
                  2.0 * math.sin(angle) + rng.gauss(0.0, std)])
        y.append(c)
    order = list(range(n))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def _sequence(x: Any, what: str) -> Sequence[Any]:
    """``x`` as an indexable sequence (a NumPy array as its list), or a clear TypeError.
    Its length is asked before anything is read: ``range(10**18)`` is a ValueError."""
    x = args.plain(x, what, MAX_ROWS * 1000)  # (rows of up to 1000 features)
    if (isinstance(x, (str, bytes, Mapping, Set)) or not isinstance(x, Sequence)):
        raise TypeError(
            f"{what} must be a list (or tuple, or NumPy array), got {type(x).__name__} "
            f"{args.short(x)}"
        )
    args.at_most(x, what, MAX_ROWS, "rows")
    return x


def to_pm1(y: Sequence[Any]) -> list[int]:
    """0/1 labels as -1/+1 (``2*y - 1``), for ``hinge_loss`` and tanh outputs."""
    out = []
    for i, v in enumerate(_sequence(y, "to_pm1: the labels y")):
        v = args.scalar(v, f"to_pm1: label {i}")
        if not isinstance(v, Real) or v not in (0, 1):
            raise ValueError(f"to_pm1: label {i} is {args.short(v)}; expected 0 or 1")
        out.append(2 * int(v) - 1)
    return out


def train_test_split(X: Sequence[Any], y: Sequence[Any], test_fraction: float = 0.25,
                     seed: int = 0) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Shuffle and split into ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    The test set gets ``round(len(X) * test_fraction)`` rows, at least one; a split that would
    leave either set empty is a ``ValueError``.
    """
    X = _sequence(X, "train_test_split: X")
    y = _sequence(y, "train_test_split: y")
    if len(X) != len(y):
        raise ValueError(f"train_test_split: {len(X)} rows in X but {len(y)} labels in y")
    fraction = args.number(test_fraction, "test_fraction", finite=False)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got "
                         f"{args.short(test_fraction)}")
    rng = _rng(seed)
    n = len(X)
    if n < 2:
        raise ValueError(f"train_test_split needs at least 2 rows (one to train on, one to "
                         f"test), got {n}")
    n_test = max(1, round(n * fraction))
    if n_test >= n:
        raise ValueError(
            f"train_test_split: {n} row(s) with test_fraction={fraction} leave "
            f"{n - n_test} for training; a model needs training data. Use more rows or a "
            "smaller test_fraction"
        )
    order = list(range(n))
    rng.shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return ([X[i] for i in train], [X[i] for i in test], [y[i] for i in train],
            [y[i] for i in test])


def _mean_std(column: Sequence[float]) -> tuple[float, float]:
    """Mean and population std of finite numbers, without overflow (a column of 1e308).

    The numbers are first scaled by a power of two into (-1, 1), which is exact, so the sum
    and the squares cannot overflow; mean and std are scaled back the same way.
    """
    biggest = max(abs(v) for v in column)
    if biggest == 0.0:
        return 0.0, 0.0
    e = math.frexp(biggest)[1]  # biggest < 2**e
    scaled = [math.ldexp(v, -e) for v in column]
    mean = math.fsum(scaled) / len(scaled)
    var = math.fsum((v - mean) ** 2 for v in scaled) / len(scaled)
    return math.ldexp(mean, e), math.ldexp(math.sqrt(var), e)


def _finite_number(v: Any, where: str) -> float:
    """``v`` as a finite float, or a clear error naming where it is."""
    v = args.scalar(v, where)
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f"{where} holds {type(v).__name__} {args.short(v)}, not a number")
    try:
        f = float(v)
    except OverflowError:  # an int beyond the largest float
        raise ValueError(f"{where} holds an int of {args.digits(v):,} digits, too large "
                         "for a float") from None
    if not -math.inf < f < math.inf:
        raise ValueError(
            f"{where} is {f}; features must be finite numbers (remove or fill in missing "
            "values first)"
        )
    return f


class StandardScaler:
    """Standardize features: ``x' = (x - mean) / std`` per column, fitted on training data.

    ``fit(X_train)`` learns each column's mean and (population) standard deviation; then
    ``transform`` applies the *same* shift and scale to any rows, e.g. the query point, so the
    model sees it on the scale it was trained on. A constant column gets std 1. NaN and
    infinite features are refused (``ValueError``), and so is a result beyond the float range
    (``OverflowError``); columns near the float limit (1e308) are handled exactly.
    """

    def __init__(self) -> None:
        self.mean: list[float] | None = None
        self.std: list[float] | None = None

    def fit(self, X: Sequence[Sequence[float]]) -> StandardScaler:
        rows = _rows(X, "StandardScaler.fit")
        stats = [_mean_std([r[j] for r in rows]) for j in range(len(rows[0]))]
        self.mean = [m for m, _ in stats]
        self.std = [s if s > 0.0 else 1.0 for _, s in stats]
        return self

    def _check(self, row: Sequence[float], what: str) -> list[float]:
        if self.mean is None or self.std is None:
            raise RuntimeError("StandardScaler: call fit(X_train) before transform")
        row = args.plain(row, what)
        if isinstance(row, (str, bytes, Mapping, Set)) or not isinstance(row, Sequence):
            raise TypeError(
                f"{what} must be a list of {len(self.mean)} numbers, got {type(row).__name__} "
                f"{args.short(row)}"
            )
        if len(row) != len(self.mean):
            raise ValueError(
                f"{what} has {len(row)} features, the scaler was fitted on {len(self.mean)}"
            )
        return [_finite_number(v, f"{what}, column {j}") for j, v in enumerate(row)]

    def transform_one(self, row: Sequence[float], what: str = "the row") -> list[float]:
        """One row (e.g. ``YOU``) scaled: ``[(x_j - mean_j) / std_j for each column j]``."""
        r = self._check(row, what)
        assert self.mean is not None and self.std is not None
        out = []
        for j, (v, m, s) in enumerate(zip(r, self.mean, self.std)):
            d = v - m
            # v - m overflows only when both are near the float limit: halve both first
            z = d / s if -math.inf < d < math.inf else (v * 0.5 - m * 0.5) / s * 2.0
            out.append(_in_range(z, what, j, f"{v!r} is too far from the training mean {m!r} "
                                 f"(std {s!r})"))
        return out

    def transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """Every row scaled with the fitted mean and std."""
        rows = _sequence(X, "transform: X (a list of rows)")
        return [self.transform_one(row, f"row {i}") for i, row in enumerate(rows)]

    def fit_transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        return self.fit(X).transform(X)

    def inverse_transform_one(self, row: Sequence[float], what: str = "the row") -> list[float]:
        """Undo the scaling: ``x = x' * std + mean``."""
        r = self._check(row, what)
        assert self.mean is not None and self.std is not None
        out = []
        for j, (v, m, s) in enumerate(zip(r, self.mean, self.std)):
            x = v * s + m
            if not -math.inf < x < math.inf:  # v * s may overflow where the sum does not
                x = (v * (s * 0.5) + m * 0.5) * 2.0
            out.append(_in_range(x, what, j, f"{v!r} standard deviations from the mean is "
                                 "beyond the float range"))
        return out

    def inverse_transform(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        rows = _sequence(X, "inverse_transform: X (a list of rows)")
        return [self.inverse_transform_one(row, f"row {i}") for i, row in enumerate(rows)]

    def __repr__(self) -> str:
        if self.mean is None or self.std is None:
            return "StandardScaler(not fitted)"
        m = ", ".join(f"{v:.4g}" for v in self.mean)
        s = ", ".join(f"{v:.4g}" for v in self.std)
        return f"StandardScaler(mean=[{m}], std=[{s}])"


def _in_range(x: float, what: str, j: int, why: str) -> float:
    if -math.inf < x < math.inf:
        return x
    raise OverflowError(f"{what}, column {j}: the result overflows a float: {why}")


def _rows(X: Any, what: str) -> list[list[float]]:
    X = args.plain(X, what, MAX_ROWS * 1000)
    if isinstance(X, (str, bytes, Mapping, Set)) or not isinstance(X, Sequence) or not X:
        raise ValueError(f"{what} needs a non-empty list of rows (lists of numbers)")
    X = _sequence(X, what)
    rows = []
    d = None
    for i, row in enumerate(X):
        if isinstance(row, (str, bytes, Mapping, Set)) or not isinstance(row, Sequence):
            raise TypeError(f"{what}: row {i} must be a list of numbers, got {args.short(row)}")
        if d is None:
            d = len(row)
            if d == 0:
                raise ValueError(f"{what}: row 0 is empty; rows need at least one feature")
        elif len(row) != d:
            raise ValueError(f"{what}: row {i} has {len(row)} features, row 0 has {d}")
        rows.append([_finite_number(v, f"{what}: row {i}, column {j}")
                     for j, v in enumerate(row)])
    return rows


def standardize(X_train: Sequence[Sequence[float]]) -> tuple[list[list[float]], StandardScaler]:
    """Fit a ``StandardScaler`` on ``X_train``; return the scaled rows and the scaler.

    >>> X, y = make_pass_fail(seed=0)
    >>> Xs, scaler = standardize(X)
    >>> you = scaler.transform_one(YOU)   # the query on the training data's scale
    """
    scaler = StandardScaler()
    return scaler.fit_transform(X_train), scaler
