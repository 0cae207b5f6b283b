"""Plots: every figure the notebooks draw. Functions take data (histories, samples, models, runs) and return a Figure.

The animations (:func:`animate_samples`, :func:`animate_gan_1d`) return a
:class:`LabelledAnimation` (a ``FuncAnimation``) instead, which :class:`AnimationPlayer` shows offline
with a poster strip, and :func:`save_image_grid` writes a PNG. Training never plots: it records
histories, snapshots and runs, and these functions draw them. The package has six modules, all
re-exported here:

- :mod:`gan_helpers.plots.objective`: notebook 01, the GAN objective and the optimal discriminator;
- :mod:`gan_helpers.plots.toy`: the 1-D and 2-D toy-data figures (notebooks 02 and 03), with
  :func:`discriminator_on_mesh`;
- :mod:`gan_helpers.plots.images`: image grids, training histories, samples over epochs, galleries;
- :mod:`gan_helpers.plots.evaluation`: classifier training, class coverage, FID, nearest neighbours, curves
  grouped by setting over seeds;
- :mod:`gan_helpers.plots.animation`: :class:`AnimationPlayer`, a self-contained HTML player with a PNG poster
  (no CDN, a picture without JavaScript), and :class:`LabelledAnimation`;
- :mod:`gan_helpers.plots.axes`: :func:`plain_log_ticks`, plain tick labels on narrow log axes (all of the above).
"""

from gan_helpers.plots.animation import AnimationPlayer, LabelledAnimation
from gan_helpers.plots.axes import PlainLogFormatter, plain_log_ticks
from gan_helpers.plots.evaluation import (
    plot_class_coverage,
    plot_classifier_history,
    plot_distance_histograms,
    plot_fid_calibration,
    plot_fid_curves,
    plot_grouped_curves,
    plot_nearest_neighbours,
    plot_quality_history,
)
from gan_helpers.plots.images import (
    animate_samples,
    make_grid,
    plot_mistake_gallery,
    plot_sample_evolution,
    plot_training_history,
    save_image_grid,
    show_images,
    training_dashboard,
)
from gan_helpers.plots.objective import (
    plot_discriminator_fit,
    plot_generator_gradients,
    plot_objective,
    plot_value_vs_shift,
)
from gan_helpers.plots.toy import (
    animate_gan_1d,
    discriminator_on_mesh,
    plot_distances,
    plot_gan_1d,
    plot_gan_1d_snapshots,
    plot_metric_comparison,
    plot_mode_histogram,
    plot_mode_occupancy,
    plot_mode_run,
    plot_remedy_grid,
    plot_run_1d,
    plot_samples_1d,
    plot_snapshots,
    plot_toy_2d,
    plot_toy_targets,
)

__all__ = [
    "AnimationPlayer",
    "LabelledAnimation",
    "PlainLogFormatter",
    "animate_gan_1d",
    "animate_samples",
    "discriminator_on_mesh",
    "make_grid",
    "plain_log_ticks",
    "plot_class_coverage",
    "plot_classifier_history",
    "plot_discriminator_fit",
    "plot_distance_histograms",
    "plot_distances",
    "plot_fid_calibration",
    "plot_fid_curves",
    "plot_gan_1d",
    "plot_gan_1d_snapshots",
    "plot_generator_gradients",
    "plot_grouped_curves",
    "plot_metric_comparison",
    "plot_mistake_gallery",
    "plot_mode_histogram",
    "plot_mode_occupancy",
    "plot_mode_run",
    "plot_nearest_neighbours",
    "plot_objective",
    "plot_quality_history",
    "plot_remedy_grid",
    "plot_run_1d",
    "plot_sample_evolution",
    "plot_samples_1d",
    "plot_snapshots",
    "plot_toy_2d",
    "plot_toy_targets",
    "plot_training_history",
    "plot_value_vs_shift",
    "save_image_grid",
    "show_images",
    "training_dashboard",
]
