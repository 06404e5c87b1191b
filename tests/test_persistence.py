"""mdn_src.io: one plain-container file format for MDNs and MLPs, exact round trips, clear errors."""

import doctest
import importlib.metadata
import os
import re
from pathlib import Path

import pytest
import torch

import mdn_src
from mdn_src import MDN, MLP, io
from mdn_src.io import FORMAT_VERSION

# Every family with every covariance it allows (student_t twice: learnt and fixed df).
SPECS = [
    dict(family="gaussian", covariance="isotropic"),
    dict(family="gaussian", covariance="diagonal"),
    dict(family="gaussian", covariance="full"),
    dict(family="laplace", covariance="isotropic"),
    dict(family="laplace", covariance="diagonal"),
    dict(family="student_t", covariance="isotropic", df_min=2.5),
    dict(family="student_t", covariance="diagonal", df=3.0),
    dict(family="gennorm", covariance="isotropic", beta_range=(1.5, 8.0)),
    dict(family="gennorm", covariance="diagonal", beta_range=(0.5, 4.0)),
    dict(family="von_mises", covariance="isotropic"),
    dict(family="von_mises", covariance="diagonal"),
]


def _mdn(dtype=torch.float32, **spec):
    mdn = MDN(2, 3, n_components=4, hidden=[6, 5], sigma_min=0.05, **spec).to(dtype)
    with torch.no_grad():  # weights far from a fresh init, so a rebuilt net cannot pass by luck
        for p in mdn.parameters():
            p.add_(torch.randn_like(p))
    return mdn


