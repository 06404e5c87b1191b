"""The fused training step of fit(compile=True): forward, the backward pass by hand and Adam
in one function, against autograd and torch.optim.Adam."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import mdn_src.training.loop
from mdn_src import MDN, MLP, fit
from mdn_src.fast import closed_form_gradients, fused_adam_step


def _data(n: int, d: int, dtype=torch.float64):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(n, 2, generator=g, dtype=dtype)
    t = torch.cat([torch.sin(4 * x[:, :1]), x[:, 1:] ** 2], dim=1)[:, :d]
    return x, t + 0.05 * torch.randn(n, d, generator=g, dtype=dtype)


def _reference_steps(model, x, t, steps, lr, weight_decay):
    """Autograd through the reference loss (no closed form) and torch's own Adam."""
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = model.training_loss(x, t, closed_form=False)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize(
    ("covariance", "d", "hidden", "weight_decay"),
    [
        ("isotropic", 1, 8, 0.0),  # the post's shape, small
        ("isotropic", 2, [6, 5], 1e-3),  # two tanh layers: the backward pass through both
        ("diagonal", 2, [7], 1e-2),
        ("diagonal", 1, [4, 4, 3], 0.0),
    ],
)
def test_step_is_autograd_and_torch_adam_in_float64(covariance, d, hidden, weight_decay):
    """Six steps, run eagerly: the same losses and weights as autograd plus torch.optim.Adam
    to 1e-12. A wrong sign, a missing tanh derivative, a swapped bias correction or the
    weight decay left out would each miss by far more from the first step on."""
    torch.manual_seed(0)
    model = MDN(2, d, n_components=3, hidden=hidden, covariance=covariance).double()
    reference = copy.deepcopy(model)
    x, t = _data(40, d)
    step = fused_adam_step(model, 0.02, weight_decay, compile=False)
    losses = [step(x, t).item() for _ in range(6)]
    expected = _reference_steps(reference, x, t, 6, 0.02, weight_decay)
    assert losses == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert losses[-1] < losses[0]  # it trains
    for name, p in model.named_parameters():
        q = dict(reference.named_parameters())[name]
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12, msg=name)
        assert not p.requires_grad or p.grad is None  # no autograd graph was built


def _assert_autograds_bits_for_ten_steps(model, x, t, loss_name):
    """closed_form_gradients(model) against autograd on a copy (``loss_name``'s
    backward()): the loss and every gradient torch.equal over ten Adam steps."""
    reference = copy.deepcopy(model)
    grads = closed_form_gradients(model)
    opts = [torch.optim.Adam(m.parameters(), lr=0.02, fused=True) for m in (model, reference)]
    for _ in range(10):
        loss = grads(x, t)
        opts[1].zero_grad()
        expected = getattr(reference, loss_name)(x, t)
        expected.backward()
        assert torch.equal(loss, expected.detach())
        for p, q in zip(model.parameters(), reference.parameters(), strict=True):
            assert torch.equal(p.grad, q.grad)
        for opt in opts:
            opt.step()
    assert not loss.requires_grad


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    ("covariance", "d", "hidden"),
    [
        ("isotropic", 1, 50),
        ("isotropic", 2, [6, 5]),
        ("diagonal", 2, [7]),
        ("diagonal", 1, [4, 4, 3]),
    ],  # fmt: skip
)
def test_gradients_without_autograd_are_autograds_bit_for_bit(covariance, d, hidden, dtype):
    """fit's eager step sets these instead of calling backward(): the trained models of
    the book stay what they were only if every bit is the same, so the comparison is
    torch.equal, over ten Adam steps (a difference would grow from step to step)."""
    torch.manual_seed(0)
    model = MDN(2, d, n_components=5, hidden=hidden, covariance=covariance).to(dtype)
    _assert_autograds_bits_for_ten_steps(model, *_data(64, d, dtype), "training_loss")


class _PenalisedMDN(MDN):
    def training_loss(self, x, t, closed_form=True):
        return super().training_loss(x, t, closed_form) + self.head.weight.square().sum()


