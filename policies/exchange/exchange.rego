# METADATA
# title: Token exchange
# description: |
#   RFC 8693 token exchange of an upstream ID token (Google or another configured OpenID
#   provider) for an Assent access token. Decides which requested scopes the client gets:
#   - nothing unless the token's issuer is one whose ID tokens this client may present;
#   - unknown scopes and scopes the client is not registered for are denied;
#   - offline_access never (an exchanged token is short-lived and not renewable);
#   - scopes that manage a patient's records (uma_protection, sharing_rules) never: they need
#     the patient at the consent page;
#   - user scopes only when the upstream identity is linked to a local account (the token's
#     subject is then that account), and only those its holder granted this client before at
#     the consent page: an exchange never widens what the patient agreed to.
#   Pure: the same input always gives the same result.
package assent.exchange

# Scopes that speak for a local account: only for an identity linked to one.
user_scopes := {"openid", "profile", "email"}

# Scopes an exchange never yields.
never_exchanged := {"offline_access"}

# Scopes that manage the patient's records: granted at the consent page only.
interactive_only := {"uma_protection", "sharing_rules"}

requested := {s | some s in input.requested_scopes}

trusted if input.subject.iss in input.trusted_issuers

linked if input.subject.linked_account.sub

# Scopes the linked account's holder granted this client before (prior_grants holds all their grants).
previously_granted contains s if {
	some grant in input.prior_grants
	grant.client_id == input.client.client_id
	some s in grant.scopes
}

# One reason per scope. The rules below must stay mutually exclusive (a scope with two reasons
# would be a conflict error): each one after the first two applies to eligible_for_client only,
# and never_exchanged, interactive_only and user_scopes share no scope.
denial_reasons[scope] := "untrusted_issuer" if {
	not trusted
	some scope in requested
}

denial_reasons[scope] := "unknown_scope" if {
	trusted
	some scope in requested
	not scope in input.known_scopes
}

denial_reasons[scope] := "not_allowed_for_client" if {
	trusted
	some scope in requested
	scope in input.known_scopes
	not scope in input.client.allowed_scopes
}

denial_reasons[scope] := "never_exchanged" if {
	some scope in eligible_for_client
	scope in never_exchanged
}

denial_reasons[scope] := "interactive_only" if {
	some scope in eligible_for_client
	scope in interactive_only
}

denial_reasons[scope] := "requires_linked_account" if {
	not linked
	some scope in eligible_for_client
	scope in user_scopes
}

denial_reasons[scope] := "not_consented" if {
	linked
	some scope in eligible_for_client
	scope in user_scopes
	not scope in previously_granted
}

# Known scopes the client may have, from a trusted issuer: the per-scope rules apply to these.
eligible_for_client := {scope |
	trusted
	some scope in requested
	scope in input.known_scopes
	scope in input.client.allowed_scopes
}

denied_scopes := {scope | some scope, _ in denial_reasons}

# The entrypoint (policies/entrypoints.json): arrays are sorted and free of duplicates.
decision := {
	"granted": sort(requested - denied_scopes),
	"denied": [{"scope": scope, "reason": denial_reasons[scope]} | some scope in sort(denied_scopes)],
}
