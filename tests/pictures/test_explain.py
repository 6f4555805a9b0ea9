"""explain(node): the chain-rule step of one node, with hand-computed numbers for every op.

The numbers are the engine's local derivatives and the formulas its rules read on names, so
these tests also pin how each rule reads (tanh's ``1.0 - out*out`` is ``1 - o·o``)."""

from __future__ import annotations

import inspect
import math
import re

import pytest

from tinygrad_edu import Function, Value, backward_steps, engine, linear
from tinygrad_edu.explain import Names, explain, explain_forward, printable


def named(node: Value, label: str, grad: float = 1.0) -> Value:
    node.label = label
    node.grad = grad
    return node


def lines(node: Value) -> list[str]:
    return explain(node).split("\n")


# ---------------------------------------------------------------------------------------------
# One op at a time: formula, number, product (all by hand)
# ---------------------------------------------------------------------------------------------
def test_mul_is_the_api_example():
    x1, w1 = Value(2.0, "x1"), Value(-3.0, "w1")
    p = named(w1 * x1, "p", 0.5)
    # d(w1*x1)/dw1 = x1 = 2, times p.grad 0.5 = 1; d/dx1 = w1 = -3, times 0.5 = -1.5
    assert lines(p) == [
        "w1.grad += p.grad × x1 = 0.5 × 2 = 1",
        "x1.grad += p.grad × w1 = 0.5 × (-3) = -1.5",
    ]


def test_add_and_sub():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = named(a + b, "c", 0.5)
    assert lines(c) == ["a.grad += c.grad × 1 = 0.5 × 1 = 0.5",
                        "b.grad += c.grad × 1 = 0.5 × 1 = 0.5"]
    d = named(a - b, "d", 0.5)
    assert lines(d) == ["a.grad += d.grad × 1 = 0.5 × 1 = 0.5",
                        "b.grad += d.grad × (-1) = 0.5 × (-1) = -0.5"]


def test_div():
    a, b = Value(3.0, "a"), Value(2.0, "b")
    q = named(a / b, "q", 2.0)
    # d(a/b)/da = 1/b = 0.5; d/db = -a/b^2 = -(a/b)/b = -(q/b) = -3/4 (the rule's order)
    assert lines(q) == ["a.grad += q.grad × 1/b = 2 × 0.5 = 1",
                        "b.grad += q.grad × (-(q/b)) = 2 × (-0.75) = -1.5"]


def test_neg():
    a = Value(2.0, "a")
    n = named(-a, "n", 3.0)
    assert lines(n) == ["a.grad += n.grad × (-1) = 3 × (-1) = -3"]


@pytest.mark.parametrize(
    ("base", "k", "formula", "local"),
    [
        (3.0, 2, "2·a", "6"),  # 2 * 3
        (3.0, 3, "3·a^2", "27"),  # 3 * 3^2
        (4.0, 0.5, "0.5·a^-0.5", "0.25"),  # 0.5 / sqrt(4)
        (2.0, -1, "(-1·a^-2)", "(-0.25)"),  # -1 / 2^2
        (5.0, 1, "1", "1"),
        (5.0, 0, "0", "0"),
    ],
)
def test_pow(base, k, formula, local):
    a = Value(base, "a")
    p = named(a**k, "p")
    number = local.strip("()")
    assert lines(p) == [f"a.grad += p.grad × {formula} = 1 × {local} = {number}"]


def test_rpow():
    a = Value(3.0, "a")
    p = named(2**a, "p")
    # d(2^a)/da = 2^a ln 2 = p·log(2) = 8 * 0.693147 = 5.545
    assert lines(p) == ["a.grad += p.grad × p·log(2) = 1 × 5.545 = 5.545"]


def test_exp_log():
    a = Value(1.0, "a")
    e = named(a.exp(), "e", 2.0)  # d e^a / da = e^a: the output itself
    assert lines(e) == ["a.grad += e.grad × e = 2 × 2.718 = 5.437"]
    b = Value(4.0, "b")
    ln = named(b.log(), "l")
    assert lines(ln) == ["b.grad += l.grad × 1/b = 1 × 0.25 = 0.25"]


