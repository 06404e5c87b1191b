import warnings

import numpy as np
import pytest
import torch

import mdn_src.training.data as data_module
import mdn_src.training.loop as train_module
from mdn_src import MDN, MLP, History, fit, make_toy_data, mean_nll, rule_of_thumb_bandwidth


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


# --- the training loop's features -------------------------------------------------------
# Exactness tests use float64 models and tensors, and compare fit with a hand-written loop
# doing the same operations: any change of order, a missed argument or an extra operation
# changes the numbers.


def _tensors(n, seed=0, inverse=True):
    x, t = make_toy_data(n, seed=seed, inverse=inverse)
    return torch.from_numpy(x).double(), torch.from_numpy(t).double()


def _mdn(K=3, hidden=8, seed=0):
    torch.manual_seed(seed)
    return MDN(1, 1, n_components=K, hidden=hidden).double()


def _mlp(hidden=6, seed=0):
    torch.manual_seed(seed)
    return MLP(1, 1, hidden=hidden).double()


def _hand_loop(model, x, t, epochs, opt, clip=None, scheduler=None, noise=None):
    """The reference: record the loss before each full-batch step."""
    history = []
    for _ in range(epochs):
        xb, tb = x, t
        if noise is not None:
            gen, sx, st = noise
            xb = x + sx * torch.randn(x.shape, generator=gen, dtype=x.dtype)
            tb = t + st * torch.randn(t.shape, generator=gen, dtype=t.dtype)
        opt.zero_grad()
        loss = model.loss(xb, tb)
        history.append(loss.item())
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return np.array(history)


def _assert_same_weights(a, b):
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_default_call_is_exactly_the_plain_adam_loop():
    x, t = _tensors(64)
    ref = _mdn()
    expected = _hand_loop(ref, x, t, 25, torch.optim.Adam(ref.parameters(), lr=0.02, fused=True))
    model = _mdn()
    h = fit(model, x, t, epochs=25, lr=0.02)
    assert isinstance(h, History)
    np.testing.assert_array_equal(h.train, expected)  # float64: no float32 rounding either
    _assert_same_weights(model, ref)
    assert h.validation is None and h.diagnostics is None
    assert h.best_epoch is None and h.stopped_epoch is None
    np.testing.assert_array_equal(h.lr, np.full(25, 0.02))


def test_history_behaves_like_the_loss_array():
    x, t = _tensors(32)
    h = fit(_mlp(), x, t, epochs=12, lr=0.05)
    a = h.train
    assert len(h) == 12 and h.shape == (12,) and h.ndim == 1 and h.dtype == np.float64
    assert h[-1] == a[-1] and isinstance(h[-1], np.floating) and f"{h[3]:.4f}" == f"{a[3]:.4f}"
    np.testing.assert_array_equal(h[2:5], a[2:5])
    assert list(h) == list(a)
    np.testing.assert_array_equal(np.asarray(h), a)
    np.testing.assert_array_equal(h / h[0], a / a[0])
    np.testing.assert_array_equal(h < a[6], a < a[6])
    assert np.min(h) == a.min() and float(h[-1]) == a[-1]
    assert "History(epochs=12" in repr(h)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mdn_src.plotting import plot_loss

    fig, ax = plot_loss(h, "MSE")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), a)
    plt.close(fig)


def test_validation_loss_is_the_model_loss_at_that_epoch():
    x, t = _tensors(48)
    xv, tv = _tensors(40, seed=1)
    short, long_ = _mdn(), _mdn()
    h3 = fit(short, x, t, epochs=3, lr=0.02, validation=(xv, tv))
    h6 = fit(long_, x, t, epochs=6, lr=0.02, validation=(xv, tv))
    # After epoch e's steps, before the next epoch's.
    assert h3.validation[-1] == short.loss(xv, tv).item() == h6.validation[2]
    assert h6.validation[-1] == long_.loss(xv, tv).item()
    # Watching the validation loss does not change training.
    h_plain = fit(_mdn(), x, t, epochs=6, lr=0.02)
    np.testing.assert_array_equal(h6.train, h_plain.train)
    assert h6.best_epoch == int(np.argmin(h6.validation)) and h6.stopped_epoch is None


