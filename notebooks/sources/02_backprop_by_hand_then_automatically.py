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
# # 2. Backprop by hand, then automatically
#
# Notebook 1 found derivatives by nudging, one input at a time. Here we get all of them in one
# sweep backwards through the graph: first by hand with the chain rule, then with `backward()`,
# then step by step to watch it happen. At the end we check the answers against finite
# differences and against PyTorch.

# %%
import matplotlib.pyplot as plt

from tinygrad_edu import (
    GradcheckError,
    Value,
    backward_order,
    backward_steps,
    explain,
    gradcheck,
)
from tinygrad_edu.viz import draw_graph, step_through


# %% [markdown]
# ## The expression
#
# The same one as in notebook 1:
#
# $$e = a b, \qquad d = e + c, \qquad L = d \cdot f, \qquad a = 3,\ b = -2,\ c = 5,\ f = -1.5 .$$
#
# We want $\partial L / \partial x$ for every node $x$: how much $L$ moves per unit nudge of $x$.
# The function `nudge` measures it numerically, so we can check every hand-computed number.

# %%
def build():
    a, b, c, f = Value(3.0, "a"), Value(-2.0, "b"), Value(5.0, "c"), Value(-1.5, "f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return a, b, c, f, e, d, L


def L_with_nudge(name, h):
    """L computed with plain floats, with `h` added to the node called `name`."""
    x = {"a": 3.0, "b": -2.0, "c": 5.0, "f": -1.5}
    x = {k: v + (h if k == name else 0.0) for k, v in x.items()}
    e = x["a"] * x["b"] + (h if name == "e" else 0.0)
    d = e + x["c"] + (h if name == "d" else 0.0)
    return d * x["f"] + (h if name == "L" else 0.0)


def nudge(name, h=1e-6):
    """dL/d(name) by a central difference."""
    return (L_with_nudge(name, h) - L_with_nudge(name, -h)) / (2 * h)


a, b, c, f, e, d, L = build()
print(f"L = {L.data}")
draw_graph(L)

# %% [markdown]
# ## By hand, from the output backwards
#
# **Start at the output.** $L$ changes one-for-one with itself: $\dfrac{\partial L}{\partial L} = 1$.

# %%
L.grad = 1.0
print(f"L.grad = {L.grad}   nudge: {nudge('L'):.6f}")

# %% [markdown]
# **One step back: $L = d \cdot f$.** For a product, nudging one factor moves the result by the
# *other* factor:
#
# $$\frac{\partial L}{\partial d} = f = -1.5, \qquad \frac{\partial L}{\partial f} = d = -1 .$$

# %%
d.grad = f.data * L.grad
f.grad = d.data * L.grad
print(f"d.grad = {d.grad}   nudge: {nudge('d'):.6f}")
print(f"f.grad = {f.grad}   nudge: {nudge('f'):.6f}")

# %% [markdown]
# **Through the sum: $d = e + c$.** A sum passes a nudge through unchanged, so its local
# derivatives are $1$. The **chain rule** multiplies the local derivative by the gradient
# that arrived from above:
#
# $$\frac{\partial L}{\partial e} = \frac{\partial L}{\partial d}\cdot\frac{\partial d}{\partial e}
# = -1.5 \cdot 1, \qquad
# \frac{\partial L}{\partial c} = \frac{\partial L}{\partial d}\cdot\frac{\partial d}{\partial c}
# = -1.5 \cdot 1 .$$

# %%
e.grad = 1.0 * d.grad
c.grad = 1.0 * d.grad
print(f"e.grad = {e.grad}   nudge: {nudge('e'):.6f}")
print(f"c.grad = {c.grad}   nudge: {nudge('c'):.6f}")

# %% [markdown]
# **Last step: $e = a b$.** Product again, chained with $\partial L/\partial e$:
#
# $$\frac{\partial L}{\partial a} = \frac{\partial L}{\partial e}\cdot b = -1.5 \cdot (-2) = 3,
# \qquad
# \frac{\partial L}{\partial b} = \frac{\partial L}{\partial e}\cdot a = -1.5 \cdot 3 = -4.5 .$$

# %%
a.grad = b.data * e.grad
b.grad = a.data * e.grad
print(f"a.grad = {a.grad}   nudge: {nudge('a'):.6f}")
print(f"b.grad = {b.grad}   nudge: {nudge('b'):.6f}")
draw_graph(L)

# %% [markdown]
# Every node needed only two things: the gradient of the node that uses it, and its own
# *local* derivative. That is the whole algorithm:
#
# $$\texttt{child.grad} \mathrel{+}= \texttt{node.grad} \times
# \frac{\partial\, \texttt{node}}{\partial\, \texttt{child}} .$$
#
# ## Automatically: `backward()`
#
# `backward()` does exactly those steps: it sets `L.grad = 1` and applies each operation's
# local derivative on the way back. Fresh Values start with `grad = 0`.

# %%
hand = {v.label: v.grad for v in (a, b, c, f, e, d, L)}
a, b, c, f, e, d, L = build()
L.backward()
for v in (L, d, f, e, c, a, b):
    print(f"{v.label}: backward() {v.grad:+.2f}   by hand {hand[v.label]:+.2f}")

# %% [markdown]
# ## Watching it: one step at a time
#
# `backward_steps(L)` is `backward()` cut into steps: each step hands us one node whose gradient
# is now final. `step_through(L)` shows those steps on one picture of the graph that never
# moves. The orange box is the node of the current step, the red edges are the ones its
# chain-rule step uses, and the boxes it adds to are ringed. A grad shows its value *so far*
# (in italics) from its first contribution until it is final; the grey `grad ?` cells are the
# ones nothing has reached yet. A leaf passes nothing on, so its step is folded into the step
# that fills it. The caption is `explain(node)`: the arithmetic of that step, one line per
# input: which grad it adds to, the local derivative (formula, then number) and the product.
# Step with Previous / Next, the slider or Play (or click the picture and use the arrow keys).

# %%
a, b, c, f, e, d, L = build()
step_through(L)

# %% [markdown]
# The same steps as text (numbered from 1, as in the player), and straight from the
# generator: `explain` works on any node whose gradient is final.

# %%
print(step_through(L))

# %%
for node in backward_steps(L):
    if node.children:  # a leaf passes nothing on
        print(explain(node))

# %% [markdown]
# The forward pass, stepped through the same way: inputs first, then every node's value
# computed from the values of its inputs.

# %%
step_through(L, direction="forward")


# %% [markdown]
# ## Why this order? (topological order)
#
# A node may pass its gradient on only when it is **complete**, that is, when every node that
# uses it has already passed *its* gradient back. Visiting the graph so that each node comes
# after all of its users is a (reverse) **topological order**. In a chain like the one above
# any order from the top works; it matters once a value is used twice.
#
# Here $u = x + 1$ is used by both $v = u x$ and $w = v + u$:
#
# $$w = (x+1)\,x + (x+1) = x^2 + 2x + 1, \qquad \frac{dw}{dx} = 2x + 2 = 6 \text{ at } x = 2.$$

# %%
def fork_graph():
    x = Value(2.0, "x")
    u = x + 1
    u.label = "u"
    v = u * x
    v.label = "v"
    w = v + u
    w.label = "w"
    return x, u, v, w


x, u, v, w = fork_graph()
w.backward()
print("backward():", "x.grad =", x.grad)
print("order backward() used:", [n.label or n.op or str(n.data) for n in backward_order(w)])
draw_graph(w)


# %% [markdown]
# To see what goes wrong, we write the chain-rule step ourselves (for `+` and `*` only) and run
# it in a bad order, visiting $u$ before $v$ has added its share to $u$'s gradient:

# %%
def chain_step(node):
    """Pass node.grad on to the node's inputs (only + and * are handled here)."""
    left, right = node.children
    if node.op == "+":
        left.grad += node.grad
        right.grad += node.grad
    elif node.op == "*":
        left.grad += right.data * node.grad
        right.grad += left.data * node.grad


for name, order in [("good order w, v, u", "wvu"), ("bad order  w, u, v", "wuv")]:
    x, u, v, w = fork_graph()
    nodes = {"w": w, "v": v, "u": u}
    w.grad = 1.0
    for key in order:
        chain_step(nodes[key])
    print(f"{name}: x.grad = {x.grad}")

# %% [markdown]
# In the bad order $u$ passed on $\partial w/\partial u = 1$ (only the direct edge from $w$) and
# the $+x = 2$ coming through $v$ arrived too late. The engine counts how many users each node
# has and visits a node only when all of them are done, so this cannot happen.
#
# ## Why gradients add at forks
#
# When a value feeds into several places, a nudge to it travels along every path, and the
# effects add up. The simplest case, $b = a + a$:
#
# $$\frac{\partial b}{\partial a} = \underbrace{1}_{\text{first use}} +
# \underbrace{1}_{\text{second use}} = 2 .$$
#
# That is why the update is `child.grad += ...`, not `=`: with `=` the second use would
# overwrite the first and we would get $1$.

# %%
a = Value(3.0, "a")
b = a + a
b.label = "b"
b.backward()
print("b = a + a:  db/da =", a.grad)

x = Value(3.0, "x")
y = x * x
y.label = "y"
y.backward()
print("y = x * x:  dy/dx =", x.grad, " (2x = 6)")
draw_graph(b)

# %% [markdown]
# ## What goes wrong without `zero_grad`
#
# For the same reason, **leaves keep adding**: calling `backward()` again adds the gradient a
# second time (PyTorch does the same). Training loops therefore reset the gradients before each
# backward pass: `p.grad = 0` here, `model.zero_grad()` or `optimizer.zero_grad()` later.

# %%
a, b, c, f, e, d, L = build()
L.backward()
print("after one backward(): a.grad =", a.grad)
L.backward()
print("after two backward(): a.grad =", a.grad, "(doubled)")


# %% [markdown]
# A tiny training loop shows the damage. Fit $w$ so that $w \cdot 2 \approx 6$ by gradient
# descent on $(\,2w - 6\,)^2$, whose gradient is $4(2w - 6)$:
#
# $$w \leftarrow w - \eta\, \frac{\partial}{\partial w}(2w - 6)^2, \qquad \eta = 0.02 .$$
#
# Without the reset, each step uses the *sum of all past gradients*, so $w$ overshoots
# and swings around $3$ instead of settling there.

# %%
def train(reset_grad, steps=25, lr=0.02):
    w = Value(0.0, "w")
    path = [w.data]
    for _ in range(steps):
        if reset_grad:
            w.grad = 0.0
        loss = (w * 2.0 - 6.0) ** 2
        loss.backward()
        w.data -= lr * w.grad
        path.append(w.data)
    return path


fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
ax.plot(train(reset_grad=True), "o-", ms=3, label="w.grad = 0 before each backward")
ax.plot(train(reset_grad=False), "s-", ms=3, label="no reset: gradients pile up")
ax.axhline(3.0, color="grey", ls="--", lw=1)
ax.set_xlabel("step")
ax.set_ylabel("w")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))  # outside: covers no curve
plt.show()