def test_tanh_of_the_lecture_neuron():
    n = Value(0.8813735870195432, "n")
    o = named(n.tanh(), "o")  # o = 1/sqrt(2), 1 - o^2 = 0.5
    assert lines(o) == ["n.grad += o.grad × (1 - o·o) = 1 × 0.5 = 0.5"]


def test_sigmoid_and_relu():
    a = Value(0.0, "a")
    s = named(a.sigmoid(), "s")  # s = 0.5, s(1 - s) = 0.25
    assert lines(s) == ["a.grad += s.grad × s·(1 - s) = 1 × 0.25 = 0.25"]
    pos, neg = Value(2.0, "p"), Value(-1.0, "m")
    assert lines(named(pos.relu(), "r")) == ["p.grad += r.grad × 1 (since p > 0) = 1 × 1 = 1"]
    assert lines(named(neg.relu(), "r")) == ["m.grad += r.grad × 0 (since m ≤ 0) = 1 × 0 = 0"]


def test_linear_has_a_line_per_weight_and_input():
    w = [Value(0.5, "w0"), Value(-2.0, "w1")]
    x = [Value(1.0, "x0"), Value(3.0, "x1")]
    z = named(linear(w, x, Value(0.25, "b")), "z", 2.0)
    assert lines(z) == [
        "b.grad += z.grad × 1 = 2 × 1 = 2",
        "w0.grad += z.grad × x0 = 2 × 1 = 2",
        "x0.grad += z.grad × w0 = 2 × 0.5 = 1",
        "w1.grad += z.grad × x1 = 2 × 3 = 6",
        "x1.grad += z.grad × w1 = 2 × (-2) = -4",
    ]


def test_a_relu_neuron_as_one_node_says_whether_it_fired():
    """relu(b + w0 x0 + w1 x1) with w = (0.5, -2), x = (1, 3): z = b - 5.5."""
    w = [Value(0.5, "w0"), Value(-2.0, "w1")]
    x = [Value(1.0, "x0"), Value(3.0, "x1")]
    on = named(linear(w, x, Value(6.5, "b"), relu=True), "h", 2.0)  # z = 1
    assert explain_forward(on) == "h = relu(b + w0·x0 + w1·x1) = relu(6.5 + 0.5·1 + (-2)·3) = 1"
    assert lines(on) == [
        "b.grad += h.grad × 1 = 2 × 1 = 2",
        "w0.grad += h.grad × x0 = 2 × 1 = 2",
        "x0.grad += h.grad × w0 = 2 × 0.5 = 1",
        "w1.grad += h.grad × x1 = 2 × 3 = 6",
        "x1.grad += h.grad × w1 = 2 × (-2) = -4",
        "(h = relu(z), z = b + Σ w·x = 1: z > 0, so relu passes the gradient on and these are "
        "the sum's local derivatives)",
    ]
    off = named(linear(w, x, Value(0.25, "b"), relu=True), "h", 2.0)  # z = -5.25
    assert off.data == 0.0
    assert lines(off) == [
        "b.grad += h.grad × 0 = 2 × 0 = 0",
        "w0.grad += h.grad × 0 = 2 × 0 = 0",
        "x0.grad += h.grad × 0 = 2 × 0 = 0",
        "w1.grad += h.grad × 0 = 2 × 0 = 0",
        "x1.grad += h.grad × 0 = 2 × 0 = 0",
        "(h = relu(z), z = b + Σ w·x = -5.25: z ≤ 0, relu did not fire: every local derivative "
        "is 0)",
    ]
    wide = named(linear([Value(0.1)] * 10, [Value(1.0)] * 10, Value(-2.0, "b"), relu=True), "h")
    assert explain_forward(wide).startswith("h = relu(b + Σ w[i]·x[i] over 10 inputs) = relu(-2 + ")
    assert len(lines(wide)) == 9 and lines(wide)[-1].startswith("(h = relu(z), z = b + Σ w·x = -1")


