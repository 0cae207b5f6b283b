"""Exercise checkers: each compares a student's answer with the package's and says right or wrong, with a hint.

Every checker returns a :class:`Feedback`, which prints a verdict ("Correct: ..." or "Not yet: ...") and, when the
answer is wrong, a hint; the solution itself is never printed. ``objective`` holds notebook 01's checkers, ``toy``
notebooks 02 and 03, ``images`` notebooks 04 and 05, ``evaluation`` notebooks 06 to 08; ``feedback`` holds
:class:`Feedback` and the helpers they share. Open questions have no checker but a model answer a student reveals on
purpose with :func:`solution` (``solutions``), never printed by default.
"""

from gan_helpers.exercises.evaluation import (
    check_density,
    check_fid_diagonal,
    check_kl_from_uniform,
    check_masked_psnr,
    check_one_hot_condition,
    check_precision,
    check_projection_logit,
    check_slerp,
    check_truncated_std,
)
from gan_helpers.exercises.feedback import Feedback
from gan_helpers.exercises.images import (
    check_conv_output_side,
    check_dcgan_for_shape,
    check_dcgan_init,
    check_double_sigmoid_floor,
    check_generator_loss_fix,
)
from gan_helpers.exercises.objective import (
    check_d_loss,
    check_generator_gradient,
    check_jsd,
    check_optimal_discriminator,
)
from gan_helpers.exercises.solutions import ModelAnswer, solution, solution_keys
from gan_helpers.exercises.toy import (
    check_discriminator_step,
    check_gradient_penalty,
    check_ks_statistic,
    check_modes_covered,
    check_wasserstein_1d,
)

__all__ = [
    "Feedback",
    "ModelAnswer",
    "check_conv_output_side",
    "check_d_loss",
    "check_dcgan_for_shape",
    "check_dcgan_init",
    "check_density",
    "check_discriminator_step",
    "check_double_sigmoid_floor",
    "check_fid_diagonal",
    "check_generator_gradient",
    "check_generator_loss_fix",
    "check_gradient_penalty",
    "check_jsd",
    "check_kl_from_uniform",
    "check_ks_statistic",
    "check_masked_psnr",
    "check_modes_covered",
    "check_one_hot_condition",
    "check_optimal_discriminator",
    "check_precision",
    "check_projection_logit",
    "check_slerp",
    "check_truncated_std",
    "check_wasserstein_1d",
    "solution",
    "solution_keys",
]
