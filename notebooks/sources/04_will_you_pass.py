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
# # 4. Will you pass the class?
#
# The classic first example of a neural network: predict whether a student passes from two
# numbers,
#
# - $x_1$: the number of lectures attended (0 to 10),
# - $x_2$: the score in the last exam (0 to 8 marks).
#
# *You* attended 5 lectures and scored 4 marks. Will you pass? We build a small network, see its
# untrained (wrong) answer, measure how wrong it is with a loss, walk downhill on that loss with
# gradient descent, watch it learn, look inside at what each neuron does, and end with a
# trained network, its decision boundary and your answer.

# %%
import matplotlib.pyplot as plt

from tinygrad_edu import Value
from tinygrad_edu.data import YOU, make_grades, make_pass_fail, standardize
from tinygrad_edu.losses import binary_cross_entropy, mse_loss
from tinygrad_edu.nn import MLP
from tinygrad_edu.optim import SGD
from tinygrad_edu.plot import (
    TrainingRecorder,
    descent_path,
    plot_decision_boundary,
    plot_history,
    plot_loss_landscape,
    plot_neuron_maps,
)
from tinygrad_edu.train import accuracy, fit, predict
from tinygrad_edu.viz import draw_network

# %% [markdown]
# ## The data
#
# 100 past students: lectures attended, last exam score, and whether they passed ($y = 1$,
# green) or failed ($y = 0$, red). The data is generated (seeded) from a hidden rule with some
# noise, so near the border some students pass or fail against the trend, as real ones do.

# %%
X, y = make_pass_fail(n=100, seed=0)
print("first rows:", X[:3], "labels:", y[:3])
print(f"{sum(y)} passed, {len(y) - sum(y)} failed; you: {YOU}")

fig, ax = plt.subplots(figsize=(5, 4))
for label, colour, name in [(1, "tab:green", "pass"), (0, "tab:red", "fail")]:
    pts = [x for x, t in zip(X, y) if t == label]
    ax.scatter([p[0] for p in pts], [p[1] for p in pts], c=colour, edgecolor="k", lw=0.5,
               label=name)
ax.scatter(*YOU, marker="*", s=300, c="gold", edgecolor="k", label="you (5, 4)")
ax.set_xlabel("$x_1$: lectures attended")
ax.set_ylabel("$x_2$: last exam score")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# The two features live on different scales, so we **standardize** them: subtract each column's
# mean and divide by its standard deviation, $x' = (x - \mu)/\sigma$. Gradient descent then
# moves all weights at a similar pace. "You" must be scaled the same way.

# %%
Xs, scaler = standardize(X)
you = scaler.transform_one(YOU)
print(scaler)
print("you, standardized:", [round(v, 3) for v in you])

# %% [markdown]
# ## The network and its untrained answer
#
# Two inputs, one hidden layer of three neurons, one output neuron. The output uses a sigmoid,
# so it is a number between 0 and 1 that we read as the probability of passing:
#
# $$\hat{y} = f(\mathbf{x}; W) = \sigma\!\big(W^{(2)} \sigma(W^{(1)}\mathbf{x} + \mathbf{b}^{(1)})
# + b^{(2)}\big) \in (0, 1).$$

# %%
model = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=4)
print(model, "with", len(model.parameters()), "parameters")
draw_network(model, input_labels=["lectures", "exam score"], show_weights=True)

# %% [markdown]
# Its weights are random, so it knows nothing yet. Asked about you:

# %%
p_you = model(you)
print(f"predicted probability that you pass: {p_you.data:.3f}  ->",
      "pass" if p_you.data > 0.5 else "fail")

# %% [markdown]
# It says **fail**. But students like you (5 lectures, 4 marks) passed; in the story you did
# too: the actual answer is $y = 1$. The network is wrong because it has not been trained.
#
# ## How wrong? The loss
#
# A **loss** $\mathcal{L}\big(f(\mathbf{x}; W), y\big)$ puts a number on one wrong prediction.
# For probabilities the standard choice is the **binary cross-entropy**:
#
# $$\mathcal{L}(\hat y, y) = -\big(y \log \hat y + (1 - y)\log(1 - \hat y)\big).$$
#
# For $y = 1$ only $-\log \hat y$ remains: $0$ when $\hat y = 1$, large when $\hat y$ is near $0$.

# %%
print(f"loss for you now:            -log({p_you.data:.3f}) = "
      f"{binary_cross_entropy([p_you], [1]).data:.3f}")
for p in [0.9, 0.5, 0.1, 0.01]:
    print(f"loss if it had said {p:4}:    -log({p}) = {binary_cross_entropy([p], [1]).data:.3f}")