def test_wide_linear_is_summarised():
    w = [Value(0.1 * (i + 1), f"w{i}") for i in range(10)]
    x = [Value(float(i), f"x{i}") for i in range(10)]
    z = named(linear(w, x, Value(0.0, "b")), "z")
    text = lines(z)
    assert len(text) == 8  # b, (w0, x0), (w1, x1), the summary, (w9, x9)
    assert text[0] == "b.grad += z.grad × 1 = 1 × 1 = 1"
    assert text[1] == "w0.grad += z.grad × x0 = 1 × 0 = 0"
    assert text[4] == "x1.grad += z.grad × w1 = 1 × 0.2 = 0.2"
    assert text[5].startswith("… 7 more weights and inputs")
    assert text[6] == "w9.grad += z.grad × x9 = 1 × 9 = 9"
    assert text[7] == "x9.grad += z.grad × w9 = 1 × 1 = 1"


def test_leaf_says_it_is_a_leaf():
    x = Value(2.0, "x")
    x.grad = -1.5
    assert explain(x) == ("x is a leaf: it has no inputs, so it passes nothing on "
                          "(x.grad = -1.5 is final)")


def test_unlabelled_nodes_are_named_by_op_and_constants_by_value():
    a, b = Value(2.0, "a"), Value(5.0, "b")
    prod = a * b  # unlabelled: "a·b"
    out = named(prod * 3, "out")  # 3 is an unlabelled constant leaf
    assert lines(out) == [
        "(a·b).grad += out.grad × 3 = 1 × 3 = 3",
        "(3) is a number written into the formula: it gets no grad",  # as PyTorch
    ]
    prod.grad = 3.0
    assert lines(prod) == ["a.grad += (a·b).grad × b = 3 × 5 = 15",
                           "b.grad += (a·b).grad × a = 3 × 2 = 6"]


def test_long_unlabelled_results_get_letters_no_label_uses():
    """The README neuron, unlabelled: x1·w1 + x2·w2 + b is too long a name: n (as in the
    lecture); o = tanh(n). A label "n" in the graph makes it m."""
    x1, x2, w1, w2 = Value(2.0, "x1"), Value(0.0, "x2"), Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    names = Names(o)
    n = o.children[0]
    assert [names[v] for v in (n.children[0], n, o)] == ["x1·w1 + x2·w2", "n", "tanh(n)"]
    o.backward()
    assert lines(n) == ["(x1·w1 + x2·w2).grad += n.grad × 1 = 0.5 × 1 = 0.5",
                        "b.grad += n.grad × 1 = 0.5 × 1 = 0.5"]
    assert explain_forward(n) == "n = x1·w1 + x2·w2 + b = -6 + 6.881 = 0.8814"
    assert explain_forward(o) == "tanh(n) = tanh(0.8814) = 0.7071"
    x1.label = "n"
    assert Names(o)[n] == "m"


def test_a_value_used_twice_gets_two_lines():
    x = Value(3.0, "x")
    y = named(x * x, "y")
    assert lines(y) == ["x.grad += y.grad × x = 1 × 3 = 3"] * 2  # adds up to 2x = 6


def test_bad_input():
    with pytest.raises(TypeError, match="explain needs a Value"):
        explain(3.0)
    with pytest.raises(TypeError, match="explain_forward needs a Value"):
        explain_forward([Value(1.0)])


# ---------------------------------------------------------------------------------------------
# The explanations add up to backward()'s grads
# ---------------------------------------------------------------------------------------------
def contributions(root: Value) -> dict[str, float]:
    """Run backward_steps and add up the numbers that explain's lines say are added."""
    total: dict[str, float] = {}
    for node in backward_steps(root):
        for line in explain(node).split("\n"):
            m = re.match(r"(.+)\.grad \+= .* = (\S+)$", line)
            if m:
                total[m.group(1)] = total.get(m.group(1), 0.0) + float(m.group(2))
    return total


