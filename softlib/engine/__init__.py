"""Making trajectories: forces, neighbour lists, the numba engine, the LAMMPS backend, the run protocol."""
