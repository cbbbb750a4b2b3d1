"""Headless load tests: prove every scene of a Gizmo account loads in MuJoCo and as USD, poses checked."""