# %% [markdown]
# ## `gradcheck`: nudging as a test
#
# `gradcheck(f, inputs)` runs `backward()` and compares every input's gradient with a
# central difference $\big(f(x_i + \varepsilon) - f(x_i - \varepsilon)\big)/2\varepsilon$.
# It returns `True` or raises an error naming the input and both numbers. Here it checks a
# longer expression with every kind of operation:
#
# $$y = \tanh\big((a b + c) f\big) + \log\!\left(\frac{c}{a^2}\right) - \sigma(b)
# + \mathrm{relu}(a) \cdot e^{f/2}$$

# %%
def expr(a, b, c, f, lib):
    """The same formula for Values (lib=None) and for torch tensors (lib=torch)."""
    if lib is None:
        return (((a * b + c) * f).tanh() + (c / a**2).log() - b.sigmoid()
                + a.relu() * (f / 2).exp())
    return (lib.tanh((a * b + c) * f) + lib.log(c / a**2) - lib.sigmoid(b)
            + lib.relu(a) * lib.exp(f / 2))


print(gradcheck(lambda a, b, c, f: expr(a, b, c, f, lib=None), [3.0, -2.0, 5.0, -1.5]))

# %% [markdown]
# Where a function has a kink, the two disagree, and gradcheck says so. `relu` at exactly $0$:
# `backward()` uses $0$ as the derivative (as PyTorch does), while the central difference
# averages the slopes on both sides, $(0 + 1)/2$:

