# METADATA
# title: UMA claims
# description: |
#   Decides a UMA grant request (UMA 2.0 Grant §3.3): for every resource and scope the permission
#   ticket asks for, do the owner's sharing rules (or a one-off approval) let this requesting
#   party have it? Deny rules win over allow rules. The owner herself (signed in with her own
#   account, or with an upstream identity linked to it) always has her own resources. Outcomes:
#     grant             every requested scope of every resource is allowed
#     need_info         nobody is identified yet: the client must push or gather claims
#     request_submitted nothing denies it but no rule allows all of it: ask the owner
#     request_denied    a deny rule matches, or the owner already refused this request
#   Pure: time only from input.now; the same input and bundle always give the same result.
package assent.claims

now_ns := time.parse_rfc3339_ns(input.now)

party := input.requesting_party

identified if party.sub

# The requesting party is the owner: `requesting_account` is the local account the party is
# (their own, or the one their upstream identity is linked to). Her own rules do not bind her,
# and she is never asked to approve her own request.
owner_requesting if input.requesting_account.sub == input.owner.sub

# Every (resource, scope) pair the ticket asks for.
requested contains {"resource_id": r.resource_id, "scope": s} if {
	some r in input.ticket.resources
	some s in r.resource_scopes
}

resource_by_id[r.resource_id] := r if some r in input.ticket.resources

# --- whom a rule names -------------------------------------------------------------------------

grantee_matches(g) if {
	g.email
	lower(g.email) == lower(party.email)
}

grantee_matches(g) if {
	g.email_domain
	endswith(lower(party.email), concat("", ["@", lower(g.email_domain)]))
}

grantee_matches(g) if {
	g.issuer
	g.subject
	g.issuer == party.iss
	g.subject == party.sub
}

grantee_matches(g) if {
	g.claim
	party.claims[g.claim.name] == g.claim.value
}

# --- what a rule covers ------------------------------------------------------------------------

covers_resource(rule, _) if rule.resources.all == true

covers_resource(rule, id) if id in rule.resources.ids

covers_resource(rule, id) if resource_by_id[id].type in rule.resources.types

covers_scope(rule, _) if not rule.scopes

covers_scope(rule, scope) if scope in rule.scopes

# --- when a rule applies -----------------------------------------------------------------------

in_force(rule) if {
	not too_early(rule)
	not expired(rule)
	verified_enough(rule)
	issuer_accepted(rule)
}

too_early(rule) if now_ns < time.parse_rfc3339_ns(rule.conditions.valid_from)

expired(rule) if now_ns >= time.parse_rfc3339_ns(rule.conditions.valid_until)

# An email-based grantee only counts when the email is verified, unless the rule says otherwise.
verified_enough(rule) if not needs_verified_email(rule)

verified_enough(rule) if {
	needs_verified_email(rule)
	party.email_verified == true
}

needs_verified_email(rule) if {
	rule.grantee.email
	not rule.conditions.email_verified == false
}

needs_verified_email(rule) if {
	rule.grantee.email_domain
	not rule.conditions.email_verified == false
}

needs_verified_email(rule) if rule.conditions.email_verified == true

issuer_accepted(rule) if not rule.conditions.issuers

issuer_accepted(rule) if party.iss in rule.conditions.issuers

applies(rule, pair) if {
	in_force(rule)
	grantee_matches(rule.grantee)
	covers_resource(rule, pair.resource_id)
	covers_scope(rule, pair.scope)
}

# --- the decision ------------------------------------------------------------------------------

denied_by[pair] contains rule.id if {
	some pair in requested
	some rule in input.rules
	rule.effect == "deny"
	applies(rule, pair)
}

allowed_by[pair] contains rule.id if {
	some pair in requested
	some rule in input.rules
	rule.effect == "allow"
	applies(rule, pair)
}

allowed_by[pair] contains concat(":", ["approval", a.id]) if {
	some pair in requested
	some a in input.approvals
	a.requesting_party.iss == party.iss
	a.requesting_party.sub == party.sub
	a.resource_id == pair.resource_id
	pair.scope in a.resource_scopes
	now_ns < time.parse_rfc3339_ns(a.expires_at)
}

denied_pairs := {pair | some pair, _ in denied_by}

allowed_pairs := {pair | some pair, _ in allowed_by} - denied_pairs

# What the owner's rules decide, for anyone but the owner.
rules_outcome := "need_info" if not identified

rules_outcome := "request_denied" if {
	identified
	count(denied_pairs) > 0
}

rules_outcome := "request_denied" if {
	identified
	count(denied_pairs) == 0
	input.refused_before == true
	allowed_pairs != requested
}

rules_outcome := "grant" if {
	identified
	count(denied_pairs) == 0
	allowed_pairs == requested
}

rules_outcome := "request_submitted" if {
	identified
	count(denied_pairs) == 0
	allowed_pairs != requested
	not input.refused_before == true
}

outcome := "grant" if owner_requesting

outcome := rules_outcome if not owner_requesting

granted_pairs := requested if {
	owner_requesting
} else := allowed_pairs

permissions := [{"resource_id": id, "resource_scopes": sort({p.scope | some p in granted_pairs; p.resource_id == id})} |
	some id in sort({p.resource_id | some p in granted_pairs})
]

# The rules and approvals that produced the outcome, for "why was this allowed / denied?";
# `owner` when the owner asked for her own resources.
because := ["owner"] if {
	owner_requesting
} else := sort({id | some pair in denied_pairs; some id in denied_by[pair]}) if {
	outcome == "request_denied"
} else := sort({id | some pair in allowed_pairs; some id in allowed_by[pair]}) if {
	outcome == "grant"
}

default because := []

decision := {
	"outcome": outcome,
	"permissions": permissions_for_outcome,
	"required_claims": required_claims,
	"because": because,
}

permissions_for_outcome := permissions if outcome == "grant"

default permissions_for_outcome := []

# What a client must provide when nobody is identified: an OpenID Connect ID token (pushed as a
# claim token, or gathered by sending the requesting party to the claims interaction endpoint).
required_claims := [{
	"claim_token_format": ["http://openid.net/specs/openid-connect-core-1_0.html#IDToken"],
	"name": "sub",
	"friendly_name": "requesting party",
}] if {
	outcome == "need_info"
}

default required_claims := []
