"""Published thermal conductivities of silicon nanostructures at 300 K (shared REFERENCES.md
§1.5), for overlays and comparisons.  Thicknesses and diameters in m, κ in W m^-1 K^-1."""
from __future__ import annotations

#: almaBTE first-principles bulk κ of the film references (Si, 12³ q-mesh)
ALMABTE_BULK = 135.28
#: almaBTE cross-plane films (thermalizing walls): thickness -> κ
ALMABTE_CROSS_PLANE = {1e-8: 7.93, 1e-7: 37.82, 1e-6: 84.21}
#: almaBTE in-plane films with specularity p = 0.5: thickness -> κ.  NOT a valid reference
#: (REFERENCES §1.5): almaBTE applies Fuchs–Sondheimer along each bare q-grid velocity, so modes
#: with v_z = 0 are never suppressed (its 1 nm film keeps 27 % of bulk κ).  Kept for the record;
#: in-plane films are compared with workflows.film_reference instead.
ALMABTE_IN_PLANE_P05 = {1e-8: 57.91, 1e-7: 93.53, 1e-6: 118.61}
#: in-plane film experiments: (thickness, κ, uncertainty or None, source)
FILM_EXPERIMENTS = [(9e-9, 9.0, 2.0, "Chávez-Ángel 2014"),
                    (17.5e-9, 19.0, None, "Ferrando-Villalba 2014"),
                    (20e-9, 22.0, None, "Liu & Asheghi 2004")]
#: Si nanowire experiments (Li et al. 2003, approximate): (diameter, κ, source)
NANOWIRE_EXPERIMENTS = [(115e-9, 40.0, "Li 2003"), (56e-9, 26.0, "Li 2003"),
                        (37e-9, 18.0, "Li 2003")]
#: bulk Si: fraction of κ carried by mean free paths above 1 µm, and the median MFP (m)
MFP_FRACTION_ABOVE_1UM = (0.38, 0.40)
MEDIAN_MFP = 0.3e-6
#: bent Si nanoribbons (Yang et al., Nature 629, 1021 (2024)): strain gradient (1/nm, 0.112 %/nm)
#: and the measured relative κ suppression with its uncertainty
BENT_RIBBON_GRADIENT_PER_NM = 0.112e-2
BENT_RIBBON_SUPPRESSION = (0.34, 0.05)
