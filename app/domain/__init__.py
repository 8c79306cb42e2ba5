"""The authorization lifecycle as plain typed Python: no FHIR, no SQL, no HTTP."""