# %%
try:
    gradcheck(lambda x: x.relu(), [0.0])
except GradcheckError as err:
    print("GradcheckError:", err)

# %% [markdown]
# ## Backprop unrolled: the code `trace` writes
#
# `backward()` walks the graph and applies one chain-rule step per node. `tinygrad_edu.compile`
# can write those steps down once, as plain Python: `trace(f, *inputs)` calls `f` on Values,
# records the graph, and generates the forward pass (one line per node) and the backward pass
# (one line per chain-rule step: `g_a += g_e * b` is `a.grad += e.grad * b.data`), in the order
# `backward()` takes them. Calling the result runs that code on new numbers, with no graph at
# all: backprop by hand, written by the computer. `fit` trains this way by default
# (`compiled="auto"`), several times faster than the graph and with the same numbers
# (`make bench` measures it); a Python `if` on a Value's number is re-checked on every example.

# %%
from tinygrad_edu.compile import trace


def L_of(a, b, c, f):
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L


traced = trace(L_of, 3.0, -2.0, 5.0, -1.5)
print(traced.source)

# %% [markdown]
# The backward half starts at `g_L = 1.0`; each line after it is one of the hand computations
# above. Run it, compare with `backward()`, and run it on other numbers:

# %%
value, grads = traced(3.0, -2.0, 5.0, -1.5)
print("L =", value, "  dL/da, dL/db, dL/dc, dL/df =", grads)
a, b, c, f, e, d, L = build()
L.backward()
print("backward() gives                         ", [v.grad for v in (a, b, c, f)])
print("other numbers:", traced(1.0, 2.0, 3.0, 4.0))


