"""Plugins that try to let a red state pass; each must fail, because a red state always blocks.

Loaded by module name (``-p tests.support.lenient_plugins.always_pass``) in
``tests/property/test_red_always_blocks.py``.
"""