def test_lines_add_up_to_the_gradients():
    a, b, c, f = Value(3.0, "a"), Value(-2.0, "b"), Value(5.0, "c"), Value(-1.5, "f")
    y = ((a * b + c) * f).tanh() + (c / a**2).log() - b.sigmoid() + a.relu() * (f / 2).exp()
    y.label = "y"
    total = contributions(y)
    for leaf in (a, b, c, f):
        # 4 significant digits per line
        assert math.isclose(total[leaf.label], leaf.grad, rel_tol=2e-3, abs_tol=1e-4), leaf.label


# ---------------------------------------------------------------------------------------------
# Forward explanations
# ---------------------------------------------------------------------------------------------
def test_forward_explanations():
    x1, w1, b = Value(2.0, "x1"), Value(-3.0, "w1"), Value(6.8813735870195432, "b")
    s = named(x1 * w1, "s")
    n = named(s + b, "n")
    o = named(n.tanh(), "o")
    assert explain_forward(s) == "s = x1·w1 = 2·(-3) = -6"
    assert explain_forward(n) == "n = s + b = -6 + 6.881 = 0.8814"
    assert explain_forward(o) == "o = tanh(n) = tanh(0.8814) = 0.7071"
    assert explain_forward(x1) == "x1 = 2 is a leaf: its value is given, not computed"
    z = named(linear([Value(0.5, "w0"), Value(-2.0, "w1")], [Value(1.0, "x0"), Value(3.0, "x1")],
                     Value(0.25, "b")), "z")
    assert explain_forward(z) == "z = b + w0·x0 + w1·x1 = 0.25 + 0.5·1 + (-2)·3 = -5.25"
    r = named(Value(-1.0, "m").relu(), "r")
    assert explain_forward(r) == "r = relu(m) = relu(-1) = 0"
    p = named(Value(3.0, "a") ** 2, "p")
    assert explain_forward(p) == "p = a^2 = 3^2 = 9"


# ---------------------------------------------------------------------------------------------
# Labels a user can type
# ---------------------------------------------------------------------------------------------
def test_control_characters_in_labels_are_shown_as_escapes():
    assert printable("x1") == "x1"
    assert printable("\n") == "\\n"
    assert printable("a\tb\r") == "a\\tb\\r"
    assert printable("\x01") == "\\x01"
    assert printable("]]") == "]]"
    x = Value(2.0, "\n")
    y = named(x * 2, "line\nbreak")
    text = explain(y)
    assert text.count("\n") == 1  # still one line per input
    assert text.startswith("\\n.grad += line\\nbreak.grad × 2 = 1 × 2 = 2")


def test_exported_as_tinygrad_edu_explain():
    import tinygrad_edu

    assert tinygrad_edu.explain is explain
    assert "explain" in tinygrad_edu.__all__


def test_sin_cos_abs():
    u = Value(1.0, "u")
    assert lines(named(u.sin(), "s")) == ["u.grad += s.grad × cos(u) = 1 × 0.5403 = 0.5403"]
    assert lines(named(u.cos(), "c")) == [
        "u.grad += c.grad × (-sin(u)) = 1 × (-0.8415) = -0.8415"]
    v = Value(-2.0, "v")
    assert lines(named(abs(v), "m", 3.0)) == ["v.grad += m.grad × sign(v) = 3 × (-1) = -3"]
    assert explain_forward(named(abs(v), "m")) == "m = |v| = |-2| = 2"


class Mul3(Function):
    """3ab, as a torch-style Function: its backward computes on numbers, so no formula."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return 3.0 * a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_values
        return 3.0 * b * grad, 3.0 * a * grad


def test_function_ops_show_the_engines_numbers(monkeypatch):
    """A Function op: the numbers are engine.local_derivatives' (its backward at grad 1)."""
    a, b = Value(2.0, "a"), Value(5.0, "b")
    z = named(Mul3.apply(a, b), "z", 2.0)
    assert lines(z) == ["a.grad += z.grad × ∂z/∂a = 2 × 15 = 30",
                        "b.grad += z.grad × ∂z/∂b = 2 × 6 = 12"]
    assert explain_forward(z) == "z = Mul3(a, b) = Mul3(2, 5) = 30"
    # the numbers come from the engine, nowhere else: change them there, the text follows
    monkeypatch.setattr(engine, "local_derivatives", lambda node: (7.0, -1.0))
    assert lines(z) == ["a.grad += z.grad × ∂z/∂a = 2 × 7 = 14",
                        "b.grad += z.grad × ∂z/∂b = 2 × (-1) = -2"]

    def broken(node):
        raise RuntimeError("no rule")

    monkeypatch.setattr(engine, "local_derivatives", broken)
    assert "local derivative unknown" in explain(z)


