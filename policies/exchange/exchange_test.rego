package assent.exchange_test

import data.assent.exchange

known := ["openid", "profile", "email", "offline_access", "uma_protection", "uma_authorization", "sharing_rules"]

base := {
	"now": "2025-06-01T12:00:00Z",
	"client": {"client_id": "app", "allowed_scopes": ["openid", "profile", "email", "offline_access", "uma_authorization", "sharing_rules"]},
	"subject": {"iss": "https://idp.example.org", "sub": "u-1", "email": "a@example.org", "email_verified": true, "linked_account": {"sub": "acct-1"}},
	"requested_scopes": ["openid", "email", "uma_authorization"],
	"known_scopes": known,
	"trusted_issuers": ["https://idp.example.org"],
}

unlinked := json.remove(base, ["subject/linked_account"])

test_a_linked_identity_gets_user_scopes if {
	d := exchange.decision with input as base
	d.granted == ["email", "openid", "uma_authorization"]
	d.denied == []
}

test_an_unlinked_identity_gets_only_non_user_scopes if {
	d := exchange.decision with input as unlinked
	d.granted == ["uma_authorization"]
	d.denied == [
		{"scope": "email", "reason": "requires_linked_account"},
		{"scope": "openid", "reason": "requires_linked_account"},
	]
}

test_an_untrusted_issuer_gets_nothing if {
	d := exchange.decision with input as object.union(base, {"trusted_issuers": ["https://other.example.org"]})
	d.granted == []
	d.denied == [
		{"scope": "email", "reason": "untrusted_issuer"},
		{"scope": "openid", "reason": "untrusted_issuer"},
		{"scope": "uma_authorization", "reason": "untrusted_issuer"},
	]
}

test_offline_access_is_never_exchanged if {
	d := exchange.decision with input as object.union(base, {"requested_scopes": ["openid", "offline_access"]})
	d.granted == ["openid"]
	d.denied == [{"scope": "offline_access", "reason": "never_exchanged"}]
}

test_record_management_scopes_need_the_consent_page if {
	d := exchange.decision with input as object.union(base, {"requested_scopes": ["sharing_rules"]})
	d.granted == []
	d.denied == [{"scope": "sharing_rules", "reason": "interactive_only"}]
}

test_unknown_and_unregistered_scopes_are_denied if {
	d := exchange.decision with input as object.union(base, {"requested_scopes": ["launch", "uma_protection", "profile"]})
	d.granted == ["profile"]
	d.denied == [
		{"scope": "launch", "reason": "unknown_scope"},
		{"scope": "uma_protection", "reason": "not_allowed_for_client"},
	]
}

test_duplicates_are_reported_once if {
	d := exchange.decision with input as object.union(base, {"requested_scopes": ["openid", "openid"]})
	d.granted == ["openid"]
}

test_nothing_requested_grants_nothing if {
	d := exchange.decision with input as object.union(base, {"requested_scopes": []})
	d.granted == []
	d.denied == []
}
