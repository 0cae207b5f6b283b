"""What only one notebook needs: :mod:`.toy_1d` (notebook 02, a GAN on a line) and :mod:`.mode_collapse`
(notebook 03, mode collapse in 2-D and its remedies) and :mod:`.published_mistakes` (notebook 04, mistakes
from published GAN tutorials, measured) and :mod:`.dcgan_recipe` (notebook 05, what makes the
DCGAN work on 5,000 digits, measured) and :mod:`.augmentation` (notebook 08, whether a conditional GAN's
samples help a classifier trained on few digits) and :mod:`.objective_1d` (notebook 01, what each divergence
prefers, and a few steps of D or G with a given loss). The library never imports these modules."""

from gan_helpers.experiments import augmentation, dcgan_recipe, mode_collapse, objective_1d, published_mistakes, toy_1d

__all__ = ["augmentation", "dcgan_recipe", "mode_collapse", "objective_1d", "published_mistakes", "toy_1d"]