# %% [markdown]
# ## Same expressions in PyTorch
#
# PyTorch does the same thing on tensors. With `dtype=torch.float64` (Python floats are
# 64-bit too) the gradients agree to the last digit or two. This section is the only one that
# needs PyTorch. Without it the next cell says so and the comparison is skipped; to see it,
# `pip install torch==2.13.0`, then restart the kernel and run the notebook again (`make test`
# and `make notebooks` install it).

# %%
try:
    import torch

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False
    print("PyTorch is not installed, so this comparison is skipped: pip install torch==2.13.0 "
          "to see it.")

# %%
if HAVE_TORCH:
    a, b, c, f, e, d, L = build()
    L.backward()

    ta, tb, tc, tf = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                      for v in (3.0, -2.0, 5.0, -1.5))
    tL = (ta * tb + tc) * tf
    tL.backward()
    print(f"L: ours {L.data}, torch {tL.item()}")
    for ours, theirs in [(a, ta), (b, tb), (c, tc), (f, tf)]:
        print(f"dL/d{ours.label}: ours {ours.grad:+.4f}   torch {theirs.grad.item():+.4f}")


# %% [markdown]
# The longer expression of `gradcheck` above, compared the same way:

# %%
if HAVE_TORCH:
    xs = [Value(v, n) for v, n in [(3.0, "a"), (-2.0, "b"), (5.0, "c"), (-1.5, "f")]]
    y = expr(*xs, lib=None)
    y.backward()
    ts = [torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for v in xs]
    ty = expr(*ts, lib=torch)
    ty.backward()
    print(f"y: ours {y.data!r}, torch {ty.item()!r}")
    for v, t in zip(xs, ts):
        diff = abs(v.grad - t.grad.item())
        print(f"dy/d{v.label}: ours {v.grad:+.12f}  torch {t.grad.item():+.12f}  "
              f"|diff| {diff:.1e}")
        assert diff < 1e-12

# %% [markdown]
# ## Summary
#
# - Backprop = the chain rule applied from the output back: each node adds
#   `node.grad * local derivative` to its inputs' grads.
# - Nodes are visited in reverse topological order so that a gradient is complete before it
#   is passed on; gradients add where a value is used more than once.
# - Leaves accumulate across `backward()` calls: reset them before each step.
# - Our gradients match finite differences, and PyTorch's where it is installed (the
#   comparison above). Next: neurons, layers and networks (`03_neuron_layer_network.ipynb`).
