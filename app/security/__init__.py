"""Who is calling: principals, scopes, and (SMART Backend Services) tokens."""
