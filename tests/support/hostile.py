"""Hostile batch configs (issue 29's cases), for tests/test_hostile_yaml.py and benchmarks/bench_hostile.py."""
from synthact.config.yaml_source import MAX_BYTES, MAX_NODES

HEAD = "batch: {name: hostile, seed: 1, count: 2}\n"


def write_cases(folder):
    """name -> (file, what the one line must say)."""
    cases = {
        "comments_50mb": ("#" + "x" * 99 + "\n", 500_000, f"larger than {MAX_BYTES} bytes"),
        "flat_list_250kib": (None, None, f"more than {MAX_NODES} values"),
        "keys_5m": ("k{}: 1\n", 5_000_000, f"larger than {MAX_BYTES} bytes"),
        "inf_weights": (HEAD + "camera:\n  focal_length_mm: {dist: choice, values: [35, 50], weights: [.inf, 1]}\n",
                        None, ":3 camera.focal_length_mm.weights[0]: input should be a finite number"),
        "inf_std": (HEAD + "camera:\n  height_m: {dist: normal, mean: 1.5, std: .inf}\n", None,
                    ":3 camera.height_m.std: input should be a finite number"),
        "nan_mean": (HEAD + "camera:\n  height_m: {dist: normal, mean: .nan, std: 1}\n", None,
                     ":3 camera.height_m.mean: input should be a finite number"),
        "nul_output": ('batch: {name: hostile, seed: 1, count: 2, output: "out\\0put"}\n', None,
                       ":1 batch.output: contains a control character (U+0000)"),
        "smplx_garments": (HEAD + "actors:\n  body_model: smplx\n", None,
                           ":2 actors: body_model smplx cannot wear clothing.style garments"),
    }
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, (text, repeat, says) in cases.items():
        path = folder / f"{name}.yaml"
        with open(path, "w") as f:
            if name == "flat_list_250kib":
                f.write(HEAD + "x: [" + ",".join(["1"] * 125_000) + "]\n")
            elif name == "keys_5m":
                f.write(HEAD)
                for start in range(0, repeat, 100_000):
                    f.write("".join(text.format(i) for i in range(start, start + 100_000)))
            elif repeat:
                f.write(HEAD)
                f.write(text * repeat)
            else:
                f.write(text)
        found[name] = (path, says)
    return found


CASES = ["comments_50mb", "flat_list_250kib", "keys_5m", "inf_weights", "inf_std", "nan_mean", "nul_output",
         "smplx_garments"]
