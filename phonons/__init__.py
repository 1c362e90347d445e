"""Force constants and mode-resolved phonon properties via phonopy/phono3py. Not built yet."""
