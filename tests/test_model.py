import numpy as np
import pytest
import torch
from torch.distributions import MixtureSameFamily

from mdn_src import MDN, MLP, MixtureParameters


@pytest.mark.parametrize("covariance", ["isotropic", "diagonal"])
@pytest.mark.parametrize("D", [1, 3])
def test_mdn_shapes_and_constraints(covariance, D):
    mdn = MDN(2, D, n_components=4, hidden=[8, 6], covariance=covariance, sigma_min=0.05)
    x = torch.randn(7, 2)
    p = mdn.mixture_parameters(x)
    assert p.log_pi.shape == (7, 4) and p.mu.shape == p.sigma.shape == (7, 4, D)
    torch.testing.assert_close(p.pi.sum(-1), torch.ones(7))
    assert (p.sigma > 0.05).all()
    if covariance == "isotropic":  # one sigma per component, shared by the dimensions
        torch.testing.assert_close(p.sigma, p.sigma[..., :1].expand_as(p.sigma))
    dist = mdn(x)
    assert isinstance(dist, MixtureSameFamily)
    assert dist.batch_shape == (7,) and dist.event_shape == (D,)


def test_diagonal_sigmas_differ_by_dimension():
    mdn = MDN(1, 2, n_components=3, covariance="diagonal")
    sigma = mdn.mixture_parameters(torch.randn(5, 1)).sigma
    assert not torch.allclose(sigma[..., 0], sigma[..., 1])


def test_sigma_map_is_floor_plus_softplus():
    mdn = MDN(1, 1, n_components=2, hidden=3, sigma_min=0.01)
    h = mdn.trunk(torch.tensor([[0.3]]))
    expected = 0.01 + torch.nn.functional.softplus(mdn.head(h)[:, -2:])  # last K outputs
    torch.testing.assert_close(
        mdn.mixture_parameters(torch.tensor([[0.3]])).sigma[0, :, 0], expected[0]
    )


def test_distribution_log_prob_matches_loss():
    mdn = MDN(1, 2, n_components=5, hidden=10)
    x, t = torch.randn(9, 1), torch.randn(9, 2)
    torch.testing.assert_close(mdn.loss(x, t), -mdn(x).log_prob(t).mean())


def test_mixture_parameters_detach():
    mdn = MDN(1, 1, n_components=2, hidden=3)
    p = mdn.mixture_parameters(torch.zeros(2, 1))
    assert p.mu.requires_grad and not any(a.requires_grad for a in p.detach().tensors().values())
    assert isinstance(p.detach(), MixtureParameters)


def test_mlp_shapes_and_loss():
    net = MLP(1, 2, hidden=15)
    x = torch.randn(6, 1)
    assert net(x).shape == (6, 2)
    t = torch.randn(6, 2)
    torch.testing.assert_close(net.loss(x, t), ((net(x) - t) ** 2).mean())


