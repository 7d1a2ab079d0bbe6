"""rnnlab.engine.graph: DOT text, rendering, the backward order and the traced backward pass."""
import re
import shutil

import numpy as np  # host-side reference values only
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlab
import rnnlab.cells as cells
from rnnlab.engine import graph
from rnnlab.engine.errors import FunctionError


def host(a):
    return rnnlab.to_numpy(a)


def small_graph():
    """y = (x*w - 4)**2 with x = 2, w = 3: Mul (gen 0), Sub (gen 1), Pow (gen 2)."""
    x = rnnlab.Tensor(2.0, requires_grad=True, name="x")
    w = rnnlab.Tensor(3.0, requires_grad=True, name="w")
    return x, w, (x * w - 4.0) ** 2


def diamond():
    """A graph where one tensor feeds two branches: a = tanh(x); y = sum(a * a + exp(a) * v)."""
    x = rnnlab.Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    v = rnnlab.Tensor(np.arange(6.0).reshape(2, 3) / 5, requires_grad=True)
    a = rnnlab.tanh(x).retain_grad()
    b = (a * a).retain_grad()
    c = (rnnlab.exp(a) * v).retain_grad()
    s = (b + c).retain_grad()
    return x, v, [a, b, c, s], s.sum()


def dot_nodes(text):
    """{node id: label} and the edges (from, to) of a DOT text."""
    labels = dict(re.findall(r'^\s*(\w+) \[.*?label="(.*?)"', text, re.M))
    edges = re.findall(r"^\s*(\w+) -> (\w+);", text, re.M)
    return labels, edges


# ------------------------------------------------------------------------------------------------ to_dot
def test_dot_names_every_function_and_tensor_with_its_shape(backend_name, float64):
    *_, y = small_graph()
    labels, _ = dot_nodes(graph.to_dot(y))
    functions = sorted(l.split("\\n")[0] for k, l in labels.items() if k.startswith("f"))
    assert functions == ["Mul", "Pow", "Sub"]
    tensors = [l for k, l in labels.items() if k.startswith("t")]
    assert len(tensors) == 7                     # x, w, a = x*w, the constant 4, b = a-4, the exponent 2, y
    assert any(l.startswith("x\\n() float64") for l in tensors)
    assert any(l.startswith("w\\n() float64") for l in tensors)
    assert sum(l.startswith("constant") for l in tensors) == 2


def test_dot_edges_run_input_function_output(backend_name, float64):
    *_, y = small_graph()
    labels, edges = dot_nodes(graph.to_dot(y, names={"loss": y}))
    by_label = {l.split("\\n")[0]: k for k, l in labels.items()}
    mul, sub, pow_ = by_label["Mul"], by_label["Sub"], by_label["Pow"]
    assert (by_label["x"], mul) in edges and (by_label["w"], mul) in edges
    mul_out = [b for a, b in edges if a == mul]
    assert len(mul_out) == 1 and (mul_out[0], sub) in edges      # a = x*w flows into Sub
    assert (pow_, by_label["loss"]) in edges
    assert len(edges) == 9                       # 2 inputs + 1 output per function
    for a, b in edges:                           # tensors and functions alternate
        assert a[0] != b[0]


def test_dot_labels_generation_backward_position_and_values(backend_name, float64):
    *_, y = small_graph()
    text = graph.to_dot(y, values=True)
    assert 'label="Pow\\ngen 2, backward #1"' in text
    assert 'label="Sub\\ngen 1, backward #2"' in text
    assert 'label="Mul\\ngen 0, backward #3"' in text
    assert "x\\n() float64\\n= 2" in text and "= 6" in text and "= 4" in text
    assert "backward #" not in graph.to_dot(y, order=False)


def test_dot_of_a_leaf_is_one_node(backend_name):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    labels, edges = dot_nodes(graph.to_dot(x))
    assert list(labels.values()) == ["leaf\\n(2,) float32"] and edges == []


def test_dot_of_an_unrolled_rnn_has_one_tanh_per_step(backend_name, float64):
    rnn = cells.Recurrent(cells.RNN(2, 3, rng=0), fused=False)
    out, _ = rnn(rnnlab.Tensor(np.ones((4, 1, 2))))
    labels, _ = dot_nodes(graph.to_dot(out.sum()))
    names = [l.split("\\n")[0] for k, l in labels.items() if k.startswith("f")]
    assert names.count("Tanh") == 4
    fused, _ = cells.Recurrent(cells.RNN(2, 3, rng=0), fused=True)(rnnlab.Tensor(np.ones((4, 1, 2))))
    labels, _ = dot_nodes(graph.to_dot(fused.sum()))
    assert [l.split("\\n")[0] for k, l in labels.items() if k.startswith("f")] == ["Sum", "RNNCore.sequence"]


def test_dot_of_a_freed_graph_is_an_error_that_says_so(backend_name):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"to_dot: part of this graph was already freed by backward\(\).*"
                                           r"retain_graph=True"):
        graph.to_dot(y)


