"""Notebook 08's augmentation study (gh.experiments.augmentation): matched exposure, the table, a tiny run."""

import pytest
import torch

import gan_helpers as gh
from gan_helpers.experiments.augmentation import REAL_VIEWS, SETTINGS, Setting, run_setting, study_table


def test_settings_match_the_exposure_of_real_digits():
    for setting in SETTINGS:
        if setting.real_per_class:  # real digits x copies = the same views per epoch in every setting
            assert 10 * setting.real_per_class * setting.real_copies == REAL_VIEWS
    assert Setting(10, 100).real_copies == Setting(10, 0).real_copies == 10
    assert [s.name for s in SETTINGS] == ["100 real", "100 real + 1,000 cGAN", "500 real", "500 real + 1,000 cGAN",
                                          "no real + 1,000 cGAN"]
    with pytest.raises(ValueError, match="not both 0"):
        Setting(0, 0)
    with pytest.raises(ValueError, match="do not divide"):
        Setting(30, 0)


def test_a_tiny_run_records_what_it_did():
    images, labels = gh.data.load_offline_sample()
    torch.manual_seed(0)
    G = gh.models.ConditionalDCGANGenerator(8, 10, width=4, embed_dim=2)
    pool, test, curve = (images[:200], labels[:200]), (images[4000:4100], labels[4000:4100]), (images[4100:4200],
                                                                                              labels[4100:4200])
    run = run_setting(G, Setting(10, 5), seed=1, pool=pool, test=test, curve=curve, epochs=2)
    assert run["views_per_real_digit"] == 2 * 10 and run["images_seen"] == 2 * (1000 + 50)
    assert len(run["curve"]) == 2 and 0 <= run["accuracy"] <= 1 and run["name"] == "100 real + 50 cGAN"


def test_table_pairs_each_seed_with_its_own_baseline():
    def run(real, synthetic, seed, accuracy):
        setting = Setting(real, synthetic)
        return {"name": setting.name, "seed": seed, "accuracy": accuracy, "views_per_real_digit": 500,
                "setting": {"real_per_class": real, "synthetic_per_class": synthetic}}

    runs = [run(10, 0, 0, 0.80), run(10, 0, 1, 0.90), run(10, 100, 1, 0.85), run(10, 100, 0, 0.84),
            run(0, 100, 0, 0.70)]
    rows = {row["name"]: row for row in study_table(runs)}
    augmented = rows["100 real + 1,000 cGAN"]
    assert augmented["seeds"] == [0, 1] and augmented["accuracy"] == [0.84, 0.85]
    assert augmented["difference"] == pytest.approx([0.04, -0.05])  # seed 0 against seed 0, 1 against 1
    assert rows["100 real"]["mean"] == pytest.approx(0.85) and "difference" not in rows["no real + 1,000 cGAN"]


def test_study_curves_draw_one_line_per_run_and_name_each_setting_once():
    import matplotlib

    matplotlib.use("Agg")
    from gan_helpers.experiments.augmentation import plot_study_curves

    runs = [{"name": name, "curve": [0.6, 0.8, 0.9]} for name in ("100 real", "100 real", "no real + 1,000 cGAN")]
    ax = plot_study_curves(runs).axes[0]
    assert len(ax.lines) == 3 and list(ax.lines[0].get_ydata()) == [0.6, 0.8, 0.9]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["100 real", "no real + 1,000 cGAN"]
    assert ax.lines[0].get_color() == ax.lines[1].get_color() != ax.lines[2].get_color()
    assert ax.get_ylim() == (0.5, 1.0)
