"""Use cases that tie domain, FHIR, payers and the store together."""
