"""Headless load tests: prove every scene of a Gizmo account loads in MuJoCo and as a USD stage,
with every placement where the API says it is."""