def test_accepts_numpy_float32():
    mdn = MDN(1, 1, n_components=2, hidden=3)
    assert mdn.mixture_parameters(np.zeros((3, 1), np.float32)).mu.shape == (3, 2, 1)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_components=0), ValueError, "n_components must be >= 1"),
        (dict(n_components=2.0), TypeError, "n_components must be an int"),
        (dict(in_features=0), ValueError, "in_features must be >= 1"),
        (dict(out_features=-1), ValueError, "out_features must be >= 1"),
        (dict(hidden=0), ValueError, "hidden must be >= 1"),
        (dict(hidden=[4, 0]), ValueError, r"hidden\[1\] must be >= 1"),
        (dict(hidden=[]), ValueError, "hidden must name at least one"),
        (dict(sigma_min=0.0), ValueError, "sigma_min must be finite and > 0"),
        (dict(sigma_min=-1e-3), ValueError, "sigma_min"),
        (dict(covariance="banana"), ValueError, "covariance must be one of"),
        (dict(family="cauchy"), ValueError, "family must be one of"),
        (dict(family="laplace", covariance="full"), ValueError, "not available for the laplace"),
        (dict(family="student_t", df=0.0), ValueError, "df must be finite and > 0"),
        (dict(family="gennorm", beta_range=(3.0, 2.0)), ValueError, "low < high"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    args = dict(in_features=1, out_features=1, n_components=3)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        MDN(**args)


@pytest.mark.parametrize(
    "x, error, match",
    [
        (torch.zeros(5), ValueError, "x must be 2-D"),
        (torch.zeros(5, 1, 1), ValueError, "x must be 2-D"),
        (torch.zeros(5, 2), ValueError, "x must have 1 columns"),
        (torch.tensor([[0.0], [float("nan")]]), ValueError, "x contains NaN or inf"),
        (torch.tensor([[float("inf")]]), ValueError, "x contains NaN or inf"),
        (torch.zeros(5, 1, dtype=torch.long), TypeError, "x must have a floating dtype"),
        ([[0.0]], TypeError, "x must be a torch.Tensor or numpy.ndarray"),
        (torch.zeros(0, 1), ValueError, "at least one row"),
    ],
)
def test_bad_inputs(x, error, match):
    mdn = MDN(1, 1, n_components=2, hidden=3)
    with pytest.raises(error, match=match):
        mdn(x)


def test_bad_targets():
    mdn = MDN(1, 2, n_components=2, hidden=3)
    x = torch.zeros(4, 1)
    with pytest.raises(ValueError, match="same number of rows"):
        mdn.loss(x, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="t must have 2 columns"):
        mdn.loss(x, torch.zeros(4, 1))  # no silent broadcast of a 1-D target
    with pytest.raises(ValueError, match="t contains NaN"):
        mdn.loss(x, torch.full((4, 2), float("nan")))
    with pytest.raises(ValueError, match="same number of rows"):
        MLP(1, 1).loss(x, torch.zeros(5, 1))


def test_output_activations_map_raw_outputs():
    mdn = MDN(1, 2, n_components=3, hidden=4, covariance="diagonal", sigma_min=0.01)
    a = torch.randn(5, 3 + 6 + 6)
    p = mdn.output_activations(a)
    torch.testing.assert_close(p.log_pi, torch.log_softmax(a[:, :3], -1))
    torch.testing.assert_close(p.mu, a[:, 3:9].reshape(5, 3, 2))
    torch.testing.assert_close(
        p.sigma, 0.01 + torch.nn.functional.softplus(a[:, 9:]).reshape(5, 3, 2)
    )
    with pytest.raises(ValueError, match=r"a must have shape \[N, 15\]"):
        mdn.output_activations(torch.randn(5, 14))


def test_mlp_accepts_float64_and_hidden_as_numpy_int():
    net = MLP(1, 1, hidden=np.int64(4))
    assert net.trunk[0].out_features == 4
    out = net(torch.zeros(3, 1, dtype=torch.float64))
    assert out.dtype == torch.float32 and out.shape == (3, 1)
    assert MDN(1, 1, 2, hidden=np.int64(3)).head.in_features == 3


@pytest.mark.parametrize(
    "array", [np.zeros((3, 1), dtype=np.complex64), np.zeros((3, 1), dtype=np.int64)]
)
def test_non_floating_numpy_inputs_raise(array):
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        MDN(1, 1, n_components=2, hidden=3)(array)


def _params(N=4, K=3, D=2):
    return MixtureParameters(
        torch.log_softmax(torch.randn(N, K), -1), torch.randn(N, K, D), torch.rand(N, K, D) + 0.1
    )


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(log_pi=torch.zeros(4, 1)), ValueError, r"params.log_pi must be \[N, K\]"),
        (dict(log_pi=torch.zeros(4)), ValueError, r"params.log_pi must be \[N, K\]"),
        (dict(sigma=torch.ones(4, 3, 1)), ValueError, "params.sigma must have mu's shape"),
        (dict(sigma=-torch.ones(4, 3, 2)), ValueError, "params.sigma must be positive"),
        (dict(mu=torch.zeros(4, 3)), ValueError, r"params.mu must be \[N, K, D\]"),
        (
            dict(mu=torch.zeros(4, 3, 2, dtype=torch.long)),
            TypeError,
            "params.mu must be a floating",
        ),
    ],
)
def test_mixture_parameters_validate(change, error, match):
    params = _params().replace(**change)
    with pytest.raises(error, match=match):
        params.validate()
    assert _params().validate() is not None


