# ---
# jupyter:
#   jupytext:
#     formats: ipynb,sources//py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # E2. Build your own autograd engine — solution
#
# Everything a neural network library does to learn rests on one small class: a number that
# remembers how it was made, and can send gradients back along the way it came. Here you
# write it yourself, in the shape of Andrej Karpathy's micrograd: `Value` with `+`, `*`,
# `**`, `tanh`, `exp`, and `backward()`.
#
# **How the exercises work.** Each method that says `YOUR CODE HERE` is yours: replace the
# `raise NotImplementedError(...)` line with your code, run the class cell, then run the
# check cell below it. `check_engine(Value)` prints one line per case: ✓ right, ✗ wrong (with
# the number expected, the number yours gave, and a hint), ○ not written yet. You can write
# the methods in any order and check as you go.

# %%
import math

from tinygrad_edu.exercises import check_engine

# %% [markdown]
# ## The shape of an op
#
# An op does three things: compute the result (the *forward* value), remember its inputs,
# and define how to pass a gradient back to them. In code, for some op `f` of `self` and
# `other`:
#
# ```python
# def f(self, other):
#     other = other if isinstance(other, Value) else Value(other)   # 2 -> Value(2)
#     out = Value(<forward value>, (self, other), "f")             # data, inputs, op name
#
#     def _backward():                     # called later, by backward()
#         self.grad += <d out / d self> * out.grad                 # the chain rule
#         other.grad += <d out / d other> * out.grad
#
#     out._backward = _backward            # the result knows how to pass its gradient back
#     return out
# ```
#
# Three details make or break it:
#
# - `+=`, never `=`: a value used twice (`a * a`) gets a gradient from each use, and they add.
# - the **local derivative** of each op, with respect to each input:
#
#   | op | forward | local derivative |
#   |---|---|---|
#   | `a + b` | $a + b$ | $1$ for `a`, $1$ for `b` |
#   | `a * b` | $a b$ | $b$ for `a` (the *other* input), $a$ for `b` |
#   | `a ** k` ($k$ a number) | $a^k$ | $k\,a^{k-1}$ |
#   | `a.tanh()` | $t = \tanh a$ | $1 - t^2$ (uses the output $t$) |
#   | `a.exp()` | $e^a$ | $e^a$ (the output itself) |
#
# - times `out.grad`: the gradient that arrives from above. That product is the chain rule.
#
# Python computes `2 * a` by asking the number `2` first; an `int` knows nothing about
# `Value`, so Python then calls `a.__rmul__(2)`. `__radd__` and `__rmul__` make numbers on
# the left work.
#
# ## backward()
#
# `backward()` on the output `L` fills in `node.grad` = $\partial L / \partial \text{node}$
# for every node of the graph:
#
# 1. List the nodes in **topological order**: each node after all of its inputs
#    (`build_topo` visits a node's inputs first, then appends the node; a `visited` set makes
#    sure each node goes in once).
# 2. Reset the grads of the inner nodes (those with inputs) to 0: leaves keep adding up across
#    calls, as in PyTorch, but an inner node's gradient must start fresh every time. (The
#    lecture's engine skips this step; it matters only when `backward()` runs twice on one
#    graph, and `check_engine` then shows a ○ note instead of a ✓.)
# 3. Seed `self.grad = 1.0` ($\partial L / \partial L = 1$).
# 4. Call `_backward()` of every node in **reversed** topological order: the output first,
#    and a node only after every node that uses it has added its part to the node's grad.

# %%
class Value:
    """A number that remembers how it was made (micrograd's shape)."""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None  # a leaf has no inputs to pass a gradient to
        self._prev = set(_children)
        self._op = _op

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other):
        """self + other; local derivatives 1 and 1."""
        # YOUR CODE HERE
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        """self * other; local derivatives other.data and self.data."""
        # YOUR CODE HERE
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        """self ** k for a number k; local derivative k * self.data ** (k - 1)."""
        # YOUR CODE HERE
        assert isinstance(k, (int, float)), "the exponent must be a number"
        out = Value(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        """tanh(self); local derivative 1 - t**2 with t = out.data."""
        # YOUR CODE HERE
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        """e ** self; local derivative e ** self = out.data."""
        # YOUR CODE HERE
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):
        """other + self, when other is a number (1 + a)."""
        # YOUR CODE HERE
        return self + other

    def __rmul__(self, other):
        """other * self, when other is a number (2 * a)."""
        # YOUR CODE HERE
        return self * other

    # These three are built from the ops above, so they need no _backward of their own.
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other**-1

    def backward(self):
        """Fill in .grad of every node this one depends on: d(self)/d(node)."""
        # YOUR CODE HERE
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        for node in topo:
            if node._prev:  # inner nodes start from 0; leaves keep adding up
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(topo):
            node._backward()


