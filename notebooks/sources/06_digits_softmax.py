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
# # 6. Digits: multi-class classification with softmax
#
# So far the answers were yes/no. Now ten classes: which digit, 0 to 9, is in a small
# 8×8 grey image? The network gets one output per class, **softmax** turns the ten outputs into
# probabilities, and **cross-entropy** scores them. Data: scikit-learn's digits set, which ships
# with scikit-learn (no download).

# %%
import io
import math
import time

import matplotlib.pyplot as plt
from IPython.display import Image, display
from sklearn.datasets import load_digits

from tinygrad_edu import Value, no_grad
from tinygrad_edu.data import train_test_split
from tinygrad_edu.losses import cross_entropy, softmax
from tinygrad_edu.nn import MLP
from tinygrad_edu.optim import SGD
from tinygrad_edu.plot import plot_history
from tinygrad_edu.train import accuracy, fit, predict
from tinygrad_edu.viz import animate_network, draw_network

# %% [markdown]
# ## The data
#
# 1797 images of handwritten digits, 8×8 pixels, each pixel a darkness from 0 to 16. We flatten
# each image into a row of 64 numbers and divide by 16 so the inputs lie in $[0, 1]$.

# %%
digits = load_digits()
X_all = (digits.data / 16.0).tolist()  # 1797 rows of 64 floats
y_all = digits.target.tolist()  # the digit, 0..9
print(len(X_all), "images of", len(X_all[0]), "pixels")

fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for ax, pixels, label in zip(axes.flat, X_all, y_all):
    ax.imshow([pixels[r * 8:(r + 1) * 8] for r in range(8)], cmap="gray_r")
    ax.set_title(str(label))
    ax.axis("off")
plt.show()

# %% [markdown]
# A quarter of the images are set aside as a **test set**: the model never trains on them, so
# its accuracy there tells how well it does on digits it has not seen. To keep this notebook
# quick we train on 800 of the remaining images; a real run would use all of them.

# %%
X_train, X_test, y_train, y_test = train_test_split(X_all, y_all, test_fraction=0.25, seed=0)
X_train, y_train = X_train[:800], y_train[:800]
print(f"{len(X_train)} training images, {len(X_test)} test images")

# %% [markdown]
# ## Softmax and cross-entropy
#
# The network's last layer is linear with 10 outputs $z_0, \dots, z_9$ (the **logits**, any real
# numbers). **Softmax** makes them positive and sum to 1:
#
# $$p_k = \mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_{j=0}^{9} e^{z_j}} .$$
#
# For an image of class $y$ the **cross-entropy** loss is the negative log of the probability
# given to the right class:
#
# $$\mathcal{L}(z, y) = -\log p_y = \log \sum_j e^{z_j} - z_y ,$$
#
# $0$ when the model is sure and right, large when it gives the right class a small
# probability. It generalises binary cross-entropy to $K$ classes. Its gradient is strikingly
# simple,
#
# $$\frac{\partial \mathcal{L}}{\partial z_j} = p_j - [\,j = y\,],$$
#
# "probability minus the one-hot target". The model: $64 \to 16 \to 10$, ReLU hidden layer,
# linear output, fused neurons (one graph node per neuron, which keeps this fast).

# %%
model = MLP(64, [16, 10], activation="relu", output_activation="linear", seed=0)
print(model, "with", len(model.parameters()), "parameters")

logits = model(X_train[0])
probs = softmax(logits)
loss = cross_entropy(logits, y_train[0])
print("true class:", y_train[0])
print("logits:       ", [round(z.data, 2) for z in logits])
print("probabilities:", [round(p.data, 3) for p in probs], " sum =", round(sum(p.data for p in probs), 12))
print(f"cross-entropy: {loss.data:.4f} = -log p_y = {-math.log(probs[y_train[0]].data):.4f}")

# %% [markdown]
# Untrained, the model spreads its bets, about $1/10$ per class, so the loss is near
# $\log 10 \approx 2.30$. Check the gradient formula with `backward()`:

