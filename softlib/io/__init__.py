"""Files in and out, no physics: trajectories, GSD, atomic stores and provenance, the softness store."""
