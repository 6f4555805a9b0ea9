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
# # 3. A neuron, a layer, a network
#
# A neural network is built from one small piece repeated many times: the **neuron**. This
# notebook builds a neuron from Values, then puts neurons side by side (a **layer**) and
# layers one after another (a **network**), and looks at the activation functions that make
# the whole thing more than a linear formula.

# %%
import math

import matplotlib.pyplot as plt

from tinygrad_edu import backward_order
from tinygrad_edu.nn import MLP, Layer, Neuron, Sequential
from tinygrad_edu.plot import plot_activations
from tinygrad_edu.viz import GraphTooLargeError, animate_network, draw_graph, draw_network

# %% [markdown]
# ## One neuron
#
# A neuron with inputs $x_0, \dots, x_{n-1}$ has one weight $w_i$ per input and a bias $b$.
# It adds up the weighted inputs and passes the sum $z$ through an **activation function** $g$:
#
# $$z = b + \sum_{i=0}^{n-1} w_i x_i, \qquad \text{out} = g(z).$$
#
# `Neuron(2, "sigmoid")` has two weights and a bias, drawn at random from a seeded generator
# (`seed=0` gives the same numbers every run). `fused=False` builds $z$ one operation at a
# time, so the graph shows every multiplication and addition.

# %%
neuron = Neuron(2, activation="sigmoid", seed=0, fused=False)
print(neuron)
print("w =", [round(w.data, 4) for w in neuron.w], " b =", round(neuron.b.data, 4))

x = [1.0, 2.0]
out = neuron(x)
print(f"neuron({x}) = {out.data:.6f}")

# %% [markdown]
# The same number by hand, with $g(z) = \sigma(z) = 1/(1 + e^{-z})$:

# %%
z = neuron.b.data + sum(w.data * xi for w, xi in zip(neuron.w, x))
print(f"z = {z:.6f},  sigmoid(z) = {1 / (1 + math.exp(-z)):.6f}")

# %% [markdown]
# Its computation graph, after `backward()`. The sigmoid's local derivative is
# $\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$, and then each weight gets
# $\dfrac{\partial\,\text{out}}{\partial w_i} = \sigma'(z)\, x_i$ and the bias $\sigma'(z)$.
# The inputs get $\sigma'(z)\, w_i$: not needed here, but in a network the inputs of one
# neuron are the outputs of others, and that is how the gradient travels further back.

# %%
out.backward()
s = out.data
print(f"sigma'(z) = {s * (1 - s):.6f}")
print("d out/d w =", [round(w.grad, 6) for w in neuron.w], " (sigma'(z) * x_i)")
draw_graph(out, params=neuron.parameters())

# %% [markdown]
# With `fused=True` (the default) the sum $b + \sum_i w_i x_i$ is **one** node. The numbers are
# identical; the graph has one node instead of $2n$, which is what makes bigger networks
# affordable in pure Python. A ReLU neuron goes one step further: $\mathrm{relu}(b + \sum_i w_i
# x_i)$ is a single node (op `linear+relu`), whose local derivatives are the sum's where the
# neuron fired ($z > 0$) and all $0$ where it did not. We use the fused form from here on.

# %%
fused = Neuron(2, activation="sigmoid", seed=0)
out_fused = fused(x)
out_fused.backward()
print("same output:", out_fused.data == out.data)
print("same grads: ", [w.grad for w in fused.w] == [w.grad for w in neuron.w])
draw_graph(out_fused, params=fused.parameters())

# %% [markdown]
# ## A dense layer with two outputs
#
# A **layer** is several neurons that all read the same inputs. With two neurons we get two
# outputs, each with its own weights. Writing neuron $j$'s weights as row $j$ of a matrix $W$:
#
# $$z_j = b_j + \sum_i W_{ji}\, x_i, \qquad \text{out}_j = g(z_j), \qquad j = 0, 1 .$$

