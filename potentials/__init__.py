"""Equivariant ML interatomic potential (torch + e3nn). Not built yet: see the potentials issue."""
