"""What only one notebook needs: :mod:`.toy_1d` (notebook 02, a GAN on a line) and :mod:`.mode_collapse`
(notebook 03, mode collapse in 2-D and its remedies). The library never imports these modules."""

from gan_helpers.experiments import mode_collapse, toy_1d

__all__ = ["mode_collapse", "toy_1d"]
