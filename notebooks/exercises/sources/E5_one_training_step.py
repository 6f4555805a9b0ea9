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
# # E5. One training step by hand
#
# `fit` (notebook 4) trains a model by repeating one **step** of gradient descent. Here you
# write that step yourself, for notebook 4's pass/fail model, and the check compares it with
# one step of `fit`: the loss, every parameter after the update, and every gradient.
#
# **How the exercises work.** Replace the `raise NotImplementedError(...)` under
# `YOUR CODE HERE` with your code, run the cell, then run the check cell below it: ✓ right,
# ✗ wrong (expected, yours, and a hint), ○ not written yet.

# %%
from tinygrad_edu.data import YOU, make_pass_fail, standardize
from tinygrad_edu.exercises import check_training_step
from tinygrad_edu.losses import binary_cross_entropy
from tinygrad_edu.nn import MLP
from tinygrad_edu.train import accuracy

# %% [markdown]
# ## One step
#
# For the whole training set at once (full-batch gradient descent):
#
# 1. **Forward**: the model's prediction for every row, `preds = [model(x) for x in X]`, and
#    the loss, `binary_cross_entropy(preds, y)` (the mean over all rows).
# 2. **Zero the grads**: `p.grad = 0.0` for every parameter. Gradients *add up* in leaves,
#    so without this, each step would also use every earlier step's gradient.
# 3. **Backward**: `loss.backward()` fills in `p.grad` = $\partial J / \partial p$.
# 4. **Update**: move every parameter a little downhill, `p.data -= lr * p.grad`.
#
# Return the loss (the one computed in step 1).

# %%
def train_step(model, X, y, lr):
    """One step of full-batch gradient descent on the mean binary cross-entropy."""
    # YOUR CODE HERE
    raise NotImplementedError("E5: write train_step")


# %%
report = check_training_step(train_step)

# %% [markdown]
# ## Train with your step
#
# Three hundred of your steps are notebook 4's training run: the same model, data and
# learning rate, so the same numbers as `fit(model, Xs, y, binary_cross_entropy,
# SGD(model.parameters(), lr=1.0), epochs=300)`.

# %%
if report:
    X, y = make_pass_fail(n=100, seed=0)
    Xs, scaler = standardize(X)
    model = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=4)
    for step in range(1, 301):
        loss = train_step(model, Xs, y, lr=1.0)
        if step in (1, 10, 50, 100, 200, 300):
            print(f"step {step:3d}: loss {loss.data:.4f}, accuracy "
                  f"{accuracy(model, Xs, y):.2f}")
    final = binary_cross_entropy([model(x) for x in Xs], y).data
    print(f"after 300 steps: loss {final:.4f}")
    p_you = model(scaler.transform_one(YOU)).data
    print(f"you (5 lectures, 4 marks): probability of passing {p_you:.2f}")
else:
    print("Finish train_step first (the check above shows what is left).")
