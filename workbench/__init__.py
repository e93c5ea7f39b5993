"""The review-pipeline workbench: simulate and forecast the UNTOC review Mechanism.

The public API, used alike by the command line, the notebooks and the reports::

    from workbench import Parameters, forecast, format_forecast
    fc = forecast(Parameters(), replications=500, seed=1)
    print(format_forecast(fc))
"""

__version__ = "0.1.0"

from .errors import InputError  # noqa: E402
from .forecast import Forecast, forecast, format_forecast, summarize_threshold, summary_table, write_forecast  # noqa: E402
from .model import Mechanism, RunRecord, Stage  # noqa: E402
from .observations import Snapshot, latest_snapshot, load_observations, load_snapshot  # noqa: E402
from .observe import compare, observe  # noqa: E402
from .parameters import Parameters  # noqa: E402
from .parties import Pairings, load_pairings, synthetic_pairings  # noqa: E402
from .runner import Results, Setup, default_setup, run_replications, simulate  # noqa: E402
from .scenarios import Scenario, load_scenario  # noqa: E402

__all__ = [
    "InputError", "Forecast", "forecast", "format_forecast", "summarize_threshold", "summary_table", "write_forecast",
    "Mechanism", "RunRecord", "Stage", "Snapshot", "latest_snapshot", "load_observations", "load_snapshot",
    "compare", "observe", "Parameters", "Pairings", "load_pairings", "synthetic_pairings", "Results", "Setup",
    "default_setup", "run_replications", "simulate", "Scenario", "load_scenario",
]
