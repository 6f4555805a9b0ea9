"""Loss functions: how wrong a model's outputs are, as one ``Value`` to call ``backward()`` on.

Every loss is the *empirical loss*, the mean over examples of a per-example loss:

    J = (1/N) * sum_n  loss(pred_n, target_n)

Signature ``loss(preds, targets)``: ``preds`` holds one model output per example (a ``Value``,
or a list of Values for a model with several outputs), ``targets`` the matching plain numbers.
A single example may be passed without the list. The losses are built from the engine's
operations, so ``backward()`` sends gradients through them into the model. The formulas
(and the numbers, in float64) are those of ``torch.nn.functional``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

from tinygrad_edu import args
from tinygrad_edu.engine import Constant, Value, logsumexp

__all__ = [
    "mse_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "softmax",
    "cross_entropy",
    "hinge_loss",
]

_LOG_FLOOR = -100.0  # PyTorch clamps log(p) in binary_cross_entropy to >= -100
_TINY = math.exp(_LOG_FLOOR)  # below this probability, log(p) would be < -100


def _is_number(x: object) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool)


def _flat(preds: Any, targets: Any, name: str) -> tuple[list[Value], list[Any]]:
    """Flatten predictions and targets to matching lists, checking the shapes agree."""
    preds = args.scalar(preds, f"{name}: preds")
    targets = args.scalar(targets, f"{name}: targets")
    if isinstance(preds, Value) or _is_number(preds):
        preds = [preds]
        if not isinstance(targets, (list, tuple)):
            targets = [targets]
    pred_list = _listlike(preds, f"{name}: preds")
    if pred_list is None:
        raise TypeError(
            f"{name}: preds must be a Value or a list of model outputs, got "
            f"{type(preds).__name__} {args.short(preds)}"
        )
    target_list = _listlike(targets, f"{name}: targets")
    if target_list is None:
        raise TypeError(
            f"{name}: targets must be a list of numbers matching preds, got "
            f"{type(targets).__name__} {args.short(targets)}"
        )
    preds, targets = pred_list, target_list
    if len(preds) != len(targets):
        raise ValueError(
            f"{name}: {len(preds):,} predictions but {len(targets):,} targets; "
            "pass one target per model output"
        )
    if not preds:
        raise ValueError(f"{name}: no predictions (empty list); the mean of nothing is undefined")
    flat_p: list[Value] = []
    flat_t: list[Any] = []
    for i, (p, t) in enumerate(zip(preds, targets)):
        if isinstance(p, (list, tuple)):
            if not isinstance(t, (list, tuple)) or len(t) != len(p):
                got = f"{len(t)} targets" if isinstance(t, (list, tuple)) else args.short(t)
                raise ValueError(
                    f"{name}: example {i} has {len(p)} outputs but its target is {got}; "
                    "give one target per output"
                )
            flat_p.extend(_lift(q, name, i) for q in p)
            flat_t.extend(t)
        else:
            if isinstance(t, (list, tuple)):
                raise ValueError(
                    f"{name}: example {i} has one output but its target is a list of {len(t)}"
                )
            flat_p.append(_lift(p, name, i))
            flat_t.append(t)
    return flat_p, flat_t


def _listlike(x: Any, what: str) -> Sequence[Any] | None:
    """``x`` as a sequence (an array or tensor through ``.tolist()``), or None if it is not
    one. Its length is asked before anything is read: more than ``args.MAX_ITEMS`` (a lazy
    ``range(10**18)``) is a ValueError, not a long wait."""
    if getattr(x, "ndim", 0) >= 1:  # NumPy arrays, torch tensors (not 0-d: those are numbers)
        x = args.plain(x, what)
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        return None
    args.at_most(x, what)
    return x


def _lift(p: Any, name: str, i: int) -> Value:
    if isinstance(p, Value):
        return p
    if _is_number(p):
        return Value(p)
    raise TypeError(f"{name}: prediction {i} must be a Value or a number, got {type(p).__name__}")


def _target(t: Any, name: str, i: int) -> float:
    if isinstance(t, Value):
        raise TypeError(
            f"{name}: target {i} is a Value; targets are plain numbers (labels), use .data"
        )
    return args.number(t, f"{name}: target {i}")


def _sum(terms: Sequence[Value]) -> Value:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def _mean(terms: Sequence[Value]) -> Value:
    return _sum(terms) / len(terms) if len(terms) > 1 else terms[0]


# ---------------------------------------------------------------------------------------------
def mse_loss(preds: Any, targets: Any) -> Value:
    """Mean squared error ``(1/N) sum (p_n - y_n)^2`` (regression).

    d/dp_n = 2 (p_n - y_n) / N. Targets may be numbers or, to compare two graphs, Values.
    Same as ``torch.nn.functional.mse_loss``.
    """
    ps, ts = _flat(preds, targets, "mse_loss")
    terms = []
    for i, (p, t) in enumerate(zip(ps, ts)):
        diff = p - (t if isinstance(t, Value) else _target(t, "mse_loss", i))
        terms.append(diff * diff)
    return _mean(terms)


def _clamped_log(p: Value, complement: bool = False) -> Value:
    """log(p), or log(1 - p) with ``complement=True`` (as PyTorch's log1p(-p), so a tiny p is
    not lost), clamped to >= -100 as PyTorch's binary_cross_entropy does (a constant below).
    The branches compare Values, so ``compile`` sees them and guards them."""
    q = 1.0 - p if complement else p
    if q <= _TINY:
        return Constant(_LOG_FLOOR)
    out = (-p).log1p() if complement else p.log()
    return out if out >= _LOG_FLOOR else Constant(_LOG_FLOOR)


def binary_cross_entropy(probs: Any, targets: Any) -> Value:
    """Binary cross-entropy of probabilities: mean of ``-(y log p + (1 - y) log(1 - p))``.

    ``probs`` must lie in [0, 1] (e.g. a sigmoid output), ``targets`` in [0, 1] (labels 0/1).
    Each log is clamped to >= -100 as in ``torch.nn.functional.binary_cross_entropy``, so the
    loss stays finite at p = 0 and p = 1 (at most 100 per example). d/dp = (p - y) / (p (1-p)).

    The gradient is the exact derivative of this clamped loss (0 where a log is clamped, i.e.
    p < e^-100 ≈ 3.7e-44 for y = 1). PyTorch instead divides by max(p (1-p), 1e-12), so the two
    differ where p (1-p) < 1e-12 (p within 1e-12 of 0 or 1); everywhere else they agree.
    """
    name = "binary_cross_entropy"
    ps, ts = _flat(probs, targets, name)
    terms = []
    for i, (p, t) in enumerate(zip(ps, ts)):
        y = _target(t, name, i)
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(
                f"{name}: prediction {i} is {p.data}, not a probability in [0, 1]; apply "
                "sigmoid first, or use binary_cross_entropy_with_logits on raw outputs"
            )
        if not 0.0 <= y <= 1.0:
            raise ValueError(
                f"{name}: target {i} is {y}; targets must be in [0, 1] (labels 0 and 1)"
            )
        terms.append(-(y * _clamped_log(p) + (1.0 - y) * _clamped_log(p, complement=True)))
    return _mean(terms)


def binary_cross_entropy_with_logits(logits: Any, targets: Any) -> Value:
    """Binary cross-entropy of raw scores ``z`` (probability ``sigmoid(z)``), computed stably.

    Per example ``-(y log s(z) + (1-y) log(1 - s(z)))``, which is

        y softplus(-z) + (1 - y) softplus(z),        softplus(z) = log(1 + e^z)

    with ``softplus`` an op that never overflows and keeps a confident prediction's small loss
    (z = 37, y = 1: 8.5e-17, not 0). d/dz = sigmoid(z) - y. Same as
    ``torch.nn.functional.binary_cross_entropy_with_logits`` (to 1e-12 relative).
    """
    name = "binary_cross_entropy_with_logits"
    zs, ts = _flat(logits, targets, name)
    terms = []
    for i, (z, t) in enumerate(zip(zs, ts)):
        y = _target(t, name, i)
        if not 0.0 <= y <= 1.0:
            raise ValueError(
                f"{name}: target {i} is {y}; targets must be in [0, 1] (labels 0 and 1)"
            )
        terms.append(y * (-z).softplus() + (1.0 - y) * z.softplus())
    return _mean(terms)


def _logit_list(logits: Any, name: str) -> list[Value]:
    if isinstance(logits, Value) or _is_number(logits):
        raise TypeError(
            f"{name}: needs a list of scores, one per class, got a single "
            f"{type(logits).__name__}; for one output use binary_cross_entropy_with_logits"
        )
    scores = _listlike(logits, f"{name}: the scores")
    logits = logits if scores is None else scores
    if isinstance(logits, (str, bytes)) or not isinstance(logits, Sequence):
        raise TypeError(
            f"{name}: needs a list of Values (one per class), got {type(logits).__name__} "
            f"{args.short(logits)}"
        )
    if not logits:
        raise ValueError(f"{name}: got an empty list of scores; need one per class")
    return [_lift(v, name, i) for i, v in enumerate(logits)]


def softmax(values: Any) -> list[Value]:
    """``softmax(z)_k = e^(z_k) / sum_j e^(z_j)``: positive numbers that sum to 1.

    Computed as ``e^(z_k - logsumexp(z))`` (no exp can overflow, as ``torch.softmax``).
    Gradients flow through every output.
    """
    zs = _logit_list(values, "softmax")
    lse = logsumexp(zs)
    exps = [(z - lse).exp() for z in zs]
    total = _sum(exps)  # ~1: dividing by it makes the outputs sum to 1 to the last bit
    return [e / total for e in exps]


def _class_index(t: Any, nclasses: int, name: str, i: int | None) -> int:
    where = "target" if i is None else f"target {i}"
    t = args.scalar(t, f"{name}: {where}")
    if isinstance(t, bool) or not isinstance(t, Real) or isinstance(t, Value):
        raise TypeError(
            f"{name}: {where} must be a class index (an int), got {type(t).__name__} "
            f"{args.short(t)}"
        )
    if isinstance(t, Integral):
        k = operator.index(t)  # exact, however many digits
    elif math.isfinite(t) and float(t).is_integer():
        k = int(t)
    else:
        raise TypeError(f"{name}: {where} must be a whole class index, got {args.short(t)}")
    if not 0 <= k < nclasses:
        shown = str(k) if abs(k) < 10**15 else f"an int of {args.digits(k):,} digits"
        raise IndexError(
            f"{name}: {where} is class {shown}, but there are {nclasses} classes "
            f"(valid indices 0 to {nclasses - 1})"
        )
    return k


def _nll_of_softmax(zs: list[Value], k: int) -> Value:
    """``-log softmax(z)_k = logsumexp(z) - z_k``, written as ``logsumexp(z - z_k)``: the same
    number, but a confident prediction's small loss is kept (z = [40, 0], k = 0: 4.2e-18,
    where ``logsumexp(z) - z_k`` rounds to 0). The k-th entry, z_k - z_k, is the constant 0:
    its gradient is 0, and z_k's gradient is then a sum of small numbers, not 1 - 1 + ...)."""
    return logsumexp([z - zs[k] if j != k else Constant(0.0) for j, z in enumerate(zs)])


