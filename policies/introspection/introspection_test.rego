package assent.introspection_test

import data.assent.introspection

token := {"client_id": "app", "aud": ["https://fhir.example.org", "rs-1"], "token_type": "Bearer"}

caller(client_id) := {"client_id": client_id, "fhir_base_urls": []}

test_the_client_the_token_was_issued_to_sees_it if {
	introspection.decision.visible with input as {"caller": caller("app"), "token": token}
}

test_a_resource_server_in_the_audience_sees_it if {
	introspection.decision.visible with input as {"caller": caller("rs-1"), "token": token}
}

test_anyone_else_does_not if {
	not introspection.decision.visible with input as {"caller": caller("rs-2"), "token": token}
}

test_an_empty_audience_shows_nothing_to_strangers if {
	not introspection.decision.visible with input as {"caller": caller("rs-2"), "token": object.union(token, {"aud": []})}
}

smart_token := {"client_id": "smart-app", "aud": ["https://fhir.example.org/r4"], "token_type": "Bearer"}

fhir_server := {"client_id": "fhir-server", "fhir_base_urls": ["https://other.example.org/fhir", "https://fhir.example.org/r4"]}

test_a_fhir_server_sees_a_token_for_one_of_its_bases if {
	introspection.decision.visible with input as {"caller": fhir_server, "token": smart_token}
}

test_a_fhir_server_does_not_see_a_token_for_another_base if {
	not introspection.decision.visible with input as {"caller": fhir_server, "token": object.union(smart_token, {"aud": ["https://fhir.example.org/r5"]})}
}

test_a_base_is_compared_whole_not_as_a_prefix if {
	not introspection.decision.visible with input as {"caller": fhir_server, "token": object.union(smart_token, {"aud": ["https://fhir.example.org"]})}
}

test_a_fhir_server_does_not_see_a_token_meant_for_the_issuer if {
	not introspection.decision.visible with input as {"caller": fhir_server, "token": object.union(smart_token, {"aud": ["https://assent.example"]})}
}

test_a_fhir_server_does_not_see_a_refresh_token_of_another_client if {
	not introspection.decision.visible with input as {"caller": fhir_server, "token": {"client_id": "smart-app", "aud": ["smart-app"], "token_type": "refresh_token"}}
}
