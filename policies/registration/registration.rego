# METADATA
# title: Client registration
# description: |
#   Which scopes and metadata members a client registration may hold, by where it comes from.
#   Privileged roles are given by the operator (ASSENT_CLIENTS), never by open registration
#   (RFC 7591/7592 at /register): whoever can reach /register could otherwise make themselves
#   an EHR creating launch contexts (smart/launch), a policy enforcement point asking for any
#   patient's decisions (access_evaluation), a Backend Services client reading every patient
#   (system/ scopes, granted without a user), or a FHIR server's client that may introspect
#   every token meant for that server (fhir_base_urls).
#   Scopes that a user must grant at consent (uma_protection, sharing_rules, patient/, user/,
#   openid, ...) are not privileged: registering them gives nothing until a person agrees.
#   A privileged item from an untrusted source is refused, not dropped: the registrant asked
#   for a role it cannot have, and registering a client without it would fail later and less
#   clearly (RFC 7591 §3.2.2 invalid_client_metadata).
#   Pure: the same input always gives the same result.
package assent.registration

# Sources that may give privileged scopes and members.
trusted_sources := {"operator"}

privileged_scopes := {"smart/launch", "access_evaluation"}

privileged_members := {"fhir_base_urls"}

privileged_scope(scope) if scope in privileged_scopes

# SMART Backend Services: system/ scopes reach every patient with no user behind the request.
privileged_scope(scope) if startswith(scope, "system/")

refused_scopes contains scope if {
	not input.source in trusted_sources
	some scope in input.scopes
	privileged_scope(scope)
}

refused_members contains member if {
	not input.source in trusted_sources
	some member in input.members
	member in privileged_members
}

refused := array.concat(
	[{"kind": "scope", "name": s, "reason": "operator_only"} | some s in sort(refused_scopes)],
	[{"kind": "member", "name": m, "reason": "operator_only"} | some m in sort(refused_members)],
)

# The entrypoint (policies/entrypoints.json).
decision := {"allow": count(refused) == 0, "refused": refused}
