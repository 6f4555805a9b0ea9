"""``make demo``: will you pass the class? The whole pipeline on the seed's example.

    python -m tinygrad_edu.demo --out demo_out

1. Generates 100 students (lectures attended 0–10, last exam score 0–8, passed or failed; see
   :func:`tinygrad_edu.data.make_pass_fail`) and standardizes the two features.
2. Builds the 2 → 3 → 1 network (sigmoid neurons; the output is P(pass)) and asks it about
   "you" (5 lectures, 4 marks) before training.
3. Trains it with full-batch gradient descent (``SGD``) on the binary cross-entropy, with a
   progress bar, and prints the training accuracy and the answer for "you".
4. Writes the pictures into the output directory: ``network.svg`` (the network),
   ``neuron_graph.svg`` (one neuron's forward and backward pass, op by op), ``loss.png`` (the
   loss per epoch), ``decision_boundary.png`` (pass/fail regions with "you" marked),
   ``neuron_maps.png`` (what each neuron computes over the plane) and ``training.gif`` (the
   regions and the loss every 10 epochs, as training ran). PNGs are written at ``--dpi``
   (150 by default, sharp on a projector).
   The SVGs need the ``viz`` extra and Graphviz's ``dot`` program, the PNGs and the GIF the
   ``plot`` extra (matplotlib). Without them the demo still trains and prints its numbers,
   says which pictures it skipped and how to get them, and exits with status 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

from tinygrad_edu.data import PASS_FAIL_FEATURES, YOU, make_pass_fail, standardize
from tinygrad_edu.engine import Value
from tinygrad_edu.grad_mode import no_grad
from tinygrad_edu.losses import binary_cross_entropy
from tinygrad_edu.nn import MLP, Neuron
from tinygrad_edu.optim import SGD
from tinygrad_edu.train import History, accuracy, fit

__all__ = ["main", "PICTURES"]

#: The files the demo writes into its output directory.
PICTURES = ("network.svg", "neuron_graph.svg", "loss.png", "decision_boundary.png",
            "neuron_maps.png", "training.gif")

_GRAPHVIZ_HINT = ("install Graphviz's dot program (Debian/Ubuntu: sudo apt-get install graphviz; "
                  "macOS: brew install graphviz; conda: conda install -c conda-forge graphviz) "
                  "and run the demo again")
_PLOT_HINT = "install the 'plot' extra (pip install 'tinygrad_edu[plot]') and run the demo again"


def _answer(p: float) -> str:
    return "pass" if p > 0.5 else "fail"


def _neuron_graph(model: MLP, you: Sequence[float]) -> tuple[Value, list[Value]]:
    """One hidden neuron of the trained model, rebuilt op by op, run forward and backward."""
    trained = model.layers[0].neurons[0]
    neuron = Neuron(trained.nin, trained.activation, seed=0, fused=False)
    neuron.load_state_dict(trained.state_dict())
    xs = [Value(v, f"{name} (scaled)") for v, name in zip(you, ("lectures", "marks"))]
    out = neuron(xs)
    out.backward()
    return out, neuron.parameters()


def _write_pictures(out_dir: str, model: MLP, history: History, X: list[list[float]],
                    Xs: list[list[float]], y: list[int], predict_raw: Callable[[Any], Value],
                    you: Sequence[float], recorder: Any, dpi: float) -> list[str]:
    """Draw the pictures; return the files written, explaining anything skipped."""
    written: list[str] = []

    def attempt(name: str, draw: Callable[[str], None]) -> None:
        path = os.path.join(out_dir, name)
        try:
            draw(path)
        except Exception as err:  # a picture must not hide the numbers: report and go on
            print(f"could not draw {name}: {type(err).__name__}: {err}")
        else:
            written.append(name)

    try:
        from tinygrad_edu import viz
    except ImportError as err:
        print(f"skipped network.svg and neuron_graph.svg: {err} "
              "(install the 'viz' extra: pip install 'tinygrad_edu[viz]')")
        viz = None
    if viz is not None and shutil.which("dot") is None:
        print(f"skipped network.svg and neuron_graph.svg: Graphviz's dot program is not on "
              f"PATH. To get them, {_GRAPHVIZ_HINT}.")
        viz = None
    if viz is not None:
        def network(path: str) -> None:
            diagram = viz.draw_network(model, show_weights=True,
                                       input_labels=["lectures", "marks"])
            with open(path, "wb") as f:
                f.write(diagram.pipe(format="svg"))

        def neuron_graph(path: str) -> None:
            out, params = _neuron_graph(model, you)
            diagram = viz.draw_graph(out, params=params)
            with open(path, "wb") as f:
                f.write(diagram.pipe(format="svg"))

        attempt("network.svg", network)
        attempt("neuron_graph.svg", neuron_graph)

    if isinstance(recorder, str):  # why there is no recorder: the plots cannot be drawn
        print(f"skipped loss.png, decision_boundary.png, neuron_maps.png and training.gif: "
              f"{recorder}. To get them, {_PLOT_HINT}.")
        return written
    from tinygrad_edu import plot

    def loss_png(path: str) -> None:
        title = "Training the pass/fail network (full-batch gradient descent)"
        plot.plot_history(history, title=title).savefig(path, dpi=dpi)

    def boundary_png(path: str) -> None:
        fig = plot.plot_decision_boundary(
            predict_raw, X, y, query=tuple(YOU), axis_labels=PASS_FAIL_FEATURES,
            threshold=0.5, class_names=("fail", "pass"), title="Will you pass?",
        )
        fig.savefig(path, dpi=dpi)

    def maps_png(path: str) -> None:
        fig = plot.plot_neuron_maps(model, Xs, y, class_names=("fail", "pass"),
                                    axis_labels=("lectures (scaled)", "marks (scaled)"),
                                    title="What each neuron computes")
        fig.savefig(path, dpi=dpi)

    attempt("loss.png", loss_png)
    attempt("decision_boundary.png", boundary_png)
    attempt("neuron_maps.png", maps_png)
    attempt("training.gif", recorder.save_gif)
    return written


def _recorder(X: list[list[float]], y: list[int], transform: Callable[[Any], Any],
              dpi: float) -> Any:
    """A TrainingRecorder for the run, or (without matplotlib) the reason as a string."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from tinygrad_edu.plot import TrainingRecorder
    except ImportError as err:
        return "matplotlib is not installed" if "matplotlib" in str(err) else str(err)
    recorder = TrainingRecorder(X, y, every=10, transform=transform,
                                class_names=("fail", "pass"), axis_labels=PASS_FAIL_FEATURES,
                                dpi=min(dpi, 100.0))  # GIF frames: 100 dpi is plenty on slides
    return recorder


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo (command-line arguments as for ``python -m tinygrad_edu.demo``)."""
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_edu.demo",
        description="Train the pass/fail network and write its pictures.",
    )
    parser.add_argument("--out", default="demo_out", help="directory for the pictures")
    parser.add_argument("--epochs", type=int, default=300, help="gradient-descent steps")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate")
    parser.add_argument("--students", type=int, default=100, help="size of the data set")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--no-pictures", action="store_true", help="print the numbers only")
    parser.add_argument("--dpi", type=float, default=150.0,
                        help="resolution of the PNG pictures in dots per inch (default 150)")
    args = parser.parse_args(argv)
    if not 10 <= args.dpi <= 1200:
        parser.error(f"--dpi must be between 10 and 1200, got {args.dpi:g}")

    X, y = make_pass_fail(args.students, seed=args.seed)
    Xs, scaler = standardize(X)
    you = scaler.transform_one(YOU)
    model = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=args.seed)

    def predict_raw(x: Any) -> Value:
        """The model on unscaled features (lectures, marks), for the decision boundary."""
        return model(scaler.transform_one(x))

    print("tinygrad_edu demo: will you pass the class?")
    print(f"data: {len(X)} students, {sum(y)} passed; features: lectures attended (0-10), "
          "last exam score (0-8), standardized")
    print(f"model: {model!r}, {model.num_parameters()} parameters")
    with no_grad():
        before = model(you).data
    print(f"before training, you (5 lectures, 4 marks): P(pass) = {before:.3f}")
    print(f"training: full-batch gradient descent, SGD lr={args.lr:g}, {args.epochs} epochs, "
          "binary cross-entropy")
    sys.stdout.flush()
    recorder = None if args.no_pictures else _recorder(X, y, scaler.transform_one, args.dpi)
    history = fit(model, Xs, y, binary_cross_entropy, SGD(model.parameters(), lr=args.lr),
                  epochs=args.epochs, progress=not args.no_progress, metrics=["accuracy"],
                  callbacks=[] if recorder is None or isinstance(recorder, str) else [recorder])
    loss = history.history["loss"]
    print(f"loss: {loss[0]:.4f} -> {loss[-1]:.4f}")
    print(f"training accuracy: {100 * accuracy(model, Xs, y):.1f}%")
    with no_grad():
        p = model(you).data
    print(f"you (5 lectures, 4 marks): P(pass) = {p:.3f} -> {_answer(p)}")

    if args.no_pictures:
        return 0
    os.makedirs(args.out, exist_ok=True)
    written = _write_pictures(args.out, model, history, X, Xs, y, predict_raw, you,
                              recorder, args.dpi)
    if written:
        print(f"pictures written to {args.out}/: {', '.join(written)}")
    missing = [name for name in PICTURES if name not in written]
    if missing:
        print(f"not written: {', '.join(missing)} (see the messages above; the numbers above "
              "do not depend on them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
