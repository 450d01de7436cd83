"""Artifacts of formats 5 and 6 kept every part's arrays side by side under fixed names; this names
them by part, as format 7 saves them, so a live model keeps serving across the upgrade."""

import numpy as np

_KERNEL = ("users", "age", "gender", "occupation", "first_time")
_SPARSE = tuple(f"{m}_{p}" for m in ("positives", "seen", "first") for p in ("data", "indices", "indptr"))


def parts_from_flat(meta: dict, arrays: dict[str, np.ndarray]) -> tuple[dict, dict[str, np.ndarray]]:
    """The (meta, arrays) of a format 5 or 6 artifact in format 7's layout (`meta["parts"]`, `part/array`)."""
    net = {k: v for k, v in arrays.items() if k.startswith("nn/")}
    newcomer_net = {k: v for k, v in arrays.items() if k.startswith("newcomer_net/")}
    # The two-tower part keeps how many items each user was trained on; the kernel's copy of the
    # training rows says it.
    user_rows = np.zeros(meta["n_users"], dtype=np.int64)
    user_rows[arrays["k_users"]] = np.diff(arrays["k_seen_indptr"])
    parts = {
        "two_tower": (
            {"config": meta["neural"], "epochs": meta["neural_epochs"]},
            {**{f"net/{k[3:]}": v for k, v in net.items()}, "user_rows": user_rows},
        ),
        "ease": ({"lambda": meta["ease_lambda"]}, {"weights": arrays["ease"]}),
        "ease_seen": ({"lambda": meta["seen_lambda"]}, {"weights": arrays["ease_seen"]}),
        "seq": ({"lambda": None}, {"weights": arrays["seq"]}),
        "newcomer_net": (meta["newcomer_net"], {k[len("newcomer_net/") :]: v for k, v in newcomer_net.items()}),
        "newcomer": (meta["newcomer"], {"weights": arrays["newcomer_weights"]}),
        "cmap": ({"params": meta["cmap_params"]}, {"weights": arrays["cmap_weights"]}),
        "cpop": ({}, {"weights": arrays["cpop_weights"]}),
        "kernel": ({"params": meta["kernel_params"]}, {name: arrays[f"k_{name}"] for name in _KERNEL + _SPARSE}),
    }
    out_meta = dict(meta, parts={name: {"version": 1, "state": state} for name, (state, _) in parts.items()})
    out_arrays = {name: arrays[name] for name in ("known", "counts", "edges", "content")}
    for name, (_, part_arrays) in parts.items():
        out_arrays.update({f"{name}/{key}": value for key, value in part_arrays.items()})
    return out_meta, out_arrays
