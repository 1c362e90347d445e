"""PNG plots are written (Agg backend) and are real PNG images of a sensible size."""
from __future__ import annotations

import pytest

from phonons import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", ["dispersion", "dos", "accumulation"])
def test_plots_written(tmp_path, dft_fc, dft_modes, kind):
    path = tmp_path / f"{kind}.png"
    if kind == "dispersion":
        out = plots.plot_dispersion(dft_fc, path)
    elif kind == "dos":
        out = plots.plot_dos(dft_fc, path, mesh=(9, 9, 9))
    else:
        out = plots.plot_accumulation(dft_modes, path)
    data = out.read_bytes()
    assert out == path and data[:8] == PNG_MAGIC and len(data) > 10_000


def test_accumulation_axis_spans_the_mfps_that_carry_kappa(dft_modes):
    """Modes of zero group velocity (Γ acoustic, zone-boundary extrema) have MFPs of ~1e-50 m:
    the MFP axis starts where κ starts to accumulate (bulk Si: nanometres), and the modes left
    off carry under 1e-6 of κ."""
    fig = plots.accumulation_figure(dft_modes)
    low, high = fig.axes[0].get_xlim()
    plots.pyplot().close(fig)
    mfp_um = dft_modes.mean_free_path * 1e6
    kappa = dft_modes.mode_kappa()
    assert 1e-4 < low < 1e-1 and high == pytest.approx(mfp_um.max())
    assert kappa[mfp_um < low].sum() < 1e-6 * kappa.sum()
    assert kappa[mfp_um <= low].sum() > 0


def test_dos_title_names_the_mesh_asked_for(dft_fc):
    fig = plots.dos_figure(dft_fc, (11, 11, 11))
    title = fig.axes[0].get_title()
    plots.pyplot().close(fig)
    assert "DOS" in title and "11x11x11" in title and "21" not in title


def test_kappa_ratio_label_renders_a_subscript():
    """The κ/κ_bulk label is mathtext: it renders κ, '/', κ and a subscript 'bulk', with no
    literal underscore, dollar or backslash."""
    from matplotlib.mathtext import MathTextParser

    glyphs = MathTextParser("path").parse(plots.KAPPA_RATIO_LABEL).glyphs
    text = "".join(chr(glyph[2]) for glyph in glyphs)
    assert text.count("κ") == 2 and "bulk" in text and "/" in text
    assert not set("_$\\") & set(text)
    sizes = {chr(glyph[2]): glyph[1] for glyph in glyphs}
    assert sizes["b"] < sizes["κ"]          # set as a subscript
