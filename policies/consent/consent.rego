# METADATA
# title: Consent
# description: |
#   Sorts the scopes a client requests into those already granted by this user to this client,
#   those the user must be asked for, those that are mandatory (shown locked on the consent page)
#   and those denied outright, with a reason. Without a user (client_credentials) nothing can be
#   asked: scopes that need a user are denied and the rest are granted.
#   SMART scopes (input.smart present) are decided by assent.scopes: resource scopes are not in
#   known_scopes (there are too many), the SMART rules give their denials, the locked scopes and
#   the categories the patient may narrow to. With the patient's choice (input.choice) it also
#   says which scopes to issue, `chosen`.
#   Pure: the same input always gives the same result.
package assent.consent

import data.assent.scopes

# Scopes the user cannot untick on the consent page when the client requests them.
mandatory_scopes := {"openid"}

# Scopes that only make sense with a user behind the request.
user_scopes := {"openid", "profile", "email", "offline_access", "online_access", "uma_protection", "sharing_rules", "fhirUser", "launch", "launch/patient", "launch/encounter"}

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

denial_reason(scope) := reason if {
	input.smart
	reason := scopes.denial_reasons[scope]
} else := "unknown_scope" if {
	not scope in input.known_scopes
	not smart_resource_scope(scope)
} else := "not_allowed_for_client" if {
	not scope in input.client.allowed_scopes
	not smart_resource_scope(scope)
} else := "requires_user" if {
	not input.user
	scope in user_scopes
}

# The SMART decision, when the request carries SMART facts.
smart := scopes.decision if input.smart

smart := {"denied": [], "locked": [], "categories": [], "narrowed": []} if not input.smart

# Coverage by the client's registration is decided by assent.scopes for these.
smart_resource_scope(scope) if {
	some parsed in input.smart.requested
	parsed.raw == scope
}

denied_scopes := {scope | some scope, _ in denial_reasons}

eligible := requested - denied_scopes

denied := [{"scope": scope, "reason": denial_reasons[scope]} | some scope in sort(denied_scopes)]

# The entrypoint (policies/entrypoints.json): arrays are sorted and free of duplicates.
mandatory := (eligible & mandatory_scopes) | {s | some s in smart.locked}

# The patient's choice at consent: what was granted before, the ticked and mandatory ones among
# those asked, each narrowed scope replaced by its categories.
ticked := {s | some s in (eligible - previously_granted); s in input.choice.scopes} | mandatory

narrowed_into[s] := pick.into if {
	some pick in smart.narrowed
	s := pick.scope
}

kept := (eligible & previously_granted) | ticked

chosen contains s if {
	some s in kept
	not narrowed_into[s]
}

chosen contains narrow if {
	some s in kept
	some narrow in narrowed_into[s]
}

user_decision := {
	"granted": sort(eligible & previously_granted),
	"ask": sort(eligible - previously_granted),
	"mandatory": sort(mandatory),
	"denied": denied,
	"categories": smart.categories,
}

decision := user_decision if {
	input.user
	not input.choice
}

decision := object.union(user_decision, {"chosen": sort(chosen)}) if {
	input.user
	input.choice
}

decision := {
	"granted": sort(eligible),
	"ask": [],
	"mandatory": [],
	"denied": denied,
	"categories": [],
} if {
	not input.user
}