def test_validation_fraction_is_a_seeded_split():
    x, t = _tensors(50)
    h = fit(_mdn(), x, t, epochs=4, lr=0.02, validation_fraction=0.2, seed=5)
    rows = h.validation_rows
    assert rows.shape == (10,) and len(np.unique(rows)) == 10
    again = fit(_mdn(), x, t, epochs=4, lr=0.02, validation_fraction=0.2, seed=5)
    np.testing.assert_array_equal(again.validation_rows, rows)
    np.testing.assert_array_equal(again.validation, h.validation)
    other = fit(_mdn(), x, t, epochs=4, lr=0.02, validation_fraction=0.2, seed=6)
    assert not np.array_equal(other.validation_rows, rows)
    # The same as training on the other 40 rows with those 10 given as validation data.
    keep = np.setdiff1d(np.arange(50), rows)
    explicit = fit(_mdn(), x[keep], t[keep], epochs=4, lr=0.02, validation=(x[rows], t[rows]))
    np.testing.assert_array_equal(explicit.train, h.train)
    np.testing.assert_array_equal(explicit.validation, h.validation)


def test_early_stopping_restores_the_best_epoch():
    # 16 training points and a flexible MDN: the validation NLL turns up after ~12 epochs.
    x, t = _tensors(16, seed=1)
    xv, tv = _tensors(200, seed=2)
    torch.manual_seed(0)
    model = MDN(1, 1, n_components=5, hidden=20).double()
    h = fit(model, x, t, epochs=400, lr=0.03, validation=(xv, tv), patience=10)
    assert h.stopped_epoch is not None and h.stopped_epoch < 399
    assert len(h) == len(h.validation) == len(h.lr) == h.stopped_epoch + 1
    assert h.best_epoch == int(np.argmin(h.validation)) == h.stopped_epoch - 10
    assert h.validation[-1] > h.validation.min()  # the final weights were worse...
    assert model.loss(xv, tv).item() == h.validation.min()  # ...and were replaced


def test_validation_without_patience_keeps_the_final_weights():
    x, t = _tensors(16, seed=1)
    xv, tv = _tensors(200, seed=2)
    torch.manual_seed(0)
    model = MDN(1, 1, n_components=5, hidden=20).double()
    h = fit(model, x, t, epochs=30, lr=0.03, validation=(xv, tv))
    assert h.stopped_epoch is None and len(h) == 30
    assert model.loss(xv, tv).item() == h.validation[-1] > h.validation.min()


def _torch_lrs(make, epochs, lr=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(lrs)


@pytest.mark.parametrize(
    "schedule, make",
    [
        ("cosine", lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10)),
        ("step", lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.1)),
        (
            lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
            lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
        ),
    ],
    ids=["cosine", "step", "callable"],
)
def test_schedules_give_torch_lr_sequence(schedule, make):
    x, t = _tensors(32)
    h = fit(_mlp(), x, t, epochs=10, lr=0.1, optimizer="sgd", schedule=schedule)
    expected = _torch_lrs(make, 10)
    np.testing.assert_allclose(h.lr, expected, rtol=1e-15, atol=0)
    assert len(np.unique(h.lr)) > 1


def test_cosine_schedule_is_applied_to_the_steps():
    x, t = _tensors(32)
    ref = _mlp()
    opt = torch.optim.Adam(ref.parameters(), lr=0.05, fused=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
    expected = _hand_loop(ref, x, t, 8, opt, scheduler=sched)
    model = _mlp()
    h = fit(model, x, t, epochs=8, lr=0.05, schedule="cosine")
    np.testing.assert_array_equal(h.train, expected)
    _assert_same_weights(model, ref)


def test_plateau_schedule_is_stepped_with_the_validation_loss():
    x, t = _tensors(32)
    xv, tv = _tensors(32, seed=3)

    def make(o):
        return torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=0)

    h = fit(_mdn(), x, t, epochs=15, lr=0.2, schedule=make, validation=(xv, tv))
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    sched = make(opt)
    expected = []
    for value in h.validation:
        expected.append(opt.param_groups[0]["lr"])
        sched.step(value)
    np.testing.assert_array_equal(h.lr, expected)
    assert h.lr[-1] < h.lr[0]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_weight_decay_and_clipping_match_torch(optimizer):
    x, t = _tensors(48)
    clip = 0.05
    ref = _mdn()
    if optimizer == "adam":
        opt = torch.optim.Adam(ref.parameters(), lr=0.02, weight_decay=0.1, fused=True)
    else:
        opt = torch.optim.SGD(ref.parameters(), lr=0.02, weight_decay=0.1)
    expected = _hand_loop(ref, x, t, 10, opt, clip=clip)
    model = _mdn()
    h = fit(
        model,
        x,
        t,
        epochs=10,
        lr=0.02,
        optimizer=optimizer,
        weight_decay=0.1,
        clip_grad_norm=clip,
        diagnostics=True,
    )
    np.testing.assert_array_equal(h.train, expected)
    _assert_same_weights(model, ref)
    assert h.diagnostics["grad_norm"].min() > clip  # the clipping was active at every step
    # And each of the two settings changes training.
    plain = fit(_mdn(), x, t, epochs=10, lr=0.02, optimizer=optimizer, clip_grad_norm=clip)
    unclipped = fit(_mdn(), x, t, epochs=10, lr=0.02, optimizer=optimizer, weight_decay=0.1)
    assert not np.array_equal(plain.train, h.train)
    assert not np.array_equal(unclipped.train, h.train)


