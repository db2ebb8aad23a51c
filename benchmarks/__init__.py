"""The project's own measurements: experiments, sweeps and one-off scale studies.

Run from a checkout (``python -m benchmarks.<name>``); this folder is not part of the installed
packages (``[tool.setuptools.packages.find]`` leaves it out), so a user's wheel carries only what the
CLI offers (``lpm-curate bench``, ``apps/bench``). Modules here may import anything of ours;
nothing of ours imports them.
"""