# %% [markdown]
# ## The empirical loss
#
# One student is not enough. The **empirical loss** is the average loss over all $n$ training
# examples; it depends only on the weights $W$:
#
# $$J(W) = \frac{1}{n}\sum_{i=1}^{n} \mathcal{L}\big(f(\mathbf{x}^{(i)}; W),\ y^{(i)}\big).$$
#
# Training means finding $W^* = \arg\min_W J(W)$.

# %%
J = binary_cross_entropy([model(x) for x in Xs], y)
print(f"J(W) of the untrained network: {J.data:.4f}")
print(f"training accuracy: {accuracy(model, Xs, y):.2f}")


# %% [markdown]
# ## The loss landscape and gradient descent
#
# Our network has 13 weights, so $J$ is a surface over a 13-dimensional space: impossible to
# draw. To see the idea, shrink the model to a single neuron with two weights and the bias held
# at $0$, $\hat y = \sigma(w_0 x_1 + w_1 x_2)$. Now $J(w_0, w_1)$ is a landscape we can draw:
# colour is height.
#
# **Gradient descent** starts somewhere and repeats: compute the gradient $\nabla J$ (the
# direction of steepest *ascent*, given by `backward()`) and take a small step the other way,
#
# $$w \leftarrow w - \eta\, \frac{\partial J}{\partial w}, \qquad \eta = \text{learning rate}.$$
#
# `descent_path` runs exactly this and records every point it visits.

# %%
def J_two_weights(w0, w1):
    return binary_cross_entropy([(w0 * x1 + w1 * x2).sigmoid() for x1, x2 in Xs], y)


def J_at(point):
    return J_two_weights(Value(point[0]), Value(point[1])).data


path = descent_path(J_two_weights, start=(-3.0, -2.0), lr=1.0, steps=60)
print(f"start {path[0]}, J = {J_at(path[0]):.3f}")
print(f"after {len(path) - 1} steps ({path[-1][0]:.2f}, {path[-1][1]:.2f}), J = {J_at(path[-1]):.3f}")
plot_loss_landscape(J_two_weights, (-4, 6), (-4, 6), path=path, resolution=40,
                    title="J(w0, w1) and the walk downhill")

# %% [markdown]
# The steps are big where the slope is steep and shrink as the ground flattens, because the
# step is proportional to the gradient.
#
# ## Training the network
#
# The same algorithm for all 13 weights of our network:
#
# 1. start from random weights;
# 2. repeat: compute $J(W)$, get $\partial J/\partial W$ with `backward()`, update
#    $W \leftarrow W - \eta\,\partial J/\partial W$;
# 3. return the weights.
#
# Here are the first five steps written out:

# %%
lr = 1.0
for step in range(5):
    J = binary_cross_entropy([model(x) for x in Xs], y)
    model.zero_grad()
    J.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    print(f"step {step}: J = {J.data:.4f}")

# %% [markdown]
# `fit` runs the same loop (`batch_size=None`: every step uses all examples, which is plain
# gradient descent) with `SGD` doing the update, and shows a progress bar. 300 steps take a
# second or so here.
#
# We also pass a **callback**: a `TrainingRecorder` that `fit` calls after every epoch. Every
# 10 epochs it evaluates the network over the whole plane and keeps the picture, so we can
# watch training afterwards. `transform=scaler.transform_one` lets it draw the plane in the
# original units (lectures, marks) while the network sees standardized inputs.

# %%
recorder = TrainingRecorder(X, y, every=10, transform=scaler.transform_one,
                            class_names=("fail", "pass"),
                            axis_labels=("lectures attended", "last exam score"))
history = fit(model, Xs, y, binary_cross_entropy, SGD(model.parameters(), lr=1.0),
              epochs=300, batch_size=None, metrics=["accuracy"], progress=True,
              callbacks=[recorder])
print(history)
plot_history(history)

# %% [markdown]
# ## Watching it learn
#
# The recording: left, what the network answers at every point of the plane (green: pass,
# red: fail) at that epoch; right, the loss so far. Press Play, or step with Previous/Next
# (or the arrow keys). Most of the change happens in the first 60 epochs, where the loss
# falls steeply: the boundary swings round from its random start to the diagonal the data
# suggests, then only settles. (`recorder.save_gif("training.gif")` writes the same frames as
# a GIF for slides, `recorder.save_html(...)` as one web page.)

# %%
recorder

# %% [markdown]
# ## The decision boundary, and you
#
# Every point of the plane now gets an answer: green where the network says pass
# ($\hat y > 0.5$), red where it says fail. The line between them is the **decision
# boundary**. The model works on standardized inputs, so we scale each grid point first.

