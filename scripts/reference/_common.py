"""Helpers shared by the reference scripts: versions and strict JSON output.

JSON has no NaN or infinity, so both are written as `null`; the Rust tests
read such fields as `Option<f64>` and map `None` back to the value the field
documents (NaN for a missing feature, +inf for sklearn's first ROC threshold).
"""

import json
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def versions():
    import lifelines
    import sklearn

    return {
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "lifelines": lifelines.__version__,
    }


def clean(obj):
    """Converts numpy values to plain Python and non-finite floats to None."""
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if math.isfinite(x) else None
    return obj


def write(name, payload):
    path = HERE / name
    body = {"generated_by": f"scripts/reference/{Path(__import__('sys').argv[0]).name}"}
    body["versions"] = versions()
    body.update(payload)
    path.write_text(json.dumps(clean(body), indent=1, allow_nan=False) + "\n")
    print(f"wrote {path}")
