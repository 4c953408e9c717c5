package assent.introspection_test

import data.assent.introspection

token := {"client_id": "app", "aud": ["https://fhir.example.org", "rs-1"], "token_type": "Bearer"}

test_the_client_the_token_was_issued_to_sees_it if {
	introspection.decision.visible with input as {"caller": {"client_id": "app"}, "token": token}
}

test_a_resource_server_in_the_audience_sees_it if {
	introspection.decision.visible with input as {"caller": {"client_id": "rs-1"}, "token": token}
}

test_anyone_else_does_not if {
	not introspection.decision.visible with input as {"caller": {"client_id": "rs-2"}, "token": token}
}

test_an_empty_audience_shows_nothing_to_strangers if {
	not introspection.decision.visible with input as {"caller": {"client_id": "rs-2"}, "token": object.union(token, {"aud": []})}
}
