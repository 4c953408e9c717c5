package assent.access_test

import data.assent.access

issuer := "https://assent.example"

owner_token := {"scope": "openid uma_protection sharing_rules", "sub": "patient-1", "client_id": "rs-1", "aud": [issuer]}

bearer(api, token) := d if {
	d := access.decision with input as {"api": api, "now": "2026-12-02T06:00:00Z", "issuer": issuer, "token": token}
}

link(now, auth_time) := d if {
	d := access.decision with input as {"api": "link_identity", "now": now, "session": {"sub": "patient-1", "auth_time": auth_time}}
}

test_a_pat_granted_by_the_owner_may_use_the_protection_api if {
	bearer("uma_protection", owner_token).allow
}

test_the_protection_api_does_not_look_at_the_audience if {
	bearer("uma_protection", object.union(owner_token, {"aud": ["https://elsewhere.example"]})).allow
}

test_a_token_without_uma_protection_is_insufficient if {
	bearer("uma_protection", object.union(owner_token, {"scope": "openid"})) == {
		"allow": false,
		"error": "insufficient_scope",
		"required_scope": "uma_protection",
		"reason": "a protection API token (scope uma_protection, granted by the resource owner) is required",
	}
}

test_a_client_acting_for_itself_is_no_owner if {
	d := bearer("uma_protection", object.union(owner_token, {"sub": "rs-1"}))
	d.error == "insufficient_scope"
	not d.allow
}

test_a_token_without_a_subject_is_no_owner if {
	d := bearer("uma_protection", object.remove(owner_token, ["sub"]))
	d.error == "insufficient_scope"
	bearer("uma_protection", object.union(owner_token, {"sub": ""})).error == "insufficient_scope"
}

test_the_owner_api_takes_a_token_granted_by_the_owner_for_this_server if {
	bearer("sharing_rules", owner_token) == {"allow": true, "reason": "a sharing-rules token granted by the owner"}
}

test_the_owner_api_refuses_a_token_for_another_server_as_invalid if {
	bearer("sharing_rules", object.union(owner_token, {"aud": ["https://elsewhere.example"], "scope": "openid"})) == {
		"allow": false,
		"error": "invalid_token",
		"reason": "the access token is not meant for this server",
	}
}

test_the_owner_api_needs_scope_sharing_rules_granted_by_the_owner if {
	bearer("sharing_rules", object.union(owner_token, {"scope": "uma_protection"})).required_scope == "sharing_rules"
	bearer("sharing_rules", object.union(owner_token, {"sub": "rs-1"})).error == "insufficient_scope"
}

test_an_aat_may_be_a_client_acting_for_itself if {
	bearer("uma_authorization", {"scope": "uma_authorization", "client_id": "app-1", "aud": [issuer]}).allow
}

test_an_aat_for_another_server_is_invalid if {
	bearer("uma_authorization", {"scope": "uma_authorization", "client_id": "app-1", "aud": []}) == {
		"allow": false,
		"error": "invalid_token",
		"reason": "the access token is invalid, expired or revoked",
	}
}

test_an_aat_needs_scope_uma_authorization if {
	bearer("uma_authorization", {"scope": "", "client_id": "app-1", "aud": [issuer]}).required_scope == "uma_authorization"
}

test_userinfo_needs_openid_only if {
	bearer("userinfo", {"scope": "openid", "sub": "patient-1", "client_id": "app-1", "aud": []}).allow
	bearer("userinfo", object.union(owner_token, {"scope": "profile email"})) == {
		"allow": false,
		"error": "insufficient_scope",
		"required_scope": "openid",
		"reason": "the access token lacks the openid scope",
	}
}

test_scopes_match_whole_words if {
	not bearer("userinfo", object.union(owner_token, {"scope": "openid_extra"})).allow
}

test_an_unknown_api_is_refused if {
	bearer("admin", owner_token) == {"allow": false, "error": "invalid_request", "reason": "no such API"}
}

test_a_sign_in_up_to_ten_minutes_old_may_link if {
	link("2026-12-02T06:10:00.999Z", 1796191200).allow # 06:00:00, 600.999 s ago
	link("2026-12-02T06:00:00Z", 1796191200).allow
}

test_a_sign_in_in_the_future_may_link if {
	link("2026-12-02T05:59:00Z", 1796191200).allow
}

test_an_older_sign_in_must_log_in_again if {
	link("2026-12-02T06:10:01Z", 1796191200) == {
		"allow": false,
		"error": "login_required",
		"reason": "linking an identity needs a sign-in at most 600 seconds old",
	}
}

pick(account, patient) := d if {
	d := access.decision with input as {"api": "pick_patient", "now": "2026-12-02T06:00:00Z", "account": account, "patient": patient}
}

test_an_ehr_token_may_create_launches if {
	bearer("smart_launch", {"scope": "smart/launch", "sub": "ehr-1", "client_id": "ehr-1", "aud": [issuer]}) == {"allow": true, "reason": "an EHR's launch token"}
}

test_creating_launches_needs_scope_smart_launch if {
	bearer("smart_launch", {"scope": "openid", "sub": "ehr-1", "client_id": "ehr-1", "aud": [issuer]}) == {
		"allow": false,
		"error": "insufficient_scope",
		"required_scope": "smart/launch",
		"reason": "an access token with scope smart/launch is required",
	}
}

test_a_launch_token_for_another_server_is_invalid if {
	bearer("smart_launch", {"scope": "smart/launch", "client_id": "ehr-1", "aud": ["https://fhir.example"]}).error == "invalid_token"
}

test_a_patient_may_pick_only_itself if {
	pick({"sub": "a-1", "fhirUser": "Patient/alice", "patients": []}, "alice").allow
	pick({"sub": "a-1", "fhirUser": "Patient/alice", "patients": []}, "bob") == {"allow": false, "error": "access_denied", "reason": "this account may not choose that patient"}
}

test_a_patient_listing_patients_still_reaches_only_itself if {
	not pick({"sub": "a-1", "fhirUser": "Patient/alice", "patients": ["bob"]}, "bob").allow
}

test_a_practitioner_may_pick_its_patients_only if {
	smith := {"sub": "s-1", "fhirUser": "Practitioner/smith", "patients": ["alice", "bob"]}
	pick(smith, "alice").allow
	pick(smith, "bob").allow
	pick(smith, "carol").error == "access_denied"
	not pick(smith, "smith").allow
}

test_an_account_without_a_fhir_identity_picks_nobody if {
	pick({"sub": "x-1", "patients": ["alice"]}, "alice").error == "access_denied"
}

admin_input(roles) := {"api": "token_administration", "now": "2026-12-02T06:00:00Z", "account": {"sub": "acct-1", "roles": roles}}

test_an_admin_may_administer_tokens if {
	access.decision.allow with input as admin_input(["admin"])
}

test_an_admin_among_other_roles_may_administer_tokens if {
	access.decision.allow with input as admin_input(["auditor", "admin"])
}

test_an_account_without_the_admin_role_may_not if {
	access.decision == {"allow": false, "error": "access_denied", "reason": "token administration needs an account with the admin role"} with input as admin_input([])
	not access.decision.allow with input as admin_input(["Admin", "administrator"])
}
