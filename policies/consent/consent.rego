# METADATA
# title: Consent
# description: |
#   Sorts the scopes a client requests into those already granted by this user to this client,
#   those the user must be asked for, those that are mandatory (shown locked on the consent page)
#   and those denied outright, with a reason. Without a user (client_credentials) nothing can be
#   asked: scopes that need a user are denied and the rest are granted.
#   Pure: the same input always gives the same result.
package assent.consent

# Scopes the user cannot untick on the consent page when the client requests them.
mandatory_scopes := {"openid"}

# Scopes that only make sense with a user behind the request.
user_scopes := {"openid", "profile", "email", "offline_access", "uma_protection", "sharing_rules"}

requested := {s | some s in input.requested_scopes}

# Scopes this user granted to this client before (prior_grants holds all the user's grants).
previously_granted contains s if {
	some grant in input.prior_grants
	grant.client_id == input.client.client_id
	some s in grant.scopes
}

# Membership is tested on the input arrays directly: cheaper in wasm than building sets of them.
# The reason is the first check a scope fails; the else chain makes each membership test once.
denial_reasons[scope] := reason if {
	some scope in requested
	reason := denial_reason(scope)
}

denial_reason(scope) := "unknown_scope" if {
	not scope in input.known_scopes
} else := "not_allowed_for_client" if {
	not scope in input.client.allowed_scopes
} else := "requires_user" if {
	not input.user
	scope in user_scopes
}

denied_scopes := {scope | some scope, _ in denial_reasons}

eligible := requested - denied_scopes

denied := [{"scope": scope, "reason": denial_reasons[scope]} | some scope in sort(denied_scopes)]

# The entrypoint (policies/entrypoints.json): arrays are sorted and free of duplicates.
decision := {
	"granted": sort(eligible & previously_granted),
	"ask": sort(eligible - previously_granted),
	"mandatory": sort(eligible & mandatory_scopes),
	"denied": denied,
} if {
	input.user
}

decision := {
	"granted": sort(eligible),
	"ask": [],
	"mandatory": [],
	"denied": denied,
} if {
	not input.user
}