def _plain(value) -> bool:
    """True if ``value`` is built of plain containers, scalars, strings and tensors only."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, torch.Tensor))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(str(v) for v in s.values()))
def test_round_trip_is_exact(tmp_path, spec, dtype):
    mdn = _mdn(dtype, **spec)
    path = tmp_path / "mdn.pt"
    io.save(mdn, path)
    loaded = io.load(path, MDN)
    assert type(loaded) is MDN
    assert loaded.get_config() == mdn.get_config()
    assert loaded.spec == mdn.spec and loaded.hidden == (6, 5)
    assert all(p.dtype == dtype for p in loaded.parameters())
    x = torch.randn(17, 2, dtype=dtype)
    with torch.no_grad():
        before, after = mdn.mixture_parameters(x), loaded.mixture_parameters(x)
    assert before.tensors().keys() == after.tensors().keys()
    for name, value in before.tensors().items():  # bit for bit, not approximately
        assert after.tensors()[name].dtype == dtype
        assert torch.equal(after.tensors()[name], value), name
    t = torch.randn(17, 3, dtype=dtype)
    assert torch.equal(loaded.loss(x, t), mdn.loss(x, t))


def test_file_holds_plain_containers_config_and_version(tmp_path):
    mdn = _mdn(torch.float64, family="student_t", covariance="diagonal", df=3.0)
    path = tmp_path / "mdn.pt"
    io.save(mdn, str(path))  # str and Path both work
    payload = torch.load(path, weights_only=True)
    assert _plain(payload)
    assert payload["format"] == "mdn_src" and payload["format_version"] == FORMAT_VERSION == 2
    assert payload["model"] == "MDN" and payload["dtype"] == "float64"
    assert payload["library_version"] == mdn_src.__version__
    assert payload["config"] == {
        "in_features": 2,
        "out_features": 3,
        "n_components": 4,
        "hidden": [6, 5],
        "family": "student_t",
        "covariance": "diagonal",
        "sigma_min": 0.05,
        "df": 3.0,
        "df_min": 2.0,
        "beta_range": [1.0, 20.0],
        "off_diagonal": "free",
        "sigma_map": "softplus",
    }
    assert payload["state_dict"].keys() == mdn.state_dict().keys()
    # The head's settings travel with the weights too (the state_dict's extra state).
    head = {
        k: v
        for k, v in payload["config"].items()
        if k not in ("in_features", "out_features", "n_components", "hidden")
    }
    assert {k: payload["state_dict"]["_extra_state"]["head"][k] for k in head} == head


def test_get_config_rebuilds_the_architecture():
    mdn = MDN(1, 2, n_components=3, hidden=7, family="gennorm", beta_range=(1.2, 3.0))
    again = MDN(**mdn.get_config())
    assert again.get_config() == mdn.get_config() and again.hidden == (7,)
    assert [p.shape for p in again.parameters()] == [p.shape for p in mdn.parameters()]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_mlp_round_trip_is_exact(tmp_path, dtype):
    net = MLP(3, 2, hidden=[5, 4]).to(dtype)
    io.save(net, tmp_path / "mlp.pt")
    loaded = io.load(tmp_path / "mlp.pt", MLP)
    assert type(loaded) is MLP and loaded.get_config() == {
        "in_features": 3,
        "out_features": 2,
        "hidden": [5, 4],
    }
    x = torch.randn(9, 3, dtype=dtype)
    out = loaded(x)
    assert out.dtype == dtype and torch.equal(out, net(x))


def _rewrite(path, **changes):
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    torch.save(payload, path)
    return payload


def test_wrong_format_version(tmp_path):
    path = tmp_path / "future.pt"
    io.save(_mdn(), path)
    _rewrite(path, format_version=FORMAT_VERSION + 1, library_version="9.9")
    message = (
        f"{re.escape(repr(str(path)))} has file format version {FORMAT_VERSION + 1} .*mdn_src "
        f"9.9.*reads format version {FORMAT_VERSION}"
    )
    with pytest.raises(ValueError, match=message):
        io.load(path, MDN)


def test_missing_format_version(tmp_path):
    path = tmp_path / "old.pt"
    io.save(_mdn(), path)
    payload = torch.load(path, weights_only=True)
    del payload["format_version"]
    torch.save(payload, path)
    with pytest.raises(ValueError, match="has file format version None"):
        io.load(path, MDN)


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ValueError, match=re.escape(repr(str(path))) + " could not be read"):
        io.load(path, MDN)


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "cut.pt"
    io.save(_mdn(), path)
    data = path.read_bytes()
    path.write_bytes(data[: int(keep * len(data))])
    with pytest.raises(ValueError, match="could not be read as a saved mdn_src model"):
        io.load(path, MDN)


def test_state_dict_with_a_missing_key(tmp_path):
    path = tmp_path / "partial.pt"
    io.save(_mdn(), path)
    payload = torch.load(path, weights_only=True)
    del payload["state_dict"]["head.bias"]
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"(?s)do not fit its model.*Missing key.*head\.bias"):
        io.load(path, MDN)


def test_state_dict_with_a_wrong_shape(tmp_path):
    path = tmp_path / "shape.pt"
    io.save(_mdn(), path)
    payload = torch.load(path, weights_only=True)
    payload["config"]["hidden"] = [6, 4]  # the weights are for [6, 5]
    payload["state_dict"]["_extra_state"]["head"]["hidden"] = [6, 4]
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"(?s)do not fit its model.*size mismatch"):
        io.load(path, MDN)


def test_state_dict_with_a_tensor_of_another_dtype(tmp_path):
    path = tmp_path / "mixed.pt"
    io.save(_mdn(), path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["head.bias"] = payload["state_dict"]["head.bias"].double()
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"'head\.bias' must be a torch\.float32 tensor"):
        io.load(path, MDN)


def test_invalid_configuration(tmp_path):
    path = tmp_path / "config.pt"
    io.save(_mdn(), path)
    payload = torch.load(path, weights_only=True)
    payload["config"]["n_components"] = 0
    torch.save(payload, path)
    with pytest.raises(ValueError, match="invalid MDN configuration: n_components must be >= 1"):
        io.load(path, MDN)


@pytest.mark.parametrize(
    "payload",
    [{"a": torch.zeros(2)}, [1, 2], "mdn_src"],
    ids=["dict", "list", "str"],
)
def test_not_an_mdn_src_file(tmp_path, payload):
    path = tmp_path / "other.pt"
    torch.save(payload, path)
    with pytest.raises(ValueError, match=re.escape(repr(str(path))) + " is not a saved mdn_src"):
        io.load(path, MDN)


def test_bare_state_dict_is_not_a_saved_model(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(_mdn().state_dict(), path)  # the common mistake: weights without config
    with pytest.raises(ValueError, match="is not a saved mdn_src model"):
        io.load(path, MDN)


def test_pickled_module_is_refused(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save(_mdn(), path)  # a whole pickled module: weights_only refuses it
    with pytest.raises(ValueError, match="could not be read.*UnpicklingError"):
        io.load(path, MDN)


def test_mlp_file_is_not_an_mdn_and_back(tmp_path):
    io.save(MLP(1, 1, hidden=3), tmp_path / "mlp.pt")
    assert type(io.load(tmp_path / "mlp.pt")) is MLP  # without a class: whichever it holds
    with pytest.raises(
        ValueError, match=r"holds an 'MLP' model, not an 'MDN': load it with io\.load"
    ):
        io.load(tmp_path / "mlp.pt", MDN)
    io.save(_mdn(), tmp_path / "mdn.pt")
    with pytest.raises(ValueError, match="holds an 'MDN' model, not an 'MLP'"):
        io.load(tmp_path / "mdn.pt", MLP)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "nowhere.pt", MDN)


def test_version_is_the_installed_distributions():
    assert mdn_src.__version__ == importlib.metadata.version("mdn_src")
    pyproject = (Path(mdn_src.__file__).parents[1] / "pyproject.toml").read_text()
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE).group(1)
    assert mdn_src.__version__ == declared


def test_docstring_examples_run():
    for method in (io.save, MDN.get_config):
        finder = doctest.DocTestFinder()
        runner = doctest.DocTestRunner()
        for test in finder.find(method, globs={"MDN": MDN, "torch": torch, "io": io}):
            runner.run(test)
        assert runner.failures == 0 and runner.tries > 0


def test_off_diagonal_travels_through_get_config_save_and_load(tmp_path):
    mdn = _mdn(torch.float64, family="gaussian", covariance="full", off_diagonal="scaled")
    assert mdn.get_config()["off_diagonal"] == "scaled"
    assert MDN(**mdn.get_config()).spec == mdn.spec
    path = tmp_path / "scaled.pt"
    io.save(mdn, path)
    loaded = io.load(path, MDN)
    assert loaded.spec.off_diagonal == "scaled" and loaded.get_config() == mdn.get_config()
    x = torch.randn(11, 2, dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(
            loaded.mixture_parameters(x).scale_tril, mdn.mixture_parameters(x).scale_tril
        )
    # Every head setting is written, the defaults too: a file says all that shapes its outputs.
    assert _mdn(covariance="full").get_config()["off_diagonal"] == "free"


def test_save_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(TypeError, match="model must be an MDN or an MLP, got Linear"):
        io.save(torch.nn.Linear(2, 2), tmp_path / "linear.pt")
    with pytest.raises(TypeError, match="extra must be a dict or None, got list"):
        io.save(_mdn(), tmp_path / "m.pt", extra=[1, 2])
    mixed = _mdn()
    mixed.head.double()  # one layer in float64, the trunk in float32
    with pytest.raises(ValueError, match="cannot save a model whose tensors mix dtypes"):
        io.save(mixed, tmp_path / "mixed.pt")
    assert not (tmp_path / "mixed.pt").exists()


def test_restore_into_a_model_configured_otherwise_is_refused(tmp_path):
    """restore (the cache's path) loads weights into an existing model only if its
    configuration is the file's; extra comes back as it went in."""
    path = tmp_path / "m.pt"
    mdn = _mdn()
    io.save(mdn, path, extra={"note": "kept", "steps": torch.arange(3)})
    payload = io.read(path)
    assert payload["extra"]["note"] == "kept" and torch.equal(
        payload["extra"]["steps"], torch.arange(3)
    )
    same = MDN(**mdn.get_config())
    io.restore(payload, same)
    assert all(torch.equal(a, b) for a, b in zip(same.parameters(), mdn.parameters(), strict=True))
    other = MDN(**{**mdn.get_config(), "sigma_min": 0.5})
    with pytest.raises(ValueError, match="holds a model configured as .* not as this one"):
        io.restore(payload, other)
