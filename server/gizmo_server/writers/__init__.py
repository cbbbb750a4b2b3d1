"""Writers of the neutral description: USD (Isaac Sim), MJCF (MuJoCo), URDF (single assets)."""