# %%
report = check_engine(Value)

# %% [markdown]
# ## Try it: the lecture's neuron
#
# Two inputs, two weights and a bias, squashed by `tanh`. Once the check passes, your engine
# gives the lecture's numbers: `x1.grad = -1.5`, `w1.grad = 1.0`, `x2.grad = 0.5`,
# `w2.grad = 0.0`.

# %%
if report:
    x1, x2 = Value(2.0), Value(0.0)
    w1, w2 = Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    for name, v in [("o", o), ("x1", x1), ("w1", w1), ("x2", x2), ("w2", w2), ("b", b)]:
        print(f"{name:>2}: data {v.data:8.4f}   grad {v.grad:8.4f}")
    print(f"(by hand: o = tanh(2 * -3 + 0 * 1 + b) = {math.tanh(-6 + 6.8813735870195432):.4f})")
else:
    print("Finish Value first (the check above shows what is left).")

# %% [markdown]
# ## Your engine and tinygrad_edu's `engine.py`
#
# The library's engine, `tinygrad_edu/engine.py`, is the same idea in under 300 lines,
# written to be read top to bottom. Open it beside your class: each op is a method that
# computes the forward value, with its *rule* right below it: a small function that returns
# the op's local derivatives (for `a * b`: `(b, a)`). Here is its `*`, then yours:

# %%
import inspect

from tinygrad_edu import engine

print("# engine.py")
print(inspect.getsource(engine.Value.__mul__))
print(inspect.getsource(engine.Value._d_mul))
print(inspect.getsource(engine.Value._apply_rule))
print("# yours")
print(inspect.getsource(Value.__mul__))

# %% [markdown]
# The two agree on every idea and differ in engineering:
#
# | your `Value` | `engine.py` | why it differs |
# |---|---|---|
# | `_prev`, a set of inputs | `children`, a tuple (`_prev` works too) | a tuple keeps the order, and `a * a` keeps both uses of `a` |
# | a new `_backward` closure on every node | one rule per op (`_d_mul`) returning the local derivatives; one method, `_apply_rule`, adds `node.grad * local` to each input (a closure you assign to `out._backward` still works, as in micrograd) | no closure per node: less memory, no cycle node → closure → node (a graph you drop is freed at once), and every other tool (`explain`, the step-through, `compile`) reads the same rules |
# | `build_topo`, recursive | `topological_order`, the same depth-first walk as a loop | Python stops recursion at about 1000 calls deep; a loop has no limit |
# | `backward()`: reset inner grads, seed, loop over `reversed(topo)` | the same three steps; a node whose grad is 0 is skipped (it would add 0) | a relu that did not fire passes nothing on |
# | no input checks | `checks.py`: a string, NaN, overflow or `log(0)` is an error that says what went wrong | a mistake shows where it happens, not as a NaN ten steps later |
# | `2 * a` turns 2 into a `Value` with a grad | 2 becomes a `Constant`, whose grad is never computed | numbers you type are not parameters (PyTorch computes no grad for them either) |
#
# The rest of the library lives next door, in modules named for what they do: `gradtools.py`
# (`backward_steps`, and `gradcheck`: backward against nudging, as in E1), `symbolic.py` (a
# rule read as a formula), `function.py` (your own ops, E3) and `compile/` (backward written
# out as plain Python code).
#
# The library passes the same checks as your class:

# %%
print("tinygrad_edu's Value:", check_engine(engine.Value, quiet=True).summary())

# %% [markdown]
# And one difference you can see: a graph 5000 operations deep. `build_topo` calls itself
# once per level, and Python gives up at about 1000 (`sys.getrecursionlimit()`); the
# library's loop does not mind.

# %%
def deep(V, depth=5000):
    """x + x + ... + x, one op per level: d(out)/dx = depth + 1."""
    x = V(0.5)
    out = x
    for _ in range(depth):
        out = out + x
    return x, out


if report:
    for name, V in [("yours", Value), ("engine.py", engine.Value)]:
        x, out = deep(V)
        try:
            out.backward()
            print(f"{name:>9}: x.grad = {x.grad}")
        except RecursionError as err:
            print(f"{name:>9}: RecursionError ({err})")
else:
    print("Finish Value first (the check above shows what is left).")