# The audit of misuse: each case once returned a wrong answer, NaN or a deep IndexError.


def test_float64_numpy_inputs_keep_their_precision():
    """A float64 model fed float64 NumPy arrays computes in float64 (no float32 detour)."""
    from mdn_src import mse

    assert mse(np.array([[1e8 + 1]]), np.array([[1e8]])) == 1.0  # 0.0 through float32
    mdn = MDN(1, 1, n_components=2, hidden=3).double()
    x = np.array([[1.0 + 1e-12]])
    params = mdn.mixture_parameters(x)
    assert params.mu.dtype == torch.float64
    reference = mdn.mixture_parameters(torch.tensor([[1.0 + 1e-12]], dtype=torch.float64))
    torch.testing.assert_close(params.mu, reference.mu, rtol=0, atol=0)
    # A float32 model converts float64 inputs to its own dtype.
    assert MDN(1, 1, 2, hidden=3).mixture_parameters(x).mu.dtype == torch.float32


def test_sigma_floors_too_small_for_the_dtype_are_errors():
    with pytest.raises(ValueError, match="sigma_min must be >="):
        MDN(1, 1, 2, sigma_min=1e-50)  # underflows to 0 in float32
    tiny = MixtureParameters(torch.zeros(1, 1), torch.zeros(1, 1, 1), torch.full((1, 1, 1), 1e-30))
    with pytest.raises(ValueError, match="too small for torch.float32"):
        tiny.validate()  # (t - mu)^2 / sigma^2 overflows float32: NaN gradients before
    tiny.map(torch.Tensor.double).validate()  # fine in float64


def test_empty_mixtures_are_errors():
    with pytest.raises(ValueError, match="at least one component"):
        MixtureParameters(torch.zeros(2, 0), torch.zeros(2, 0, 1), torch.ones(2, 0, 1)).validate()


