"""Notebook 02's review additions: plain labels on narrow log axes, D* in the figure-1 picture, labelled comparison
plots, G's parameter moves, and the KS checker."""

from __future__ import annotations

import ast
import copy
import inspect
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from scipy import stats

import gan_helpers as gh
from gan_helpers import data, metrics, training
from gan_helpers.experiments import toy_1d

matplotlib.use("Agg")
import matplotlib.pyplot as plt

TARGET = data.gaussian_1d()


def _labels(ax, axis: str = "y") -> list[str]:
    """The non-empty tick labels (major and minor) that ``ax`` draws on ``axis``."""
    ax.figure.canvas.draw()
    which = ax.yaxis if axis == "y" else ax.xaxis
    ticks = [*which.get_major_ticks(), *which.get_minor_ticks()]
    low, high = sorted(which.get_view_interval())
    return [t.label1.get_text() for t in ticks if t.label1.get_text() and low <= t.get_loc() <= high]


# --- plain tick labels on narrow log axes -------------------------------------------------------------


@pytest.mark.parametrize(("low", "high"), [(2.5, 3.5), (0.03, 0.5), (0.0012, 0.004), (40.0, 700.0)])
def test_narrow_log_axes_get_plain_tick_labels(low, high):
    fig, ax = plt.subplots()
    ax.semilogy([0, 1], [low, high])
    before = _labels(ax)
    gh.plots.plain_log_ticks(ax)
    after = _labels(ax)
    assert any("times10" in s or "^{" in s for s in before)  # matplotlib's own labels are mathtext here
    assert after and not any("\\times" in s or "$" in s or "^" in s for s in after)
    assert all(low / 1.5 <= float(s) <= high * 1.5 for s in after)  # plain numbers within the visible range
    plt.close(fig)


def test_wide_log_axes_and_linear_axes_keep_their_labels():
    fig, (wide, linear) = plt.subplots(1, 2)
    wide.semilogy([0, 1], [1e-6, 10.0])
    linear.plot([0, 1], [2.5, 3.5])
    before = (_labels(wide), _labels(linear))
    gh.plots.plain_log_ticks(wide)
    gh.plots.plain_log_ticks(linear, "both")
    assert (_labels(wide), _labels(linear)) == before
    assert any("10^{" in s for s in before[0])
    with pytest.raises(ValueError, match="axis must be"):
        gh.plots.plain_log_ticks(wide, "z")
    plt.close(fig)


def test_the_formatter_follows_limits_set_after_it():
    fig, ax = plt.subplots()
    ax.semilogy([0, 1], [1e-6, 10.0])
    gh.plots.plain_log_ticks(ax)
    ax.set_ylim(2.0, 4.0)  # narrow only now
    assert not any("$" in s for s in _labels(ax))
    plt.close(fig)


