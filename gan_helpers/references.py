"""Every paper the series cites, once, with authors, year and venue; notebook 00 shows the list.

A notebook cites a paper as its authors' surnames and year, the way this list renders them: one author
("White 2016"), two ("Arjovsky and Bottou 2017"), three or more ("Goodfellow et al. 2014"; three may also be
named in full, "Radford, Metz and Chintala 2016"); the year may be in parentheses. ``tests/test_references.py``
finds every such citation in the notebooks and checks that it is in this list, and that every paper here is
cited somewhere. A paper's year is its first peer-reviewed venue's; the arXiv year is given when it differs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REFERENCES", "Reference", "find", "references_markdown", "show"]


@dataclass(frozen=True)
class Reference:
    """One paper: the authors' surnames (in order), the full author line, year, title, venue and a link."""

    surnames: tuple[str, ...]
    authors: str
    year: int
    title: str
    venue: str
    url: str

    @property
    def key(self) -> str:
        """The citation as notebooks write it: "A 2016", "A and B 2017" or "A et al. 2014"."""
        names = self.surnames
        if len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who} {self.year}"

    def markdown(self) -> str:
        """One line of the reference list: key in bold, then authors, title, venue and link."""
        return f"- **{self.key}**: {self.authors}. *{self.title}*. {self.venue}. <{self.url}>"


def _ref(surnames: str, authors: str, year: int, title: str, venue: str, url: str) -> Reference:
    return Reference(tuple(surnames.split(", ")), authors, year, title, venue, url)


