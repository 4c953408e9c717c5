package assent.claims_test

import data.assent.claims

dr := {"iss": "https://as.example.org", "sub": "dr-1", "email": "dr@clinic.org", "email_verified": true, "claims": {"npi": "1234567890"}}

meds := {"resource_id": "r-meds", "type": "MedicationStatement", "resource_scopes": ["read"]}

labs := {"resource_id": "r-labs", "type": "Observation", "resource_scopes": ["read", "write"]}

base := {
	"now": "2026-03-01T12:00:00Z",
	"owner": {"sub": "alice"},
	"client": {"client_id": "app"},
	"requesting_party": dr,
	"ticket": {"resources": [meds]},
	"rules": [],
	"approvals": [],
	"refused_before": false,
}

allow(id, grantee) := {"id": id, "effect": "allow", "grantee": grantee, "resources": {"all": true}}

decide(overrides) := d if {
	d := claims.decision with input as object.union(base, overrides)
}

test_nobody_identified_needs_info if {
	d := claims.decision with input as object.remove(base, ["requesting_party"])
	d.outcome == "need_info"
	d.required_claims[0].name == "sub"
	d.permissions == []
}

test_email_rule_grants if {
	d := decide({"rules": [allow("r1", {"email": "DR@clinic.org"})]})
	d == {"outcome": "grant", "permissions": [{"resource_id": "r-meds", "resource_scopes": ["read"]}], "required_claims": [], "because": ["r1"]}
}

test_unverified_email_does_not_match if {
	d := decide({"requesting_party": object.union(dr, {"email_verified": false}), "rules": [allow("r1", {"email": "dr@clinic.org"})]})
	d.outcome == "request_submitted"
}

test_rule_may_waive_verification if {
	rule := object.union(allow("r1", {"email": "dr@clinic.org"}), {"conditions": {"email_verified": false}})
	d := decide({"requesting_party": object.union(dr, {"email_verified": false}), "rules": [rule]})
	d.outcome == "grant"
}

test_email_domain_rule_grants if {
	decide({"rules": [allow("r1", {"email_domain": "clinic.org"})]}).outcome == "grant"
}

test_email_domain_needs_the_at_sign if {
	d := decide({"requesting_party": object.union(dr, {"email": "dr@evilclinic.org"}), "rules": [allow("r1", {"email_domain": "clinic.org"})]})
	d.outcome == "request_submitted"
}

test_issuer_subject_rule_grants if {
	decide({"rules": [allow("r1", {"issuer": "https://as.example.org", "subject": "dr-1"})]}).outcome == "grant"
}

test_issuer_subject_rule_needs_both_to_match if {
	decide({"rules": [allow("r1", {"issuer": "https://other.example", "subject": "dr-1"})]}).outcome == "request_submitted"
}

test_claim_rule_grants if {
	decide({"rules": [allow("r1", {"claim": {"name": "npi", "value": "1234567890"}})]}).outcome == "grant"
}

test_deny_wins_over_allow if {
	deny := {"id": "d1", "effect": "deny", "grantee": {"email_domain": "clinic.org"}, "resources": {"types": ["MedicationStatement"]}}
	d := decide({"rules": [allow("r1", {"email": "dr@clinic.org"}), deny]})
	d.outcome == "request_denied"
	d.because == ["d1"]
	d.permissions == []
}

test_expired_rule_does_not_apply if {
	rule := object.union(allow("r1", {"email": "dr@clinic.org"}), {"conditions": {"valid_until": "2026-02-01T00:00:00Z"}})
	decide({"rules": [rule]}).outcome == "request_submitted"
}

test_rule_not_yet_valid_does_not_apply if {
	rule := object.union(allow("r1", {"email": "dr@clinic.org"}), {"conditions": {"valid_from": "2026-04-01T00:00:00Z"}})
	decide({"rules": [rule]}).outcome == "request_submitted"
}

test_rule_within_its_window_applies if {
	rule := object.union(allow("r1", {"email": "dr@clinic.org"}), {"conditions": {"valid_from": "2026-01-01T00:00:00Z", "valid_until": "2026-06-01T00:00:00Z"}})
	decide({"rules": [rule]}).outcome == "grant"
}

test_required_issuer if {
	rule := object.union(allow("r1", {"email": "dr@clinic.org"}), {"conditions": {"issuers": ["https://accounts.google.com"]}})
	decide({"rules": [rule]}).outcome == "request_submitted"
	decide({"rules": [rule], "requesting_party": object.union(dr, {"iss": "https://accounts.google.com"})}).outcome == "grant"
}