def _relu_trunk():
    model = MDN(1, 1, 2, hidden=4)
    model.trunk[1] = nn.ReLU()
    return model


def _frozen_trunk():
    model = MDN(1, 1, 2, hidden=4)
    model.trunk.requires_grad_(False)
    return model


@pytest.mark.parametrize(
    "make",
    [
        lambda: MDN(1, 2, 2, hidden=4, covariance="full"),
        lambda: MDN(1, 1, 2, hidden=4, family="laplace"),
        lambda: MDN(1, 1, 2, hidden=4, sigma_map="exp"),
        lambda: MLP(1, 1, hidden=4),
        lambda: _PenalisedMDN(1, 1, 2, hidden=4),
        _relu_trunk,
        _frozen_trunk,
    ],
    ids=["full covariance", "laplace", "exp scales", "MLP", "own loss", "relu trunk", "frozen"],
)
def test_no_fused_step_without_the_closed_form_and_the_tanh_trunk(make):
    """Models whose gradient is not the closed form it writes out are left to autograd
    (the MLP's MSE gradient is written out for the eager loop only)."""
    assert fused_adam_step(make(), 0.01) is None
    model = make()
    assert (closed_form_gradients(model) is None) is not isinstance(model, MLP)


class _PenalisedMLP(MLP):
    def loss(self, x, t):
        return super().loss(x, t) + self.head.weight.square().sum()


def _relu_mlp():
    model = MLP(1, 1, hidden=4)
    model.trunk[1] = nn.ReLU()
    return model


def _frozen_mlp():
    model = MLP(1, 1, hidden=4)
    model.head.requires_grad_(False)
    return model


@pytest.mark.parametrize("make", [_PenalisedMLP, _relu_mlp, _frozen_mlp])
def test_no_closed_form_for_an_mlp_unlike_the_plain_one(make):
    model = make(1, 1) if isinstance(make, type) else make()
    assert closed_form_gradients(model) is None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("d", "hidden"), [(1, 15), (2, [6, 5]), (1, [4, 4, 3])])
def test_mlp_gradients_without_autograd_are_autograds_bit_for_bit(d, hidden, dtype):
    """The MLP's MSE gradient, as the MDN's: torch.equal with autograd over ten Adam steps."""
    torch.manual_seed(0)
    model = MLP(2, d, hidden=hidden).to(dtype)
    _assert_autograds_bits_for_ten_steps(model, *_data(64, d, dtype), "loss")


@pytest.mark.parametrize(
    ("options", "fused"),
    [
        ({}, True),
        (dict(batch_size=8, weight_decay=1e-3), True),
        (dict(schedule="cosine"), False),
        (dict(clip_grad_norm=1.0), False),
        (dict(diagnostics=True), False),
        (dict(optimizer="sgd"), False),
    ],
)
def test_fit_trains_by_the_fused_step_where_it_applies(monkeypatch, options, fused):
    """fit(compile=True) takes the fused step for a Gaussian MDN at a constant learning
    rate, and the compiled loss otherwise. torch.compile is replaced by the identity here
    (the compiled runs are compared with eager ones in test_train.py)."""
    built = []

    def spy(*args, **kwargs):
        step = fused_adam_step(*args, **kwargs)
        built.append(step)
        return step

    monkeypatch.setattr(mdn_src.training.loop, "fused_adam_step", spy)
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: fn)
    torch.manual_seed(0)
    model = MDN(2, 1, n_components=2, hidden=4).double()
    x, t = _data(20, 1)
    history = fit(model, x, t, epochs=3, lr=0.01, compile=True, **options)
    steps = 3 * (-(-20 // options["batch_size"]) if "batch_size" in options else 1)
    taken = int(built[0].step.item()) if built and built[0] is not None else 0
    assert taken == (steps if fused else 0)  # one fused step per batch, or none
    assert len(history) == 3 and np.isfinite(history.train).all()
    if fused:
        assert history.lr.tolist() == [0.01] * 3


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((3, 0.01), {}, TypeError, "model must be an nn.Module"),
        ((None, 0.0), {}, ValueError, "lr"),
        ((None, -0.1), {}, ValueError, "lr"),
        ((None, 0.01, -1e-3), {}, ValueError, "weight_decay"),
        ((None, "0.01"), {}, TypeError, "lr"),
        ((None, 0.01), {"compile": "yes"}, TypeError, "compile must be True or False"),
    ],
)
def test_bad_arguments_are_named(args, kwargs, error, match):
    model = MDN(1, 1, 2, hidden=3)
    args = tuple(model if a is None else a for a in args)
    with pytest.raises(error, match=match):
        fused_adam_step(*args, **kwargs)


