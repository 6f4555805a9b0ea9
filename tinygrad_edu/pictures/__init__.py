"""The pictures: computation graphs, network diagrams, plots, and players that step through
them. The public names live in :mod:`tinygrad_edu.viz` (Graphviz) and
:mod:`tinygrad_edu.plot` (matplotlib); this package holds their parts, one idea per module:

- ``style``: colours, fonts, how numbers and labels are written (shared by every picture)
- ``graph``: ``draw_graph`` / ``draw_dot`` and ``draw_network`` (Graphviz)
- ``stepper``: ``step_through``, backprop (or the forward pass) one step at a time
- ``player``: the one frame player (widget, offline HTML, GIF) and the one way files are saved
- ``plots``: static matplotlib plots; ``animations``: the recorder and descent animations
- ``network_frames``: the numbers of one training step, frame by frame (no drawing);
  ``network_anim``: ``animate_network`` draws them on the network diagram

Nothing is imported here, so ``style`` works without Graphviz or matplotlib installed.
"""
