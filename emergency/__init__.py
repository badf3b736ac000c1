"""Safety and emergency management: major hazard sources, incidents, plans, resources, reports."""
