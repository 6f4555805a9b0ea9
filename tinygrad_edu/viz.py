"""Pictures drawn with Graphviz: computation graphs, network diagrams, and stepping through
backprop on the graph. The public names; they live in :mod:`tinygrad_edu.pictures`.

- ``draw_graph(root)`` / ``draw_dot``: the graph that built ``root``, a box per Value
- ``draw_network(model, x=None)``: a model as layers of neurons (with ``x``: forward values)
- ``step_through(root, direction="backward")``: a player stepping through backward (or
  forward, or both) on one fixed picture of the graph
- ``animate_network(model, x, target)``: one training step on the network diagram, layer
  by layer: forward, the loss, backward, the update

Needs the ``graphviz`` Python package (``pip install 'tinygrad_edu[viz]'``) and Graphviz's
``dot`` program.
"""

from tinygrad_edu.pictures.graph import (
    Diagram,
    GraphTooLargeError,
    GraphvizNotFoundError,
    draw_dot,
    draw_graph,
    draw_network,
    graphviz_available,
)
from tinygrad_edu.pictures.network_anim import NetworkAnimation, animate_network
from tinygrad_edu.pictures.stepper import Stepper, step_through

__all__ = [
    "draw_graph",
    "draw_dot",
    "draw_network",
    "step_through",
    "Stepper",
    "animate_network",
    "NetworkAnimation",
    "Diagram",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "graphviz_available",
]
