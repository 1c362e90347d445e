"""ML-descriptor nonadiabatic molecular dynamics. Not built yet: see the nad issue."""
