"""Checks and scores ONNX files for the Rust tests, with the pinned onnx and
onnxruntime of requirements.txt.

    python onnx_score.py manifest.json

The manifest lists jobs: {"model": path, "input": path, "rows": n, "cols": f,
"out_dir": dir}. The input file holds rows x cols little-endian float32
values, row-major. For each job this script runs
onnx.checker.check_model(full_check=True), then onnxruntime (CPU) on the
`features` input, and writes every output as raw little-endian float32 to
out_dir/<output name>.f32. It prints one JSON object on stdout: per job the
outputs' shapes and the metadata onnxruntime reads back, and the versions
used. Any failure exits non-zero with the reason on stderr.
"""

import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    options = ort.SessionOptions()
    # One thread: the test machine is shared, and results must not depend
    # on how the work is split.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    results = []
    for job in manifest["jobs"]:
        model = onnx.load(job["model"])
        onnx.checker.check_model(model, full_check=True)
        session = ort.InferenceSession(
            job["model"], sess_options=options, providers=["CPUExecutionProvider"]
        )
        x = np.fromfile(job["input"], dtype="<f4").reshape(job["rows"], job["cols"])
        names = [o.name for o in session.get_outputs()]
        feeds = {"features": x}
        if "categories" in job:
            with open(job["categories"]) as f:
                feeds["categories"] = np.array(json.load(f), dtype=object).reshape(job["rows"], -1)
        values = session.run(names, feeds)
        shapes = {}
        for name, value in zip(names, values):
            value = np.asarray(value, dtype="<f4")
            value.tofile(f"{job['out_dir']}/{name}.f32")
            shapes[name] = list(value.shape)
        meta = session.get_modelmeta()
        results.append(
            {
                "outputs": shapes,
                "inputs": [
                    {"name": i.name, "type": i.type, "shape": i.shape}
                    for i in session.get_inputs()
                ],
                "metadata": meta.custom_metadata_map,
                "producer": meta.producer_name,
            }
        )
    json.dump(
        {"jobs": results, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
        sys.stdout,
    )


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # noqa: BLE001 - the Rust test prints the reason
        print(f"onnx_score.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