# %%
loss.backward()
onehot = [1.0 if j == y_train[0] else 0.0 for j in range(10)]
for j, (z, p) in enumerate(zip(logits, probs)):
    print(f"class {j}: dL/dz = {z.grad:+.5f}   p - onehot = {p.data - onehot[j]:+.5f}")

# %% [markdown]
# Why compute it as $\log\sum_j e^{z_j} - z_y$ and not literally as softmax then log? Because
# $e^{z}$ overflows a float for $z > 709$. `cross_entropy` subtracts the largest logit first
# ($e^{z_j - m}$, same result, no overflow):

# %%
big = [Value(1000.0), Value(0.0), Value(-1000.0)]
try:
    big[0].exp()
except OverflowError as err:
    print("naive exp:", err)
print("cross_entropy(logits=[1000, 0, -1000], class 1) =", cross_entropy(big, 1).data)


# %% [markdown]
# ## Training with mini-batches
#
# Mini-batches of 32 images, SGD with momentum, 10 epochs (250 steps). We track the accuracy on
# the training images and, with a metric function, on the test images after every epoch. This
# takes several seconds; a real run would train longer (and on all the training images) for
# a few more percent.

# %%
def test_accuracy(model, X, y):
    return accuracy(model, X_test, y_test)  # ignores the training X, y it is given


start = time.perf_counter()
history = fit(model, X_train, y_train, cross_entropy,
              SGD(model.parameters(), lr=0.1, momentum=0.9),
              epochs=10, batch_size=32, progress=True,
              metrics={"accuracy": "accuracy", "test accuracy": test_accuracy})
ours_seconds = time.perf_counter() - start
print(history, f"in {ours_seconds:.1f} s")
plot_history(history, metrics=["loss"])

# %%
plot_history({"train": {"accuracy": history["accuracy"]},
              "test": {"accuracy": history["test accuracy"]}})

# %% [markdown]
# The test accuracy stays a few points below the training accuracy: part of what the model
# learned is particular to its 800 training images (**overfitting**). More training data
# narrows that gap, which is one reason a real run would use all of it.
#
# ## Test accuracy and the confusion matrix
#
# The predicted class is the one with the largest logit (the largest softmax probability):
# $\hat y = \arg\max_k z_k$.

# %%
test_acc = accuracy(model, X_test, y_test)
print(f"test accuracy: {test_acc:.3f}  ({round(test_acc * len(X_test))} of {len(X_test)})")

scores = predict(model, X_test)
y_pred = [max(range(10), key=s.__getitem__) for s in scores]

# %% [markdown]
# The **confusion matrix** counts, for every true class (row), which class was predicted
# (column). The diagonal is the correct answers; anything off it is a confusion.

# %%
confusion = [[0] * 10 for _ in range(10)]
for t, p in zip(y_test, y_pred):
    confusion[t][p] += 1

fig, ax = plt.subplots(figsize=(5.5, 5))
ax.imshow(confusion, cmap="Blues")
for t in range(10):
    for p in range(10):
        if confusion[t][p]:
            ax.text(p, t, confusion[t][p], ha="center", va="center", fontsize=8,
                    color="white" if confusion[t][p] > 20 else "black")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
ax.set_title("confusion matrix (test set)")
plt.show()

# %% [markdown]
# Some of the digits it got wrong, with the probability it gave its answer. Several are hard
# for a human too at 8×8 pixels.

# %%
wrong = [i for i, (t, p) in enumerate(zip(y_test, y_pred)) if t != p]
print(len(wrong), "misclassified test images")
fig, axes = plt.subplots(1, 8, figsize=(12, 2.2))
for ax in axes:
    ax.axis("off")
for ax, i in zip(axes, wrong):
    pixels = X_test[i]
    p = softmax([Value(s) for s in scores[i]])[y_pred[i]].data
    ax.imshow([pixels[r * 8:(r + 1) * 8] for r in range(8)], cmap="gray_r")
    ax.set_title(f"true {y_test[i]}\nsaid {y_pred[i]} ({p:.0%})", fontsize=9)
plt.show()

