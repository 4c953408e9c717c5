package assent.registration_test

import data.assent.registration

open(scopes, members) := {"source": "registration", "scopes": scopes, "members": members}

operator(scopes, members) := {"source": "operator", "scopes": scopes, "members": members}

test_open_registration_with_ordinary_scopes_is_allowed if {
	registration.decision == {"allow": true, "refused": []} with input as open(["openid", "profile", "patient/Observation.rs", "uma_protection"], ["redirect_uris", "scope"])
}

test_open_registration_of_smart_launch_is_refused if {
	registration.decision == {"allow": false, "refused": [{"kind": "scope", "name": "smart/launch", "reason": "operator_only"}]} with input as open(["openid", "smart/launch"], ["scope"])
}

test_open_registration_of_access_evaluation_is_refused if {
	not registration.decision.allow with input as open(["access_evaluation"], ["scope"])
}

test_open_registration_of_system_scopes_is_refused if {
	registration.decision.refused == [{"kind": "scope", "name": "system/Patient.rs", "reason": "operator_only"}] with input as open(["system/Patient.rs", "patient/Patient.rs"], ["scope"])
}

test_open_registration_of_fhir_base_urls_is_refused if {
	registration.decision == {"allow": false, "refused": [{"kind": "member", "name": "fhir_base_urls", "reason": "operator_only"}]} with input as open([], ["fhir_base_urls", "scope"])
}

test_every_refusal_is_named_scopes_first_then_members if {
	registration.decision.refused == [
		{"kind": "scope", "name": "access_evaluation", "reason": "operator_only"},
		{"kind": "scope", "name": "smart/launch", "reason": "operator_only"},
		{"kind": "member", "name": "fhir_base_urls", "reason": "operator_only"},
	] with input as open(["smart/launch", "access_evaluation"], ["fhir_base_urls"])
}

test_the_operator_may_give_every_privileged_item if {
	registration.decision == {"allow": true, "refused": []} with input as operator(["smart/launch", "access_evaluation", "system/*.rs", "uma_protection"], ["fhir_base_urls", "scope"])
}
