"""Read models built only from events (inbox, casussen, annual tables), and the HTTP API, dashboard
page, audit records and exports that serve them."""
