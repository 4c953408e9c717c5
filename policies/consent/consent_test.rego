package assent.consent_test

import data.assent.consent

base := {
	"now": "2025-03-01T12:00:00Z",
	"client": {"client_id": "app-1", "allowed_scopes": ["openid", "profile", "launch", "patient/Observation.rs", "offline_access"]},
	"user": {"sub": "patient-1"},
	"requested_scopes": [],
	"known_scopes": ["openid", "profile", "email", "launch", "patient/Observation.rs", "offline_access"],
	"prior_grants": [],
}

decide(overrides) := decision if {
	decision := consent.decision with input as object.union(base, overrides)
}

test_first_visit_asks_for_everything_allowed if {
	decide({"requested_scopes": ["profile", "openid", "launch"]}) == {
		"granted": [],
		"ask": ["launch", "openid", "profile"],
		"mandatory": ["openid"],
		"denied": [],
		"categories": [],
	}
}

test_unknown_scope_is_denied if {
	d := decide({"requested_scopes": ["profile", "admin"]})
	d.denied == [{"scope": "admin", "reason": "unknown_scope"}]
	d.ask == ["profile"]
}

test_scope_not_allowed_for_client_is_denied if {
	d := decide({"requested_scopes": ["email", "profile"]})
	d.denied == [{"scope": "email", "reason": "not_allowed_for_client"}]
	d.ask == ["profile"]
}

test_unknown_takes_precedence_over_not_allowed if {
	d := decide({
		"client": {"client_id": "app-1", "allowed_scopes": ["ghost"]},
		"requested_scopes": ["ghost"],
	})
	d.denied == [{"scope": "ghost", "reason": "unknown_scope"}]
}

test_prior_grant_to_this_client_is_granted_silently if {
	d := decide({
		"requested_scopes": ["profile", "launch"],
		"prior_grants": [{"client_id": "app-1", "scopes": ["profile"], "granted_at": "2025-01-01T00:00:00Z"}],
	})
	d.granted == ["profile"]
	d.ask == ["launch"]
}

test_prior_grant_to_another_client_does_not_count if {
	d := decide({
		"requested_scopes": ["profile"],
		"prior_grants": [{"client_id": "app-2", "scopes": ["profile"], "granted_at": "2025-01-01T00:00:00Z"}],
	})
	d.granted == []
	d.ask == ["profile"]
}

test_grants_across_several_records_are_merged if {
	d := decide({
		"requested_scopes": ["profile", "launch", "offline_access"],
		"prior_grants": [
			{"client_id": "app-1", "scopes": ["profile"], "granted_at": "2025-01-01T00:00:00Z"},
			{"client_id": "app-2", "scopes": ["offline_access"], "granted_at": "2025-01-02T00:00:00Z"},
			{"client_id": "app-1", "scopes": ["launch", "profile"], "granted_at": "2025-02-01T00:00:00Z"},
		],
	})
	d.granted == ["launch", "profile"]
	d.ask == ["offline_access"]
}

test_prior_grant_never_overrides_a_denial if {
	d := decide({
		"requested_scopes": ["email"],
		"prior_grants": [{"client_id": "app-1", "scopes": ["email"], "granted_at": "2025-01-01T00:00:00Z"}],
	})
	d.granted == []
	d.denied == [{"scope": "email", "reason": "not_allowed_for_client"}]
}

test_mandatory_already_granted_is_not_asked_again if {
	d := decide({
		"requested_scopes": ["openid", "profile"],
		"prior_grants": [{"client_id": "app-1", "scopes": ["openid"], "granted_at": "2025-01-01T00:00:00Z"}],
	})
	d.mandatory == ["openid"]
	d.granted == ["openid"]
	d.ask == ["profile"]
}

test_openid_is_not_mandatory_unless_requested if {
	decide({"requested_scopes": ["profile"]}).mandatory == []
}

test_openid_the_client_may_not_request_is_denied_not_mandatory if {
	d := decide({
		"client": {"client_id": "app-1", "allowed_scopes": ["profile"]},
		"requested_scopes": ["openid", "profile"],
	})
	d.mandatory == []
	d.denied == [{"scope": "openid", "reason": "not_allowed_for_client"}]
}

