# METADATA
# title: SMART scopes
# description: |
#   Decides the SMART scopes of a request (SMART App Launch 2.2): resource scopes, parsed once by
#   the server into context/type/permissions/params, and the launch and identity scopes. A scope is
#   denied with a reason when it is malformed, not covered by what the client registered (narrowing
#   allowed, widening not), wrong for the user (a patient gets no user/ scope, system/ scopes only
#   without a user), or names a patient compartment that is not in context. It lists the scopes
#   shown locked, the Observation scopes the patient may narrow to categories and, once the patient
#   chose, what each narrowed scope becomes. The consent entrypoint imports it for the SMART part.
#   Pure: the same input always gives the same result.
package assent.scopes

# Shown locked on the consent page: identity and launch context, not the patient's choice.
locked_scopes := {"openid", "fhirUser", "launch", "launch/patient", "launch/encounter"}

# SMART scopes that are not resource scopes and need a user behind the request.
named_scopes := {"fhirUser", "launch", "launch/patient", "launch/encounter", "online_access"}

category_system := "http://terminology.hl7.org/CodeSystem/observation-category"

observation_categories := ["activity", "exam", "imaging", "laboratory", "procedure", "social-history", "survey", "therapy", "vital-signs"]

requested := {s | some s in input.requested_scopes}

parsed[scope.raw] := scope if {
	some scope in input.smart.requested
}

registered := input.smart.registered

fhir_user := object.get(input, ["user", "fhirUser"], "")

user_is_patient if startswith(fhir_user, "Patient/")

user_is_practitioner if startswith(fhir_user, "Practitioner/")

context_patient := input.smart.launch.patient

# A resource scope registered by the client covers a requested one of the same context and type
# (or `*`) with no more permissions and at least the registered constraints.
covers(reg, req) if {
	reg.context == req.context
	reg.resourceType in {"*", req.resourceType}
	every letter in split(req.permissions, "") {
		contains(reg.permissions, letter)
	}
	every name, values in reg.params {
		every value in values {
			value in object.get(req.params, name, [])
		}
	}
}

registered_for(req) if {
	some reg in registered
	covers(reg, req)
}

# A patient compartment is, or will be, in context.
patient_in_context if context_patient

patient_in_context if {
	not context_patient
	"launch/patient" in requested
	user_is_patient
}

denial_reasons[scope] := reason if {
	some scope in requested
	reason := denial_reason(scope)
}

denial_reason(scope) := "malformed_scope" if {
	regex.match(`^(patient|user|system)/`, scope)
	not parsed[scope]
} else := reason if {
	reason := resource_denial(parsed[scope])
} else := reason if {
	scope in named_scopes
	reason := named_denial(scope)
}

resource_denial(req) := "not_allowed_for_client" if {
	not registered_for(req)
} else := "requires_no_user" if {
	req.context == "system"
	input.user
} else := "requires_user" if {
	req.context != "system"
	not input.user
} else := "requires_practitioner" if {
	req.context == "user"
	not user_is_practitioner
} else := "no_patient_in_context" if {
	req.context == "patient"
	not patient_in_context
} else := "patient_not_in_compartment" if {
	req.context == "patient"
	not may_reach_context_patient
}

may_reach_context_patient if not context_patient

may_reach_context_patient if fhir_user == ""

may_reach_context_patient if fhir_user == concat("/", ["Patient", context_patient])

may_reach_context_patient if {
	user_is_practitioner
	context_patient in input.user.patients
}

named_denial(scope) := "requires_user" if {
	not input.user
} else := "requires_fhir_user" if {
	scope == "fhirUser"
	fhir_user == ""
}

denied_scopes := {scope | some scope, _ in denial_reasons}

eligible := requested - denied_scopes

# Observation scopes the patient may narrow to categories: v2, readable, not already constrained.
narrowable contains scope if {
	some scope in eligible
	req := parsed[scope]
	req.version == "v2"
	req.resourceType == "Observation"
	regex.match(`[rs]`, req.permissions)
	not req.params.category
}

# What each narrowed scope becomes once the patient chose categories for it (input.choice).
narrowed[scope] := sort(into) if {
	some pick in input.choice.categories
	scope := pick.scope
	scope in narrowable
	into := {concat("", [scope, "?category=", category_system, "|", code]) |
		some code in pick.codes
		code in observation_categories
	}
	count(into) > 0
}

# The entrypoint (policies/entrypoints.json): arrays are sorted and free of duplicates.
decision := {
	"denied": [{"scope": scope, "reason": denial_reasons[scope]} | some scope in sort(denied_scopes)],
	"locked": sort(eligible & locked_scopes),
	"categories": [{"scope": scope, "codes": observation_categories} | some scope in sort(narrowable)],
	"narrowed": [{"scope": scope, "into": narrowed[scope]} | some scope in sort(object.keys(narrowed))],
}