def test_rule_ops_take_their_numbers_from_the_engine_too(monkeypatch):
    """Even for a built-in op the numbers are the engine's: only the formula is the rule's."""
    x1, w1 = Value(2.0, "x1"), Value(-3.0, "w1")
    p = named(x1 * w1, "p", 0.5)
    monkeypatch.setattr(engine, "local_derivatives", lambda node: (10.0, 20.0))
    assert lines(p) == ["x1.grad += p.grad × w1 = 0.5 × 10 = 5",
                        "w1.grad += p.grad × x1 = 0.5 × 20 = 10"]


def test_a_rule_added_at_run_time_is_read_as_a_formula(monkeypatch):
    """An op added to engine.RULES: explain reads its rule like a built-in one."""
    monkeypatch.setitem(engine.RULES, "cube", lambda out, m=engine.Math: (
        3.0 * out.children[0].data * out.children[0].data,))
    a = Value(2.0, "a")
    c = named(Value(8.0, (a,), "cube"), "c", 0.5)
    assert lines(c) == ["a.grad += c.grad × 3·a·a = 0.5 × 12 = 6"]


def test_a_rule_that_branches_is_read_at_the_nodes_numbers(monkeypatch):
    """A rule with an ``if`` on a number has no formula for code, but explain shows one node
    at its numbers: the branch taken there. ``()`` reads as 0 for every input."""
    monkeypatch.setitem(engine.RULES, "sq_or_neg", lambda out, m=engine.Math: (
        2.0 * out.children[0].data if out.children[0].data > 0 else -1.0,))
    monkeypatch.setitem(engine.RULES, "quiet", lambda out, m=engine.Math: (
        () if out.data < 1 else (out.data,)))
    a = Value(1.5, "a")
    assert lines(named(Value(2.25, (a,), "sq_or_neg"), "s", 2.0)) == [
        "a.grad += s.grad × 2·a = 2 × 3 = 6"]
    b = Value(-1.0, "b")
    assert lines(named(Value(1.0, (b,), "sq_or_neg"), "s", 2.0))[0].endswith("= 2 × (-1) = -2")
    assert lines(named(Value(0.5, (a, b), "quiet"), "q", 2.0)) == [
        "a.grad += q.grad × 0 = 2 × 0 = 0", "b.grad += q.grad × 0 = 2 × 0 = 0"]


def test_a_micrograd_closure_says_its_derivatives_were_observed():
    """out._backward = fn: no rule to read; running the closure gives the numbers."""
    a = Value(3.0, "a")
    out = Value(a.data**2, (a,), "square")

    def _backward():
        a.grad += 2 * a.data * out.grad

    out._backward = _backward
    named(out, "s", 0.5)
    assert lines(out) == [
        "a.grad += s.grad × ∂s/∂a = 0.5 × 6 = 3",
        "(s's local derivatives were observed by running its _backward, a micrograd closure)",
    ]
    assert a.grad == 0.0 and out.grad == 0.5  # observing put every grad back


def test_explain_knows_no_derivative_of_its_own():
    """The module holds no table of formulas or values per op (they were written twice)."""
    import tinygrad_edu.explain as module

    source = inspect.getsource(module)
    for op in ("tanh", "sigmoid", "exp", "sin", "cos", "relu", "log"):
        assert not re.search(rf'["\']{op}["\']\s*:', source), op  # no {"tanh": ...} entry
    assert "_NEW_FORMULAS" not in source and "_NEW_VALUES" not in source


def test_printable_needs_a_str():
    with pytest.raises(TypeError, match="printable needs a str"):
        printable(Value(1.0))