def test_sgd_uses_lr_momentum_and_nesterov():
    x, t = _tensors(48, inverse=False)
    ref = _mlp()
    opt = torch.optim.SGD(ref.parameters(), lr=0.07, momentum=0.8, nesterov=True)
    expected = _hand_loop(ref, x, t, 12, opt)
    model = _mlp()
    kwargs = dict(epochs=12, optimizer="sgd")
    h = fit(model, x, t, lr=0.07, momentum=0.8, nesterov=True, **kwargs)
    np.testing.assert_array_equal(h.train, expected)
    _assert_same_weights(model, ref)
    variants = [
        fit(_mlp(), x, t, lr=0.07, momentum=0.8, **kwargs),  # no nesterov
        fit(_mlp(), x, t, lr=0.07, **kwargs),  # no momentum
        fit(_mlp(), x, t, lr=0.03, momentum=0.8, nesterov=True, **kwargs),  # another lr
    ]
    for other in variants:
        assert not np.array_equal(other.train[1:], h.train[1:])


def test_noise_regularisation_is_seeded_fresh_each_step_and_zero_is_none():
    x, t = _tensors(40)
    kwargs = dict(epochs=6, lr=0.02, input_noise=0.05, target_noise=0.1, seed=3)
    model = _mdn()
    rng_before = torch.get_rng_state()
    h = fit(model, x, t, **kwargs)
    assert torch.equal(torch.get_rng_state(), rng_before)  # not the global generator
    np.testing.assert_array_equal(fit(_mdn(), x, t, **kwargs).train, h.train)
    assert not np.array_equal(fit(_mdn(), x, t, **{**kwargs, "seed": 4}).train, h.train)
    np.testing.assert_array_equal(h.input_noise, [0.05])
    np.testing.assert_array_equal(h.target_noise, [0.1])
    # The reference: fresh N(0, std^2) noise on x, then on t, at every step.
    ref = _mdn()
    gen = torch.Generator().manual_seed(data_module.derived_seed(3, data_module.NOISE_STREAM))
    opt = torch.optim.Adam(ref.parameters(), lr=0.02, fused=True)
    expected = _hand_loop(ref, x, t, 6, opt, noise=(gen, 0.05, 0.1))
    np.testing.assert_array_equal(h.train, expected)
    _assert_same_weights(model, ref)
    # Zero noise is no noise, mini-batch order included.
    plain = fit(_mdn(), x, t, epochs=3, lr=0.02, batch_size=16, seed=3)
    zero = fit(
        _mdn(), x, t, epochs=3, lr=0.02, batch_size=16, seed=3, input_noise=0.0, target_noise=0
    )
    np.testing.assert_array_equal(zero.train, plain.train)
    assert zero.input_noise is None and zero.target_noise is None


