"""The review-pipeline workbench: simulate and forecast the UNTOC review Mechanism.

The public API, used alike by the command line, the notebooks and the reports::

    from workbench import Parameters, forecast, format_forecast

    fc = forecast(forecast_setup(params=Parameters()), replications=500, seed=1)
    print(format_forecast(fc))
"""

# Before any compiled function is defined: their caches must know the code they came from.
from workbench.core.compiled_cache import fingerprint_caches

fingerprint_caches()

from workbench.analysis.forecast import Forecast, forecast, forecast_setup, summarize_threshold, summary_table  # noqa: E402
from workbench.core.errors import InputError  # noqa: E402
from workbench.core.version import __version__  # noqa: E402
from workbench.experiments.replications import Results, run_replications  # noqa: E402
from workbench.experiments.setup import Setup, default_setup, simulate  # noqa: E402
from workbench.faces.output_folder import reproduce, write_forecast  # noqa: E402
from workbench.faces.text import format_forecast  # noqa: E402
from workbench.inputs.observations import Snapshot, latest_snapshot, load_observations, load_snapshot  # noqa: E402
from workbench.inputs.parameters import Parameters  # noqa: E402
from workbench.inputs.parties import Pairings, load_pairings, synthetic_pairings  # noqa: E402
from workbench.inputs.scenarios import Scenario, load_scenario  # noqa: E402
from workbench.observation.observe import compare, observe  # noqa: E402
from workbench.simulation.model import Mechanism  # noqa: E402
from workbench.simulation.schema import RunRecord  # noqa: E402
from workbench.simulation.stages import Stage  # noqa: E402

__all__ = [
    "__version__",
    "InputError",
    "Forecast",
    "forecast",
    "forecast_setup",
    "format_forecast",
    "summarize_threshold",
    "summary_table",
    "write_forecast",
    "reproduce",
    "Mechanism",
    "RunRecord",
    "Stage",
    "Snapshot",
    "latest_snapshot",
    "load_observations",
    "load_snapshot",
    "compare",
    "observe",
    "Parameters",
    "Pairings",
    "load_pairings",
    "synthetic_pairings",
    "Results",
    "Setup",
    "default_setup",
    "run_replications",
    "simulate",
    "Scenario",
    "load_scenario",
]
