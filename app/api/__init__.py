"""HTTP edge: routers only. Parse, call a service, render; no SQL, no payer calls."""
