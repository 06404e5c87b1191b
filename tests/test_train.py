import numpy as np
import pytest
import torch

from mdn_src import MDN, MLP, fit, make_toy_data, mean_nll


def _data(n=256, inverse=False):
    return make_toy_data(n, seed=0, inverse=inverse)


def test_full_batch_adam_lowers_the_loss_and_is_deterministic():
    x, t = _data()
    histories = []
    for _ in range(2):
        torch.manual_seed(0)
        mdn = MDN(1, 1, n_components=3, hidden=10)
        histories.append(fit(mdn, x, t, epochs=150, lr=0.01))
    h = histories[0]
    assert h.shape == (150,) and h.dtype == np.float64
    np.testing.assert_array_equal(histories[0], histories[1])
    assert h[-1] < h[0] - 1.0
    # Full batch: the recorded loss is the loss of the model before that epoch's step.
    torch.manual_seed(0)
    fresh = MDN(1, 1, n_components=3, hidden=10)
    assert h[0] == pytest.approx(mean_nll(fresh, x, t), rel=1e-6)


def test_mini_batch_depends_on_seed_only():
    x, t = _data()
    runs = {}
    for seed in (0, 0, 1):
        torch.manual_seed(0)
        net = MLP(1, 1, hidden=8)
        runs.setdefault(seed, []).append(
            fit(net, x, t, epochs=5, lr=0.05, batch_size=32, seed=seed)
        )
    np.testing.assert_array_equal(runs[0][0], runs[0][1])
    assert not np.array_equal(runs[0][0], runs[1][0])


def test_mlp_reaches_the_bayes_floor_of_the_forward_problem():
    x, t = _data(2500)
    torch.manual_seed(0)
    h = fit(MLP(1, 1, hidden=15), x, t, epochs=2000, lr=0.01)
    assert h[-1] == pytest.approx(0.2**2 / 12, rel=0.1)  # Bayes MSE 0.00333


def test_sgd_with_nesterov_momentum_descends():
    x, t = _data(2500)
    torch.manual_seed(0)
    h = fit(
        MLP(1, 1, hidden=15),
        x,
        t,
        epochs=300,
        lr=0.09,
        optimizer="sgd",
        momentum=0.9,
        nesterov=True,
    )
    assert h[-1] < h[0] / 5


def test_epoch_loss_is_size_weighted_mean_of_batches():
    # lr tiny: weights barely move, so the epoch loss equals the full-data loss.
    x, t = _data(100)
    torch.manual_seed(0)
    net = MLP(1, 1, hidden=4)
    before = net.loss(torch.from_numpy(x), torch.from_numpy(t)).item()
    h = fit(net, x, t, epochs=1, lr=1e-9, optimizer="sgd", batch_size=30)
    assert h[0] == pytest.approx(before, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(epochs=0), ValueError, "epochs must be >= 1"),
        (dict(lr=0.0), ValueError, "lr must be finite and > 0"),
        (dict(lr=float("nan")), ValueError, "lr must be finite"),
        (dict(optimizer="rmsprop"), ValueError, "optimizer must be one of"),
        (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
        (dict(momentum=-0.5), ValueError, "momentum must be finite and >= 0"),
        (dict(seed=1.5), TypeError, "seed must be an int"),
    ],
)
def test_bad_training_arguments(kwargs, error, match):
    x, t = _data(10)
    args = dict(epochs=1, lr=0.01)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        fit(MLP(1, 1, hidden=2), x, t, **args)


def test_bad_data_and_model():
    x, t = _data(10)
    with pytest.raises(ValueError, match="same number of rows"):
        fit(MLP(1, 1), x, t[:5], epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="x must be 2-D"):
        fit(MLP(1, 1), x.ravel(), t, epochs=1, lr=0.1)
    bad = t.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="t contains NaN or inf"):
        fit(MLP(1, 1), x, bad, epochs=1, lr=0.1)
    with pytest.raises(TypeError, match="model must be an nn.Module with a loss"):
        fit(torch.nn.Linear(1, 1), x, t, epochs=1, lr=0.1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_matches_cpu_closely():
    x, t = _data()
    results = []
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        mdn = MDN(1, 1, n_components=3, hidden=10)
        results.append(fit(mdn, x, t, epochs=50, lr=0.01, device=device))
        assert next(mdn.parameters()).device.type == device
    np.testing.assert_allclose(results[0], results[1], rtol=1e-3, atol=1e-4)


def test_adam_rejects_sgd_only_settings():
    x, t = _data(10)
    with pytest.raises(ValueError, match="momentum and nesterov apply to optimizer='sgd'"):
        fit(MLP(1, 1), x, t, epochs=1, lr=0.1, momentum=0.9)


def test_progress_bar_does_not_change_training(capsys):
    x, t = _data(64)
    runs = []
    for progress in (False, True):
        torch.manual_seed(0)
        runs.append(fit(MLP(1, 1, hidden=4), x, t, epochs=5, lr=0.01, progress=progress))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert "training" in capsys.readouterr().err  # tqdm writes to stderr
