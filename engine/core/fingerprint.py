"""runbook's own simulators say who they are, so a run can tell when it is judging itself.

Every answer of the built-in simulator and of the fault simulator carries this header. A "live"
target that answers with it is runbook's simulator under another name: its checks prove the spec,
not a provider, and the provider criteria are not verified.
"""

from engine import __version__

SIMULATOR_HEADER = "x-runbook-simulator"
SIMULATOR_VALUE = f"runbook/{__version__}"
