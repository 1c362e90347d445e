"""kappa_vs_thickness.png: what its legend and axes say (issue 23 items 10 and 11)."""
from __future__ import annotations

import io
import math

import pytest
from matplotlib import mathtext

import workflows.plots as plots
from workflows.pipeline import KappaRow


def row(kind: str, thickness: float, kappa: float, reference: float = math.nan,
        specularity: float = 0.0) -> KappaRow:
    return KappaRow(geometry=kind, kind=kind, thickness_m=thickness, width_m=None,
                    specularity=specularity, kappa_W_mK=kappa, kappa_bulk_W_mK=100.0,
                    ratio=kappa / 100.0, reference_W_mK=reference,
                    reference_ratio=reference / 100.0,
                    reference="" if math.isnan(reference) else "per-mode", iterations=1,
                    converged=True, wall_s=0.0, cached=False, case_dir="")


@pytest.fixture
def figure(monkeypatch, tmp_path):
    """The figure plot_kappa_vs_thickness makes, drawn (mathtext parsed) instead of saved."""
    made = []

    def keep(fig, path):
        fig.canvas.draw()
        made.append(fig)
        return path
    monkeypatch.setattr(plots, "save_figure", keep)
    rows = [row("in-plane", t, k, ref, 0.5) for t, k, ref in ((1e-8, 30.0, 31.0),
                                                             (1e-7, 60.0, 61.0))]
    rows += [row("wire", t, k) for t, k in ((1e-8, 10.0), (1e-7, 40.0))]
    plots.plot_kappa_vs_thickness(rows, 100.0, tmp_path / "k.png")
    return made[0]


def test_experiments_say_which_geometry_they_measured(figure):
    left, _ = figure.axes
    labels = left.get_legend_handles_labels()[1]
    assert "exp. in-plane film, Chávez-Ángel 2014" in labels
    assert "exp. nanowire, Li 2003 (x = diameter)" in labels
    assert all(not label.startswith("exp.") or "film" in label or "nanowire" in label
               for label in labels)


def test_in_plane_reference_is_per_mode_fs_not_almabte(figure):
    for ax in figure.axes:
        labels = ax.get_legend_handles_labels()[1]
        assert "in-plane: per-mode FS, p=0.5" in labels
        assert not any("almaBTE in-plane" in label for label in labels)
        assert "almaBTE cross-plane" in labels


def test_ratio_label_is_mathtext(figure):
    _, right = figure.axes
    label = right.yaxis.get_label()
    assert label.get_text() == r"$\kappa\,/\,\kappa_{\mathrm{bulk}}$"
    # one math expression ($...$, so the underscore is a subscript, not drawn) that
    # matplotlib's mathtext parses
    assert label.get_text().count("$") == 2 and label.get_text().startswith("$")
    mathtext.math_to_image(label.get_text(), io.BytesIO(), format="png")
