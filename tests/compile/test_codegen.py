"""The generated code: its names, and where its formulas come from.

Python normalises identifiers (NFKC: ``ﬁ`` is ``fi``, ``a₁`` is ``a1``), so two labels that
differ can be one variable; helper names (``_m``) and gradient names (``g_x``) must not meet
a user's names. Labels reach the code only in comments. The derivatives come from the
engine's rules (``symbolic.formula``): change a rule and the code follows.
"""

from __future__ import annotations

import unicodedata

from tinygrad_edu import Value
from tinygrad_edu.compile import trace
from tinygrad_edu.compile.names import Names, comment


def eager(fn, *inputs):
    args = [Value(x) for x in inputs]
    out = fn(*args)
    out.backward()
    return out.data, [a.grad for a in args]


def identifiers(src: str) -> set[str]:
    import io
    import tokenize

    return {t.string for t in tokenize.generate_tokens(io.StringIO(src).readline)
            if t.type == tokenize.NAME}


def test_labels_equal_after_nfkc_stay_two_variables():
    fn = lambda a, b: a * 2.0 + b * 3.0  # noqa: E731
    traced = trace(fn, Value(1.0, "fi"), Value(5.0, "\ufb01"))
    assert traced(1.0, 5.0) == (17.0, [2.0, 3.0])
    names = identifiers(traced.source)
    assert all(n.isascii() for n in names)
    assert len({unicodedata.normalize("NFKC", n) for n in names}) == len(names)


def test_helper_and_gradient_names_cannot_be_taken_by_user_names():
    def f(gz_t, g_x, _m, x, chk):
        return (gz_t * x).tanh() * g_x + _m * chk

    inputs = (0.3, -0.7, 1.1, 2.0, 0.5)
    traced = trace(f, *inputs)
    assert traced(*inputs) == eager(f, *inputs)
    assert traced(0.1, 0.2, 0.3, 0.4, 0.5) == eager(f, 0.1, 0.2, 0.3, 0.4, 0.5)
    labelled = [Value(v, label) for v, label in zip(inputs, ["_l", "g_a", "a", "_X", "g_"])]
    traced = trace(lambda a, b, c, d, e: a * b + c * d - e * a, *labelled)
    fn = lambda a, b, c, d, e: a * b + c * d - e * a  # noqa: E731
    assert traced(*inputs) == eager(fn, *inputs)


def test_unusual_labels_and_function_names():
    a1 = Value(2.0, "a₁")  # a subscript: a1 after NFKC
    a1b = Value(3.0, "a1")
    weird = Value(-1.0, "x\n# y = 'z'\"\\")  # a label that would break a line or a string
    keyword = Value(0.5, "lambda")

    def 𝐟(p, q, r, s):
        out = p * q + r * s
        out.label = "return None"
        return out

    traced = trace(𝐟, a1, a1b, weird, keyword)
    assert traced(2.0, 3.0, -1.0, 0.5) == (5.5, [3.0, 2.0, 0.5, -1.0])
    src = traced.source
    assert src.startswith("def f(")  # 𝐟 is f after NFKC
    compile(src, "<test>", "exec")
    assert "# 'return None'" in src  # a label shown in a comment, never as code
    traced = trace(lambda v: v * v, Value(1.0, "é" * 300))
    assert traced(3.0) == (9.0, [6.0])


def test_names_are_ascii_unique_and_never_helpers():
    names = Names()
    made = [names.value(h) for h in ["x", "x", "x_2", "ﬁ", "fi", "g_x", "_m", "1st", "if",
                                     "", "∑", "a₁"]]
    assert made == ["x", "x_2", "x_2_2", "fi", "fi_2", "v_g_x", "m", "v_1st", "v_if", "v",
                    "v_2", "a1"]
    assert all(n.isascii() and n.isidentifier() and not n.startswith("_") for n in made)
    assert comment("a\nb") == "'a\\nb'"


def test_the_code_follows_the_engines_rules(monkeypatch):
    """The chain-rule lines are the rule's formula: a different rule, different code."""
    src = trace(lambda a: a.tanh(), 0.5).source
    assert "g_a += g_tanh * (1.0 - tanh * tanh)" in src
    src = trace(lambda a: a.sigmoid() * a.exp(), 0.5).source
    assert "sigmoid * (1.0 - sigmoid)" in src and "g_exp * exp" in src
    src = trace(lambda a, b: a / b, 1.0, 2.0).source
    assert "g_a += g_div * (1.0 / b)" in src and "g_b += g_div * -(div / b)" in src

    def doubled_tanh(out, m=None):  # a (wrong) rule swapped in: the code must follow it
        return (2.0 * (1.0 - out.data * out.data),)

    monkeypatch.setattr(Value, "_d_tanh", doubled_tanh)
    a = Value(0.5)
    t = a.tanh()
    t.backward()
    traced = trace(lambda v: v.tanh(), 0.5)
    assert "g_v += g_tanh * (2.0 * (1.0 - tanh * tanh))" in traced.source
    assert traced(0.5) == (t.data, [a.grad])


def test_a_rule_without_a_formula_runs_at_run_time():
    from tinygrad_edu.engine import RULES, Math

    def branching(out, m=Math):  # decides on a number: no formula, called at run time
        x = out.children[0].data
        return (2.0 * x if x > 0 else -1.0,)

    RULES["sq_or_neg"] = branching
    try:
        def fn(a):
            return Value(a.data * a.data if a.data > 0 else -a.data, (a,), "sq_or_neg") * 3.0

        traced = trace(fn, 1.5)
        assert "_l = _k" in traced.source and "(_node(" in traced.source
        for x in (1.5, 2.0, -1.0):
            assert traced(x) == eager(fn, x)
    finally:
        del RULES["sq_or_neg"]


def test_a_node_whose_gradient_is_zero_passes_nothing_on():
    from tinygrad_edu import linear

    fn = lambda w, x: linear(w[:2], x, w[2]).relu() * 2.0  # noqa: E731
    traced = trace(fn, [0.5, -0.25, 0.1], [1.0, 2.0])
    assert "if g_linear:" in traced.source  # backward() skips a node whose grad is 0
    for w, x in [([0.5, -0.25, 0.1], [1.0, 2.0]), ([-0.5, -0.25, 0.1], [1.0, 2.0])]:
        args = [[Value(v) for v in w], [Value(v) for v in x]]
        out = fn(*args)
        out.backward()
        assert traced(w, x) == (out.data, [[v.grad for v in a] for a in args])
