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
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Derivatives by nudging
#
# A neural network learns by asking one question over and over: *if I nudge this number a
# little, does the loss go up or down, and by how much?* That "how much" is a derivative.
# This notebook computes derivatives the most direct way there is, by nudging, and then meets
# `Value`, the number that remembers how it was made.

# %%
import math

import matplotlib.pyplot as plt

from tinygrad_edu import Value
from tinygrad_edu.viz import draw_graph


# %% [markdown]
# ## The slope of a function of one number
#
# Take
#
# $$f(x) = 2x^2 - 3x + 1 .$$
#
# Move $x$ by a small step $h$ and watch how far $f$ moves. The ratio is the slope:
#
# $$f'(x) \approx \frac{f(x+h) - f(x)}{h}.$$
#
# For this $f$, algebra gives $f'(x) = 4x - 3$, so at $x = 2$ the slope is exactly $5$.

# %%
def f(x):
    return 2 * x**2 - 3 * x + 1


x = 2.0
h = 0.001
slope = (f(x + h) - f(x)) / h
print(f"f({x}) = {f(x)}")
print(f"nudged slope with h = {h}: {slope:.6f}   (exact: {4 * x - 3})")

# %% [markdown]
# The estimate is off by $2h$ (here $0.002$) because $f$ curves. Smaller $h$ gets closer,
# until the computer's rounding takes over: a float carries about 16 significant digits, and
# $f(x+h) - f(x)$ cancels most of them.

# %%
for h in [1e-1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 1e-14]:
    slope = (f(x + h) - f(x)) / h
    print(f"h = {h:7.0e}   slope = {slope:.12f}   error = {abs(slope - 5):.1e}")

# %% [markdown]
# Nudging both ways cancels the curvature term, so the **central difference**
#
# $$f'(x) \approx \frac{f(x+h) - f(x-h)}{2h}$$
#
# is far more accurate for the same $h$. This is what `gradcheck` (notebook 2) uses.

# %%
h = 1e-4
central = (f(x + h) - f(x - h)) / (2 * h)
print(f"central difference with h = {h}: {central:.12f}")

# %% [markdown]
# The slope is the steepness of the tangent line: the straight line that touches $f$ at $x$.
# Where the slope is negative, stepping right goes downhill; at the bottom it is $0$.

# %%
xs = [i / 20 for i in range(-20, 61)]
fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(xs, [f(v) for v in xs], label="$f(x) = 2x^2 - 3x + 1$")
for x0, colour in [(2.0, "tab:red"), (0.0, "tab:green"), (0.75, "tab:purple")]:
    s = 4 * x0 - 3
    near = [x0 - 0.8, x0 + 0.8]
    ax.plot(near, [f(x0) + s * (v - x0) for v in near], color=colour,
            label=f"slope {s:+.0f} at x = {x0}")
    ax.plot([x0], [f(x0)], "o", color=colour)
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
plt.show()


# %% [markdown]
# ## Several inputs: nudge one at a time
#
# Now an expression with three inputs,
#
# $$d = a \cdot b + c, \qquad a = 3,\; b = -2,\; c = 5 .$$
#
# Nudge one input, keep the other two fixed: that ratio is the **partial derivative**
# $\partial d / \partial a$ (and likewise for $b$ and $c$). Before running the cell, guess:
# making $a$ a bit bigger adds $b$ times the nudge to $d$, so $\partial d/\partial a = b = -2$.

# %%
def expression(a, b, c):
    return a * b + c


a, b, c = 3.0, -2.0, 5.0
h = 1e-6
d0 = expression(a, b, c)
print(f"d = {d0}")
print(f"dd/da ~ {(expression(a + h, b, c) - d0) / h:.4f}   (exact: b = {b})")
print(f"dd/db ~ {(expression(a, b + h, c) - d0) / h:.4f}   (exact: a = {a})")
print(f"dd/dc ~ {(expression(a, b, c + h) - d0) / h:.4f}   (exact: 1)")

# %% [markdown]
# Each of these costs one extra evaluation of the whole expression. A network with a million
# weights would need a million extra evaluations *per training step*. Backpropagation
# (notebook 2) gets all of them in one backward pass, roughly the cost of one more evaluation.
# To do that, the numbers must remember how they were made.
#
# ## `Value`: a number that remembers
#
# `Value` wraps a float. Every operation on Values returns a new Value that records its
# inputs (`children`) and the operation (`op`). The `label` is only a name for pictures.

# %%
a = Value(3.0, label="a")
b = Value(-2.0, label="b")
c = Value(5.0, label="c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
print(d)
print("d.data     =", d.data)
print("d.op       =", repr(d.op))
print("d.children =", d.children)
print("e.op       =", repr(e.op), " e.children =", e.children)
print("a is a leaf:", a.op == "" and a.children == ())

# %% [markdown]
# The same formula gives the same number, computed with Values instead of floats:

# %%
print(d.data == expression(3.0, -2.0, 5.0))

# %% [markdown]
# ## The computation graph
#
# Following `children` back from `d` gives the **computation graph**: one box per Value (its
# label and number), one small node per operation. Gradients are all $0$ so far, so we hide
# them; notebook 2 fills them in.

# %%
draw_graph(d, show_grad=False)

# %% [markdown]
# A slightly longer expression: multiply by one more input, $L = d \cdot f$ with $f = -1.5$
# (so $L = (a b + c) f$). Functions such as `tanh` and `exp` become nodes too.

# %%
f_ = Value(-1.5, label="f")  # the name `f` is taken by the function above
L = d * f_
L.label = "L"
out = L.tanh()
out.label = "out"
print(f"L = {L.data},  tanh(L) = {out.data:.6f}  (math.tanh: {math.tanh(L.data):.6f})")
draw_graph(out, show_grad=False)


# %% [markdown]
# Nudging works on Values too: rebuild with one input moved and compare. Here
# $\partial L/\partial a$, which by the rules above should be $b \cdot f = 3$:

# %%
def build_L(a, b, c, f):
    return (Value(a) * Value(b) + Value(c)) * Value(f)


h = 1e-6
nudged = (build_L(3.0 + h, -2.0, 5.0, -1.5).data - build_L(3.0, -2.0, 5.0, -1.5).data) / h
print(f"dL/da by nudging: {nudged:.5f}")

# %% [markdown]
# ## Summary
#
# - A derivative is "output change per input change" for a small nudge; with several inputs,
#   nudge one at a time (partial derivatives).
# - Nudging is easy but costs one evaluation per input, and too small a nudge drowns in
#   rounding error.
# - `Value` records the graph of a computation. Next: walk that graph backwards and get every
#   derivative at once (`02_backprop_by_hand_then_automatically.ipynb`).
