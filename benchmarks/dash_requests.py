"""What Dash's renderer sends for a callback, for the benchmarks that act as browsers."""
from __future__ import annotations


def callback_outputs(output: str) -> list[dict] | dict:
    """A callback's ``output`` (``"a.children"`` or ``"..a.children...b.style.."``) as the
    renderer's ``outputs``: one ``{"id", "property"}``, or a list of them for several."""
    outputs = []
    for part in output.strip(".").split("..."):
        component, prop = part.split(".", 1)
        outputs.append({"id": component, "property": prop})
    return outputs if len(outputs) > 1 else outputs[0]
