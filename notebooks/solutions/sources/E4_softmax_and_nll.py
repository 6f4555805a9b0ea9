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
# # E4. Softmax and negative log-likelihood by hand — solution
#
# A classifier with $K$ classes outputs $K$ scores, the **logits** $z_0 \dots z_{K-1}$.
# Softmax turns them into probabilities; the negative log-likelihood scores how much
# probability went to the right class. Together they are `cross_entropy`, the loss of
# notebook 6. Here you write both by hand from `Value` ops, and the check compares them with
# the library's `cross_entropy`: the loss and the gradient of every logit.
#
# **How the exercises work.** Replace each `raise NotImplementedError(...)` under
# `YOUR CODE HERE` with your code, run the cell, then run the check cell below it: ✓ right,
# ✗ wrong (expected, yours, and a hint), ○ not written yet.

# %%
from tinygrad_edu import Value
from tinygrad_edu.exercises import check_softmax_nll
from tinygrad_edu.losses import cross_entropy

# %% [markdown]
# ## Softmax
#
# $$\operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_j e^{z_j}}$$
#
# Every output is positive and together they sum to 1. One catch: $e^{1000}$ is too large
# for a float, and logits that large happen. Subtracting the same number $m$ from every
# logit changes nothing, because $e^{-m}$ cancels between top and bottom:
#
# $$\frac{e^{z_k - m}}{\sum_j e^{z_j - m}} = \frac{e^{z_k} e^{-m}}{\sum_j e^{z_j} e^{-m}}
#   = \operatorname{softmax}(z)_k .$$
#
# With $m = \max_j z_j$ every exponent is at most 0, so nothing overflows. Take $m$ as a
# plain number (`max(z.data for z in logits)`): it is a constant shift, no gradient needed.
#
# Write `softmax(logits)`: a list of Values in, a list of Values out, built with Value ops
# (`z - m`, `.exp()`, `+`, `/`) so that gradients can flow back through it.

# %%
def softmax(logits):
    """Probabilities e^(z_k - m) / sum_j e^(z_j - m), with m the largest logit."""
    # YOUR CODE HERE
    m = max(z.data for z in logits)
    exps = [(z - m).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


# %%
report = check_softmax_nll(softmax)

# %% [markdown]
# ## Negative log-likelihood
#
# If the right class is $k$, the model gave it probability $p_k$. The loss is
#
# $$\text{NLL} = -\log p_k ,$$
#
# which is $0$ when $p_k = 1$ and grows without bound as $p_k \to 0$: confident mistakes cost
# the most. Write `nll(probs, target)`: `probs` a list of Values, `target` the index $k$.

# %%
def nll(probs, target):
    """-log of the probability of the target class."""
    # YOUR CODE HERE
    return -probs[target].log()


# %%
report = check_softmax_nll(softmax, nll)

# %% [markdown]
# ## The gradient: predicted minus true
#
# Put together, $-\log \operatorname{softmax}(z)_k$ has the simplest gradient in deep
# learning:
#
# $$\frac{\partial\, \text{loss}}{\partial z_j} = \operatorname{softmax}(z)_j - [j = k].$$
#
# The logit of the right class is pushed up by $1 - p_k$, every other logit down by its own
# probability. Your two functions and backward() find it without being told:

# %%
if report:
    z = [Value(2.0), Value(1.0), Value(0.1)]
    probs = softmax(z)
    loss = nll(probs, 0)
    loss.backward()
    z_lib = [Value(2.0), Value(1.0), Value(0.1)]
    cross_entropy(z_lib, 0).backward()
    print(f"loss: yours {loss.data:.6f}, cross_entropy {cross_entropy(z_lib, 0).data:.6f}")
    print(" j   softmax_j - [j = 0]   your z_j.grad   cross_entropy's")
    for j in range(3):
        print(f" {j}   {probs[j].data - (j == 0):19.6f}   {z[j].grad:13.6f}   "
              f"{z_lib[j].grad:15.6f}")
else:
    print("Finish softmax and nll first (the check above shows what is left).")
