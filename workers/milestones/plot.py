"""The training curve of a milestone job as a small PNG (base64), for the TA page."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")   # no display on a worker; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402


def curve_png(curve: list[dict], title: str) -> str | None:
    """Loss (and accuracy, when reported) per epoch; None for an empty curve."""
    points = [p for p in curve if isinstance(p.get("loss"), (int, float))]
    if not points:
        return None
    fig, loss_axis = plt.subplots(figsize=(5, 3), dpi=80)
    try:
        epochs = [p["epoch"] for p in points]
        loss_axis.plot(epochs, [p["loss"] for p in points], color="tab:blue", label="loss")
        loss_axis.set_xlabel("epoch")
        loss_axis.set_ylabel("training loss", color="tab:blue")
        if all(isinstance(p.get("accuracy"), (int, float)) for p in points):
            accuracy_axis = loss_axis.twinx()
            accuracy_axis.plot(epochs, [p["accuracy"] for p in points], color="tab:orange")
            accuracy_axis.set_ylabel("training accuracy", color="tab:orange")
            accuracy_axis.set_ylim(0, 1)
        loss_axis.set_title(title)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