# %%
layer = Layer(3, 2, activation="relu", seed=1)
x = [0.5, -1.0, 2.0]
outs = layer(x)
print(layer, "->", [round(o.data, 6) for o in outs])

W = layer.state_dict()["weight"]  # row j = the weights of neuron j
bias = layer.state_dict()["bias"]
for j in range(2):
    z_j = bias[j] + sum(W[j][i] * x[i] for i in range(3))
    print(f"by hand: z_{j} = {z_j:+.6f}, relu(z_{j}) = {max(0.0, z_j):.6f}")

# %% [markdown]
# `draw_network` shows the layer as a diagram: inputs on the left, one circle per neuron,
# one edge per weight (here labelled with its value; orange positive, blue negative).

# %%
draw_network(layer, show_weights=True)

# %% [markdown]
# ## A hidden layer
#
# Feed the outputs of one layer into the next and the first one becomes a **hidden layer**
# (its outputs are neither the inputs nor the final answer). Two inputs, three hidden neurons,
# one output neuron:
#
# $$\mathbf{h} = g\big(W^{(1)}\mathbf{x} + \mathbf{b}^{(1)}\big), \qquad
# \hat{y} = g\big(W^{(2)}\mathbf{h} + b^{(2)}\big).$$
#
# That is $3 \cdot 2 + 3 = 9$ parameters in the hidden layer and $3 + 1 = 4$ in the output
# layer. `Sequential` applies layers in order.

# %%
net = Sequential(Layer(2, 3, activation="sigmoid", seed=2), Layer(3, 1, activation="sigmoid", seed=3))
print(net, "with", len(net.parameters()), "parameters")

x = [5.0, 4.0]
h = net.layers[0](x)
y_hat = net.layers[1](h)
print("hidden h =", [round(v.data, 4) for v in h])
print(f"layer by layer: {y_hat.data:.6f}   net(x): {net(x).data:.6f}")
draw_network(net, input_labels=["x1", "x2"])

# %% [markdown]
# ### Forward propagation, drawn
#
# This is the shape of the pass/fail network of notebook 4: two inputs (lectures attended,
# last exam score), three hidden neurons, one sigmoid output read as the probability to pass.
# Its weights are still random here; notebook 4 trains them. Given an input,
# `draw_network(net, x=...)` shows every unit's value for it, the numbers we just computed,
# and colours each unit by its value (orange: positive, the stronger the larger; blue:
# negative; grey: exactly 0). The student "you" attended 5 lectures and scored 4:

# %%
draw_network(net, x=[5.0, 4.0], input_labels=["lectures", "marks"])

# %% [markdown]
# With `contributions=True` each edge is drawn as wide as its share $w_i x_i$ of the sum the
# next neuron computes (orange adds, blue subtracts), so you can see which input drives which
# neuron. A student with 10 lectures and a score of 9:

# %%
draw_network(net, x=[10.0, 9.0], input_labels=["lectures", "marks"], contributions=True)

# %% [markdown]
# ### One training step, layer by layer
#
# Training repeats one step: push the input **forward** layer by layer, measure the **loss**,
# send its gradient **backward** layer by layer, then **update** every weight a little against
# its gradient. `animate_network` plays that step on the same diagram. Say "you" (5 lectures,
# 4 marks) passed (target 1): press **Play** or **Next** and watch
#
# - forward: each layer's units get their values (the input layer first, the loss last);
# - backward: each unit shows $\partial L/\partial z$, how much the loss changes with its sum
#   $z$, starting at the output layer; each edge is coloured and sized by its
#   $\partial L/\partial w$ (orange positive, blue negative, thicker = larger): in every
#   network picture orange is above 0 and blue below, for units and edges alike;
# - the update: each weight moves by $-\text{lr}\cdot\partial L/\partial w$, and the loss on
#   this example goes down.
#
# It runs the step on a copy of the network: `net` keeps its weights.

# %%
step = animate_network(net, [5.0, 4.0], 1, lr=0.5, input_labels=["lectures", "marks"])
step