def test_dot_of_a_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="to_dot: expected a rnnlab Tensor .*got list"):
        graph.to_dot([1.0])


# ------------------------------------------------------------------------------------------------ render
def test_render_without_graphviz_names_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    *_, y = small_graph()
    with pytest.raises(RuntimeError, match=r"render: Graphviz's 'dot' program is not installed "
                                           r"\(apt-get install graphviz"):
        graph.render(y, tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


def test_render_refuses_an_unknown_format(tmp_path):
    *_, y = small_graph()
    with pytest.raises(ValueError, match=r"render: the file name must end in one of \.png, \.svg, \.pdf.*'g\.jpg'"):
        graph.render(y, tmp_path / "g.jpg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_writes_a_png(tmp_path):
    *_, y = small_graph()
    path = graph.render(y, tmp_path / "g.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------------------------ order and trace
def test_trace_runs_functions_in_decreasing_generation_like_backward(backend_name, float64):
    *_, loss = diamond()
    trace = graph.trace_backward(loss)
    gens = [s.generation for s in trace]
    assert gens == sorted(gens, reverse=True)
    assert trace.functions == [graph.function_name(f) for f in graph.backward_order(loss)]
    assert trace.functions[0] == "Sum" and trace.functions[-1] == "Tanh"
    assert sorted(trace.functions) == sorted(["Sum", "Add", "Mul", "Mul", "Exp", "Tanh"])
    # tanh runs once, after both branches that use its output have passed their gradient
    assert trace.functions.index("Tanh") > trace.functions.index("Exp")


def test_trace_norms_and_grads_match_backward(backend_name, float64):
    x, v, inner, loss = diamond()
    trace = graph.trace_backward(loss)
    assert x.grad is None and v.grad is None            # the trace writes no .grad ...
    loss.backward()                                      # ... and keeps the graph for backward
    a, _, c, s = inner
    np.testing.assert_allclose(host(trace.grad(x)), host(x.grad), rtol=1e-12)
    np.testing.assert_allclose(host(trace.grad(v)), host(v.grad), rtol=1e-12)
    np.testing.assert_allclose(host(trace.grad(a)), host(a.grad), rtol=1e-12)
    by_name = {st.function: st for st in trace}
    assert by_name["Tanh"].grad_shapes == ((2, 3),)
    assert by_name["Tanh"].grad_norm == pytest.approx(np.linalg.norm(host(a.grad)), rel=1e-12)
    assert by_name["Add"].grad_norm == pytest.approx(np.linalg.norm(host(s.grad)), rel=1e-12)
    assert by_name["Sum"].grad_norms == (1.0,) and by_name["Sum"].grad_shapes == ((),)
    assert by_name["Tanh"].input_grad_norms[0] == pytest.approx(np.linalg.norm(host(x.grad)), rel=1e-12)
    exp_mul = [st for st in trace if st.function == "Mul" and st.grad_norm == pytest.approx(
        np.linalg.norm(host(c.grad)))]
    assert exp_mul, "no Mul step received dL/dc"


def test_trace_of_an_unrolled_rnn_matches_the_probe(backend_name, float64):
    rnn = cells.Recurrent(cells.RNN(2, 3, rng=0), fused=False)
    x = rnnlab.Tensor(np.random.default_rng(0).standard_normal((5, 2, 2)))
    out, _ = rnn(x, record_grad_norms=True)
    loss = (out[-1] * out[-1]).sum()
    tanh_norms = [s.grad_norm for s in graph.trace_backward(loss) if s.function == "Tanh"]
    loss.backward()
    # each step's Tanh receives dL/dh_t, newest step first
    np.testing.assert_allclose(tanh_norms[::-1], rnn.grad_norms[0], rtol=1e-10)


def test_trace_prints_one_line_per_function_with_shape_and_norm(backend_name, float64):
    *_, y = small_graph()
    text = str(graph.trace_backward(y))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["#", "function", "gen"]
    assert [l.split()[1] for l in lines[1:]] == ["Pow", "Sub", "Mul"]
    assert lines[1].split()[:5] == ["1", "Pow", "2", "()", "1"]       # dL/dy = 1 at the output
    assert lines[3].split()[-2:] == ["12,", "8"]                       # dL/dx = 12, dL/dw = 8


def test_trace_takes_an_upstream_gradient_for_a_non_scalar_output(backend_name, float64):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    trace = graph.trace_backward(y, grad=[1.0, -1.0])
    np.testing.assert_allclose(host(trace.grad(x)), [3.0, -3.0])
    with pytest.raises(RuntimeError, match=r"trace_backward: grad can be implied only for a single-element "
                                           r"output; this output has shape \(2,\)"):
        graph.trace_backward(y)
    with pytest.raises(ValueError, match=r"trace_backward: grad has shape \(3,\) but the output has shape \(2,\)"):
        graph.trace_backward(y, grad=[1.0, 2.0, 3.0])


def test_trace_of_a_multi_output_function_fills_unused_outputs_with_zeros(backend_name, float64):
    x = rnnlab.Tensor(np.arange(4.0), requires_grad=True)
    first, _ = rnnlab.split(x, 2)
    loss = (first * first).sum()
    trace = graph.trace_backward(loss)
    step = trace[-1]
    assert step.function == "Split" and step.grad_shapes == ((2,), (2,)) and step.grad_norms[1] == 0.0
    loss.backward()
    np.testing.assert_allclose(host(trace.grad(x)), host(x.grad))


def test_trace_errors_name_what_was_expected(backend_name):
    with pytest.raises(RuntimeError, match="trace_backward: this tensor does not require grad"):
        graph.trace_backward(rnnlab.Tensor([1.0]))
    x = rnnlab.Tensor([1.0], requires_grad=True)
    y = (x * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"trace_backward: part of this graph was already freed"):
        graph.trace_backward(y)
    with pytest.raises(TypeError, match="trace_backward: expected a rnnlab Tensor"):
        graph.trace_backward(3.0)
    assert list(graph.trace_backward(rnnlab.Tensor([1.0], requires_grad=True))) == []   # a leaf: nothing runs


# ------------------------------------------------------------------------------------------------ one walk
class Logged(rnnlab.Function):
    """y = a * b (b may be a number), logging its label to ``log`` when its backward runs."""

    def __init__(self, label, log):
        self.label, self.log = label, log

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        self.log.append(self.label)
        return gy * self.b, gy * self.a


@st.composite
def random_graphs(draw):
    """A random DAG of Logged nodes: node k multiplies two earlier tensors (or one with itself)."""
    n = draw(st.integers(1, 8))
    return [(draw(st.integers(0, k)), draw(st.integers(0, k))) for k in range(n)]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edges=random_graphs(), extra_leaves=st.integers(0, 2))
def test_backward_order_is_the_order_backward_runs_and_runs_no_backward(backend_name, float64, edges, extra_leaves):
    log = []
    tensors = [rnnlab.Tensor(np.full((2,), 0.9), requires_grad=True) for _ in range(1 + extra_leaves)]
    for k, (i, j) in enumerate(edges):
        tensors.append(Logged(k, log)(tensors[i], tensors[j]))
    root = tensors[-1].sum()
    order = [f.label for f in graph.backward_order(root) if isinstance(f, Logged)]
    graph.trace_backward(root)
    assert log == order                               # the trace ran every backward once, in that order
    log.clear()
    graph.to_dot(root)
    assert log == []                                  # neither to_dot nor backward_order runs a backward
    root.backward()
    assert log == order


def test_trace_checks_gradients_like_backward(backend_name, float64):
    class Forgetful(Logged):
        def backward(self, gy):
            return gy * self.b                        # one gradient for two inputs

    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    y = Forgetful("f", [])(x, x).sum()
    with pytest.raises(FunctionError, match=r"Forgetful.backward returned 1 gradient for 2 inputs"):
        graph.trace_backward(y)


# ------------------------------------------------------------------------------------------------ to_dot grads
def test_dot_with_grads_shows_what_backward_left_in_each_tensor(backend_name, float64):
    x, w, _ = small_graph()
    a = (x * w).retain_grad()
    y = (a - 4.0) ** 2
    before = graph.to_dot(y, grads=True)
    labels, _ = dot_nodes(before)
    assert any(l.startswith("x\\n() float64\\ngrad -") for l in labels.values())      # no backward yet
    y.backward(retain_graph=True)
    labels, _ = dot_nodes(graph.to_dot(y, grads=True))
    assert "x\\n() float64\\ngrad = 12" in labels.values() and "w\\n() float64\\ngrad = 8" in labels.values()
    assert "() float64\\ngrad = 4" in labels.values()                                # a = x*w kept its grad
    assert sum(l.endswith("grad -") for l in labels.values()) == 2                   # b and y did not
    assert not any("grad" in l for l in labels.values() if l.startswith("constant"))
    assert "grad" not in graph.to_dot(y)


def test_dot_with_a_trace_shows_every_tensors_gradient_and_norms_for_arrays(backend_name, float64):
    x, v, inner, loss = diamond()
    trace = graph.trace_backward(loss)
    labels, _ = dot_nodes(graph.to_dot(loss, grads=trace, names={"x": x, "s": inner[3]}))
    by_head = {l.split("\\n")[0]: l for l in labels.values()}
    assert by_head["x"].endswith(f"|grad| = {np.linalg.norm(host(trace.grad(x))):.4g}")
    assert by_head["s"].endswith(f"|grad| = {np.linalg.norm(host(trace.grad(inner[3]))):.4g}")
    assert not any(l.endswith("grad -") for l in labels.values())
    assert x.grad is None                                                            # nothing was written
    with pytest.raises(TypeError, match="to_dot: grads must be True, False or a BackwardTrace .*got dict"):
        graph.to_dot(loss, grads={})
