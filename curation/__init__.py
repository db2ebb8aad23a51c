"""The toolkit's core. Importing it pins MKL's code path (``runtime.reproducible_math``) before any
model runs in this process: the driver, every Ray worker and every benchmark."""

from curation.runtime.reproducible_math import pin_mkl_branch

pin_mkl_branch()
