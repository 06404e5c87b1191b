import numpy as np
import pytest
import torch

import mdn_src.training.cache as cache_module
from mdn_src import MDN, fit_cached


@pytest.fixture(autouse=True)
def _shipped_results_count(monkeypatch):
    """CI sets MDN_SRC_IGNORE_SHIPPED=1 for the chapters; these tests set it themselves."""
    monkeypatch.delenv("MDN_SRC_IGNORE_SHIPPED", raising=False)


@pytest.fixture
def counted(monkeypatch):
    """Count the real trainings behind fit_cached."""
    calls = {"n": 0}
    real = cache_module.fit

    def counting(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_module, "fit", counting)
    return calls


def _model(seed=0):
    torch.manual_seed(seed)
    return MDN(1, 1, n_components=2, hidden=5)


def _weights(model) -> list[torch.Tensor]:
    """The state_dict's tensors (its extra state, the head's settings, is not a tensor)."""
    return [v for v in model.state_dict().values() if isinstance(v, torch.Tensor)]


def _data():
    x = torch.linspace(0, 1, 40).unsqueeze(1)
    return x, torch.sin(5 * x)


def test_second_call_loads_the_same_model_and_history(tmp_path, counted):
    x, t = _data()
    first = _model()
    h1 = fit_cached(first, x, t, name="m", cache=tmp_path, epochs=15, lr=0.02)
    second = _model()
    h2 = fit_cached(second, x, t, name="m", cache=tmp_path, epochs=15, lr=0.02)
    assert counted["n"] == 1  # trained once, loaded once
    np.testing.assert_array_equal(h1.train, h2.train)
    for a, b in zip(_weights(first), _weights(second), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # And a cached model is the one plain training gives.
    from mdn_src import fit

    plain = _model()
    fit(plain, x, t, epochs=15, lr=0.02)
    for a, b in zip(_weights(plain), _weights(second), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    "change",
    ["initial weights", "epochs", "data", "architecture"],
)
def test_anything_that_changes_the_result_changes_the_key(tmp_path, counted, change):
    x, t = _data()
    fit_cached(_model(), x, t, name="m", cache=tmp_path, epochs=5, lr=0.02)
    model, epochs = _model(), 5
    if change == "initial weights":
        model = _model(seed=1)
    elif change == "epochs":
        epochs = 6
    elif change == "data":
        t = t + 1e-3
    elif change == "architecture":
        torch.manual_seed(0)
        model = MDN(1, 1, n_components=2, hidden=5, sigma_min=2e-3)
    fit_cached(model, x, t, name="m", cache=tmp_path, epochs=epochs, lr=0.02)
    assert counted["n"] == 2


def test_last_bit_changes_and_the_thread_count_keep_the_key(tmp_path, counted):
    """Another CPU changes the last bits of initial weights and data, and another thread
    count those of training: every reader must find the same stored (shipped) model."""
    x, t = _data()
    trained = _model()
    fit_cached(trained, x, t, name="m", cache=tmp_path, epochs=5, lr=0.02)
    nudged = _model()
    with torch.no_grad():
        for p in nudged.parameters():
            p.copy_(torch.nextafter(p, torch.full_like(p, 2.0)))  # one ulp up, every weight
    t_nudged = torch.nextafter(t, torch.full_like(t, -2.0))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        fit_cached(nudged, x, t_nudged, name="m", cache=tmp_path, epochs=5, lr=0.02)
    finally:
        torch.set_num_threads(threads)
    assert counted["n"] == 1  # loaded, not trained
    for a, b in zip(_weights(trained), _weights(nudged), strict=True):
        assert torch.equal(a, b)


def test_a_stored_run_from_other_weights_under_the_same_key_is_not_used(tmp_path, monkeypatch,
                                                                        counted):  # fmt: skip
    """The key holds only coarse moments: where two inputs share it, the stored moments
    (checked to 1e-5) still tell them apart, and the second call trains."""
    monkeypatch.setattr(cache_module, "fingerprint", lambda value: "all the same")
    x, t = _data()
    fit_cached(_model(seed=0), x, t, name="m", cache=tmp_path, epochs=5, lr=0.02)
    other = _model(seed=1)
    start = {k: v.clone() for k, v in other.named_parameters()}
    fit_cached(other, x, t, name="m", cache=tmp_path, epochs=5, lr=0.02)
    assert counted["n"] == 2
    assert not torch.equal(other.state_dict()["trunk.0.weight"], start["trunk.0.weight"])


def test_ignore_shipped_trains_even_where_a_shipped_file_matches(tmp_path, monkeypatch, counted):
    x, t = _data()
    shipped, cache = tmp_path / "shipped", tmp_path / "cache"
    fit_cached(_model(), x, t, name="m", cache=shipped, epochs=6, lr=0.02)
    monkeypatch.setenv("MDN_SRC_IGNORE_SHIPPED", "1")
    fit_cached(_model(), x, t, name="m", cache=cache, shipped=shipped, epochs=6, lr=0.02)
    assert counted["n"] == 2 and len(list(cache.glob("*.pt"))) == 1


def test_a_damaged_file_is_retrained(tmp_path, counted):
    x, t = _data()
    fit_cached(_model(), x, t, name="m", cache=tmp_path, epochs=5, lr=0.02)
    (stored,) = tmp_path.glob("m-*.pt")
    stored.write_bytes(stored.read_bytes()[:50])
    fit_cached(_model(), x, t, name="m", cache=tmp_path, epochs=5, lr=0.02)
    assert counted["n"] == 2 and len(list(tmp_path.glob("m-*.pt"))) == 1


def test_the_environment_chooses_the_folder(tmp_path, monkeypatch, counted):
    monkeypatch.setenv("MDN_SRC_CACHE", str(tmp_path / "here"))
    x, t = _data()
    fit_cached(_model(), x, t, name="env", epochs=3, lr=0.02)
    assert len(list((tmp_path / "here").glob("env-*.pt"))) == 1


@pytest.mark.parametrize("name", ["", "a/b", 3])
def test_bad_names_are_errors(tmp_path, name):
    x, t = _data()
    with pytest.raises(ValueError, match="name must be a non-empty file-name prefix"):
        fit_cached(_model(), x, t, name=name, cache=tmp_path, epochs=1, lr=0.1)


def test_fit_cached_refuses_a_callback(tmp_path):
    with pytest.raises(ValueError, match="callback"):
        fit_cached(MDN(1, 1, 2, hidden=4), torch.zeros(4, 1), torch.zeros(4, 1), name="cb",
                   cache=tmp_path, epochs=1, lr=0.1, callback=print)  # fmt: skip


def test_the_key_covers_what_training_runs_and_nothing_else(tmp_path, monkeypatch, counted):
    """An edit to loss.py retrains; an edit to plotting.py (not run by training) does not."""
    import shutil

    src = tmp_path / "src"
    shutil.copytree(cache_module.SOURCE_ROOT, src, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache_module, "SOURCE_ROOT", src)
    names = {f.relative_to(src).as_posix() for f in cache_module.training_sources()}
    assert {
        "training/loop.py", "training/config.py", "model.py", "mlp.py", "loss.py",
        "mixture/parameters.py", "mixture/families.py", "mixture/gennorm.py", "fast/step.py",
        "fast/head.py", "checks.py", "io.py",
    } <= names  # fmt: skip
    assert not {n.split("/")[0] for n in names} & {
        "plotting",
        "metrics.py",
        "inference",
        "problems",
    }
    x, t = _data()
    kwargs = dict(name="m", cache=tmp_path / "c", epochs=3, lr=0.02)
    fit_cached(_model(), x, t, **kwargs)
    with open(src / "plotting" / "theme.py", "a") as f:
        f.write("\n# an edit\n")
    fit_cached(_model(), x, t, **kwargs)
    assert counted["n"] == 1
    with open(src / "loss.py", "a") as f:
        f.write("\n# an edit\n")
    fit_cached(_model(), x, t, **kwargs)
    assert counted["n"] == 2
    # The import graph is parsed once per version of a file: an import added by an edit
    # brings its module in.
    (src / "extra.py").write_text("X = 1\n")
    with open(src / "loss.py", "a") as f:
        f.write("from . import extra  # noqa\n")
    assert "extra.py" in {f.name for f in cache_module.training_sources()}


def test_concurrent_callers_train_once(tmp_path, monkeypatch):
    """Two callers at once: the second waits on the lock and loads the first one's result."""
    import threading
    import time

    calls = []
    real = cache_module.fit

    def slow_fit(*args, **kwargs):
        calls.append(1)
        time.sleep(0.5)  # long enough for the other thread to arrive while this one trains
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_module, "fit", slow_fit)
    x, t = _data()
    models = [_model(), _model()]
    threads = [
        threading.Thread(target=fit_cached, args=(m, x, t),
                         kwargs=dict(name="m", cache=tmp_path, epochs=3, lr=0.02))
        for m in models
    ]  # fmt: skip
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1
    for a, b in zip(_weights(models[0]), _weights(models[1]), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_validation_arrays_are_keyed_by_every_value(tmp_path, counted):
    """Two validation sets that differ only in the middle (where repr elides a large array)
    are two keys: the second call trains."""
    x, t = _data()
    x_val = torch.linspace(0, 1, 5000).unsqueeze(1)
    t_val = torch.sin(5 * x_val)
    kwargs = dict(name="m", cache=tmp_path, epochs=2, lr=0.02)
    fit_cached(_model(), x, t, validation=(x_val, t_val), **kwargs)
    changed = t_val.clone()
    changed[2500] += 1.0
    assert repr(changed.numpy()) == repr(t_val.numpy())  # what the old key saw
    fit_cached(_model(), x, t, validation=(x_val, changed), **kwargs)
    assert counted["n"] == 2
    fit_cached(_model(), x, t, validation=(x_val, changed.clone()), **kwargs)
    assert counted["n"] == 2  # equal values: the same key


def test_a_shipped_result_is_loaded_without_training(tmp_path, counted):
    x, t = _data()
    shipped, cache = tmp_path / "shipped", tmp_path / "cache"
    trained = _model()
    h1 = fit_cached(trained, x, t, name="m", cache=shipped, epochs=6, lr=0.02)
    assert counted["n"] == 1
    loaded = _model()
    h2 = fit_cached(loaded, x, t, name="m", cache=cache, shipped=shipped, epochs=6, lr=0.02)
    assert counted["n"] == 1  # not trained again
    np.testing.assert_array_equal(h1.train, h2.train)
    for a, b in zip(_weights(trained), _weights(loaded), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not list(cache.glob("*.pt"))  # nothing copied into the cache
    # The file's name is the public cached_file_name of the call.
    name = cache_module.cached_file_name(_model(), x, t, name="m", epochs=6, lr=0.02)
    assert [p.name for p in shipped.glob("*.pt")] == [name]


def test_no_shipped_match_warns_then_trains_into_the_cache(tmp_path, counted):
    x, t = _data()
    shipped, cache = tmp_path / "shipped", tmp_path / "cache"
    fit_cached(_model(), x, t, name="m", cache=shipped, epochs=6, lr=0.02)
    with pytest.warns(UserWarning, match=r"no result in .*shipped matches .*name='m'"):
        fit_cached(_model(), x, t, name="m", cache=cache, shipped=[shipped], epochs=7, lr=0.02)
    assert counted["n"] == 2 and len(list(cache.glob("*.pt"))) == 1
    # Next time the cache has it: loaded, and no warning.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_cached(_model(), x, t, name="m", cache=cache, shipped=shipped, epochs=7, lr=0.02)
    assert counted["n"] == 2


@pytest.mark.parametrize(
    ("shipped", "error", "message"),
    [
        (3, TypeError, "shipped must be a folder .* got int"),
        ([".", None], TypeError, "shipped must be a folder .* got NoneType"),
        ("no/such/folder", ValueError, "not found: no/such/folder"),
    ],
)
def test_shipped_must_name_folders(tmp_path, shipped, error, message):
    x, t = _data()
    with pytest.raises(error, match=message):
        fit_cached(_model(), x, t, name="m", cache=tmp_path, shipped=shipped, epochs=1, lr=0.1)


def test_fingerprint_is_shape_dtype_and_two_rounded_moments():
    """Catches a wrong relative sum (sum / sqrt(n * sum of squares)) or log10 of the squares,
    and a wrong guard for an all-zero or a tiny tensor (bound <= 1 still divides)."""
    value = torch.tensor([3.0, 4.0])  # sum 7, squares 25, bound sqrt(50)
    assert cache_module.fingerprint(value) == "(2,):torch.float32:0.990:1.398"
    small = torch.tensor([[0.1, 0.2]], dtype=torch.float64)  # bound sqrt(0.1) < 1
    assert cache_module.fingerprint(small) == "(1, 2):torch.float64:0.949:-1.301"
    assert cache_module.fingerprint(torch.zeros(3)) == "(3,):torch.float32:0.000:-inf"
    assert cache_module.fingerprint(torch.zeros(0, 2)) == "(0, 2):torch.float32:empty"


def test_moments_match_a_float64_reference():
    """Catches a float32 ramp (its 1/3 steps are off in the 8th digit), a division by the ramp,
    and a wrong size."""
    value = torch.tensor([0.3, -1.7, 2.9, 0.1, 5.3, -0.7, 1.1], dtype=torch.float64)
    v = value.numpy()
    ramp = np.linspace(-1.0, 1.0, v.size)
    expected = [v.sum(), (v * v).sum(), (v * ramp).sum(), float(v.size)]
    got = cache_module._moments(value)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-14, atol=1e-14)


def test_matches_tolerates_last_bits_but_not_other_inputs():
    """Catches a match against a missing or differently keyed record, against another size,
    and a tolerance that is not 1e-5 of the scale sqrt(n * sum of squares)."""
    value = torch.linspace(-1000.0, 1000.0, 101, dtype=torch.float64)
    now = {"w": cache_module._moments(value)}  # scale sqrt(101 * sum of squares) ~ 5.9e4
    assert cache_module._matches(None, now) is False
    assert cache_module._matches({"v": now["w"]}, now) is False
    assert cache_module._matches({"w": now["w"].clone()}, now) is True
    nudged = value.clone()
    nudged[50] += 0.3  # moves the sum (0) by 0.3, inside 1e-5 of the scale (0.59)
    assert cache_module._matches({"w": cache_module._moments(nudged)}, now) is True
    moved = value.clone()
    moved[50] += 2.0  # outside it
    assert cache_module._matches({"w": cache_module._moments(moved)}, now) is False
    longer = torch.cat([value, torch.zeros(1, dtype=torch.float64)])
    assert cache_module._matches({"w": cache_module._moments(longer)}, now) is False
    assert cache_module._matches({"w": now["w"][:3]}, now) is False


def test_key_of_arrays_covers_dtype_shape_and_every_byte():
    """Catches an array key without its dtype or shape (equal bytes, other array)."""
    key = cache_module._key_of
    zeros = np.zeros(4, dtype=np.int32)
    assert key(zeros) != key(np.zeros(4, dtype=np.float32))  # the same 16 zero bytes
    assert key(zeros) != key(np.zeros((2, 2), dtype=np.int32))
    assert key(zeros) == key(torch.zeros(4, dtype=torch.int32))
    assert key(zeros).startswith("array:") and key(2.5) == "2.5"


def test_fit_cached_refuses_a_model_that_is_not_a_module(tmp_path):
    with pytest.raises(TypeError, match="model must be an nn.Module, got str"):
        fit_cached("mdn", torch.zeros(4, 1), torch.zeros(4, 1), name="m", cache=tmp_path,
                   epochs=1, lr=0.1)  # fmt: skip


def test_hash_input_frames_each_payload_by_its_length():
    """Catches a key's hash input without the payload's length: ("ab", "c") and ("a", "bc")
    would feed the same bytes."""
    framed = cache_module._framed
    assert framed("a", b"bc") == b"a" + (2).to_bytes(8, "little") + b"bc"
    assert framed("a", b"bc") + framed("d", b"") != framed("a", b"b") + framed("cd", b"")


def test_fit_cached_passes_the_progress_bar_on(tmp_path, capsys):
    """Catches progress=True not reaching fit (no bar while training)."""
    x, t = _data()
    fit_cached(_model(), x, t, name="bar", cache=tmp_path, epochs=2, lr=0.01, progress=True)
    assert "training" in capsys.readouterr().err
    fit_cached(_model(), x, t, name="quiet", cache=tmp_path, epochs=2, lr=0.01)
    assert capsys.readouterr().err == ""
