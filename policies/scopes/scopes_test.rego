package assent.scopes_test

import data.assent.scopes

scope(raw, context, type, permissions) := {"raw": raw, "context": context, "resourceType": type, "permissions": permissions, "version": "v2", "params": {}}

obs := scope("patient/Observation.rs", "patient", "Observation", "rs")

all_rs := scope("patient/*.rs", "patient", "*", "rs")

alice := {"sub": "a-1", "fhirUser": "Patient/alice", "patients": []}

smith := {"sub": "s-1", "fhirUser": "Practitioner/smith", "patients": ["alice", "bob"]}

base := {
	"now": "2025-03-01T12:00:00Z",
	"client": {"client_id": "app-1", "allowed_scopes": []},
	"user": alice,
	"requested_scopes": [],
	"known_scopes": [],
	"prior_grants": [],
	"smart": {"requested": [], "registered": [all_rs], "launch": {"patient": "alice"}},
}

# Decides `requested` (parsed `parsed`) with the base input changed by `overrides`.
decide(requested, parsed, overrides) := decision if {
	smart := object.union(base.smart, object.union({"requested": parsed}, object.get(overrides, "smart", {})))
	decision := scopes.decision with input as object.union(object.union(base, overrides), {"requested_scopes": requested, "smart": smart})
}

denied(requested, parsed, overrides) := {d.scope: d.reason | some d in decide(requested, parsed, overrides).denied}

test_a_malformed_smart_scope_is_denied if {
	denied(["patient/.rs", "patient/Observation.xyz"], [], {}) == {"patient/.rs": "malformed_scope", "patient/Observation.xyz": "malformed_scope"}
}

test_a_registered_wildcard_covers_a_narrower_request if {
	decide(["patient/Observation.rs"], [obs], {}).denied == []
}

test_widening_what_was_registered_is_denied if {
	wide := scope("patient/Observation.cruds", "patient", "Observation", "cruds")
	denied([wide.raw], [wide], {}) == {wide.raw: "not_allowed_for_client"}
}

test_another_context_than_registered_is_denied if {
	usr := scope("user/Observation.rs", "user", "Observation", "rs")
	denied([usr.raw], [usr], {}) == {usr.raw: "not_allowed_for_client"}
}

test_a_registered_category_constraint_must_be_kept if {
	lab := object.union(obs, {"raw": "patient/Observation.rs?category=lab", "params": {"category": ["lab"]}})
	denied([obs.raw], [obs], {"smart": {"registered": [lab]}}) == {obs.raw: "not_allowed_for_client"}
	decide([lab.raw], [lab], {"smart": {"registered": [lab]}}).denied == []
}

test_a_system_scope_needs_no_user if {
	sys := scope("system/Observation.rs", "system", "Observation", "rs")
	denied([sys.raw], [sys], {"smart": {"registered": [sys]}}) == {sys.raw: "requires_no_user"}
	without := scopes.decision with input as object.remove(object.union(base, {"requested_scopes": [sys.raw], "smart": {"requested": [sys], "registered": [sys]}}), ["user"])
	without.denied == []
}

test_a_patient_scope_needs_a_user if {
	d := scopes.decision with input as object.remove(object.union(base, {"requested_scopes": [obs.raw], "smart": {"requested": [obs], "registered": [all_rs]}}), ["user"])
	d.denied == [{"scope": obs.raw, "reason": "requires_user"}]
}

test_a_patient_gets_no_user_scope if {
	usr := scope("user/Observation.rs", "user", "Observation", "rs")
	reg := scope("user/*.rs", "user", "*", "rs")
	denied([usr.raw], [usr], {"smart": {"registered": [reg]}}) == {usr.raw: "requires_practitioner"}
	decide([usr.raw], [usr], {"user": smith, "smart": {"registered": [reg]}}).denied == []
}

test_no_patient_scope_without_a_patient_in_context if {
	nobody := {"requested": [obs], "registered": [all_rs]}
	d := scopes.decision with input as object.union(base, {"requested_scopes": [obs.raw]}) with input.smart as nobody
	d.denied == [{"scope": obs.raw, "reason": "no_patient_in_context"}]
	e := scopes.decision with input as object.union(base, {"user": smith, "requested_scopes": [obs.raw, "launch/patient"]}) with input.smart as nobody
	e.denied == [{"scope": obs.raw, "reason": "no_patient_in_context"}]
}

test_a_patients_launch_patient_will_put_her_in_context if {
	d := scopes.decision with input as object.union(base, {"requested_scopes": [obs.raw, "launch/patient"]}) with input.smart as {"requested": [obs], "registered": [all_rs]}
	d.denied == []
	d.locked == ["launch/patient"]
}

test_a_patient_in_context_outside_the_users_compartments_is_denied if {
	denied([obs.raw], [obs], {"smart": {"launch": {"patient": "bob"}}}) == {obs.raw: "patient_not_in_compartment"}
	denied([obs.raw], [obs], {"user": smith, "smart": {"launch": {"patient": "carol"}}}) == {obs.raw: "patient_not_in_compartment"}
	decide([obs.raw], [obs], {"user": smith, "smart": {"launch": {"patient": "bob"}}}).denied == []
}

test_fhir_user_needs_an_account_with_a_fhir_identity if {
	plain := object.union(object.remove(base, ["user"]), {"user": {"sub": "x", "patients": []}, "requested_scopes": ["fhirUser"]})
	d := scopes.decision with input as plain
	d.denied == [{"scope": "fhirUser", "reason": "requires_fhir_user"}]
	decide(["fhirUser"], [], {}).locked == ["fhirUser"]
}

test_launch_scopes_need_a_user if {
	d := scopes.decision with input as object.remove(object.union(base, {"requested_scopes": ["launch", "online_access"]}), ["user"])
	d.denied == [{"scope": "launch", "reason": "requires_user"}, {"scope": "online_access", "reason": "requires_user"}]
}

test_identity_and_launch_scopes_are_locked if {
	decide(["openid", "fhirUser", "launch", "launch/encounter", "offline_access"], [], {}).locked == ["fhirUser", "launch", "launch/encounter", "openid"]
}

test_a_readable_v2_observation_scope_may_be_narrowed_to_categories if {
	d := decide([obs.raw], [obs], {})
	d.categories == [{"scope": obs.raw, "codes": scopes.observation_categories}]
	v1 := object.union(obs, {"raw": "patient/Observation.read", "version": "v1"})
	decide([v1.raw], [v1], {}).categories == []
}

test_the_patients_categories_narrow_the_scope if {
	d := decide([obs.raw], [obs], {"choice": {"scopes": [obs.raw], "categories": [{"scope": obs.raw, "codes": ["vital-signs", "laboratory", "made-up"]}]}})
	d.narrowed == [{"scope": obs.raw, "into": [
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
	]}]
}

test_no_categories_chosen_keeps_the_whole_scope if {
	d := decide([obs.raw], [obs], {"choice": {"scopes": [obs.raw], "categories": [{"scope": obs.raw, "codes": []}]}})
	d.narrowed == []
}
