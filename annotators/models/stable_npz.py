"""An ``.npz`` whose bytes depend only on its arrays: weights shipped with a SHA-256 must reproduce it.

``np.savez`` stamps the current time on every member, so the same weights saved twice differ; here
the members are written in name order with a fixed date, uncompressed, to a temporary name first.
"""

import io
import zipfile
from pathlib import Path

import numpy as np


def write_stable_npz(arrays: dict[str, np.ndarray], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[name]), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buffer.getvalue())
    tmp.replace(path)
