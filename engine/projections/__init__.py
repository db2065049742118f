"""Read models built only from events, with the HTTP views that serve them (to come)."""