def test_rule_of_thumb_bandwidth_is_the_formula():
    assert rule_of_thumb_bandwidth(1000, 2) == 1000 ** (-1 / 6)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 2, generator=g, dtype=torch.float64) * torch.tensor([0.5, 3.0])
    t = torch.randn(60, 1, generator=g, dtype=torch.float64) * 2.0
    torch.manual_seed(0)
    model = MDN(2, 1, n_components=2, hidden=4).double()
    h = fit(
        model,
        x,
        t,
        epochs=2,
        lr=0.01,
        validation_fraction=0.25,
        input_noise="rule_of_thumb",
        target_noise="rule_of_thumb",
    )
    keep = np.setdiff1d(np.arange(60), h.validation_rows)
    n, d = len(keep), 2 + 1  # the training rows; the joint dimension of (x, t)
    bandwidth = n ** (-1 / (4 + d))
    xn, tn = x.numpy()[keep], t.numpy()[keep]
    np.testing.assert_allclose(h.input_noise, bandwidth * xn.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(h.target_noise, bandwidth * tn.std(axis=0), rtol=1e-12)


def test_diagnostics_match_the_mixture_parameters():
    x, t = _tensors(50)
    model = _mdn(K=4)
    h = fit(model, x, t, epochs=5, lr=0.05, diagnostics=True)
    assert set(h.diagnostics) == {"min_sigma", "entropy", "effective_components", "grad_norm"}
    assert all(v.shape == (5,) for v in h.diagnostics.values())
    with torch.no_grad():
        p = model.mixture_parameters(x)  # the weights at the end of the last epoch
    pi = p.log_pi.exp()
    entropy = -(pi * p.log_pi).sum(-1)
    d = {k: v[-1] for k, v in h.diagnostics.items()}
    assert d["min_sigma"] == pytest.approx(p.sigma.min().item(), rel=1e-12)
    assert d["entropy"] == pytest.approx(entropy.mean().item(), rel=1e-12)
    assert d["effective_components"] == pytest.approx(entropy.exp().mean().item(), rel=1e-12)
    assert 1 <= d["effective_components"] <= 4
    # The gradient norm of epoch 0: the fresh model's full-batch gradient.
    fresh = _mdn(K=4)
    fresh.loss(x, t).backward()
    norm = torch.cat([q.grad.reshape(-1) for q in fresh.parameters()]).norm().item()
    assert h.diagnostics["grad_norm"][0] == pytest.approx(norm, rel=1e-12)
    # Diagnostics only observe.
    np.testing.assert_array_equal(fit(_mdn(K=4), x, t, epochs=5, lr=0.05).train, h.train)


def test_the_model_stays_on_its_device_and_dtype(monkeypatch):
    x, t = _data(32)  # float32 NumPy data follow the float64 model
    model = _mlp()
    moves = []
    monkeypatch.setattr(model, "to", lambda *a, **k: moves.append((a, k)) or model)
    before = list(model.parameters())
    fit(model, x, t, epochs=2, lr=0.01)  # device=None: never model.to(...)
    assert moves == []
    after = list(model.parameters())
    assert all(p is q for p, q in zip(before, after, strict=True))
    assert all(p.device.type == "cpu" and p.dtype == torch.float64 for p in after)
    fit(model, x, t, epochs=1, lr=0.01, device="cpu")  # an explicit device moves it
    assert moves == [((torch.device("cpu"),), {})]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_model_stays_on_cuda_without_per_step_syncs():
    x, t = _data(64)
    torch.manual_seed(0)
    model = MDN(1, 1, n_components=3, hidden=8).cuda()
    h = fit(model, x, t, epochs=5, lr=0.01)  # device=None: train where the model is
    assert next(model.parameters()).is_cuda and isinstance(h.train, np.ndarray)

    def syncs(**kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                fit(model, x, t, lr=0.01, **kwargs)
            finally:
                torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    for kwargs in (dict(), dict(batch_size=16), dict(input_noise=0.1, clip_grad_norm=1.0)):
        assert syncs(epochs=3, **kwargs) == syncs(epochs=12, **kwargs), kwargs
    fit(model, x, t, epochs=1, lr=0.01, device="cpu")  # an explicit device still moves it
    assert not next(model.parameters()).is_cuda


def test_progress_bar_with_validation_does_not_change_training(capsys):
    x, t = _tensors(32)
    runs = [
        fit(
            _mdn(), x, t, epochs=5, lr=0.01, validation_fraction=0.25, patience=3, progress=progress
        )
        for progress in (False, True)
    ]
    np.testing.assert_array_equal(runs[0].train, runs[1].train)
    np.testing.assert_array_equal(runs[0].validation, runs[1].validation)
    assert "val=" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(patience=3), ValueError, "patience needs validation data"),
        (dict(patience=0, validation_fraction=0.2), ValueError, "patience must be >= 1"),
        (dict(validation_fraction=0.0), ValueError, r"validation_fraction must be in \(0, 1\)"),
        (dict(validation_fraction=1.0), ValueError, r"validation_fraction must be in \(0, 1\)"),
        (dict(validation_fraction="0.1"), TypeError, "validation_fraction must be a float"),
        (dict(validation_fraction=0.01), ValueError, "leaves 0 for validation"),
        (
            dict(validation_fraction=0.2, validation="VAL"),
            ValueError,
            "validation=.* or validation_fraction, not both",
        ),
        (dict(validation="VAL3"), TypeError, "validation must be a pair"),
        (dict(validation="VAL_WIDE"), ValueError, r"validation\[0\] \(x_val\) must have 1 col"),
        (dict(validation="VAL_SHORT"), ValueError, "same number of rows"),
        (dict(schedule="linear"), ValueError, "schedule must be one of"),
        (dict(schedule=3), TypeError, "schedule must be one of"),
        (dict(schedule=lambda opt: None), TypeError, r"schedule\(optimizer\) must return"),
        (dict(weight_decay=-0.1), ValueError, "weight_decay must be finite and >= 0"),
        (dict(clip_grad_norm=0.0), ValueError, "clip_grad_norm must be finite and > 0"),
        (dict(input_noise=-0.1), ValueError, "input_noise must be finite and >= 0"),
        (dict(target_noise=float("inf")), ValueError, "target_noise must be finite"),
        (dict(target_noise="silverman"), ValueError, "target_noise must be a float >= 0"),
        (dict(input_noise=[0.1]), TypeError, "input_noise must be a float >= 0"),
        (dict(diagnostics=True), TypeError, "diagnostics=True needs a mixture model"),
        (dict(diagnostics="yes"), TypeError, "diagnostics must be True or False"),
        (dict(device="no-such-device"), ValueError, "device must name a torch device"),
    ],
)
def test_bad_new_arguments(kwargs, error, match):
    x, t = _data(10)
    pairs = {
        "VAL": (x, t),
        "VAL3": (x, t, t),
        "VAL_WIDE": (np.hstack([x, x]), t),
        "VAL_SHORT": (x, t[:4]),
    }
    if isinstance(kwargs.get("validation"), str):
        kwargs = {**kwargs, "validation": pairs[kwargs["validation"]]}
    with pytest.raises(error, match=match):
        fit(MLP(1, 1, hidden=2), x, t, epochs=1, lr=0.01, **kwargs)


