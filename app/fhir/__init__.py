"""FHIR knowledge of the service: the only importer of `fhir.resources` (R4B models only).

Modules, one concept each:

- `submit`: `parse_submit` turns a PAS `Claim/$submit` body into a `ParsedSubmission`
  (validated Bundle dict + `PriorAuthRequest`), raising one `InvalidRequest` listing every issue.
- `inquiry`: `parse_inquire` / `render_inquiry_result` for `Claim/$inquire`.
- `response`: `render_response_bundle` builds the PAS response Bundle as plain dicts.
- `outcome`: `operation_outcome` renders Issues as an OperationOutcome.
- `capability`: `capability_statement` for `GET /metadata`.
- `media`: content-type helpers for the routes.
- `limits`, `loading`, `references`, `rules`, `extract`, `urls`: the parts behind them.
"""
