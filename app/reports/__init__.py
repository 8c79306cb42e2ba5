"""The CMS-0057-F prior-authorization report, computed provider-side from this service's records."""