def test_compiled_training_matches_eager():
    """fit(compile=True) runs the same optimisation: the same losses to rounding."""
    histories = []
    for compiled in (False, True):
        torch.manual_seed(0)
        mdn = MDN(1, 1, n_components=3, hidden=8).double()
        x = torch.linspace(0, 1, 64, dtype=torch.float64).unsqueeze(1)
        histories.append(fit(mdn, x, torch.sin(6 * x), epochs=5, lr=0.01, compile=compiled))
    np.testing.assert_allclose(
        histories[1].train, histories[0].train, rtol=1e-9
    )  # inductor reorders sums
    with pytest.raises(TypeError, match="compile"):
        fit(MDN(1, 1, 2, hidden=3), torch.zeros(4, 1), torch.zeros(4, 1), epochs=1, lr=0.1,
            compile="yes")  # fmt: skip


@pytest.mark.parametrize(
    ("dtype", "options", "rtol"),
    [
        # Clipping needs autograd's gradients: the compiled loss and the compiled update.
        (torch.float32, dict(weight_decay=1e-3, clip_grad_norm=100.0), 2e-5),
        (torch.float32, dict(batch_size=16), 2e-5),  # the fused step, two batch sizes
        (torch.float64, dict(weight_decay=1e-3), 1e-9),  # the fused step in float64
        (torch.float32, dict(schedule="cosine"), 2e-5),  # the compiled loss, eager update
    ],
    ids=["float32 clipped", "float32 mini-batches", "float64", "float32 cosine"],
)
def test_compiled_training_matches_eager_with_its_options(dtype, options, rtol):
    """Each way fit(compile=True) trains gives the eager run's losses and weights: to
    float32's rounding over 8 epochs, and in float64 to 1e-9 (a float32 step count in the
    update missed that by 1e-7; a compiled step count that never advanced, by NaN)."""
    runs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        mdn = MDN(1, 1, n_components=3, hidden=8).to(dtype)
        x = torch.linspace(0, 1, 64, dtype=dtype).unsqueeze(1)
        history = fit(mdn, x, torch.sin(6 * x), epochs=8, lr=0.01, compile=compiled, **options)
        runs.append((history.train, [p.detach().clone() for p in mdn.parameters()]))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=rtol)
    for compiled_p, eager_p in zip(runs[1][1], runs[0][1], strict=True):
        torch.testing.assert_close(compiled_p, eager_p, rtol=rtol, atol=rtol)