# %% [markdown]
# ## Sequential and deep stacks
#
# `MLP(nin, sizes)` builds the same kind of stack in one call: hidden layers with ReLU and a
# linear output layer by default. `MLP(2, [16, 16, 1])` (micrograd's demo model) has
# $(2\cdot16 + 16) + (16\cdot16 + 16) + (16 + 1) = 337$ parameters. Big layers are drawn with
# "…" instead of hundreds of edges.

# %%
mlp = MLP(2, [16, 16, 1], seed=0)
print(mlp, "with", len(mlp.parameters()), "parameters")
same = Sequential(Layer(2, 16, "relu"), Layer(16, 16, "relu"), Layer(16, 1, "linear"))
same.load_state_dict(mlp.state_dict())
print("a Sequential with the same weights gives the same output:",
      same([0.3, -0.7]).data == mlp([0.3, -0.7]).data)
draw_network(mlp)

# %% [markdown]
# Every neuron adds nodes to the computation graph. Even with fused neurons one forward pass
# of this model is hundreds of Values, too many to draw usefully, and `draw_graph` says so:

# %%
y = mlp([0.3, -0.7])
print("Values in the graph of one forward pass:", len(backward_order(y)))
try:
    draw_graph(y)
except GraphTooLargeError as err:
    print("GraphTooLargeError:", err)

# %% [markdown]
# A deeper stack: ten hidden layers of 8 sigmoid neurons. Backprop multiplies local
# derivatives layer after layer, and $\sigma'(z) \le \tfrac14$, so the gradient reaching the
# first layers is tiny (**vanishing gradients**). With PyTorch's default small starting weights
# tanh and ReLU stacks shrink it too, just less; this is one reason very deep networks need
# extra care (initialisation, normalisation, residual connections).

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for act in ["sigmoid", "tanh"]:
    deep = MLP(2, [8] * 10 + [1], activation=act, seed=0)
    deep([0.5, -1.0]).backward()
    sizes = [sum(abs(p.grad) for p in lay.parameters()) / len(lay.parameters())
             for lay in deep.layers]
    ax.semilogy(range(1, len(sizes) + 1), sizes, "o-", label=f"{act} hidden layers")
ax.set_xlabel("layer (1 = next to the input)")
ax.set_ylabel("mean |grad| of its parameters")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Activation functions and their derivatives
#
# Without an activation function (or with `linear`), a stack of layers is still one linear
# formula: $W^{(2)}(W^{(1)}\mathbf{x} + \mathbf{b}^{(1)}) + b^{(2)}$ is again "weights times
# inputs plus bias". The bend in $g$ is what lets a network draw curved boundaries.
#
# | name | $g(z)$ | $g'(z)$ |
# |---|---|---|
# | ReLU | $\max(0, z)$ | $1$ if $z > 0$, else $0$ |
# | tanh | $\tanh z$ | $1 - \tanh^2 z$ |
# | sigmoid | $\sigma(z) = \dfrac{1}{1 + e^{-z}}$ | $\sigma(z)\,(1 - \sigma(z))$ |
# | linear | $z$ | $1$ |
#
# `plot_activations` draws each function (solid) with the derivative that `backward()`
# computes for it (dashed), point by point, so the picture shows exactly what the engine uses.
# Note the ranges: sigmoid's slope never exceeds $\tfrac14$, tanh's reaches $1$ at $0$, ReLU's
# is $0$ or $1$.

# %%
plot_activations()

# %% [markdown]
# ## Summary
#
# - Neuron: $g(b + \sum_i w_i x_i)$; its graph is a handful of Values, and `backward()` gives
#   every weight's gradient.
# - Layer: neurons side by side on the same inputs, one output each. Network: layers one after
#   another; `Sequential` and `MLP` build them, `draw_network` draws them.
# - Activation functions bend the output; their derivatives decide how gradients flow back.
#   Next: train a small network on a real question (`04_will_you_pass.ipynb`).
