"""Kit-side tests (omni.kit.test + omni.kit.ui_test); they run inside Kit only.

The flag tells omni.kit.test to import every `test_*.py` module of this package.
"""

scan_for_test_modules = True
