"""``Module``: the base of every model: parameters, gradients, calling, saving.

``parameters()`` and ``state_dict()`` come from one walk over a module's attributes (Values,
sub-modules, lists and dicts of them), as PyTorch registers them, so they always agree.

``state_dict()`` uses PyTorch's key names: a layer's weights are ``"weight"``, a list of
``nout`` rows of ``nin`` numbers (row j holds the weights of neuron j), its biases ``"bias"``, a
list of ``nout`` numbers; a model prefixes them with the attribute path, e.g.
``"layers.0.weight"``. A single ``Neuron`` has ``"weight"`` (``nin`` numbers) and ``"bias"``
(one number). The dict holds plain floats, so ``json.dumps``/``json.loads`` round-trips it
exactly. A tied Value, held in two places, is one parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

from tinygrad_edu import args
from tinygrad_edu.engine import Value

__all__ = ["Module", "Output"]

#: What a module returns: one ``Value`` for one output, a list of them for several.
Output = Value | list[Value]


# ---------------------------------------------------------------------------------------------
# The one walk over a module's parameters, behind both parameters() and state_dict().
# A slot is (state_dict key, index inside that key's tensor, the Value): a Layer's weight
# w[j][i] is ("weight", (j, i), w), a Neuron's bias ("bias", (), b).
# ---------------------------------------------------------------------------------------------
Slot = tuple[str, tuple[int, ...], Value]


def _tensor_leaves(t: Any, index: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], Value]]:
    """The Values of a (nested) list whose every leaf is a Value, with their index; else []."""
    if isinstance(t, Value):
        return [(index, t)]
    if not isinstance(t, (list, tuple)) or not t:
        return []
    out = []
    for i, e in enumerate(t):
        leaves = _tensor_leaves(e, (*index, i))
        if not leaves:
            return []
        out.extend(leaves)
    return out


_PLAIN = frozenset({int, float, bool, str, type(None)})


def _attribute_slots(key: str, attr: Any, inside: tuple[Module, ...], out: list[Slot]) -> None:
    """Append the parameters held by one attribute value (a Value, a module, lists and dicts
    of them) to ``out``."""
    if type(attr) in _PLAIN:  # most attributes (sizes, flags, names) hold no parameter
        return
    if isinstance(attr, Value):
        out.append((key, (), attr))
    elif isinstance(attr, Module):
        attr._collect(key + ".", inside, out)
    elif isinstance(attr, (list, tuple)):
        leaves = _tensor_leaves(attr)
        if leaves:  # a list (of lists) of Values is one tensor under one key
            out.extend((key, index, v) for index, v in leaves)
        else:  # a mixed list: each element under its position, as torch's ModuleList
            for i, e in enumerate(attr):
                _attribute_slots(f"{key}.{i}", e, inside, out)
    elif isinstance(attr, Mapping):
        for k, e in attr.items():
            _attribute_slots(f"{key}.{k}", e, inside, out)


def _nest(entries: Sequence[tuple[tuple[int, ...], Any]]) -> Any:
    """Items with their index paths (in order) as nested lists: ``[((0,), a), ((1,), b)]`` →
    ``[a, b]``; one item at ``()`` is itself."""
    if len(entries) == 1 and entries[0][0] == ():
        return entries[0][1]
    out: list[Any] = []
    for index, item in entries:
        target = out
        for i in index[:-1]:
            while len(target) <= i:
                target.append([])
            target = target[i]
        target.append(item)
    return out


def _grouped(slots: list[Slot]) -> dict[str, list[tuple[tuple[int, ...], Value]]]:
    groups: dict[str, list[tuple[tuple[int, ...], Value]]] = {}
    for key, index, v in slots:
        groups.setdefault(key, []).append((index, v))
    return groups


# ---------------------------------------------------------------------------------------------
# Reading a state dict back: shapes, numbers, tied parameters.
# ---------------------------------------------------------------------------------------------
def _shape(t: Any) -> tuple[int, ...]:
    """Shape of a tensor of Values: () for a Value, (n,) for a list, (n, m) for rows."""
    if isinstance(t, Value):
        return ()
    return (len(t), *(_shape(t[0]) if len(t) else ()))


def _shape_text(shape: tuple[int, ...]) -> str:
    if not shape:
        return "a single number"
    if len(shape) == 1:
        return f"a list of {shape[0]} numbers"
    return f"{shape[0]} rows of {shape[1]} numbers ({shape[0]}×{shape[1]})"


def _describe(obj: Any) -> str:
    """What a user-supplied state_dict entry looks like, for error messages."""
    if isinstance(obj, Real) and not isinstance(obj, bool):
        return "a single number"
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(e, (list, tuple)) for e in obj):
            lens = sorted({len(e) for e in obj})
            inner = str(lens[0]) if len(lens) == 1 else "/".join(map(str, lens[:5]))
            rows = "row" if len(obj) == 1 else "rows"
            return f"{len(obj)} {rows} of {inner} numbers"
        return f"a list of {len(obj)} entries"
    return f"a {type(obj).__name__}"


def _number(v: Any, key: str) -> float:
    v = args.scalar(v, f"state_dict[{key!r}]")
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(
            f"state_dict[{key!r}] must hold numbers, found {type(v).__name__} {args.short(v)}"
        )
    try:
        f = float(v)
    except OverflowError:  # an int (or fraction) beyond the largest float, ~1.8e308
        f = math.inf
    if not -math.inf < f < math.inf:
        shown = f"an int of {args.digits(v):,} digits" if isinstance(v, Integral) else f
        raise ValueError(
            f"state_dict[{key!r}] holds a non-finite number ({shown}); parameters must be "
            "finite floats (was this state saved from a diverged model?)"
        )
    return f


def _as_nested(given: Any, what: str = "the input") -> Any:
    """A NumPy array or torch tensor entry as nested lists (numbers stay numbers)."""
    return args.plain(given, what)


def _read(target: Any, given: Any, key: str, where: str = "") -> list[tuple[Value, float, str]]:
    """Pair every Value of ``target`` with its number in ``given`` (checking the shape), and
    where it sits (``"[1][0]"``)."""
    given = _as_nested(given, f"state_dict[{key!r}]")
    shape = _shape(target)
    ok = True
    if not shape:
        ok = not isinstance(given, (list, tuple))
    elif len(shape) == 1:
        ok = isinstance(given, (list, tuple)) and len(given) == shape[0]
        ok = ok and not any(isinstance(e, (list, tuple)) for e in given)
    else:
        ok = (
            isinstance(given, (list, tuple))
            and len(given) == shape[0]
            and all(
                isinstance(r, (list, tuple)) and len(r) == len(t) for r, t in zip(given, target)
            )
        )
    if not ok:
        raise ValueError(
            f"state_dict[{key!r}] has the wrong shape: expected {_shape_text(shape)}, "
            f"got {_describe(given)}"
        )
    if not shape:
        return [(target, _number(given, key), where)]
    pairs: list[tuple[Value, float, str]] = []
    for i, (t, g) in enumerate(zip(target, given)):
        pairs.extend(_read(t, g, key, f"{where}[{i}]"))
    return pairs


def _keys_text(keys: Sequence[Any], most: int = 8) -> str:
    """Some keys, quoted, then how many more: a 200,000-key dict gives one short line."""
    shown = ", ".join(args.short(k, 60) for k in keys[:most])
    return shown if len(keys) <= most else f"{shown} and {len(keys) - most:,} more"


class Module:
    """Base class of every model: parameters, gradients, calling and saving.

    Subclasses implement ``forward(x)``. ``parameters()`` and ``state_dict()`` come from one
    walk over the module's attributes that hold ``Value``\\ s and sub-modules (also in lists,
    tuples and dicts), as PyTorch registers them, so they always agree. A ``Value`` held in two
    places (tied weights) is one parameter: listed once by ``parameters()``, saved under both
    keys by ``state_dict()``, as in PyTorch.
    """

    #: Attributes laid out by ``_own_slots`` under their own keys; the generic walk skips them.
    _structured: tuple[str, ...] = ()

    def forward(self, x: Any) -> Output:
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __call__(self, x: Any) -> Output:
        return self.forward(x)

    # ---- the walk ----------------------------------------------------------------------
    def _slots(self) -> list[Slot]:
        """Every parameter slot, in parameter order."""
        out: list[Slot] = []
        self._collect("", (), out)
        return out

    def _collect(self, prefix: str, inside: tuple[Module, ...], out: list[Slot]) -> None:
        """Append this module's slots, keys prefixed; ``inside`` are the enclosing modules."""
        if any(m is self for m in inside):
            raise ValueError(
                f"{type(inside[0]).__name__} contains itself: a {type(self).__name__} holds "
                "one of the modules that hold it, so its parameters have no end. Keep such a "
                "reference under a name starting with '_' (not searched for parameters)"
            )
        inside = (*inside, self)
        self._own_slots(prefix, inside, out)
        self._other_slots(prefix, inside, out)

    def _own_slots(self, prefix: str, inside: tuple[Module, ...], out: list[Slot]) -> None:
        """Slots of the structured attributes (a Neuron's weight and bias, a Layer's rows)."""

    def _other_slots(self, prefix: str, inside: tuple[Module, ...], out: list[Slot]) -> None:
        """Slots of every other public attribute: Values, modules, lists and dicts of them."""
        for name, attr in vars(self).items():
            if not name.startswith("_") and name not in self._structured:
                _attribute_slots(prefix + name, attr, inside, out)

    # ---- parameters --------------------------------------------------------------------
    def parameters(self) -> list[Value]:
        """Every learnable ``Value`` of the module (what an optimizer updates), each once.

        Attributes in the order they were set; a sub-module contributes its own parameters,
        so layers keep micrograd's order (per neuron: weights, then bias) inside any model.
        A tied Value (the same object in two places) is listed once, where first met.
        """
        # a dict keeps the first place of each Value (hashing a Value is by identity)
        return list(dict.fromkeys([v for _, _, v in self._slots()]))

    def num_parameters(self) -> int:
        """How many numbers the model learns (``MLP(2, [16, 16, 1])`` has 337)."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0 (gradients add up until you do)."""
        for p in self.parameters():
            p.grad = 0.0

    # ---- saving ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The parameters as plain floats under PyTorch-style keys (``"layers.0.weight"``).

        JSON-safe: ``load_state_dict(json.loads(json.dumps(m.state_dict())))`` restores the
        exact same floats. A tied Value appears under each of its keys.
        """
        return {
            key: _nest([(index, v.data) for index, v in entries])
            for key, entries in _grouped(self._slots()).items()
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy numbers from ``state`` (as made by ``state_dict()``) into the parameters.

        Every key must be present with the right shape, and no key may be extra; the keys of
        one tied Value must hold the same number. Otherwise a ``ValueError`` names the key.
        Nothing is changed unless the whole dict is valid.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict needs a dict like model.state_dict() returns, got "
                f"{type(state).__name__}"
            )
        tensors = {key: _nest(entries) for key, entries in _grouped(self._slots()).items()}
        missing = [k for k in tensors if k not in state]
        extra = [k for k in state if k not in tensors]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"{len(missing):,} missing key(s) {_keys_text(missing)}")
            if extra:
                parts.append(f"{len(extra):,} unexpected key(s) {_keys_text(extra)}")
            raise ValueError(
                f"state_dict does not fit {args.short(self, 80)}: {'; '.join(parts)}. "
                f"Expected the {len(tensors):,} keys {_keys_text(list(tensors))}"
            )
        pairs: list[tuple[Value, float]] = []
        first: dict[int, tuple[str, float]] = {}  # id of a Value -> (where first met, number)
        for key, t in tensors.items():
            for v, f, index in _read(t, state[key], key):
                place = f"state_dict[{key!r}]{index}"
                if id(v) in first and first[id(v)][1] != f:
                    other, g = first[id(v)]
                    raise ValueError(
                        f"{other} and {place} hold one tied parameter (the same Value) but "
                        f"give it different numbers, {g!r} and {f!r}; make them equal"
                    )
                first.setdefault(id(v), (place, f))
                pairs.append((v, f))
        for p, f in pairs:
            p.data = f
