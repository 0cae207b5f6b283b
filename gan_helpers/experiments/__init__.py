"""What only one notebook needs: :mod:`.toy_1d` (notebook 02, a GAN on a line) and :mod:`.mode_collapse`
(notebook 03, mode collapse in 2-D and its remedies) and :mod:`.dcgan_recipe` (notebook 05, what makes the
DCGAN work on 5,000 digits, measured) and :mod:`.augmentation` (notebook 08, whether a conditional GAN's
samples help a classifier trained on few digits). The library never imports these modules."""

from gan_helpers.experiments import augmentation, dcgan_recipe, mode_collapse, toy_1d

__all__ = ["augmentation", "dcgan_recipe", "mode_collapse", "toy_1d"]
