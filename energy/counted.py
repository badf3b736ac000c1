"""Which devices count in totals: the one rule every statistic, ranking and report applies.

A device counts in its enterprise's figures unless the meter tree makes it a sub-meter (already
inside its parent's figure), or a meter of the park's own intake and feeders (the enterprises'
meters are inside it). A device outside the tree counts as it always has.
"""

from __future__ import annotations


def counted_sql(device: str) -> str:
    """A SQL condition, true when the device column ``device`` counts in totals."""
    return (
        "NOT EXISTS (SELECT 1 FROM energy_meters em_"
        f" WHERE em_.device_id = {device} AND (em_.role <> 'main' OR em_.enterprise_id IS NULL))"
    )