def test_docstring_examples_run():
    import doctest

    import mdn_src.fast.step as module

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    tests = [t for t in finder.find(module) if t.examples]
    assert tests, "no examples found"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


def test_fit_trains_eagerly_by_the_closed_form_gradients(monkeypatch):
    """Without compile, fit sets a Gaussian MDN's gradients through closed_form_gradients,
    once per batch (the same bits as autograd, so only this count tells the paths apart),
    and leaves other models to autograd."""
    calls = []

    def spy(model):
        grads = closed_form_gradients(model)
        if grads is None:
            return None

        def counted(x, t):
            calls.append(len(x))
            return grads(x, t)

        return counted

    monkeypatch.setattr(mdn_src.training.loop, "closed_form_gradients", spy)
    x, t = _data(20, 1)
    fit(MDN(2, 1, n_components=2, hidden=4).double(), x, t, epochs=3, lr=0.01, batch_size=8)
    assert calls == [8, 8, 4] * 3
    calls.clear()
    fit(MLP(2, 1, hidden=4).double(), x, t, epochs=2, lr=0.01)
    assert calls == [20, 20]
    calls.clear()
    fit(MDN(2, 1, 2, hidden=4, family="laplace").double(), x, t, epochs=2, lr=0.01)
    assert calls == []


@pytest.mark.parametrize("D", [1, 2])
@pytest.mark.parametrize("isotropic", [True, False])
def test_the_compiled_formulation_equals_the_eager_one(isotropic, D):
    """The formulation torch.compile traces is plain tensor code: run eagerly, it gives the
    eager closed form's loss and gradient (and both give autograd's through the MDN)."""
    from mdn_src.fast.head import compiled_form_nll_and_gradient, gaussian_head_nll_and_gradient

    torch.manual_seed(0)
    K, N = 3, 40
    S = K + K * D + (K if isotropic else K * D)
    a_t = (2 * torch.randn(S, N, dtype=torch.float64)).contiguous()
    a_t[K + K * D :] *= 4  # scale inputs on both sides of softplus's threshold of 20 / 0
    t_t = torch.randn(D, N, dtype=torch.float64).contiguous()
    loss, grad = compiled_form_nll_and_gradient(a_t, t_t, K, isotropic, 0.01)
    ref_loss, ref_grad = gaussian_head_nll_and_gradient(a_t, t_t, K, isotropic, 0.01)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-12, atol=0)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-10, atol=1e-14)
    # and autograd through the same map (softmax, identity, sigma_min + softplus)
    a = a_t.clone().requires_grad_()
    log_pi = torch.log_softmax(a[:K], 0)
    mu = a[K : K + K * D].view(K, D, N)
    sigma = 0.01 + torch.nn.functional.softplus(a[K + K * D :])
    sigma = sigma.view(K, 1, N).expand(K, D, N) if isotropic else sigma.view(K, D, N)
    log_f = torch.distributions.Normal(mu, sigma).log_prob(t_t.unsqueeze(0)).sum(1)
    nll = -torch.logsumexp(log_pi + log_f, 0).mean()
    nll.backward()
    torch.testing.assert_close(loss, nll.detach(), rtol=1e-12, atol=0)
    torch.testing.assert_close(grad, a.grad, rtol=1e-8, atol=1e-11)
