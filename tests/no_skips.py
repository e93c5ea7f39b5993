"""A pytest plugin: with WORKBENCH_NO_SKIPS set (as .ci/run sets it), a skipped test fails the run.

CI must run everything, the browser test included; a developer's machine may lack a browser,
and there the test is skipped with a loud reason instead.
"""

import os


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("WORKBENCH_NO_SKIPS") and skipped and session.exitstatus == 0:
        reporter.write_line(f"WORKBENCH_NO_SKIPS: {len(skipped)} test(s) skipped, which CI does not allow", red=True)
        session.exitstatus = 1
