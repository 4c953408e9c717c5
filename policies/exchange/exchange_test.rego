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
	"prior_grants": [
		{"client_id": "app", "scopes": ["openid", "email", "profile"], "granted_at": "2025-05-01T12:00:00Z"},
		{"client_id": "other-app", "scopes": ["openid", "email", "profile", "offline_access"], "granted_at": "2025-05-02T12:00:00Z"},
	],
}

unlinked := object.union(json.remove(base, ["subject/linked_account"]), {"prior_grants": []})

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

test_a_linked_identity_gets_only_user_scopes_its_holder_granted_this_client if {
	d := exchange.decision with input as object.union(base, {"prior_grants": [{"client_id": "app", "scopes": ["openid"], "granted_at": "2025-05-01T12:00:00Z"}]})
	d.granted == ["openid", "uma_authorization"]
	d.denied == [{"scope": "email", "reason": "not_consented"}]
}

test_a_grant_to_another_client_does_not_count if {
	d := exchange.decision with input as object.union(base, {"prior_grants": [{"client_id": "other-app", "scopes": ["openid", "email"], "granted_at": "2025-05-01T12:00:00Z"}]})
	d.granted == ["uma_authorization"]
	d.denied == [
		{"scope": "email", "reason": "not_consented"},
		{"scope": "openid", "reason": "not_consented"},
	]
}

# Every requested scope lands in exactly one place (a scope with two reasons would be a conflict error).
test_every_scope_is_granted_or_denied_exactly_once if {
	every inp in [base, unlinked, object.union(base, {"prior_grants": []}), object.union(base, {"trusted_issuers": []})] {
		asked := object.union(inp, {"requested_scopes": array.concat(known, ["unknown"]), "client": {"client_id": "app", "allowed_scopes": known}})
		d := exchange.decision with input as asked
		count(d.granted) + count(d.denied) == count(known) + 1
	}
}
