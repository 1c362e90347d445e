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