# %% [markdown]
# ## Inside the network: which hidden neurons fire
#
# Each of the 16 hidden ReLU neurons computes $\mathrm{relu}(b_j + \sum_i w_{ji} x_i)$ of the
# 64 pixels: it **fires** (outputs more than 0) when the image matches its weights well enough.
# Different digits light up different neurons, and the output layer reads the pattern. Here are
# the hidden outputs for the first test image of each digit (one column per image):

# %%
firsts = [y_test.index(d) for d in range(10)]  # the first test image of each digit
with no_grad():
    hidden = [[h.data for h in model.layers[0](X_test[i])] for i in firsts]

fig, axes = plt.subplots(2, 1, figsize=(8, 4.6), height_ratios=[1, 2.6], layout="constrained")
axes[0].imshow([[X_test[i][r * 8 + c] for i in firsts for c in range(8)] for r in range(8)],
               cmap="gray_r")
axes[0].set_axis_off()
grid = axes[1].imshow([list(row) for row in zip(*hidden)], cmap="Oranges", aspect="auto")
axes[1].set_xticks(range(10), [f"a {d}" for d in range(10)])
axes[1].set_ylabel("hidden neuron")
axes[1].set_yticks(range(0, 16, 3))
fig.colorbar(grid, ax=axes[1], label="output (0: does not fire)")
plt.show()

# %% [markdown]
# The same for one image, on the network itself: `draw_network(model, x=image)` shows every
# unit's value for that input (orange: fires, grey: exactly 0), and `softmax=True` turns the
# ten outputs into probabilities; the predicted digit has a thick border. `rankdir="TB"` draws
# the layers as rows, top to bottom, so that all ten outputs fit on the screen beside each
# other; `max_neurons=10` draws the ten outputs and, of the 64 pixels and the 16 hidden
# neurons, the first and last few. `digits=1` rounds every number to one significant digit.

# %%
def digit_png(i):
    """Test image i as a small picture (PNG bytes)."""
    fig, ax = plt.subplots(figsize=(0.8, 0.8))
    ax.imshow([X_test[i][r * 8:(r + 1) * 8] for r in range(8)], cmap="gray_r")
    ax.set_axis_off()
    png = io.BytesIO()
    fig.savefig(png, format="png", bbox_inches="tight")
    plt.close(fig)
    return png.getvalue()


def network_for(i):
    """The network's values and probabilities for test image i."""
    return draw_network(model, x=X_test[i], softmax=True, rankdir="TB", max_neurons=10,
                        digits=1)


def show_digit(i):
    """Test image i: what it is, what the network says, and the picture."""
    print(f"test image {i}: a {y_test[i]}, the network says {y_pred[i]}")
    display(Image(digit_png(i)))


def look_inside(i):
    """Test image i, then the network's values and probabilities for it."""
    show_digit(i)
    display(network_for(i))


look_inside(firsts[3])

# %% [markdown]
# Pick a test image and watch which neurons fire. The selector is a widget: it needs
# ipywidgets and a running kernel (in a saved copy of the notebook the picture above stands in
# for it). Without ipywidgets, call `look_inside(i)` with the number of a test image instead.

# %%
try:
    import ipywidgets as widgets
except ImportError:
    widgets = None
    print("ipywidgets is not installed, so here is one more test image instead of a selector.\n"
          "Call look_inside(i) for any other image i (or pip install ipywidgets, then restart).")

if widgets is None:
    look_inside(firsts[5])
else:
    choices = [(f"test image {i}: a {y_test[i]}", i) for i in range(30)]
    chooser = widgets.Dropdown(options=choices, value=firsts[5], description="image")
    said, network = widgets.Label(), widgets.HTML()
    digit = widgets.Image(format="png", layout=widgets.Layout(width="64px"))

    def show(change=None):
        i = chooser.value
        said.value = f"the network says {y_pred[i]}"
        digit.value = digit_png(i)
        network.value = network_for(i).html()

    chooser.observe(show, names="value")
    show()
    display(widgets.VBox([widgets.HBox([chooser, said]), digit, network]))

