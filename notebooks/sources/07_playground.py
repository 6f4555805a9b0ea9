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
# # 7. Playground: change one thing, predict, watch
#
# A network you can train live, in the spirit of TensorFlow Playground, but built from the
# pieces of the earlier notebooks: the data are points of two classes in the plane (green:
# class 1, "pass"; red: class 0, "fail"), the model is an `MLP(2, hidden + [1])` whose output
# is a logit (class 1 where it is above 0), the loss is binary cross-entropy.
#
# What you see:
#
# - **output**: the decision boundary. Each point of the plane is coloured by the class the
#   network gives it, stronger where it is surer; the dots are the data.
# - **layer 1, layer 2, ...**: a small map per hidden unit, its output over the same plane
#   (green high, red low). Watch the first layer draw lines and the later ones combine them.
# - **loss**: the running mean of the batches' losses, step by step.
#
# Press **Train** (it becomes **Pause**), **Step** for one step, **Reset** for new weights.
# The controls change one option each. Python drives the same object: `pg.step(100)` trains
# 100 steps, `pg.set(lr=0.3)` changes an option, `pg.history` holds the loss of every step.

# %%
from tinygrad_edu.playground import Playground

pg = Playground(data="moons", hidden=[8, 8], activation="tanh", lr=0.03, batch_size=10)
pg

# %% [markdown]
# The widget above updates while you train it from Python too. 300 steps of 10 points each,
# that is 15 passes over the 200 points:

# %%
pg.step(300)
print(f"after {len(pg.history)} steps: loss over all points {pg.loss():.3f}, "
      f"accuracy {pg.accuracy():.0%}")

# %% [markdown]
# ## How to use it: predict first
#
# Each experiment below changes **one** thing. Before you run its cell (or click in the
# widget), write down what you expect the boundary, the neuron maps and the loss curve to do.
# Then watch. Each experiment makes its own small playground, so you can scroll back and
# compare; every one is live (press Train on it).

# %% [markdown]
# ### 1. The learning rate
#
# Predict: with `lr=0.001` what does the loss curve look like after 300 steps? With `lr=3`?
# With `lr=10`?

# %%
for lr in (0.001, 0.03, 0.3, 3.0, 10.0):
    trial = Playground(lr=lr)
    trial.step(300)
    h = trial.history
    jumps = sum(abs(a - b) for a, b in zip(h, h[1:])) / (len(h) - 1)
    print(f"lr = {lr:<6} loss over all points {trial.loss():.3f}, "
          f"accuracy {trial.accuracy():.0%}, mean change between steps {jumps:.2f}")

# %% [markdown]
# Too small: in 300 steps the network barely moves (50% is guessing). Larger steps learn
# faster, and at `lr=3` the loss still ends low, but from step to step it jumps around. At
# `lr=10` every step overshoots: the loss never settles and the boundary is useless. Here it is:

# %%
fast = Playground(lr=10.0)
fast.step(300)
fast

# %% [markdown]
# ### 2. No hidden layer
#
# Predict: with `hidden=[]` the model is one neuron, $\sigma(w_1 x_1 + w_2 x_2 + b)$. What
# shape can its boundary have?

# %%
flat = Playground(hidden=[], lr=0.3)
flat.step(300)
flat

# %% [markdown]
# A straight line: $w_1 x_1 + w_2 x_2 + b = 0$ is a line, whatever the weights. The moons
# need a curve, so some points stay on the wrong side however long it trains.
#
# ### 3. Hidden layers, but linear ones
#
# Predict: `activation="linear"` keeps the two hidden layers of 8 units. Is the boundary
# curved now?

# %%
linear = Playground(activation="linear", lr=0.03)
linear.step(300)
linear

# %% [markdown]
# Still a straight line. A linear function of linear functions is linear: without a
# nonlinear activation, extra layers add nothing. Each neuron map is a plain gradient across
# the plane. Compare the tanh network of the first cell: its maps bend.
#
# ### 4. ReLU on circles
#
# Predict: a small circle of green points inside a ring of red. How does a ReLU network draw a
# round boundary out of units that each switch on along a straight line?

# %%
circles = Playground(data="circles", activation="relu", hidden=[8, 8], lr=0.03)
circles.step(600)
circles

# %% [markdown]
# Each first-layer map is a half-plane: white where the unit is off, green where it
# fires, stronger further from its line. Later units add these up into a polygon around the
# inner circle: the more units, the rounder it can be. Try `hidden=[3]` in the widget.
#
# ### 5. The batch size
#
# Predict: which loss curve is the smoothest: `batch_size=1` (one point per step, SGD),
# `batch_size=10`, or `batch_size=None` (all 200 points per step, gradient descent)? Which
# has seen the most points after 100 steps?

# %%
for batch_size in (1, 10, None):
    trial = Playground(batch_size=batch_size, lr=0.1)
    trial.step(100)
    h = trial.history
    jumps = sum(abs(a - b) for a, b in zip(h, h[1:])) / (len(h) - 1)
    seen = 100 * (batch_size or len(trial.X))  # points looked at in 100 steps
    print(f"batch_size = {str(batch_size):<5} loss over all points {trial.loss():.3f}, "
          f"mean change between steps {jumps:.3f}, {seen} points seen "
          f"({seen / len(trial.X):g} epochs)")

# %% [markdown]
# One point per step gives the noisiest curve (each step sees a different single point);
# all points per step the smoothest, but each of its steps costs 200 times as much. Notebook 5
# measured the same on the pass/fail data.
#
# ### 6. The optimizer
#
# Predict: the spiral is hard. Does Adam (a per-weight step size, notebook 5) get further than
# plain SGD in the same 600 steps?

# %%
for optimizer in ("sgd", "adam"):
    trial = Playground(data="spiral", hidden=[8, 8], optimizer=optimizer, lr=0.03, noise=0.05)
    trial.step(600)
    print(f"{optimizer:<5} loss {trial.loss():.3f}, accuracy {trial.accuracy():.0%}")
spiral = trial
spiral

# %% [markdown]
# ### 7. Noise
#
# Predict: with `noise=0.4` the two moons overlap. Can the network still reach 100% accuracy?
# Should it?

# %%
noisy = Playground(noise=0.4, hidden=[8, 8], lr=0.1)
noisy.step(600)
print(f"accuracy on its own points: {noisy.accuracy():.0%}")
noisy

# %% [markdown]
# Where the classes overlap no boundary separates them. A bigger network can bend around
# single points to score higher on these points, but that is memorising noise, not the moons:
# new points from the same moons would fall on the wrong side of its wiggles (notebook 6 splits
# its data into training and test sets for this reason).
#
# ## Your turn
#
# The widget of the first cell takes every option: data (`moons`, `circles`, `xor`, `spiral`,
# `blobs`, and `pass_fail`, the lectures and marks of notebook 4), noise, hidden layers
# (type e.g. `4, 4`), activation, learning rate, batch size and optimizer. A few to try:
#
# - `xor` with `hidden=[2]`, then `[3]`: how many units does XOR need?
# - `pass_fail` with no hidden layer: is a straight line enough there?
# - `relu` with `lr=3`: some units die (their maps go all white) and never come back. Why?
#
# ## Summary
#
# - A network without hidden layers, or with linear ones, draws a straight boundary; curved
#   boundaries come from nonlinear activations.
# - Each first-layer unit splits the plane along a line; later layers combine those pieces.
# - The learning rate sets the step: too small is slow, too large jumps around.
# - Smaller batches give noisier but cheaper steps; Adam adapts each weight's step.
