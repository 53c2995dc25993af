"""The one rule for where runbook's own servers may listen: a loopback IP address.

The simulator and the fault server accept throwaway keys and play faults on purpose, so they never
listen beyond loopback. "localhost" means 127.0.0.1; a name or a routable address is refused.
"""

from __future__ import annotations

import ipaddress


def loopback_address(host: str, what: str = "the simulator") -> str:
    """`host` as a loopback IP address; ValueError naming `what` for anything else."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(f"{what} listens on loopback only (127.0.0.1 or ::1), not {host!r}")
    return str(address)
