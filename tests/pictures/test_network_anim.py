"""animate_network: one training step on the network diagram, from the engine's numbers."""

from __future__ import annotations

import copy
import math
import re

import pytest

pytest.importorskip("graphviz")

from tinygrad_edu.losses import binary_cross_entropy, cross_entropy, mse_loss  # noqa: E402
from tinygrad_edu.nn import MLP, Layer, Sequential  # noqa: E402
from tinygrad_edu.optim import SGD  # noqa: E402
from tinygrad_edu.pictures.network_anim import NetworkAnimation  # noqa: E402
from tinygrad_edu.viz import animate_network, graphviz_available  # noqa: E402

pytestmark = pytest.mark.skipif(not graphviz_available(), reason="Graphviz 'dot' not installed")


def pass_fail_net() -> Sequential:
    """The seed's network: 2 inputs, 3 sigmoid units, 1 sigmoid output."""
    return Sequential(Layer(2, 3, activation="sigmoid", seed=2),
                      Layer(3, 1, activation="sigmoid", seed=3))


def test_numbers_match_pytorch_float64():
    torch = pytest.importorskip("torch")
    net = pass_fail_net()
    anim = animate_network(net, [5.0, 4.0], 1, lr=0.5)
    n = anim.numbers
    sd = net.state_dict()
    W1 = torch.tensor(sd["layers.0.weight"], dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor(sd["layers.0.bias"], dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor(sd["layers.1.weight"], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor(sd["layers.1.bias"], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([5.0, 4.0], dtype=torch.float64)
    z1 = W1 @ x + b1
    z1.retain_grad()
    h = torch.sigmoid(z1)
    z2 = W2 @ h + b2
    z2.retain_grad()
    p = torch.sigmoid(z2)
    loss = torch.nn.functional.binary_cross_entropy(p, torch.ones(1, dtype=torch.float64))
    loss.backward()
    assert n.loss_name == "binary_cross_entropy"  # the default for one sigmoid output
    assert n.loss == pytest.approx(loss.item(), rel=1e-12)
    assert n.out[0] == pytest.approx(h.tolist(), rel=1e-12)
    assert n.z[1] == pytest.approx(z2.tolist(), rel=1e-12)
    assert n.dz[0] == pytest.approx(z1.grad.tolist(), rel=1e-10)
    assert n.dz[1] == pytest.approx(z2.grad.tolist(), rel=1e-10)
    assert sum(n.dw[0] + n.dw[1], []) == pytest.approx(sum(W1.grad.tolist() + W2.grad.tolist(), []),
                                          rel=1e-10)
    assert n.db[0] == pytest.approx(b1.grad.tolist(), rel=1e-10)
    # the update frame's edge numbers are -lr * dL/dw, to 2 decimals
    update = anim.frames[-1]
    assert update.phase == "update"
    assert update.edges[1][0][2].text == f"{-0.5 * W2.grad[0][2].item():.2f}"


def test_relu_units_show_their_own_z_and_its_gradient_pytorch_float64():
    """A relu neuron is one node (linear+relu) in the model's graph; the frames still show its
    z (negative where it did not fire) and dL/dz (0 there), as PyTorch computes them."""
    torch = pytest.importorskip("torch")
    net = Sequential(Layer(2, 4, activation="relu", seed=5), Layer(4, 1, "linear", seed=6))
    n = animate_network(net, [1.5, -2.0], 0.5, loss=mse_loss).numbers
    sd = net.state_dict()
    W1, b1, W2, b2 = (torch.tensor(sd[k], dtype=torch.float64, requires_grad=True) for k in
                      ("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"))
    z1 = W1 @ torch.tensor([1.5, -2.0], dtype=torch.float64) + b1
    z1.retain_grad()
    loss = ((W2 @ torch.relu(z1) + b2 - 0.5) ** 2).mean()
    loss.backward()
    assert min(z1.tolist()) < 0 < max(z1.tolist())  # (a unit that fires, one that does not)
    assert n.z[0] == pytest.approx(z1.tolist(), rel=1e-12)
    assert n.out[0] == pytest.approx(torch.relu(z1).tolist(), rel=1e-12)
    assert n.dz[0] == pytest.approx(z1.grad.tolist(), rel=1e-12)
    assert n.act_slope[0] == [1.0 if z > 0 else 0.0 for z in z1.tolist()]


def test_model_parameters_and_grads_are_left_as_they_were():
    net = pass_fail_net()
    for i, p in enumerate(net.parameters()):
        p.grad = 0.25 * i - 1.0  # grads from some earlier backward
    before = [(p.data, p.grad) for p in net.parameters()]
    ids = [id(p) for p in net.parameters()]
    anim = animate_network(net, [5.0, 4.0], 0, lr=0.3)
    assert [(p.data, p.grad) for p in net.parameters()] == before
    assert [id(p) for p in net.parameters()] == ids
    assert anim.numbers.dw[1][0][0] != 0.0


def test_loss_after_is_one_sgd_step_on_a_copy():
    model = MLP(2, [4, 1], activation="tanh", seed=1)
    anim = animate_network(model, [0.5, -1.0], 2.0, loss=mse_loss, lr=0.2)
    twin = copy.deepcopy(model)
    opt = SGD(twin.parameters(), lr=0.2)
    L = mse_loss([twin([0.5, -1.0])], [2.0])
    L.backward()
    opt.step()
    after = mse_loss([twin([0.5, -1.0])], [2.0]).data
    assert anim.numbers.loss == L.data
    assert anim.numbers.loss_after == pytest.approx(after, rel=1e-12)
    assert anim.numbers.loss_after < anim.numbers.loss


def test_frames_forward_layer_by_layer_then_loss_backward_and_update():
    model = MLP(2, [3, 3, 1], seed=0)
    anim = animate_network(model, [1.0, -2.0], 1.0)
    phases = [f.phase for f in anim.frames]
    assert phases == ["forward"] * 4 + ["loss"] + ["backward"] * 3 + ["update"]
    assert len(anim) == 9
    # forward: layer k's units are known from frame k on, unknown ("?") before
    for k in range(1, 4):
        assert all(u.text is None for u in anim.frames[k - 1].units[k])
        assert all(u.text is not None and u.current for u in anim.frames[k].units[k])
    # backward goes from the output layer to the first hidden layer
    current = [[k for k, col in enumerate(f.units) if any(u.current for u in col)]
               for f in anim.frames[5:8]]
    assert current == [[3], [2], [1]]
    assert anim.frames[5].title.startswith("Backward pass: the output layer")
    # ReLU units that do not fire get grey (tint exactly 0) and the caption says how many
    out1 = anim.numbers.out[0]
    firing = sum(1 for v in out1 if v > 0)
    assert f"{firing} of 3 units fire" in " ".join(anim.frames[1].caption)
    assert [u.tint == 0.0 for u in anim.frames[1].units[1]] == [v == 0.0 for v in out1]


def test_hand_computed_single_neuron():
    # one linear neuron z = b + w x with w = 0.5, b = 0, x = 2, target 3, MSE:
    # z = 1, L = (1 - 3)^2 = 4, dL/dz = 2 (1 - 3) = -4, dL/dw = -4 * 2 = -8, dL/db = -4
    model = MLP(1, [1], seed=0)
    model.layers[0].neurons[0].w[0].data = 0.5
    model.layers[0].neurons[0].b.data = 0.0
    anim = animate_network(model, [2.0], 3.0, lr=0.1)
    n = anim.numbers
    assert (n.z, n.loss, n.dz, n.dw, n.db) == ([[1.0]], 4.0, [[-4.0]], [[[-8.0]]], [[-4.0]])
    # after the step: w = 0.5 + 0.8 = 1.3, b = 0.4, z = 3.0 -> loss 0
    assert n.loss_after == pytest.approx(0.0, abs=1e-24)
    assert anim.frames[-1].edges[0][0][0].text == "0.80"
    assert "−0.1 × (-8) = 0.8" in anim.frames[-1].caption[0]


def test_one_layout_for_every_frame_and_a_fixed_height():
    anim = animate_network(MLP(2, [8, 8, 1], seed=0), [0.5, -0.2], 1.0)
    places = [sorted(s.geometry for s in anim.shapes(i) if s.kind == "circle")
              for i in range(len(anim))]
    assert all(p == places[0] for p in places)
    assert len(places[0]) == 2 + 8 + 8 + 1
    svgs = [anim.frame_svg(i) for i in range(len(anim))]
    sizes = {re.search(r'width="(\d+)px" height="(\d+)px"', s).groups() for s in svgs}
    assert len(sizes) == 1
    # a frame is one CSS rule that shows its shapes; the picture is written once
    assert anim.frame_css(3) == f"#{anim._prefix}-svg .f3{{display:inline}}"
    assert svgs[0].replace(anim.frame_css(0), anim.frame_css(3)) == svgs[3]


def test_wide_layers_show_the_more_summary_of_draw_network():
    model = MLP(64, [16, 10], seed=0)
    x = [float(i % 17) for i in range(64)]
    anim = animate_network(model, x, 3, max_neurons=8)
    assert anim.numbers.loss_name == "cross_entropy"  # several linear outputs: logits
    texts = {s.text for s in anim.shapes(0) if s.kind == "text"}
    assert {"⋮", "57 more"} <= texts
    circles = [s for s in anim.shapes(0) if s.kind == "circle"]
    assert len(circles) == 7 + 7 + 7
    # the picture is narrow enough for a notebook: at most 1000 px before scaling
    assert anim.width * 4 / 3 <= 1000
    p = math.exp(-anim.numbers.loss)
    # the captions' examples are units the picture shows, not ones behind "⋮ N more"
    text = " ".join(line for f in anim.frames for line in f.caption)
    hidden_units = {int(m) - 1 for m in re.findall(r"unit (\d+) of hidden layer 1", text)}
    inputs = {int(m) - 1 for m in re.findall(r"\bx(\d+)\b", text)}
    assert hidden_units and hidden_units <= {0, 1, 2, 3, 13, 14, 15}
    assert inputs <= {0, 1, 2, 3, 61, 62, 63}
    loss_frame = next(f for f in anim.frames if f.phase == "loss")
    assert f"probability {p:.4g}" in " ".join(loss_frame.caption)


def test_every_unit_is_one_circle_size_and_the_edges_end_on_the_circles():
    # draw_network sizes each circle to its label ("σ", b=..., the value): the animation,
    # which writes other text in them, draws every unit the same size
    anim = animate_network(pass_fail_net(), [5.0, 4.0], 1, input_labels=["lectures", "marks"])
    circles = [s.geometry for s in anim.shapes(0) if s.kind == "circle"]
    assert len(circles) == 2 + 3 + 1 and len({r for _, _, r in circles}) == 1
    r = circles[0][2]
    arrows = [s.geometry[4:] for s in anim.shapes(0) if s.kind == "line" and len(s.geometry) > 4
              and not s.dashed]
    assert len(arrows) == 2 * 3 + 3 * 1
    for points in arrows:  # each arrowhead's tip touches the circle it points at
        tips = list(zip(points[::2], points[1::2]))
        gap = min(abs(math.dist(tip, (cx, cy)) - r) for tip in tips for cx, cy, _ in circles)
        assert gap < 1.5, gap


def test_top_to_bottom_puts_ten_outputs_in_a_row_that_fits_a_screen():
    model = MLP(64, [16, 10], seed=0)
    x = [float(i % 17) / 16 for i in range(64)]
    digits = [str(d) for d in range(10)]
    anim = animate_network(model, x, 3, max_neurons=10, rankdir="TB", output_labels=digits)
    outputs = [s.geometry for s in anim.shapes(0) if s.kind == "circle"][-10:]
    assert len({round(cy) for _, cy, _ in outputs}) == 1  # one row
    assert len({round(cx) for cx, _, _ in outputs}) == 10
    # at its own size it fits a 1000 x 800 browser view with the player's controls
    assert anim.width * 4 / 3 <= 1000 and anim.height * 4 / 3 <= 620
    # the captions name an output by its label: the output labelled 3 is not "output 4"
    text = " ".join(line for f in anim.frames for line in f.caption)
    assert re.search(r"Output “\d”: z = ", text) and not re.search(r"[Oo]utput \d+[:.]", text)
    with pytest.raises(ValueError, match='rankdir must be "LR"'):
        animate_network(model, x, 3, rankdir="BT")


def test_save_html_and_gif(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    anim = animate_network(pass_fail_net(), [5.0, 4.0], 1, input_labels=["lectures", "marks"])
    page = anim.save_html(tmp_path / "step.html").read_text(encoding="utf-8")
    for button in ("Previous", "Next", "Play"):
        assert f">{button}</button>" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    gif = anim.save_gif(tmp_path / "step.gif", interval_ms=100)
    with PIL.open(gif) as im:
        assert im.n_frames == len(anim)


def test_bad_input_gives_clear_errors():
    net = pass_fail_net()
    with pytest.raises(ValueError, match="lr must be > 0"):
        animate_network(net, [5.0, 4.0], 1, lr=0)
    with pytest.raises(TypeError, match="lr must be a number, got str"):
        animate_network(net, [5.0, 4.0], 1, lr="fast")
    with pytest.raises(ValueError, match="lr must be a finite number"):
        animate_network(net, [5.0, 4.0], 1, lr=math.inf)
    with pytest.raises(ValueError, match="2"):
        animate_network(net, [5.0, 4.0, 1.0], 1)  # the model's own length check
    with pytest.raises(TypeError, match="Neuron, Layer, MLP or Sequential"):
        animate_network(lambda x: x, [1.0], 1)
    with pytest.raises(IndexError, match="cross_entropy refused target 7.*3 classes"):
        animate_network(MLP(2, [3]), [1.0, 2.0], 7, loss=cross_entropy)
    with pytest.raises(TypeError, match="loss must be a loss function"):
        animate_network(net, [5.0, 4.0], 1, loss="bce")
    with pytest.raises(IndexError, match="does not exist"):
        animate_network(net, [5.0, 4.0], 1).frame_svg(99)


def test_is_the_class_behind_the_viz_name():
    anim = animate_network(pass_fail_net(), [5.0, 4.0], 1, loss=binary_cross_entropy)
    assert isinstance(anim, NetworkAnimation)
    assert "2 → 3 → 1 network, 7 frames" in repr(anim)


def test_player_in_chromium_plays_fits_1000_px_and_keeps_its_height(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    anim = animate_network(MLP(2, [8, 8, 1], seed=0), [0.5, -0.2], 1.0, interval_ms=60)
    path = anim.save_html(tmp_path / "step.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                          "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.goto(path.as_uri())
        svg = page.locator("svg").first
        heights = {svg.bounding_box()["height"]}
        assert page.evaluate("document.documentElement.scrollWidth") <= 1000
        page.click("text=Next")
        assert page.locator(".tge-count").text_content() == f"step 2 of {len(anim)}"
        heights.add(svg.bounding_box()["height"])
        page.click("text=Play")
        page.wait_for_function(f"document.querySelector('.tge-count').textContent == "
                               f"'step {len(anim)} of {len(anim)}'", timeout=10_000)
        heights.add(svg.bounding_box()["height"])
        # the last frame shows the update: its CSS rule is the one in the page
        style = page.evaluate("document.querySelector('style.tge-frame').textContent")
        assert style == anim.frame_css(len(anim) - 1)
        browser.close()
    assert len(heights) == 1


def test_a_tiny_negative_number_shows_as_zero_not_minus_zero():
    from tinygrad_edu.pictures.network_frames import _fixed

    assert [_fixed(v, 2) for v in (-0.001, -0.0, 0.004, -0.005, -0.02)] == [
        "0.00", "0.00", "0.00", "-0.01", "-0.02"]