def cross_entropy(logits: Any, target_index: Any) -> Value:
    """Softmax + negative log-likelihood: ``-log softmax(z)_k = log sum_j e^(z_j) - z_k``.

    One example: ``logits`` a list of class scores, ``target_index`` the correct class (int).
    A batch: a list of such lists and a list of indices; the result is the mean. Uses
    the ``logsumexp`` op (the max taken out first), so it is finite even for scores of +-1000.
    d/dz_j = softmax(z)_j - [j == k]. Same as ``torch.nn.functional.cross_entropy``.
    """
    name = "cross_entropy"
    rows = _listlike(logits, f"{name}: logits")  # arrays: scores, or rows of scores
    logits = logits if rows is None else rows
    batch = (
        isinstance(logits, (list, tuple))
        and len(logits) > 0
        and isinstance(logits[0], (list, tuple))
    )
    if not batch:
        zs = _logit_list(logits, name)
        if isinstance(target_index, (list, tuple)):
            raise TypeError(
                f"{name}: got {len(zs)} single scores but {len(target_index)} targets. One "
                "example is a list of class scores with one index; a batch is a list of score "
                "lists (one per example) with a list of indices. If these are the outputs of a "
                "model with one output, give it one output per class, or use "
                "binary_cross_entropy_with_logits for two classes."
            )
        return _nll_of_softmax(zs, _class_index(target_index, len(zs), name, None))
    indices = _listlike(target_index, f"{name}: targets")
    if indices is None:
        raise TypeError(
            f"{name}: a batch of {len(logits)} examples needs a list of "
            f"{len(logits)} class indices, got {args.short(target_index)}"
        )
    target_index = indices
    if len(logits) != len(target_index):
        raise ValueError(
            f"{name}: {len(logits)} examples but {len(target_index)} targets; they must match"
        )
    terms = []
    for i, (z, t) in enumerate(zip(logits, target_index)):
        zs = _logit_list(z, f"{name} (example {i})")
        terms.append(_nll_of_softmax(zs, _class_index(t, len(zs), name, i)))
    return _mean(terms)


def hinge_loss(scores: Any, targets: Any) -> Value:
    """Max-margin loss of micrograd's demo: mean of ``relu(1 - y * s)`` with labels ``y = ±1``.

    Zero once an example is on the right side with margin ``y s >= 1``; otherwise it pushes
    the score: d/ds = -y where ``1 - y s > 0``, else 0. (For 0/1 labels use ``2*y - 1``, see
    ``tinygrad_edu.data.to_pm1``.)
    """
    name = "hinge_loss"
    ss, ts = _flat(scores, targets, name)
    terms = []
    for i, (s, t) in enumerate(zip(ss, ts)):
        y = _target(t, name, i)
        if y not in (-1.0, 1.0):
            raise ValueError(
                f"{name}: target {i} is {args.short(t)}; hinge loss needs labels -1 and +1 "
                "(convert 0/1 labels with 2*y - 1)"
            )
        terms.append((1.0 - y * s).relu())
    return _mean(terms)
