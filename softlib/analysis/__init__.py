"""Physics on arrays: structure, caging potential, local softness, dynamics, lifetime, rearrangements, Arrhenius."""