# %%
p_you = model(you).data
print(f"trained network: probability that you pass = {p_you:.3f} ->",
      "pass" if p_you > 0.5 else "fail")
print(f"training accuracy: {accuracy(model, Xs, y):.2f}")
plot_decision_boundary(lambda x: model(scaler.transform_one(x)), X, y, query=YOU,
                       class_names=("fail", "pass"),
                       axis_labels=("lectures attended", "last exam score"),
                       title="trained 2 -> 3 -> 1 network")

# %% [markdown]
# The boundary is almost straight because the hidden rule behind this data is a straight
# line; the few points on the wrong side are the noisy students no sensible model should
# chase. (Accuracy on the training data flatters a model; notebook 6 keeps a separate test
# set.)
#
# ## Inside the network: what each neuron computes
#
# A hidden neuron computes $\sigma(w_1 x_1 + w_2 x_2 + b)$. Where $w_1 x_1 + w_2 x_2 + b = 0$
# it outputs exactly $0.5$: that is a **straight line** in the plane. On one side the neuron
# fires (its output goes towards 1: green in the maps below), on the other it stays off
# (towards 0: red); the size of the weights sets how sharp the change is. So each hidden
# neuron splits the plane along its own line.
#
# The output neuron then takes a weighted sum of the three hidden outputs and squashes it
# again: it **combines the three soft half-planes** into its answer. `plot_neuron_maps` draws
# every neuron's output over the (standardized) plane, one column per layer, with the
# students on top (white dots: failed, black dots: passed) and the resulting decision regions
# last. The colours mean what they mean in the other pictures: for the output neuron green is
# "pass" (its output is near 1) and red "fail", exactly as in the decision regions.

# %%
plot_neuron_maps(model, Xs, y, class_names=("fail", "pass"),
                 axis_labels=("lectures (standardized)", "marks (standardized)"))

# %% [markdown]
# Read the columns left to right: each hidden map is a line with "fire" on one side; the
# output map is the blend of the three, and its 0.5 contour is the decision boundary on the
# right. Here all three lines run along roughly the same diagonal (some neurons fire above
# it, some below; the output's weights turn the ones it needs around), because one diagonal
# line already explains this data. On data that needs a curved boundary (the two moons of
# notebook 5), the hidden lines point in different directions, and their combination bends.
#
# ## The regression variant: predict the final grade
#
# Instead of pass/fail, predict the final grade (0 to 10) from the same two features. The
# output neuron is now linear (any real number), and the loss is the **mean squared error**:
#
# $$J(W) = \frac{1}{n}\sum_{i=1}^{n}\big(f(\mathbf{x}^{(i)}; W) - y^{(i)}\big)^2 .$$

# %%
Xg, grades = make_grades(n=100, seed=0)
Xgs, gscaler = standardize(Xg)
print("first rows:", Xg[:3], "grades:", grades[:3])

regressor = MLP(2, [3, 1], activation="tanh", output_activation="linear", seed=0)
print(regressor)
print(f"untrained: your grade would be {regressor(gscaler.transform_one(YOU)).data:.2f}")
reg_history = fit(regressor, Xgs, grades, mse_loss, SGD(regressor.parameters(), lr=0.1),
                  epochs=200, progress=True)
print(f"trained:   your grade would be {regressor(gscaler.transform_one(YOU)).data:.2f}")
print(f"final MSE {reg_history['loss'][-1]:.3f}  (RMSE {reg_history['loss'][-1] ** 0.5:.2f} "
      "grade points)")
plot_history(reg_history, logy=True)

# %% [markdown]
# The error cannot reach $0$: the grades include noise that the two features do not explain.
# Predicted against true grades (points on the diagonal are perfect):

# %%
pred = predict(regressor, Xgs)
fig, ax = plt.subplots(figsize=(4, 4))
ax.scatter(grades, pred, s=15)
ax.plot([0, 10], [0, 10], "k--", lw=1)
ax.set_xlabel("true grade")
ax.set_ylabel("predicted grade")
plt.show()

# %% [markdown]
# ## Summary
#
# - A loss $\mathcal{L}$ scores one prediction; the empirical loss $J(W)$ averages it over the
#   data. Binary cross-entropy for probabilities, mean squared error for numbers.
# - Gradient descent walks downhill on $J$: $W \leftarrow W - \eta\,\nabla J(W)$, with the
#   gradient from `backward()`.
# - A callback such as `TrainingRecorder` watches training from inside `fit`; each hidden
#   neuron draws a soft line across the input plane, and the output neuron combines them.
# - Trained, the network says you pass. Next: how big each step's batch should be, and how big
#   the learning rate (`05_gd_sgd_minibatch.ipynb`).
