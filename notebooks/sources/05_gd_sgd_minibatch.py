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
# # 5. Gradient descent, SGD and mini-batches
#
# Every training step needs the gradient of the empirical loss
# $J(W) = \frac1n \sum_{i=1}^n \mathcal{L}_i(W)$. How many examples should one step look at?
#
# | method | examples per step | steps per pass over the data (epoch) |
# |---|---|---|
# | (full-batch) gradient descent | all $n$ | 1 |
# | stochastic gradient descent (SGD) | 1 | $n$ |
# | mini-batch gradient descent | $k$ (e.g. 10) | $\lceil n/k \rceil$ |
#
# A batch $B$ gives the estimate $\nabla J \approx \frac{1}{|B|}\sum_{i \in B} \nabla
# \mathcal{L}_i(W)$. Here we train the same model all three ways, look at the price and the
# noise of a step, then tune the learning rate, and finish with momentum and Adam.

# %%
import random
import statistics
import time

import matplotlib.pyplot as plt

from tinygrad_edu.data import make_grades, make_moons, standardize
from tinygrad_edu.losses import binary_cross_entropy, mse_loss
from tinygrad_edu.nn import MLP, Neuron
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.plot import (
    animate_descent_paths,
    batch_descent_path,
    descent_path,
    plot_decision_boundary,
    plot_history,
    plot_loss_landscape,
)
from tinygrad_edu.train import fit

# %% [markdown]
# ## The data and the model
#
# Two interleaving half moons (100 points, labels 0 and 1): no straight line separates them,
# so the model needs a hidden layer. Model: $2 \to 8 \to 8 \to 1$ with tanh hidden layers and
# a sigmoid output, trained with binary cross-entropy. `seed=0` gives every run the same
# starting weights.

# %%
X, y = make_moons(n=100, noise=0.1, seed=0)


