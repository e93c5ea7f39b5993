"""Figures into widget output areas: shared by the explorer's tabs."""

from __future__ import annotations

import io
from typing import Any


def show_figure(output: Any, fig: Any) -> bytes:
    """Put a figure into an output area as a PNG image (works in JupyterLab and Voilà alike);
    returns the PNG, for a download link."""
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    if get_ipython() is None:  # a script or a benchmark: nothing to show the image in
        return buffer.getvalue()
    output.clear_output(wait=True)
    with output:
        display(Image(data=buffer.getvalue()))
    return buffer.getvalue()