# %% [markdown]
# ### One training step on one digit
#
# How does training change the network for one image? `animate_network` plays one step of
# SGD on it. We take the first test image the network gets wrong (on the ones it gets right
# the loss is close to 0 and so are all the gradients). As above, the layers are rows and all
# ten outputs are drawn. The 64 pixels go forward (hidden ReLU units fire or stay grey), the
# ten outputs are scores for the ten digits, and cross-entropy turns the score of the right
# digit into the loss. Backward, each unit gets its $\partial L/\partial z$: at the output it
# is $\text{softmax} - 1$ for the right digit and $\text{softmax}$ for the others, and it
# flows back only through the hidden units that fired. The update then nudges every weight.
# Press **Play**, or step with **Next**.

# %%
i = next(k for k in range(len(X_test)) if y_pred[k] != y_test[k])
show_digit(i)
animate_network(model, X_test[i], y_test[i], lr=0.05, rankdir="TB", max_neurons=10,
                output_labels=[str(d) for d in range(10)])

# %% [markdown]
# ## What PyTorch would do next
#
# Our engine computes one scalar at a time, so this small network already takes seconds per
# epoch. PyTorch does the same mathematics on whole arrays (tensors) at once: a batch becomes
# a matrix product $Z = XW^\top + b$ instead of thousands of `Value` nodes. `to_torch`
# converts the model into an equivalent `torch.nn.Sequential` with the same weights. This
# section is the only one that needs PyTorch. Without it the next cell says so and the rest of
# the section is skipped; to see it, `pip install torch==2.13.0`, then restart the kernel and run
# the notebook again (`make test` and `make notebooks` install it).

# %%
try:
    import torch

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False
    print("PyTorch is not installed, so this section is skipped: pip install torch==2.13.0 "
          "to see it.")

# %%
if HAVE_TORCH:
    from tinygrad_edu.interop import from_torch, to_torch

    torch_model = to_torch(model)
    print(torch_model)
    X_test_t = torch.tensor(X_test, dtype=torch.float64)
    ours = torch.tensor(scores, dtype=torch.float64)
    with torch.no_grad():
        theirs = torch_model(X_test_t)
    print(f"largest difference between our logits and PyTorch's: "
          f"{(ours - theirs).abs().max().item():.1e}")

# %% [markdown]
# From here PyTorch trains on all training images, for many epochs, in a second or two: the
# same loop as `fit` (forward, loss, `zero_grad`, `backward`, `step`), on tensors.

# %%
if HAVE_TORCH:
    X_train_all, _, y_train_all, _ = train_test_split(X_all, y_all, test_fraction=0.25, seed=0)
    Xt = torch.tensor(X_train_all, dtype=torch.float64)
    yt = torch.tensor(y_train_all)
    start = time.perf_counter()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # tensors this small are fastest on one thread
    opt = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(30):  # epochs
        order = torch.randperm(len(Xt))
        for first in range(0, len(Xt), 32):
            idx = order[first:first + 32]
            loss = torch.nn.functional.cross_entropy(torch_model(Xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        predicted = torch_model(X_test_t).argmax(dim=1)
        torch_acc = (predicted == torch.tensor(y_test)).double().mean()
    print(f"PyTorch: 30 epochs on {len(Xt)} images in {time.perf_counter() - start:.1f} s "
          f"(ours: 10 epochs on {len(X_train)} images in {ours_seconds:.1f} s)")
    print(f"PyTorch's test accuracy: {torch_acc.item():.3f}")

# %% [markdown]
# And back: `from_torch` turns the trained PyTorch model into one of ours, to inspect it with
# the tools of these notebooks.

# %%
if HAVE_TORCH:
    back = from_torch(torch_model)
    print(back)
    print(f"its test accuracy, computed by our engine: {accuracy(back, X_test, y_test):.3f}")

# %% [markdown]
# ## Summary
#
# - Ten classes: ten outputs (logits), softmax turns them into probabilities, cross-entropy
#   $-\log p_y$ is the loss, and its gradient is $p - \text{onehot}(y)$.
# - Mini-batch training with a progress bar; accuracy measured on a test set the model never
#   saw; the confusion matrix shows which digits get mixed up.
# - The ideas carry over unchanged to PyTorch, which runs them on tensors: `to_torch` and
#   `from_torch` move a model between the two.