def _functions_with_log_axes() -> list[tuple[str, str]]:
    """``(module, function)`` for each function of gan_helpers/plots that makes a log axis."""
    found = []
    for path in sorted(Path(gh.plots.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                source = ast.get_source_segment(path.read_text(), node) or ""
                if any(key in source for key in ("semilogy", "semilogx", "loglog", 'scale="log"', 'scale("log")')):
                    found.append((path.stem, node.name))
    return found


def test_every_log_axis_of_the_plots_package_uses_plain_log_ticks():
    functions = _functions_with_log_axes()
    assert len(functions) >= 7  # distances, comparison, run, history, FID curves, grouped, quality, calibration
    for module, name in functions:
        source = inspect.getsource(getattr(getattr(gh.plots, module), name))
        assert "plain_log_ticks(" in source, f"{module}.{name} makes a log axis without plain_log_ticks"


def test_package_log_plots_draw_plain_labels_on_narrow_ranges():
    history = training.History()
    for step in range(10, 110, 10):
        history.log(step, w1=2.5 + step / 100, ks=0.5, loss_d=1.3, loss_g=0.7, d_real=0.5, d_fake=0.5,
                    grad_norm_d=2.0 + step / 200, grad_norm_g=3.0)  # fmt: skip
    figures = [
        gh.plots.plot_metric_comparison({"a": history}),
        gh.plots.plot_distances(history),
        gh.plots.plot_training_history(history),
        gh.plots.plot_grouped_curves([("g", [1, 2, 3], [20.0, 25.0, 30.0])], "x", "FID", "t", log_y=True),
    ]
    axes = [figures[0].axes[0], figures[1].axes[0], figures[2].axes[2], figures[3].axes[0]]
    for ax in axes:
        labels = _labels(ax)
        assert labels and not any("$" in s for s in labels), labels
    plt.close("all")


# --- the figure-1 picture and the comparison plots ------------------------------------------------------


def test_kde_mixture_is_the_kde_and_gives_the_optimal_discriminator():
    samples = 3.0 + 0.5 * torch.randn(500, generator=torch.Generator().manual_seed(0))
    grid = np.linspace(-2, 10, 301)
    mixture = metrics.kde_mixture_1d(samples)
    np.testing.assert_allclose(mixture.pdf(torch.as_tensor(grid)).numpy(), metrics.gaussian_kde_1d(samples, grid),
                               rtol=1e-10, atol=1e-14)  # fmt: skip
    narrow = metrics.kde_mixture_1d(samples, bandwidth=0.3).pdf(torch.as_tensor(grid)).numpy()
    np.testing.assert_allclose(narrow, metrics.gaussian_kde_1d(samples, grid, bandwidth=0.3), rtol=1e-10, atol=1e-14)
    d_star = metrics.optimal_discriminator(TARGET, mixture, torch.as_tensor(grid)).numpy()
    p_data, p_g = TARGET.pdf(torch.as_tensor(grid)[:, None]).double().numpy(), metrics.gaussian_kde_1d(samples, grid)
    inside = (p_data + p_g) > 1e-8  # where the ratio is not 0/0 in float64 densities
    np.testing.assert_allclose(d_star[inside], (p_data / (p_data + p_g))[inside], rtol=1e-5, atol=1e-9)
    with pytest.raises(ValueError, match="bandwidth"):
        metrics.kde_mixture_1d(samples, bandwidth=0.0)


def test_figure_1_picture_draws_d_star_of_the_kde_and_labels_its_shared_axis():
    run = toy_1d.train_gan_1d(TARGET, toy_1d.CONFIG.replace(steps=50), eval_every=50, snapshot_every=50)
    snap = run.snapshots[-1]
    ax = gh.plots.plot_gan_1d(snap, TARGET).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    expected = metrics.optimal_discriminator(TARGET, metrics.kde_mixture_1d(snap.samples), torch.as_tensor(snap.x_grid))
    np.testing.assert_allclose(lines["$D^*(x)$ for $p_g$"].get_ydata(), expected.numpy())
    assert "one axis" in ax.get_ylabel()
    without = gh.plots.plot_gan_1d(snap, TARGET, optimal=False).axes[0]
    assert "$D^*(x)$ for $p_g$" not in [line.get_label() for line in without.get_lines()]
    plt.close("all")


def test_comparison_plot_names_its_quantity_and_its_threshold():
    history = training.History()
    for step in (10, 20):
        history.log(step, w1=1.0 / step, grad_norm_g=1e-3)
    ax = gh.plots.plot_metric_comparison({"a": history}, threshold=0.125).axes[0]
    assert ax.get_ylabel() == "W1 to the target"
    assert "goal 0.125" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax = gh.plots.plot_metric_comparison({"a": history}, name="grad_norm_g").axes[0]
    assert ax.get_ylabel() == "G's gradient norm"
    assert gh.plots.plot_metric_comparison({"a": history}, ylabel="mine").axes[0].get_ylabel() == "mine"
    plt.close("all")


# --- G's parameter moves ------------------------------------------------------------------------------


def test_generator_move_of_sgd_is_lr_times_the_gradient_norm():
    """With log_every=1, SGD's one step moves G by exactly lr * ||g||: g_move = lr * grad_norm_g."""
    config = toy_1d.CONFIG.replace(steps=5, log_every=1)
    run = toy_1d.train_gan_1d(TARGET, config, grad_norms=True, moves=True, eval_every=1)
    expected = config.lr_generator * run.history["grad_norm_g"]  # steps of about 1e-4 ...
    np.testing.assert_allclose(run.history["g_move"], expected, rtol=1e-3)  # ... on float32 weights: rounding ~1e-8
    assert run.history.steps("g_move").tolist() == [1, 2, 3, 4, 5]


def test_generator_move_is_the_net_displacement_per_step():
    G, D = toy_1d.build_gan_1d()
    start = copy.deepcopy(G)
    mover = toy_1d.GeneratorMoveCallback()
    mover.start(G)
    with torch.no_grad():
        G.net[-1].bias += 3.0  # one parameter moves by 3 over 10 steps
    history = training.History()
    mover.on_log(10, history, G, D)
    assert history.last("g_move") == pytest.approx(0.3)
    assert not torch.equal(start.net[-1].bias, G.net[-1].bias)


def test_adam_moves_a_far_generator_further_than_sgd_with_a_tiny_gradient():
    """Section 5.3's claim: with the saturating loss G's gradient is tiny; SGD's moves are tiny, Adam's are not."""
    G, D = toy_1d.build_gan_1d()
    with torch.no_grad():
        G.net[-1].bias -= 8.0
    fake = lambda n: gh.sampling.generate(G, torch.randn(n, 1))  # noqa: E731
    training.train_discriminator(D, TARGET.sample, fake, steps=100)
    moves = {}
    for name, lr in (("sgd", 0.02), ("adam", 1e-3)):
        config = toy_1d.CONFIG.replace(steps=30, loss="saturating", lr_g=lr)
        run = toy_1d.train_gan_1d(TARGET, config, models=(G, D), g_optimizer=name, grad_norms=True, moves=True)
        moves[name] = float(run.history["g_move"][0])
        assert run.history["grad_norm_g"][0] < 0.05  # a tiny gradient in both
    assert moves["adam"] > 20 * moves["sgd"]


# --- the KS checker -----------------------------------------------------------------------------------


def _cdf(sample, t, side="right", size=None):
    return torch.searchsorted(sample, t, side=side) / (size or len(sample))


def _sorted(x, y):
    xs, ys = torch.sort(x).values, torch.sort(y).values
    return xs, ys, torch.cat([xs, ys])


def _ks_right(x, y):
    xs, ys, t = _sorted(x, y)
    return (_cdf(xs, t) - _cdf(ys, t)).abs().max()


def _ks_left(x, y):
    """The same with side="left" for both: the same maximum over the merged sample."""
    xs, ys, t = _sorted(x, y)
    return (_cdf(xs, t, "left") - _cdf(ys, t, "left")).abs().max()


def _ks_one_sample(x, y):
    xs, ys, _ = _sorted(x, y)
    return (_cdf(xs, xs) - _cdf(ys, xs)).abs().max()


def _ks_signed(x, y):
    xs, ys, t = _sorted(x, y)
    return (_cdf(xs, t) - _cdf(ys, t)).max()


def _ks_unsorted(x, y):
    t = torch.sort(torch.cat([x, y])).values
    return (_cdf(x, t) - _cdf(y, t)).abs().max()


def _ks_one_size(x, y):
    xs, ys, t = _sorted(x, y)
    return (_cdf(xs, t, size=len(x)) - _cdf(ys, t, size=len(x))).abs().max()


def _ks_mixed_sides(x, y):
    xs, ys, t = _sorted(x, y)
    return (_cdf(xs, t) - _cdf(ys, t, "left")).abs().max()


@pytest.mark.parametrize(
    "right", [_ks_right, _ks_left, lambda x, y: float(stats.ks_2samp(x.numpy(), y.numpy()).statistic),
              lambda x, y: metrics.ks_statistic(x, y)],
)  # fmt: skip
def test_check_ks_statistic_accepts_right_answers(right):
    feedback = gh.exercises.check_ks_statistic(right)
    assert feedback.ok and str(feedback).startswith("Correct")


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (_ks_one_sample, "points of one sample only"),
        (_ks_signed, "absolute value of the gap"),
        (_ks_unsorted, "needs sorted input"),
        (_ks_one_size, "size of its own sample"),
        (_ks_mixed_sides, "same side for both"),
        (lambda x, y: 0.123, "wrong value"),
    ],
)
def test_check_ks_statistic_names_the_mistake(wrong, hint):
    feedback = gh.exercises.check_ks_statistic(wrong)
    assert not feedback.ok and hint in feedback.message, feedback.message


def test_check_ks_statistic_reports_unwritten_and_malformed_answers():
    def not_written(x, y):
        raise NotImplementedError

    assert "not written yet" in gh.exercises.check_ks_statistic(not_written).message
    assert "one number" in gh.exercises.check_ks_statistic(lambda x, y: torch.zeros(3)).message
    assert "returned None" in gh.exercises.check_ks_statistic(lambda x, y: None).message


def test_the_ks_mistakes_differ_from_the_answer_on_some_case():
    """Each hint can fire: on at least one test case its wrong value is not the right one."""
    cases = gh.exercises.toy._ks_cases(0)
    hints = {hint for hint, _ in gh.exercises.toy._ks_mistakes(*cases[0])}
    for hint in hints:
        assert any(
            abs(value - metrics.ks_statistic(x, y)) > 1e-6
            for x, y in cases
            for h, value in gh.exercises.toy._ks_mistakes(x, y)
            if h == hint
        ), hint