def test_callback_sees_every_epoch_in_eval_mode_without_grad():
    torch.manual_seed(0)
    model = MDN(1, 1, 2, hidden=4)
    x = torch.linspace(0, 1, 20).unsqueeze(1)
    seen = []

    def record(epoch, m):
        seen.append(
            (epoch, m.training, torch.is_grad_enabled(), m.mixture_parameters(x).mu.sum().item())
        )

    history = fit(model, x, x, epochs=5, lr=0.01, callback=record)
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    assert not any(s[1] or s[2] for s in seen)
    # The snapshot after the last epoch is the trained model's output.
    assert seen[-1][3] == pytest.approx(model.mixture_parameters(x).mu.sum().item(), abs=0)
    assert len(history) == 5 and seen[0][3] != seen[-1][3]


def test_callback_must_be_callable():
    with pytest.raises(TypeError, match="callback"):
        fit(MDN(1, 1, 2, hidden=4), torch.zeros(4, 1), torch.zeros(4, 1), epochs=1, lr=0.1,
            callback=3)  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_without_the_optimizer_object_gives_torch_adams_bits(dtype):
    """fit's constant-lr Adam calls the fused kernel itself (no torch.optim.Adam, whose first
    use imports the compiler): the same bits as Adam(fused=True), with weight decay, with
    autograd's gradients (an MLP) and with a frozen layer, whose parameters Adam skips."""
    x, t = (v.to(dtype) for v in _tensors(40))
    for make in (_mdn, _mlp):
        ref, model = make().to(dtype), make().to(dtype)
        if make is _mlp:
            ref.trunk[0].requires_grad_(False), model.trunk[0].requires_grad_(False)
        opt = torch.optim.Adam(ref.parameters(), lr=0.03, weight_decay=1e-2, fused=True)
        expected = _hand_loop(ref, x, t, 30, opt)
        h = fit(model, x, t, epochs=30, lr=0.03, weight_decay=1e-2)
        np.testing.assert_array_equal(h.train, expected.astype(np.float64))
        _assert_same_weights(model, ref)
    frozen = _mlp()
    frozen.trunk[0].requires_grad_(False)
    before = frozen.trunk[0].weight.detach().clone()
    fit(frozen, *_tensors(40), epochs=3, lr=0.03)
    assert torch.equal(frozen.trunk[0].weight, before)


def test_validation_runs_in_eval_mode_where_the_mode_matters():
    """fit skips the train/eval switches only for models built from mode-free modules; a
    dropout layer (or any subclass, which may read self.training) keeps them, so the
    validation loss is the eval-mode loss."""
    x, t = _tensors(40)
    model = _mlp()
    model.trunk.append(torch.nn.Dropout(0.5))
    h = fit(model, x[:30], t[:30], epochs=1, lr=0.02, validation=(x[30:], t[30:]))
    with torch.no_grad():
        assert h.validation[0] == model.loss(x[30:], t[30:]).item()  # model is in eval mode
    assert train_module.mode_switch(model) == model.train

    class Subclass(MLP):
        pass

    sub = Subclass(1, 1)
    assert train_module.mode_switch(sub) == sub.train
    plain = _mdn()
    train_module.mode_switch(plain)(False)
    assert plain.training  # a no-op: the MDN computes the same in both modes


# --- one recipe, TrainConfig, for fit, fit_cached and MDNRegressor (issue 23) ---------------


