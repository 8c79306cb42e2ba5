"""The written transition spec of an authorization: which event may take which status where, and why.

One row a transition: ``from  event  to  why``. Staying in the same status is always allowed and is
not written down. The lifecycle (`app.domain.lifecycle`) compiles these rows into its tables, and
the table test over every pair of statuses reads the same text, so the two cannot drift; adding a
status or an event means adding rows here (and the tests that drive them).

Events:
- ``answered``: the payer (or the payer's published rules) decided items; the new status is the
  roll-up of the items' X12 306 actions.
- ``rejected``: the payer refused the request itself (it never reviewed the items).
- ``cancelled``: the practice or operations withdrew the request.
- ``expired``: the validity period of what was approved ended.
- ``replaced``: a PASClaimUpdate (or a cancel-all) superseded it; the status stays and a new
  authorization carries the request on.
- ``appealed``: the practice appealed a denial (or what a partial approval or a modification did not
  certify), by a PASClaimUpdate with certificationType 1 or 2 (X12 1322) or by the operations API.
- ``appeal-decided``: the payer overturned (approved) or upheld (denied) its decision on appeal.
- ``attached``: the provider sent the documents a payer asked for (CDex ``$submit-attachment``);
  the payer reviews again, so an information request becomes pended.

An answer that pends items and asks for documents (a ClaimResponse.communicationRequest or a PAS
Task) leads to ``info-requested``; a later answer that merely pends keeps it there until the
documents arrive or the payer decides.
"""

from __future__ import annotations

SPEC = """
received            answered   pended              the payer pends it, or did not answer within the sync budget
received            answered   approved            every reviewed item certified (A1)
received            answered   partially-approved  some items certified, some not, or fewer units (A2)
received            answered   modified            certified as another service or quantity (A6)
received            answered   denied              every reviewed item not certified (A3)
received            answered   not-required        no item needs prior authorization (NA)
received            answered   cancelled           a cancel-all request: every item cancelled (C)
pended              answered   approved            a follow-up brought the decision
pended              answered   partially-approved  a follow-up brought the decision
pended              answered   modified            a follow-up brought the decision
pended              answered   denied              a follow-up brought the decision
pended              answered   not-required        the payer found no authorization is needed
pended              answered   cancelled           the payer answered every item cancelled
received            rejected   error               the payer refused the request before review
pended              rejected   error               the payer refused the request on a follow-up
received            cancelled  cancelled           withdrawn before the payer answered (e.g. after a crash)
pended              cancelled  cancelled           withdrawn while the payer reviews it
error               cancelled  cancelled           withdrawn after the payer refused it
approved            cancelled  cancelled           the service will not be given
partially-approved  cancelled  cancelled           the service will not be given
modified            cancelled  cancelled           the service will not be given
not-required        cancelled  cancelled           the practice withdraws its record
approved            expired    expired             the approval's validity ended
partially-approved  expired    expired             the approval's validity ended
modified            expired    expired             the approval's validity ended
received            replaced   received            an update before any answer
pended              replaced   pended              an update while the payer reviews it
error               replaced   error               a corrected request after a refusal
approved            replaced   approved            items added, changed or cancelled
partially-approved  replaced   partially-approved  items added, changed or cancelled
modified            replaced   modified            items added, changed or cancelled
not-required        replaced   not-required        items added, changed or cancelled
denied              appealed        appeal-submitted  the practice appeals the denial
partially-approved  appealed        appeal-submitted  the practice appeals what was not certified
modified            appealed        appeal-submitted  the practice appeals the modification
appeal-submitted    appeal-decided  appeal-approved   the payer overturned its decision on appeal
appeal-submitted    appeal-decided  appeal-denied     the payer upheld its decision on appeal
appeal-approved     cancelled       cancelled         the service will not be given
appeal-approved     expired         expired           the approval won on appeal ended
received            answered   info-requested      the payer pends it and asks for documents by a due time
pended              answered   info-requested      a follow-up brought a request for documents
info-requested      answered   approved            the payer decided (with or without the documents)
info-requested      answered   partially-approved  the payer decided (with or without the documents)
info-requested      answered   modified            the payer decided (with or without the documents)
info-requested      answered   denied              the payer decided (e.g. the documents never came)
info-requested      answered   not-required        the payer found no authorization is needed
info-requested      answered   cancelled           the payer answered every item cancelled
info-requested      attached   pended              the documents arrived; the payer reviews them
info-requested      rejected   error               the payer refused the request on a follow-up
info-requested      cancelled  cancelled           withdrawn while the payer waits for documents
info-requested      replaced   info-requested      an update while the payer waits for documents
"""