test_duplicates_are_removed_and_arrays_sorted if {
	d := decide({"requested_scopes": ["profile", "zzz", "openid", "profile", "aaa", "openid", "zzz"]})
	d.ask == ["openid", "profile"]
	d.denied == [{"scope": "aaa", "reason": "unknown_scope"}, {"scope": "zzz", "reason": "unknown_scope"}]
}

test_nothing_requested_gives_empty_decision if {
	decide({}) == {"granted": [], "ask": [], "mandatory": [], "denied": [], "categories": []}
}

test_without_a_user_user_scopes_are_denied_and_the_rest_granted if {
	d := consent.decision with input as object.remove(
		object.union(base, {
			"client": {"client_id": "svc", "allowed_scopes": ["openid", "patient/Observation.rs", "launch", "offline_access"]},
			"requested_scopes": ["patient/Observation.rs", "launch", "openid", "offline_access", "email", "nope"],
		}),
		["user"],
	)
	d == {
		"granted": ["patient/Observation.rs"],
		"ask": [],
		"mandatory": [],
		"categories": [],
		"denied": [
			{"scope": "email", "reason": "not_allowed_for_client"},
			{"scope": "launch", "reason": "requires_user"},
			{"scope": "nope", "reason": "unknown_scope"},
			{"scope": "offline_access", "reason": "requires_user"},
			{"scope": "openid", "reason": "requires_user"},
		],
	}
}

# SMART: resource scopes decided by assent.scopes, the choice at consent narrowed into categories.
obs := {"raw": "patient/Observation.rs", "context": "patient", "resourceType": "Observation", "permissions": "rs", "version": "v2", "params": {}}

smart_base := {
	"client": {"client_id": "app-1", "allowed_scopes": ["openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access"]},
	"user": {"sub": "alice", "fhirUser": "Patient/alice", "patients": []},
	"requested_scopes": ["openid", "fhirUser", "launch/patient", "patient/Observation.rs", "patient/.rs", "offline_access"],
	"known_scopes": ["openid", "fhirUser", "launch/patient", "offline_access"],
	"smart": {
		"requested": [obs],
		"registered": [object.union(obs, {"raw": "patient/*.rs", "resourceType": "*"})],
		"launch": {"patient": "alice"},
	},
}

test_smart_scopes_are_asked_with_the_launch_ones_locked if {
	d := decide(smart_base)
	d.ask == ["fhirUser", "launch/patient", "offline_access", "openid", "patient/Observation.rs"]
	d.mandatory == ["fhirUser", "launch/patient", "openid"]
	d.denied == [{"scope": "patient/.rs", "reason": "malformed_scope"}]
	d.categories[0].scope == "patient/Observation.rs"
	not d.chosen
}

test_the_choice_drops_unticked_scopes_and_narrows_categories if {
	d := decide(object.union(smart_base, {"choice": {
		"scopes": ["patient/Observation.rs"],
		"categories": [{"scope": "patient/Observation.rs", "codes": ["laboratory"]}],
	}}))
	d.chosen == [
		"fhirUser", "launch/patient", "openid",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
	]
}

test_the_choice_keeps_what_was_granted_before if {
	d := decide(object.union(smart_base, {
		"choice": {"scopes": [], "categories": []},
		"prior_grants": [{"client_id": "app-1", "scopes": ["offline_access"], "granted_at": "2025-01-01T00:00:00Z"}],
	}))
	d.chosen == ["fhirUser", "launch/patient", "offline_access", "openid"]
}

test_without_a_user_a_registered_system_scope_is_granted if {
	sys := object.union(obs, {"raw": "system/Observation.rs", "context": "system"})
	d := consent.decision with input as {
		"now": "2025-03-01T12:00:00Z",
		"client": {"client_id": "svc", "allowed_scopes": ["system/Observation.rs"]},
		"requested_scopes": ["system/Observation.rs"],
		"known_scopes": [],
		"prior_grants": [],
		"smart": {"requested": [sys], "registered": [sys]},
	}
	d.granted == ["system/Observation.rs"]
}

test_a_scope_granted_before_may_be_narrowed_on_reconsent if {
	d := decide(object.union(smart_base, {
		"choice": {"scopes": [], "categories": [{"scope": "patient/Observation.rs", "codes": ["vital-signs"]}]},
		"prior_grants": [{"client_id": "app-1", "scopes": ["patient/Observation.rs"], "granted_at": "2025-01-01T00:00:00Z"}],
	}))
	d.chosen == [
		"fhirUser", "launch/patient", "openid",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
	]
}