def new_model():
    return MLP(2, [8, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)


print(new_model(), "with", len(new_model().parameters()), "parameters")

# %% [markdown]
# ## The same model, trained three ways
#
# Same starting weights, same learning rate $\eta = 0.3$, same 40 epochs (40 passes over the
# data, so each run evaluates the model $40 \times 100 = 4000$ times). Only the batch size
# differs. The SGD run shows its progress bar: 4000 steps.

# %%
runs = {"gradient descent (batch 100)": None, "SGD (batch 1)": 1, "mini-batch (batch 10)": 10}
histories, models, seconds = {}, {}, {}
for name, batch_size in runs.items():
    model = new_model()
    start = time.perf_counter()
    histories[name] = fit(model, X, y, binary_cross_entropy, SGD(model.parameters(), lr=0.3),
                          epochs=40, batch_size=batch_size, metrics=["accuracy"],
                          progress=batch_size == 1)
    seconds[name] = time.perf_counter() - start
    models[name] = model

for name, h in histories.items():
    steps = h.params["steps_per_epoch"] * len(h)
    print(f"{name:30s} {steps:5d} steps in {seconds[name]:.2f} s, "
          f"final loss {h['loss'][-1]:.4f}, accuracy {h['accuracy'][-1]:.2f}")

plot_history(histories, metrics=["loss"], logy=True, title="loss per epoch, three ways")

# %% [markdown]
# All three runs cost about the same per epoch: each looks at every example once. But gradient
# descent spends that effort on **one** careful step, SGD on **100** rough ones. In this race
# (equal work) the many small steps win; gradient descent would need many more epochs. Where
# each run ended up:

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, (name, model) in zip(axes, models.items()):
    plot_decision_boundary(model, X, y, ax=ax, resolution=40, title=name)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Noisiness vs cost per step
#
# Why not always use one example? Because its gradient is a **noisy estimate** of the real
# one. Take the untrained model, and compute the gradient of two of its weights from 100
# random batches of each size. Each dot is one batch's estimate; the star is the full-batch
# gradient $\nabla J$. The time per step grows with the batch size; the scatter shrinks
# (its standard deviation falls roughly like $1/\sqrt{|B|}$).

# %%
model = new_model()
w_a, w_b = model.layers[-1].neurons[0].w[:2]
full = None
rng = random.Random(0)
fig, ax = plt.subplots(figsize=(5.5, 4.2))
for batch_size in [1, 10, 100]:
    grads = []
    start = time.perf_counter()
    for _ in range(100 if batch_size < 100 else 1):
        idx = rng.sample(range(len(X)), batch_size)
        model.zero_grad()
        binary_cross_entropy([model(X[i]) for i in idx], [y[i] for i in idx]).backward()
        grads.append((w_a.grad, w_b.grad))
    per_step = (time.perf_counter() - start) / len(grads)
    if batch_size == 100:
        full = grads[0]
        print(f"batch {batch_size:3d}: {per_step * 1e3:6.2f} ms per step, the exact gradient")
        continue
    spread = statistics.pstdev(g[0] for g in grads)
    print(f"batch {batch_size:3d}: {per_step * 1e3:6.2f} ms per step, std of the estimate "
          f"{spread:.3f}")
    ax.scatter([g[0] for g in grads], [g[1] for g in grads], s=12, alpha=0.6,
               label=f"batch of {batch_size}")
ax.scatter(*full, marker="*", s=300, c="gold", edgecolor="k", label="full batch", zorder=5)
ax.set_xlabel("dJ/dw for one weight")
ax.set_ylabel("dJ/dw for another weight")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# So the trade-off is: small batches give cheap, noisy steps (the noise even helps to shake
# out of flat spots, but keeps the loss jittering near the end, see the curves above);
# big batches give expensive, accurate steps. Mini-batches of tens to hundreds are the usual
# compromise, and on real hardware a batch is computed in parallel, which makes a batch of
# 64 hardly slower than a batch of 1. (Our scalar engine has no such parallelism.)
#
# ## The learning rate: too small, right, too large
#
# The step size $\eta$ in $W \leftarrow W - \eta \nabla J$ matters as much as the batch.
# To see it cleanly we use the simplest model there is, one linear neuron predicting the
# final grade of notebook 4 with mean squared error. Its loss landscape is a bowl:
#
# - $\eta$ too small: every step is safe but tiny, and the loss falls slowly;
# - $\eta$ right: down in a few steps;
# - $\eta$ too large: each step overshoots the bottom and lands on the other side of the bowl;
#   a bit too large and it jumps back and forth, getting closer only slowly; more than that
#   and every step lands *higher* than the last.
#
# With the bias held at its best value (the mean grade, since the inputs are standardized)
# the loss is a function of the two weights, and we can watch 15 steps of each on the bowl:

# %%
Xg, grades = make_grades(n=100, seed=0)
Xgs, _ = standardize(Xg)
mean_grade = sum(grades) / len(grades)


def J_bowl(w0, w1):
    return mse_loss([w0 * x1 + w1 * x2 + mean_grade for x1, x2 in Xgs], grades)


learning_rates = [(0.01, "too small"), (0.3, "right"), (0.9, "too large: jumps across")]
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for ax, (lr, verdict) in zip(axes, learning_rates):
    path = descent_path(J_bowl, start=(-1.0, 2.5), lr=lr, steps=15)
    plot_loss_landscape(J_bowl, (-1.5, 3.0), (-1.5, 3.0), path=path, ax=ax, resolution=25,
                        title=f"lr={lr} ({verdict})")
fig.tight_layout()
plt.show()

# %% [markdown]
# The full neuron (bias included) trained with `fit`, 60 epochs of gradient descent each:

# %%
lr_histories = {}
for lr, verdict in learning_rates:
    neuron = Neuron(2, activation="linear", seed=0)
    lr_histories[f"lr={lr} ({verdict})"] = fit(
        neuron, Xgs, grades, mse_loss, SGD(neuron.parameters(), lr=lr), epochs=60,
        progress=False)
plot_history(lr_histories, logy=True, title="linear neuron, gradient descent")

# %% [markdown]
# With $\eta = 1.5$ the jumps grow instead of shrinking: the loss grows by a constant factor
# every step until the numbers no longer fit in a float. `fit` stops with an error that says
# where and what to do instead of carrying on with `nan`. The error also carries the history
# of the epochs before it, `err.history`, so we can draw the blow-up:

# %%
neuron = Neuron(2, activation="linear", seed=0)
try:
    fit(neuron, Xgs, grades, mse_loss, SGD(neuron.parameters(), lr=1.5), epochs=500,
        progress=False)
except FloatingPointError as err:
    print("FloatingPointError:", err)
    blown = err.history  # `err` itself is gone after the except block

loss = blown["loss"]
growth = (loss[-1] / loss[9]) ** (1 / (len(loss) - 10))
print(f"{len(loss)} whole epochs, loss {loss[0]:.1f} -> {loss[-1]:.3g}: "
      f"x{growth:.2f} per epoch")
plot_history(blown, logy=True, title="lr=1.5: the loss grows by the same factor every epoch")

# %% [markdown]
# On a log scale a constant factor per epoch is a straight line: nothing goes wrong suddenly,
# every step is simply a bit worse than the last, about 400 times over, until the loss passes
# $10^{308}$, the largest float.

# %% [markdown]
# For a quadratic bowl the limit is exact: with curvature $\lambda$ along some direction, a
# step multiplies the distance to the bottom by $(1 - \eta\lambda)$ in that direction, which
# shrinks only if $\eta < 2/\lambda$. For networks there is no formula: try a few values a
# factor 3 to 10 apart and watch the loss curve.
#
# ## The three ways on one landscape
#
# Back to the batch size, on the grade bowl where we can see every step. The loss of a batch
# $B$ is the mean over its examples only, so SGD and mini-batches walk downhill on a
# *different* bowl at every step, each batch's own, and only on average on $J$.
# `batch_descent_path` records the walk of each method for 5 epochs (5 passes over the 100
# students) with the same learning rate: gradient descent takes 5 steps, mini-batches of 10
# take 50, SGD takes 500. Press Play: each frame shows the same fraction of the 5 epochs.

# %%
def J_batch(w0, w1, batch):
    """The mean squared error over the students in `batch` (a list of indices)."""
    return mse_loss([w0 * Xgs[i][0] + w1 * Xgs[i][1] + mean_grade for i in batch],
                    [grades[i] for i in batch])


three_ways = {
    "gradient descent (batch 100)": None,
    "SGD (batch 1)": 1,
    "mini-batch (batch 10)": 10,
}
paths = {name: batch_descent_path(J_batch, len(Xgs), start=(-1.0, 2.5), lr=0.05, epochs=5,
                                  batch_size=batch_size)
         for name, batch_size in three_ways.items()}
for name, path in paths.items():
    end = path[-1]
    print(f"{name:30s} {len(path) - 1:3d} steps, ends at ({end[0]:.2f}, {end[1]:.2f}), "
          f"J = {J_bowl(*end).data:.3f}")
animate_descent_paths(J_bowl, paths, (-1.5, 3.0), (-1.5, 3.0), frames=20, resolution=30)

# %% [markdown]
# Per epoch, gradient descent has barely started: five careful steps. SGD reaches the bottom
# in the first epoch, then keeps jittering around it, because every single student pulls
# towards their own best weights. Mini-batches get there almost as fast with far less jitter.
#
# The same bowl as a surface, the textbook picture of gradient descent with the loss as
# height over the two weights $W_0, W_1$, and gradient descent (at $\eta = 0.3$) walking
# down its side:

# %%
path = descent_path(J_bowl, start=(-1.0, 2.5), lr=0.3, steps=15)
plot_loss_landscape(J_bowl, (-1.5, 3.0), (-1.5, 3.0), path=path, kind="surface",
                    resolution=30, axis_labels=("W0", "W1"), title="J(W0, W1) for the grades")

# %% [markdown]
# ## Extensions: momentum and Adam
#
# **Momentum** keeps a running direction $v$ and steps along it (PyTorch's form):
#
# $$v \leftarrow \mu\, v + \nabla J, \qquad W \leftarrow W - \eta\, v .$$
#
# Consistent gradients add up to speed; gradients that flip sign cancel out, which damps
# zig-zags and smooths the noise of small batches. $\mu = 0.9$ is the usual choice.
#
# **Adam** also keeps a running average of squared gradients and divides by its root, so every
# weight gets a step of roughly the size $\eta$ whatever the scale of its gradient:
#
# $$m \leftarrow \beta_1 m + (1-\beta_1)\nabla J, \quad
# s \leftarrow \beta_2 s + (1-\beta_2)(\nabla J)^2, \quad
# W \leftarrow W - \eta\,\frac{m/(1-\beta_1^t)}{\sqrt{s/(1-\beta_2^t)} + \epsilon}.$$
#
# Same model, mini-batches of 10, 40 epochs:

# %%
optimizers = {
    "SGD lr=0.1": lambda p: SGD(p, lr=0.1),
    "SGD lr=0.1, momentum=0.9": lambda p: SGD(p, lr=0.1, momentum=0.9),
    "Adam lr=0.02": lambda p: Adam(p, lr=0.02),
}
opt_histories = {}
for name, make in optimizers.items():
    model = new_model()
    opt_histories[name] = fit(model, X, y, binary_cross_entropy, make(model.parameters()),
                              epochs=40, batch_size=10, metrics=["accuracy"], progress=False)
    print(f"{name:26s} final loss {opt_histories[name]['loss'][-1]:.4f}, "
          f"accuracy {opt_histories[name]['accuracy'][-1]:.2f}")
plot_history(opt_histories, logy=True)

# %% [markdown]
# ## Summary
#
# - Gradient descent, SGD and mini-batch differ only in how many examples estimate the
#   gradient of each step: accuracy of a step against its cost.
# - The learning rate sets the step size: too small crawls, too large overshoots and, past a
#   limit, diverges (`fit` stops with a `FloatingPointError` naming the epoch and step).
# - Momentum and Adam reuse past gradients to take better steps; both are one line to switch
#   on. Next: ten classes instead of two (`06_digits_softmax.ipynb`).
