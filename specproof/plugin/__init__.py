"""The specproof pytest plugin (entry point `pytest11: specproof` names `specproof.plugin.hooks`).

The package itself imports nothing: the site and the runner read results
with `results` without importing pytest and the hooks (0.17 s).
"""
