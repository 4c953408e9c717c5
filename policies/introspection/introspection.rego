# METADATA
# title: Introspection visibility
# description: |
#   Whether a client that introspects a token may learn what it is (RFC 7662 §4: the server
#   decides which tokens a caller may see). A token is visible to the client it was issued to
#   and to the resource servers named in its audience; to anyone else it is just inactive.
package assent.introspection

default decision := {"visible": false}

decision := {"visible": true} if input.caller.client_id == input.token.client_id

decision := {"visible": true} if input.caller.client_id in input.token.aud