test_rule_scoped_to_types_and_scopes if {
	rule := {"id": "r1", "effect": "allow", "grantee": {"email": "dr@clinic.org"}, "resources": {"types": ["Observation"]}, "scopes": ["read"]}
	d := decide({"ticket": {"resources": [labs]}, "rules": [rule]})
	d.outcome == "request_submitted"
	decide({"ticket": {"resources": [object.union(labs, {"resource_scopes": ["read"]})]}, "rules": [rule]}).outcome == "grant"
}

test_rule_for_resource_a_does_not_open_resource_b if {
	rule := {"id": "r1", "effect": "allow", "grantee": {"email": "dr@clinic.org"}, "resources": {"ids": ["r-labs"]}}
	decide({"rules": [rule]}).outcome == "request_submitted"
}

test_several_resources_need_all_allowed if {
	rule := {"id": "r1", "effect": "allow", "grantee": {"email": "dr@clinic.org"}, "resources": {"ids": ["r-meds", "r-labs"]}}
	d := decide({"ticket": {"resources": [meds, labs]}, "rules": [rule]})
	d.outcome == "grant"
	d.permissions == [
		{"resource_id": "r-labs", "resource_scopes": ["read", "write"]},
		{"resource_id": "r-meds", "resource_scopes": ["read"]},
	]
}

test_one_off_approval_grants_until_it_expires if {
	approval := {"id": "a1", "requesting_party": {"iss": dr.iss, "sub": dr.sub}, "resource_id": "r-meds", "resource_scopes": ["read"], "expires_at": "2026-03-02T00:00:00Z"}
	d := decide({"approvals": [approval]})
	d.outcome == "grant"
	d.because == ["approval:a1"]
	decide({"approvals": [approval], "now": "2026-03-03T00:00:00Z"}).outcome == "request_submitted"
}

test_approval_is_for_that_party_only if {
	approval := {"id": "a1", "requesting_party": {"iss": dr.iss, "sub": "someone-else"}, "resource_id": "r-meds", "resource_scopes": ["read"], "expires_at": "2026-03-02T00:00:00Z"}
	decide({"approvals": [approval]}).outcome == "request_submitted"
}

test_owner_refused_before_denies if {
	decide({"refused_before": true}).outcome == "request_denied"
}

test_owner_refused_before_but_a_rule_now_allows if {
	decide({"refused_before": true, "rules": [allow("r1", {"email": "dr@clinic.org"})]}).outcome == "grant"
}

# --- the owner's own access ----------------------------------------------------------------------

alice_signed_in := {"iss": "https://as.example.org", "sub": "alice", "email": "alice@example.org", "email_verified": true}

test_owner_gets_her_own_resources_without_any_rule if {
	d := decide({"requesting_party": alice_signed_in, "requesting_account": {"sub": "alice"}, "ticket": {"resources": [meds, labs]}})
	d == {
		"outcome": "grant",
		"permissions": [
			{"resource_id": "r-labs", "resource_scopes": ["read", "write"]},
			{"resource_id": "r-meds", "resource_scopes": ["read"]},
		],
		"required_claims": [],
		"because": ["owner"],
	}
}

test_owner_through_a_linked_upstream_identity if {
	upstream := {"iss": "https://accounts.google.example", "sub": "g-123", "email": "alice@gmail.example", "email_verified": true}
	d := decide({"requesting_party": upstream, "requesting_account": {"sub": "alice"}})
	d.outcome == "grant"
	d.because == ["owner"]
}

test_owner_is_not_bound_by_her_own_deny_rules_or_refusals if {
	deny := {"id": "d1", "effect": "deny", "grantee": {"email": "alice@example.org"}, "resources": {"all": true}}
	d := decide({"requesting_party": alice_signed_in, "requesting_account": {"sub": "alice"}, "rules": [deny], "refused_before": true})
	d.outcome == "grant"
	d.because == ["owner"]
}

test_another_account_is_not_the_owner if {
	d := decide({"requesting_account": {"sub": "dr-1"}})
	d.outcome == "request_submitted"
	d.because == []
}

test_the_owners_email_alone_does_not_make_the_owner if {
	# Same email, different account (or an unlinked identity): the rules decide as for anyone.
	d := decide({"requesting_party": object.union(dr, {"email": "alice@example.org"})})
	d.outcome == "request_submitted"
}