REFERENCES: tuple[Reference, ...] = (
    _ref(
        "Arjovsky, Bottou",
        "M. Arjovsky, L. Bottou",
        2017,
        "Towards Principled Methods for Training Generative Adversarial Networks",
        "ICLR 2017",
        "https://arxiv.org/abs/1701.04862",
    ),
    _ref(
        "Arjovsky, Chintala, Bottou",
        "M. Arjovsky, S. Chintala, L. Bottou",
        2017,
        "Wasserstein Generative Adversarial Networks",
        "ICML 2017",
        "https://arxiv.org/abs/1701.07875",
    ),
    _ref(
        "Bora, Jalal, Price, Dimakis",
        "A. Bora, A. Jalal, E. Price, A. G. Dimakis",
        2017,
        "Compressed Sensing using Generative Models",
        "ICML 2017",
        "https://arxiv.org/abs/1703.03208",
    ),
    _ref(
        "Brock, Donahue, Simonyan",
        "A. Brock, J. Donahue, K. Simonyan",
        2019,
        "Large Scale GAN Training for High Fidelity Natural Image Synthesis",
        "ICLR 2019 (arXiv 2018)",
        "https://arxiv.org/abs/1809.11096",
    ),
    _ref(
        "Chen, Duan, Houthooft, Schulman, Sutskever, Abbeel",
        "X. Chen, Y. Duan, R. Houthooft, J. Schulman, I. Sutskever, P. Abbeel",
        2016,
        "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative Adversarial Nets",
        "NeurIPS 2016",
        "https://arxiv.org/abs/1606.03657",
    ),
    _ref(
        "Dhariwal, Nichol",
        "P. Dhariwal, A. Nichol",
        2021,
        "Diffusion Models Beat GANs on Image Synthesis",
        "NeurIPS 2021",
        "https://arxiv.org/abs/2105.05233",
    ),
    _ref(
        "Dowson, Landau",
        "D. C. Dowson, B. V. Landau",
        1982,
        "The Fréchet distance between multivariate normal distributions",
        "Journal of Multivariate Analysis 12(3), 1982",
        "https://doi.org/10.1016/0047-259X(82)90077-X",
    ),
    _ref(
        "Esser, Rombach, Ommer",
        "P. Esser, R. Rombach, B. Ommer",
        2021,
        "Taming Transformers for High-Resolution Image Synthesis",
        "CVPR 2021 (arXiv 2020)",
        "https://arxiv.org/abs/2012.09841",
    ),
    _ref(
        "Frid-Adar, Diamant, Klang, Amitai, Goldberger, Greenspan",
        "M. Frid-Adar, I. Diamant, E. Klang, M. Amitai, J. Goldberger, H. Greenspan",
        2018,
        "GAN-based Synthetic Medical Image Augmentation for increased CNN Performance in Liver Lesion Classification",
        "Neurocomputing 321, 2018",
        "https://arxiv.org/abs/1803.01229",
    ),
    _ref(
        "Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville, Bengio",
        "I. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley, S. Ozair, A. Courville, Y. Bengio",
        2014,
        "Generative Adversarial Nets",
        "NeurIPS 2014",
        "https://arxiv.org/abs/1406.2661",
    ),
    _ref(
        "Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville",
        "I. Gulrajani, F. Ahmed, M. Arjovsky, V. Dumoulin, A. Courville",
        2017,
        "Improved Training of Wasserstein GANs",
        "NeurIPS 2017",
        "https://arxiv.org/abs/1704.00028",
    ),
    _ref(
        "Heusel, Ramsauer, Unterthiner, Nessler, Hochreiter",
        "M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter",
        2017,
        "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium",
        "NeurIPS 2017",
        "https://arxiv.org/abs/1706.08500",
    ),
    _ref(
        "Ho, Jain, Abbeel",
        "J. Ho, A. Jain, P. Abbeel",
        2020,
        "Denoising Diffusion Probabilistic Models",
        "NeurIPS 2020",
        "https://arxiv.org/abs/2006.11239",
    ),
    _ref(
        "Ioffe, Szegedy",
        "S. Ioffe, C. Szegedy",
        2015,
        "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift",
        "ICML 2015",
        "https://arxiv.org/abs/1502.03167",
    ),
    _ref(
        "Isola, Zhu, Zhou, Efros",
        "P. Isola, J.-Y. Zhu, T. Zhou, A. A. Efros",
        2017,
        "Image-to-Image Translation with Conditional Adversarial Networks",
        "CVPR 2017 (arXiv 2016)",
        "https://arxiv.org/abs/1611.07004",
    ),
    _ref(
        "Karras, Aila, Laine, Lehtinen",
        "T. Karras, T. Aila, S. Laine, J. Lehtinen",
        2018,
        "Progressive Growing of GANs for Improved Quality, Stability, and Variation",
        "ICLR 2018 (arXiv 2017)",
        "https://arxiv.org/abs/1710.10196",
    ),
    _ref(
        "Karras, Laine, Aila",
        "T. Karras, S. Laine, T. Aila",
        2019,
        "A Style-Based Generator Architecture for Generative Adversarial Networks",
        "CVPR 2019 (arXiv 2018)",
        "https://arxiv.org/abs/1812.04948",
    ),
    _ref(
        "Karras, Aittala, Hellsten, Laine, Lehtinen, Aila",
        "T. Karras, M. Aittala, J. Hellsten, S. Laine, J. Lehtinen, T. Aila",
        2020,
        "Training Generative Adversarial Networks with Limited Data",
        "NeurIPS 2020",
        "https://arxiv.org/abs/2006.06676",
    ),
    _ref(
        "Kynkäänniemi, Karras, Laine, Lehtinen, Aila",
        "T. Kynkäänniemi, T. Karras, S. Laine, J. Lehtinen, T. Aila",
        2019,
        "Improved Precision and Recall Metric for Assessing Generative Models",
        "NeurIPS 2019",
        "https://arxiv.org/abs/1904.06991",
    ),
    _ref(
        "Ledig, Theis, Huszár, Caballero, Cunningham, Acosta, Aitken, Tejani, Totz, Wang, Shi",
        "C. Ledig, L. Theis, F. Huszár, J. Caballero, A. Cunningham, A. Acosta, A. Aitken, A. Tejani, J. Totz, "
        "Z. Wang, W. Shi",
        2017,
        "Photo-Realistic Single Image Super-Resolution Using a Generative Adversarial Network",
        "CVPR 2017 (arXiv 2016)",
        "https://arxiv.org/abs/1609.04802",
    ),
    _ref(
        "Metz, Poole, Pfau, Sohl-Dickstein",
        "L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein",
        2017,
        "Unrolled Generative Adversarial Networks",
        "ICLR 2017 (arXiv 2016)",
        "https://arxiv.org/abs/1611.02163",
    ),
    _ref(
        "Mirza, Osindero",
        "M. Mirza, S. Osindero",
        2014,
        "Conditional Generative Adversarial Nets",
        "arXiv 2014",
        "https://arxiv.org/abs/1411.1784",
    ),
    _ref(
        "Miyato, Kataoka, Koyama, Yoshida",
        "T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida",
        2018,
        "Spectral Normalization for Generative Adversarial Networks",
        "ICLR 2018",
        "https://arxiv.org/abs/1802.05957",
    ),
    _ref(
        "Miyato, Koyama",
        "T. Miyato, M. Koyama",
        2018,
        "cGANs with Projection Discriminator",
        "ICLR 2018",
        "https://arxiv.org/abs/1802.05637",
    ),
    _ref(
        "Naeem, Oh, Uh, Choi, Yoo",
        "M. F. Naeem, S. J. Oh, Y. Uh, Y. Choi, J. Yoo",
        2020,
        "Reliable Fidelity and Diversity Metrics for Generative Models",
        "ICML 2020",
        "https://arxiv.org/abs/2002.09797",
    ),
    _ref(
        "Odena, Dumoulin, Olah",
        "A. Odena, V. Dumoulin, C. Olah",
        2016,
        "Deconvolution and Checkerboard Artifacts",
        "Distill 2016",
        "https://distill.pub/2016/deconv-checkerboard/",
    ),
    _ref(
        "Radford, Metz, Chintala",
        "A. Radford, L. Metz, S. Chintala",
        2016,
        "Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks",
        "ICLR 2016 (arXiv 2015)",
        "https://arxiv.org/abs/1511.06434",
    ),
    _ref(
        "Ravuri, Vinyals",
        "S. Ravuri, O. Vinyals",
        2019,
        "Classification Accuracy Score for Conditional Generative Models",
        "NeurIPS 2019",
        "https://arxiv.org/abs/1905.10887",
    ),
    _ref(
        "Salimans, Goodfellow, Zaremba, Cheung, Radford, Chen",
        "T. Salimans, I. Goodfellow, W. Zaremba, V. Cheung, A. Radford, X. Chen",
        2016,
        "Improved Techniques for Training GANs",
        "NeurIPS 2016",
        "https://arxiv.org/abs/1606.03498",
    ),
    _ref(
        "Shahbazi, Danelljan, Paudel, Van Gool",
        "M. Shahbazi, M. Danelljan, D. P. Paudel, L. Van Gool",
        2022,
        "Collapse by Conditioning: Training Class-conditional GANs with Limited Data",
        "ICLR 2022",
        "https://arxiv.org/abs/2201.06578",
    ),
    _ref(
        "Srivastava, Valkov, Russell, Gutmann, Sutton",
        "A. Srivastava, L. Valkov, C. Russell, M. U. Gutmann, C. Sutton",
        2017,
        "VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational Learning",
        "NeurIPS 2017",
        "https://arxiv.org/abs/1705.07761",
    ),
    _ref(
        "White",
        "T. White",
        2016,
        "Sampling Generative Networks",
        "arXiv 2016",
        "https://arxiv.org/abs/1609.04468",
    ),
    _ref(
        "Yazici, Foo, Winkler, Yap, Piliouras, Chandrasekhar",
        "Y. Yazıcı, C.-S. Foo, S. Winkler, K.-H. Yap, G. Piliouras, V. Chandrasekhar",
        2019,
        "The Unusual Effectiveness of Averaging in GAN Training",
        "ICLR 2019 (arXiv 2018)",
        "https://arxiv.org/abs/1806.04498",
    ),
    _ref(
        "Yeh, Chen, Lim, Schwing, Hasegawa-Johnson, Do",
        "R. A. Yeh, C. Chen, T. Y. Lim, A. G. Schwing, M. Hasegawa-Johnson, M. N. Do",
        2017,
        "Semantic Image Inpainting with Deep Generative Models",
        "CVPR 2017",
        "https://arxiv.org/abs/1607.07539",
    ),
    _ref(
        "Zhao, Liu, Lin, Zhu, Han",
        "S. Zhao, Z. Liu, J. Lin, J.-Y. Zhu, S. Han",
        2020,
        "Differentiable Augmentation for Data-Efficient GAN Training",
        "NeurIPS 2020",
        "https://arxiv.org/abs/2006.10738",
    ),
    _ref(
        "Zhu, Park, Isola, Efros",
        "J.-Y. Zhu, T. Park, P. Isola, A. A. Efros",
        2017,
        "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks",
        "ICCV 2017",
        "https://arxiv.org/abs/1703.10593",
    ),
)


def find(key: str) -> Reference:
    """The reference whose citation is ``key`` ("Goodfellow et al. 2014"); ``KeyError`` listing the keys if none."""
    for ref in REFERENCES:
        if ref.key == key:
            return ref
    raise KeyError(f"no reference {key!r}; the series cites: {', '.join(r.key for r in REFERENCES)}")


def references_markdown() -> str:
    """The whole list as Markdown, sorted by first author and year."""
    ordered = sorted(REFERENCES, key=lambda r: (r.surnames[0].casefold(), r.year, r.surnames))
    return "\n".join(ref.markdown() for ref in ordered)


def show():
    """Display the list in Jupyter (as Markdown); return it as text elsewhere."""
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return references_markdown()
    return Markdown(references_markdown())