def test_train_config_checks_each_setting_where_it_is_built():
    from mdn_src import TrainConfig

    for bad, error, message in [
        (dict(epochs=0), ValueError, "epochs must be >= 1"),
        (dict(lr=-1.0), ValueError, "lr must be"),
        (dict(optimizer="lbfgs"), ValueError, "optimizer must be one of"),
        (dict(momentum=0.9), ValueError, "momentum and nesterov apply to optimizer='sgd'"),
        (dict(validation_fraction=1.0), ValueError, r"validation_fraction must be in \(0, 1\)"),
        (dict(schedule="linear"), ValueError, "schedule must be one of"),
        (dict(input_noise="lots"), ValueError, "input_noise must be"),
        (dict(seed=1.5), TypeError, "seed must be an int"),
        (dict(compile="yes"), TypeError, "compile must be True or False"),
    ]:
        with pytest.raises(error, match=message):
            TrainConfig(**{"epochs": 10, "lr": 0.01, **bad})
    recipe = TrainConfig(epochs=10, lr=0.01)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        recipe.replace(epochs=0)
    assert recipe.replace(batch_size=8).batch_size == 8 and recipe.batch_size is None


def test_fit_takes_a_config_and_keywords_override_it():
    from mdn_src import TrainConfig

    x = torch.linspace(-1, 1, 40, dtype=torch.float64).unsqueeze(1)
    t = torch.sin(3 * x)

    def trained(*args, **kwargs):
        torch.manual_seed(0)
        model = MDN(1, 1, n_components=2, hidden=4).double()
        return np.asarray(fit(model, x, t, *args, **kwargs))

    recipe = TrainConfig(epochs=15, lr=0.02, batch_size=8)
    by_config = trained(recipe)
    np.testing.assert_array_equal(by_config, trained(epochs=15, lr=0.02, batch_size=8))
    np.testing.assert_array_equal(trained(recipe, lr=0.05), trained(recipe.replace(lr=0.05)))
    assert not np.array_equal(trained(recipe, lr=0.05), by_config)  # the override took effect
    with pytest.raises(TypeError, match="unknown training settings \\['epoch'\\]"):
        trained(recipe, epoch=3)
    with pytest.raises(TypeError, match="needs a TrainConfig, or at least epochs= and lr="):
        trained(epochs=3)
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        trained({"epochs": 3, "lr": 0.1})


