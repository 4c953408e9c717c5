# METADATA
# title: Access to Assent's own APIs
# description: |
#   Which access token may call which of Assent's own bearer APIs, and when a signed-in person may
#   link a new identity to their account. The token's signature, expiry and revocation are checked
#   before this decision (a token that fails them never gets here); this decides what a good token
#   is good for:
#   - uma_protection (UMA Federated Authorization §1.3, the protection API): a PAT, i.e. scope
#     uma_protection granted by a resource owner (the token has a subject other than its client);
#   - sharing_rules (the owner's sharing-rules API): a token meant for this server (its audience
#     names the issuer) with scope sharing_rules, granted by the owner;
#   - uma_authorization (the legacy HIE of One rpt_endpoint): an AAT, a token meant for this server
#     with scope uma_authorization;
#   - userinfo (OpenID Connect Core §5.3): scope openid;
#   - smart_launch (POST /smart/launch, SMART EHR launch): a token meant for this server with scope
#     smart/launch, which only operator-configured EHR clients hold;
#   - pick_patient: may this signed-in account put this patient in a SMART launch context? A
#     patient (fhirUser Patient/<id>) reaches only its own compartment; a practitioner
#     (Practitioner/<id>) the patients listed on its account; anyone else none (access_denied);
#   - token_administration: may this signed-in account see every client's grants and tokens and
#     revoke them (the admin page)? Only an account whose roles include admin (access_denied);
#   - link_identity: the session's sign-in is at most link_reauthentication_seconds old, because a
#     new way into the account needs a fresh proof of who is asking, not just a session.
#   A token that is not meant for this server is invalid_token (RFC 6750 §3.1, 401); one that lacks
#   what the API needs is insufficient_scope with the scope to ask for (403).
#   Pure: time only from input.now; the same input and bundle always give the same result.
package assent.access

# Linking an identity needs a sign-in at most this old.
link_reauthentication_seconds := 600

# What each bearer API asks of its token, and what a refusal says.
bearer_apis := {
	"uma_protection": {
		"scope": "uma_protection",
		"for_this_server": false,
		"granted_by_owner": true,
		"granted": "a protection API token granted by the resource owner",
		"insufficient": "a protection API token (scope uma_protection, granted by the resource owner) is required",
	},
	"sharing_rules": {
		"scope": "sharing_rules",
		"for_this_server": true,
		"granted_by_owner": true,
		"granted": "a sharing-rules token granted by the owner",
		"not_for_this_server": "the access token is not meant for this server",
		"insufficient": "an access token with scope sharing_rules, granted by the owner, is required",
	},
	"uma_authorization": {
		"scope": "uma_authorization",
		"for_this_server": true,
		"granted_by_owner": false,
		"granted": "an authorization API token",
		"not_for_this_server": "the access token is invalid, expired or revoked",
		"insufficient": "an authorization API token (scope uma_authorization) is required",
	},
	"smart_launch": {
		"scope": "smart/launch",
		"for_this_server": true,
		"granted_by_owner": false,
		"granted": "an EHR's launch token",
		"not_for_this_server": "the access token is not meant for this server",
		"insufficient": "an access token with scope smart/launch is required",
	},
	"userinfo": {
		"scope": "openid",
		"for_this_server": false,
		"granted_by_owner": false,
		"granted": "an access token with scope openid",
		"insufficient": "the access token lacks the openid scope",
	},
}

default decision := {"allow": false, "error": "invalid_request", "reason": "no such API"}

decision := bearer_decision if bearer_apis[input.api]

decision := link_decision if input.api == "link_identity"

decision := pick_decision if input.api == "pick_patient"

api := bearer_apis[input.api]

# Checked in this order: a token for another server is no token here at all.
bearer_decision := {"allow": false, "error": "invalid_token", "reason": api.not_for_this_server} if {
	api.for_this_server
	not input.issuer in input.token.aud
} else := {"allow": false, "error": "insufficient_scope", "required_scope": api.scope, "reason": api.insufficient} if {
	not sufficient
} else := {"allow": true, "reason": api.granted}

sufficient if {
	api.scope in split(input.token.scope, " ")
	owner_condition_met
}

owner_condition_met if not api.granted_by_owner

owner_condition_met if granted_by_owner

# The token speaks for a person (its subject), not for the client itself (client_credentials).
granted_by_owner if {
	is_string(input.token.sub)
	input.token.sub != ""
	input.token.sub != input.token.client_id
}

link_decision := {"allow": true, "reason": "the sign-in is recent enough to link an identity"} if {
	fresh_sign_in
} else := {
	"allow": false,
	"error": "login_required",
	"reason": sprintf("linking an identity needs a sign-in at most %d seconds old", [link_reauthentication_seconds]),
}

# auth_time counts whole seconds (an OpenID Connect NumericDate): the sign-in's age is
# floor(now) - auth_time, at most the limit exactly when now < auth_time + limit + 1 second.
fresh_sign_in if time.parse_rfc3339_ns(input.now) < ((input.session.auth_time + link_reauthentication_seconds) + 1) * 1000000000

# The patient compartments an account reaches.
reachable_patients contains substring(input.account.fhirUser, count("Patient/"), -1) if {
	startswith(input.account.fhirUser, "Patient/")
}

reachable_patients contains patient if {
	startswith(input.account.fhirUser, "Practitioner/")
	some patient in input.account.patients
}

pick_decision := {"allow": true, "reason": "the patient is in a compartment this account reaches"} if {
	input.patient in reachable_patients
} else := {"allow": false, "error": "access_denied", "reason": "this account may not choose that patient"}

# Token administration: the operator's page of every client's grants and tokens.
decision := admin_decision if input.api == "token_administration"

admin_decision := {"allow": true, "reason": "the account has the admin role"} if {
	"admin" in input.account.roles
} else := {"allow": false, "error": "access_denied", "reason": "token administration needs an account with the admin role"}
