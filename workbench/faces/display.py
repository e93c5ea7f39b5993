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
    # Fixed margins with room for the axis labels and a title, instead of measuring the figure's
    # extent first (bbox_inches="tight" draws it twice: a third of the explorer's Run).
    if fig.get_layout_engine() is None:
        fig.subplots_adjust(left=0.12, right=0.98, bottom=0.17, top=0.89)
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    if get_ipython() is None:  # a script or a benchmark: nothing to show the image in
        return buffer.getvalue()
    output.clear_output(wait=True)
    with output:
        display(Image(data=buffer.getvalue()))
    return buffer.getvalue()
