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
# # E3. Add an op of your own — solution
#
# `Value` knows `+`, `*`, `exp`, `log`, `tanh` and a few more. To add another, you could
# build it from those (E2 showed how), or write it as **one** new op with its own forward and
# backward, as PyTorch's `torch.autograd.Function` does. Here you write `sin`, then
# `softplus`, both ways.
#
# **How the exercises work.** Replace each `raise NotImplementedError(...)` under
# `YOUR CODE HERE` with your code, run the cell, then run the check cell below it: ✓ right,
# ✗ wrong (expected, yours, and a hint), ○ not written yet. `check_function` compares your
# backward with nudging (E1's central difference), so it needs no formula from you.

# %%
import math

from tinygrad_edu import Function, Value
from tinygrad_edu.exercises import check_function

# %% [markdown]
# ## How a Function looks
#
# `forward(ctx, x)` gets plain floats and returns a float. It stores on `ctx` what backward
# will need. `backward(ctx, grad)` gets `grad`, the gradient of the output
# ($\partial L / \partial \text{out}$), and returns the gradient of each input: `grad` times
# the local derivative. `MyOp.apply(value)` puts the op in the graph. A worked example,
# $x^2$:

# %%
class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)  # backward needs x
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_values
        return grad * 2 * x  # d(x^2)/dx = 2x, times the gradient from above


x = Value(3.0)
y = Square.apply(x)
y.backward()
print(f"y = {y.data}, dy/dx = {x.grad}   (2 * 3 = 6)")

# %% [markdown]
# ## sin
#
# $\frac{d}{dx}\sin x = \cos x$. Save $x$ in forward; in backward, return `grad` times
# $\cos x$.

# %%
class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        # YOUR CODE HERE
        ctx.save_for_backward(x)
        return math.sin(x)

    @staticmethod
    def backward(ctx, grad):
        # YOUR CODE HERE
        (x,) = ctx.saved_values
        return grad * math.cos(x)


# %%
report = check_function(Sin, expected=math.sin)

# %% [markdown]
# Your `Sin` now works everywhere a built-in op does. The library's own `.sin()` gives the
# same numbers:

# %%
if report:
    a = Value(0.8)
    Sin.apply(a * a).backward()  # d/da sin(a^2) = cos(a^2) * 2a
    b = Value(0.8)
    (b * b).sin().backward()
    print(f"yours: {a.grad:.12f}   library: {b.grad:.12f}   by hand: "
          f"{math.cos(0.64) * 1.6:.12f}")
else:
    print("Finish Sin first (the check above shows what is left).")

# %% [markdown]
# ## softplus
#
# $\operatorname{softplus}(x) = \log(1 + e^x)$ is a smooth ReLU: close to $0$ for very
# negative $x$, close to $x$ for large $x$. Its derivative is the sigmoid,
#
# $$\frac{d}{dx} \log(1 + e^x) = \frac{e^x}{1 + e^x} = \frac{1}{1 + e^{-x}}.$$
#
# Write it as a `Function`. One catch: at $x = 800$, `math.exp(x)` overflows (floats end
# near $e^{709}$), although softplus itself is just about $800$. Take the large part out
# first:
#
# $$\log(1 + e^x) = \max(x, 0) + \log\left(1 + e^{-|x|}\right),$$
#
# where $e^{-|x|}$ is at most 1 and never overflows. (`math.log1p(u)` is $\log(1 + u)$,
# accurate for small $u$.) The check tries $x = 800$ too.

# %%
class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        # YOUR CODE HERE
        ctx.save_for_backward(x)
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    @staticmethod
    def backward(ctx, grad):
        # YOUR CODE HERE
        (x,) = ctx.saved_values
        return grad / (1 + math.exp(-x))


# %%
report = check_function(Softplus, points=[-3.0, -0.5, 0.0, 0.7, 2.5, 800.0],
                        expected=lambda x: x if x > 700 else math.log(1 + math.exp(x)))

# %% [markdown]
# ## softplus from ops you already have
#
# The same function, built from `Value` ops: `exp`, `+` and `log`. Then backward comes for
# free, from theirs. Write it as a plain function of a `Value`; `check_function` checks plain
# functions the same way.

# %%
def softplus(x):
    """log(1 + e^x) built from Value operations."""
    # YOUR CODE HERE
    return (1 + x.exp()).log()


# %%
report = check_function(softplus)

# %% [markdown]
# Same numbers, different graphs: the `Function` is **one** node, the composition three
# (`exp`, `+`, `log`), each with its own stored value. A `Function` is how a library adds
# an op that is faster or more accurate than its pieces (PyTorch's own softplus is one).

# %%
def count_ops(root):
    """How many nodes of root's graph an op made (the leaves left out)."""
    seen, stack, ops = set(), [root], 0
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            ops += bool(node._prev)
            stack.extend(node._prev)
    return ops


if report:
    for name, y in [("Softplus.apply", Softplus.apply(Value(0.5))),
                    ("softplus", softplus(Value(0.5)))]:
        print(f"{name:>15}: {y.data:.12f}   {count_ops(y)} op node(s), the last {y._op!r}")
else:
    print("Finish softplus first (the check above shows what is left).")
