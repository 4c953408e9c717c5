# METADATA
# title: Introspection visibility
# description: |
#   Whether a client that introspects a token may learn what it is (RFC 7662 §4: the server
#   decides which tokens a caller may see). A token is visible to the client it was issued to,
#   to the resource servers named in its audience, and to a FHIR server whose registered
#   fhir_base_urls include one of its audiences (SMART App Launch: a token for a FHIR base is
#   meant for the server at that base). To anyone else it is just inactive.
package assent.introspection

default decision := {"visible": false}

decision := {"visible": true} if input.caller.client_id == input.token.client_id

decision := {"visible": true} if input.caller.client_id in input.token.aud

decision := {"visible": true} if {
	some base in input.caller.fhir_base_urls
	base in input.token.aud
}
