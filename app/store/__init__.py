"""SQL storage: engine and session, the models (one module per room), column types, the migrations driver."""