@pytest.mark.parametrize("schedule", ["cosine", "step"])
def test_a_schedule_is_stepped_after_the_optimizer_without_a_warning(schedule):
    """torch warns (and may skip the schedule's first value) when a scheduler is stepped
    before the optimizer; fit must take opt.step after the scheduler has wrapped it."""
    import warnings

    x = torch.linspace(-1, 1, 32).unsqueeze(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(MDN(1, 1, n_components=2, hidden=4), x, x.sin(), epochs=6, lr=0.01,
                      schedule=schedule)  # fmt: skip
    expected = 0.01 * (1 + np.cos(np.pi * np.arange(6) / 6)) / 2 if schedule == "cosine" else None
    if expected is not None:
        np.testing.assert_allclose(history.lr, expected, rtol=1e-12)


def test_derived_seed_is_the_first_63_bits_of_the_seed_sequence():
    """Catches a wrong word count, mask or shift in derived_seed, or a seed not taken mod 2**64
    (numpy's uint64 state is two uint32 words, low word first)."""
    from mdn_src.training.data import derived_seed

    seen = []
    for seed in (0, 1, 7, -1, 2**40 + 3):
        for stream in (1, 2):
            words = np.random.SeedSequence([seed % 2**64, stream]).generate_state(1, np.uint64)
            expected = int(words[0]) & (2**63 - 1)
            assert derived_seed(seed, stream) == expected
            seen.append(expected)
    assert derived_seed(-1, 1) == derived_seed(2**64 - 1, 1)
    assert max(seen) >= 2**62  # the high word's bits are used


def test_prepare_data_places_data_and_validation_on_the_device_and_dtype():
    """Catches the data or a validation pair left on its own device or dtype (the meta
    device stands in for a GPU)."""
    from mdn_src.training.config import TrainConfig
    from mdn_src.training.data import prepare_data

    x, t = torch.randn(8, 1), torch.randn(8, 2)
    meta, f64 = torch.device("meta"), torch.float64
    config = TrainConfig.from_settings(None, dict(epochs=1, lr=0.1), "fit")
    data = prepare_data(x, t, (x.numpy(), t.half()), config, (1, 2), meta, f64)
    for value in (data.x, data.t, *data.val):
        assert value.device == meta and value.dtype == f64
    split = TrainConfig.from_settings(None, dict(epochs=1, lr=0.1, validation_fraction=0.25), "fit")
    data = prepare_data(x, t, None, split, (1, 2), meta, f64)
    assert data.x.shape == (6, 1) and data.val[1].shape == (2, 2)
    for value in (data.x, data.t, *data.val):
        assert value.device == meta and value.dtype == f64


def test_history_array_protocol_copies_only_where_asked():
    """Catches __array__ copying when told not to (or not copying when told to), a dtype
    change allowed without a copy, and a ufunc allowed to write into a History."""
    h = History([3.0, 2.0, 1.5])
    assert np.shares_memory(np.asarray(h), h.train)
    assert np.shares_memory(np.array(h, copy=False), h.train)
    assert np.shares_memory(np.array(h, dtype=np.float64, copy=False), h.train)
    assert not np.shares_memory(np.array(h, copy=True), h.train)
    assert np.array(h, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="a dtype change needs a copy"):
        np.array(h, dtype=np.float32, copy=False)
    with pytest.raises(TypeError):
        np.add(h, 1.0, out=h)
    np.testing.assert_array_equal(h.train, [3.0, 2.0, 1.5])  # unchanged
    out = np.empty(3)
    np.add(h, 1.0, out=out)
    np.testing.assert_array_equal(out, [4.0, 3.0, 2.5])


def test_mini_batch_grad_norm_is_the_mean_over_the_batches():
    """Catches the epoch's gradient norm summed, or divided wrongly, over its mini-batches:
    with every row the same, each batch's gradient is the full-batch one."""
    x, t = (
        torch.full((40, 1), 0.3, dtype=torch.float64),
        torch.full((40, 1), 0.7, dtype=torch.float64),
    )
    kwargs = dict(epochs=1, lr=1e-12, optimizer="sgd", diagnostics=True)
    full = fit(_mdn(K=2), x, t, **kwargs).diagnostics["grad_norm"][0]
    batched = fit(_mdn(K=2), x, t, batch_size=10, **kwargs).diagnostics["grad_norm"][0]
    assert full > 0 and batched == pytest.approx(full, rel=1e-9)


def test_fit_shows_no_progress_bar_by_default(capsys):
    """Catches a progress bar on by default."""
    x, t = _tensors(20)
    fit(_mlp(), x, t, epochs=3, lr=0.01)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_validation_fraction_may_leave_a_single_row_on_either_side():
    """Catches the split's bounds off by one: 1 validation row, or 1 training row, is allowed;
    none is not."""
    from mdn_src.training.config import TrainConfig
    from mdn_src.training.data import prepare_data

    x, t = torch.randn(10, 1), torch.randn(10, 1)
    for fraction, n_val in ((0.1, 1), (0.9, 9)):
        config = TrainConfig.from_settings(
            None, dict(epochs=1, lr=0.1, validation_fraction=fraction), "fit"
        )
        data = prepare_data(x, t, None, config, (1, 1), torch.device("cpu"), torch.float32)
        assert len(data.val_rows) == n_val and data.x.shape[0] == 10 - n_val
    for fraction in (0.04, 0.96):
        config = TrainConfig.from_settings(
            None, dict(epochs=1, lr=0.1, validation_fraction=fraction), "fit"
        )
        with pytest.raises(ValueError, match="both need >= 1"):
            prepare_data(x, t, None, config, (1, 1), torch.device("cpu"), torch.float32)


def test_patience_counts_epochs_from_zero_when_the_loss_never_improves():
    """Catches the patience counter not starting at 0: with an infinite validation loss no
    epoch improves on the start, and patience=3 stops after exactly three epochs."""
    x = torch.linspace(0, 1, 20, dtype=torch.float64).unsqueeze(1)
    t_val = x[:5].clone()
    t_val[0] = 1e200  # its squared error overflows to inf
    h = fit(_mlp(), x, x.clone(), epochs=10, lr=0.01, validation=(x[:5], t_val), patience=3)
    assert len(h) == 3 and h.stopped_epoch == 2 and h.best_epoch is None
    assert np.isinf(h.validation).all()
