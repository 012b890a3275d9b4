"""The data-only channel: values cross as JSON and safetensors, and the trusted side accepts nothing else."""
import json
import math

import pytest
import torch

from autograder.inside import channel
from autograder.inside.channel import ChannelError, Described


def roundtrip(value):
    return channel.decode(*channel.encode(value))


def test_plain_values_cross_unchanged_in_type():
    value = {"n": 3, "x": 1.5, "nan": math.nan, "inf": -math.inf, "s": "é", "b": True, "none": None,
             "list": [1, 2.0], "tuple": (1, "a"), "slice": slice(1e-5, 1e-3), "nested": {"k": [(1,)]}}
    out = roundtrip(value)
    assert type(out["n"]) is int and type(out["x"]) is float and math.isnan(out["nan"]) and out["inf"] == -math.inf
    assert out["tuple"] == (1, "a") and type(out["tuple"]) is tuple and out["list"] == [1, 2.0]
    assert out["slice"] == slice(1e-5, 1e-3) and out["nested"] == {"k": [(1,)]} and out["b"] is True


@pytest.mark.parametrize("t", [torch.randn(2, 3, dtype=torch.float64), torch.tensor(3.0), torch.zeros(0, 4),
                               torch.tensor([True, False]), torch.arange(5), torch.randn(3).t()])
def test_tensors_cross_with_dtype_shape_and_values(t):
    out = roundtrip(t)
    assert type(out) is torch.Tensor and out.dtype == t.dtype and out.shape == t.shape and torch.equal(out, t)


def test_requires_grad_and_parameters_are_kept():
    p = torch.nn.Parameter(torch.ones(2))
    out = roundtrip({"p": p, "g": torch.ones(2, requires_grad=True)})
    assert type(out["p"]) is torch.nn.Parameter and out["g"].requires_grad


def test_anything_else_is_described_not_sent():
    import numpy as np
    out = roundtrip([np.float32(1.5), np.arange(3), object, lambda: 0])
    assert all(isinstance(o, Described) for o in out)
    assert out[0].type_name == "numpy.float32" and "array" in out[1].text


def test_numpy_float64_is_a_float():
    import numpy as np
    assert type(roundtrip(np.float64(2.5))) is float


def _doc(value):
    return json.dumps({"v": 1, "value": value}).encode()


@pytest.mark.parametrize("doc, why", [
    (b"not json", "not JSON"),
    (b'{"v": 2, "value": 1}', "not a channel value"),
    (_doc({"$tensor": "t0", "dtype": "float32", "shape": [1], "device": "cpu"}), "missing"),
    (_doc({"$pickle": "gASV"}), "unexpected node"),
    (_doc({"$tuple": 3}), "unexpected node"),
    (_doc({"$other": 1, "repr": 2}), "unexpected node"),
    (_doc({"$float": "1e999"}), "unexpected node"),
    (_doc(json.loads("[" * 40 + "]" * 40)), "too large"),
])
def test_malformed_documents_are_refused(doc, why):
    with pytest.raises(ChannelError, match=why):
        channel.decode(doc, b"")


def test_a_tensor_must_match_its_description():
    doc, blob = channel.encode(torch.zeros(2, 3))
    lying = doc.replace(b'"shape": [2, 3]', b'"shape": [3, 2]')
    with pytest.raises(ChannelError, match="does not match"):
        channel.decode(lying, blob)
    with pytest.raises(ChannelError, match="does not match"):
        channel.decode(doc.replace(b'"float32"', b'"float64"'), blob)
    with pytest.raises(ChannelError, match="not a safetensors"):
        channel.decode(doc, b"\x00" * 64)


def test_sizes_are_limited():
    with pytest.raises(ChannelError, match="over the limit"):
        channel.decode(b" " * (channel.MAX_JSON_BYTES + 1), b"")
    doc, blob = channel.encode(torch.zeros(1000))
    with pytest.raises(ChannelError, match="over the limit"):
        channel.decode(doc, blob, max_tensor_bytes=10)


def test_a_device_that_is_not_here_is_refused():
    doc, blob = channel.encode(torch.zeros(2))
    if not torch.cuda.is_available():
        with pytest.raises(ChannelError, match="claims device"):
            channel.decode(doc.replace(b'"cpu"', b'"cuda"'), blob)
    with pytest.raises(ChannelError, match="claims device"):
        channel.decode(doc.replace(b'"cpu"', b'"mps"'), blob)