def test_training_checks_its_arguments_once_not_every_step(monkeypatch):
    """fit validates x and t at its boundary; the step itself runs no argument checks."""
    import mdn_src.checks as checks
    import mdn_src.training as train
    import mdn_src.training.data as data

    calls = {"n": 0}
    original = checks.as_matrix

    def counting(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    for module in (data, checks):
        monkeypatch.setattr(module, "as_matrix", counting)
    import mdn_src.model as model_module

    monkeypatch.setattr(model_module, "as_matrix", counting)
    mdn = MDN(1, 1, n_components=2, hidden=3)
    x, t = torch.randn(20, 1), torch.randn(20, 1)
    train.fit(mdn, x, t, epochs=2, lr=0.01)
    two = calls["n"]
    train.fit(mdn, x, t, epochs=50, lr=0.01)
    assert calls["n"] - two == two  # the same few checks for 50 epochs as for 2


@pytest.mark.parametrize("off_diagonal", ["free", "scaled"])
@pytest.mark.parametrize("covariance", ["isotropic", "diagonal"])
def test_with_full_covariance_starts_from_the_same_mixture(covariance, off_diagonal):
    small = MDN(2, 3, n_components=4, hidden=[6, 5], covariance=covariance).double()
    with torch.no_grad():  # far from a fresh init, so a copy cannot match by luck
        for p in small.parameters():
            p.add_(torch.randn_like(p))
    rng = torch.get_rng_state()
    full = small.with_full_covariance(off_diagonal=off_diagonal)
    assert torch.equal(torch.get_rng_state(), rng)  # the caller's random stream is untouched
    assert full.covariance == "full" and full.spec.off_diagonal == off_diagonal
    assert full.head.weight.dtype == torch.float64 and full.head.out_features == 4 + 12 + 12 + 12
    x = torch.randn(9, 2, dtype=torch.float64)
    with torch.no_grad():
        before, after = small.mixture_parameters(x), full.mixture_parameters(x)
    # The two heads have different widths, and a BLAS may block matrix products of different
    # widths differently: the same rows agree to float64 rounding, not always bit for bit.
    close = dict(rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(after.log_pi, before.log_pi, **close)
    torch.testing.assert_close(after.mu, before.mu, **close)
    torch.testing.assert_close(after.sigma, before.sigma, **close)
    torch.testing.assert_close(after.scale_tril, torch.diag_embed(before.sigma), **close)
    t = torch.randn(9, 3, dtype=torch.float64)
    torch.testing.assert_close(full.loss(x, t), small.loss(x, t), rtol=1e-12, atol=0)
    # A copy, not a view: training the copy leaves the original alone.
    with torch.no_grad():
        full.head.weight.add_(1.0)
    assert torch.equal(small.mixture_parameters(x).mu, before.mu)


def test_with_full_covariance_rejects_full_and_non_gaussian_models():
    with pytest.raises(ValueError, match="needs an isotropic or diagonal gaussian MDN"):
        MDN(1, 2, 2, hidden=3, covariance="full").with_full_covariance()
    with pytest.raises(ValueError, match="family='laplace'"):
        MDN(1, 2, 2, hidden=3, family="laplace").with_full_covariance()
    with pytest.raises(ValueError, match="off_diagonal must be one of"):
        MDN(1, 2, 2, hidden=3).with_full_covariance(off_diagonal="diagonal")


@pytest.mark.parametrize(
    ("sigma_map", "reference"),
    [
        ("softplus", lambda a: np.logaddexp(0.0, a)),
        ("exp", np.exp),
        ("elu", lambda a: np.where(a > 0, 1.0 + a, np.exp(a))),
    ],
)
def test_sigma_map_maps_raw_outputs_to_scales(sigma_map, reference):
    torch.manual_seed(0)
    mdn = MDN(1, 1, n_components=3, hidden=5, sigma_min=0.02, sigma_map=sigma_map).double()
    x = torch.linspace(-2, 2, 7, dtype=torch.float64).unsqueeze(1)
    with torch.no_grad():
        a = mdn.head(mdn.trunk(x)).numpy()  # raw outputs: [pi logits | means | scales]
        sigma = mdn.mixture_parameters(x).sigma[..., 0].numpy()  # [7, 3]
    np.testing.assert_allclose(sigma, 0.02 + reference(a[:, 6:9]), rtol=1e-12)
    assert mdn.spec.sigma_map == sigma_map


@pytest.mark.parametrize("sigma_map", ["exp", "elu"])
def test_sigma_map_loss_and_gradient_match_scipy(sigma_map):
    from scipy.special import logsumexp
    from scipy.stats import norm

    torch.manual_seed(1)
    mdn = MDN(1, 1, n_components=2, hidden=4, sigma_map=sigma_map).double()
    x = torch.linspace(0, 1, 9, dtype=torch.float64).unsqueeze(1)
    t = torch.sin(3 * x)
    p = mdn.mixture_parameters(x)
    log_pi, mu, sd = (v.detach().numpy() for v in (p.log_pi, p.mu[..., 0], p.sigma[..., 0]))
    expected = -logsumexp(log_pi + norm.logpdf(t.numpy(), mu, sd), axis=1).mean()
    loss = mdn.loss(x, t)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    # The autograd path's gradient against central differences on one head bias.
    loss.backward()
    grad = float(mdn.head.bias.grad[4])  # the first scale output
    with torch.no_grad():
        step = 1e-6
        mdn.head.bias[4] += step
        up = float(mdn.loss(x, t))
        mdn.head.bias[4] -= 2 * step
        down = float(mdn.loss(x, t))
    assert grad == pytest.approx((up - down) / (2 * step), rel=1e-6)


def test_sigma_map_is_saved(tmp_path):
    from mdn_src import io

    assert MDN(1, 1, 2, hidden=3).get_config()["sigma_map"] == "softplus"
    mdn = MDN(1, 1, 2, hidden=3, sigma_map="elu")
    assert mdn.get_config()["sigma_map"] == "elu"
    io.save(mdn, tmp_path / "m.pt")
    loaded = io.load(tmp_path / "m.pt")
    x = torch.linspace(-1, 1, 5).unsqueeze(1)
    assert loaded.spec.sigma_map == "elu"
    assert torch.equal(loaded.mixture_parameters(x).sigma, mdn.mixture_parameters(x).sigma)
    with pytest.raises(ValueError, match="sigma_map must be one of"):
        MDN(1, 1, 2, sigma_map="relu")


# --- settings that shape the outputs travel with the weights (issue 23) --------------------


@pytest.mark.parametrize("sigma_min", [1e300, float("inf"), 2e19])
def test_a_sigma_min_float32_cannot_square_is_rejected(sigma_min):
    """1e300 became inf in float32 and made every sigma inf; now it is refused, by name."""
    with pytest.raises(ValueError, match="sigma_min must be (<=|finite)"):
        MDN(1, 1, n_components=2, hidden=3, sigma_min=sigma_min)


def test_the_largest_sigma_min_gives_finite_densities():
    from mdn_src.model import LARGEST_SIGMA_MIN

    mdn = MDN(1, 1, n_components=2, hidden=3, sigma_min=0.5 * LARGEST_SIGMA_MIN)
    x = torch.zeros(4, 1)
    assert torch.isfinite(mdn.mixture_parameters(x).sigma).all()
    assert torch.isfinite(mdn.loss(x, torch.zeros(4, 1)))


@pytest.mark.parametrize(
    "other",
    [dict(sigma_min=0.1), dict(sigma_map="exp"), dict(family="laplace")],
    ids=["sigma_min", "sigma_map", "family"],
)
def test_weights_from_a_differently_configured_mdn_are_refused(other):
    """The same weight shapes, other densities: load_state_dict raises, naming the setting."""
    source = MDN(1, 1, n_components=2, hidden=3)
    target = MDN(1, 1, n_components=2, hidden=3, **other)
    name = next(iter(other))
    with pytest.raises(ValueError, match=f"other settings: {name}="):
        target.load_state_dict(source.state_dict())
    MDN(1, 1, n_components=2, hidden=3).load_state_dict(source.state_dict())  # same: fine


def test_mlp_from_weights_is_the_hand_written_network():
    from mdn_src.mlp import fan_in_weights

    torch.manual_seed(3)
    w1, b1, w2, b2 = fan_in_weights(1, 15, 1)
    torch.manual_seed(3)  # the draws chapter 3 makes by hand, in the same order
    assert torch.equal(w1, torch.randn(1, 15)) and torch.equal(
        w2, torch.randn(15, 1) * (1 / 15) ** 0.5
    )
    b1 = torch.randn(1, 15)  # non-zero biases reach the network too
    net = MLP.from_weights(w1, b1, w2, b2 + 0.5)
    x = torch.randn(7, 1)
    torch.testing.assert_close(net(x), torch.tanh(x @ w1 + b1) @ w2 + b2 + 0.5, rtol=0, atol=0)
    with pytest.raises(ValueError, match="chain"):
        MLP.from_weights(w1, b1, torch.zeros(14, 1), b2)
    with pytest.raises(ValueError, match="b1 must hold 15"):
        MLP.from_weights(w1, torch.zeros(3), w2, b2)


def test_mlp_predictive_is_the_gaussian_of_its_mse():
    net = MLP(1, 2, hidden=4).double()
    x = torch.randn(6, 1, dtype=torch.float64)
    params = net.predictive(x, [0.5, 2.0])
    assert params.log_pi.shape == (6, 1) and torch.equal(params.log_pi, torch.zeros(6, 1).double())
    t = torch.randn(6, 2, dtype=torch.float64)
    y = net(x).detach()
    expected = torch.distributions.Normal(y, torch.tensor([0.5, 2.0]).double()).log_prob(t).sum(-1)
    torch.testing.assert_close(params.distribution().log_prob(t), expected)
    for bad in (0.0, [1.0, 2.0, 3.0], float("nan")):
        with pytest.raises(ValueError, match="noise_sd"):
            net.predictive(x, bad)


def test_beta_range_must_be_a_pair_and_extra_state_must_hold_the_head():
    with pytest.raises(TypeError, match="beta_range must be a pair"):
        MDN(1, 1, 2, family="gennorm", beta_range="1,20")
    mdn = MDN(1, 1, 2, hidden=3)
    state = mdn.state_dict()
    state["_extra_state"] = {"something": "else"}
    with pytest.raises(ValueError, match="extra state has no head settings"):
        mdn.load_state_dict(state)


@pytest.mark.parametrize(
    ("beta_range", "start"),
    [((1.0, 20.0), 2.0), ((3.0, 5.0), 3.0 + 1e-3 * 2.0), ((0.5, 1.9), 1.9 - 1e-3 * 1.4)],
)
def test_gennorm_shape_starts_at_2_or_a_thousandth_of_the_range_inside(beta_range, start):
    """Catches a raw output of 0 mapped elsewhere than beta = 2 (clamped to 1e-3 of the
    range's width inside it)."""
    from mdn_src.model import HeadSpec

    spec = HeadSpec("gennorm", "isotropic", 1e-3, None, 2.0, beta_range, "free")
    a = torch.zeros(2, sum(spec.head_sizes(3, 1)), dtype=torch.float64)
    beta = spec.parameters(a, 3, 1).shape_param
    torch.testing.assert_close(beta, torch.full_like(beta, start), rtol=1e-12, atol=0)


def test_mdn_defaults_and_settings_read_back():
    """Catches a default hidden width other than 50, and family or covariance read back wrong."""
    mdn = MDN(2, 1, 3)
    assert mdn.trunk[0].weight.shape == (50, 2)
    other = MDN(1, 2, 2, hidden=4, family="laplace", covariance="diagonal")
    assert other.family == "laplace" and other.covariance == "diagonal"
    assert MDN(1, 1, 2, hidden=4).family == "gaussian"


def test_full_covariance_with_one_output_is_the_diagonal_model():
    """For D = 1 a full covariance has no off-diagonal: it must equal the isotropic
    model's density (it raised a reshape error on the empty off-diagonal block)."""
    from scipy import stats

    from mdn_src import mixture_log_prob

    torch.manual_seed(0)
    full = MDN(1, 1, n_components=3, hidden=5, covariance="full")
    assert full.head_sizes == (3, 3, 3, 0)
    x, t = torch.linspace(-1, 1, 7).reshape(-1, 1), torch.linspace(-2, 2, 7).reshape(-1, 1)
    params = full.mixture_parameters(x)
    assert params.scale_tril.shape == (7, 3, 1, 1)
    torch.testing.assert_close(params.scale_tril[..., 0, 0], params.sigma[..., 0])
    # the density against SciPy in float64, component by component
    pi, mu, sd = (v.detach().double().numpy() for v in (params.pi, params.mu[..., 0],
                                                        params.sigma[..., 0]))  # fmt: skip
    expected = np.log((pi * stats.norm.pdf(t.double().numpy(), mu, sd)).sum(-1))
    got = mixture_log_prob(params, t).detach().double().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
