import { invalidRequest } from '../protocol/errors.js';

/** One item of a launch's `fhirContext` (SMART App Launch 2.x §"fhirContext"). */
export interface FhirContextItem {
  reference?: string;
  canonical?: string;
  identifier?: object;
  type?: string;
  role?: string;
}

/** The context a SMART app is launched with, as stored and as returned in the token response. */
export interface LaunchContext {
  patient?: string;
  encounter?: string;
  fhirContext?: FhirContextItem[];
  need_patient_banner?: boolean;
  smart_style_url?: string;
  intent?: string;
}

/** What an EHR asks for at POST /smart/launch: a context with a patient, optionally for one app. */
export interface LaunchRequest {
  context: LaunchContext & { patient: string };
  /** The app the launch is for; absent: any app may use it (once). */
  clientId?: string;
}

/** A FHIR logical id (FHIR R4 §2.26 "id"). */
const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;
const MEMBERS = new Set(['patient', 'encounter', 'fhirContext', 'need_patient_banner', 'smart_style_url', 'intent', 'client_id']);
const ITEM_MEMBERS = new Set(['reference', 'canonical', 'identifier', 'type', 'role']);
const MAX_TEXT = 1024;
const MAX_ITEMS = 20;

/** Checks the shape of a POST /smart/launch body; any other shape is invalid_request. */
export function parseLaunchRequest(body: unknown): LaunchRequest {
  if (!isObject(body)) throw invalidRequest('the body must be a JSON object');
  const unknown = Object.keys(body).filter((key) => !MEMBERS.has(key));
  if (unknown.length > 0) throw invalidRequest(`unknown members: ${unknown.join(', ')}`);
  const { patient, encounter, fhirContext, need_patient_banner: banner, smart_style_url: style, intent, client_id: clientId } = body;
  if (typeof patient !== 'string' || !FHIR_ID.test(patient)) throw invalidRequest('patient must be a FHIR id');
  if (encounter !== undefined && (typeof encounter !== 'string' || !FHIR_ID.test(encounter))) throw invalidRequest('encounter must be a FHIR id');
  if (banner !== undefined && typeof banner !== 'boolean') throw invalidRequest('need_patient_banner must be a boolean');
  if (style !== undefined && (typeof style !== 'string' || !isHttpUrl(style))) throw invalidRequest('smart_style_url must be an absolute http(s) URL');
  if (intent !== undefined && !isText(intent)) throw invalidRequest('intent must be a string');
  if (clientId !== undefined && !isText(clientId)) throw invalidRequest('client_id must be a string');
  return {
    context: {
      patient,
      ...(encounter !== undefined ? { encounter: encounter as string } : {}),
      ...(fhirContext !== undefined ? { fhirContext: parseFhirContext(fhirContext) } : {}),
      ...(banner !== undefined ? { need_patient_banner: banner } : {}),
      ...(style !== undefined ? { smart_style_url: style as string } : {}),
      ...(intent !== undefined ? { intent: intent as string } : {}),
    },
    ...(clientId !== undefined ? { clientId: clientId as string } : {}),
  };
}

function parseFhirContext(value: unknown): FhirContextItem[] {
  if (!Array.isArray(value) || value.length > MAX_ITEMS) throw invalidRequest(`fhirContext must be an array of at most ${MAX_ITEMS} objects`);
  return value.map((item: unknown) => {
    if (!isObject(item) || Object.keys(item).some((key) => !ITEM_MEMBERS.has(key))) {
      throw invalidRequest('each fhirContext item is an object of reference, canonical, identifier, type and role');
    }
    const { reference, canonical, identifier, type, role } = item;
    if (reference === undefined && canonical === undefined && identifier === undefined) throw invalidRequest('each fhirContext item needs a reference, canonical or identifier');
    for (const [name, text] of Object.entries({ reference, canonical, type, role })) {
      if (text !== undefined && !isText(text)) throw invalidRequest(`fhirContext ${name} must be a non-empty string`);
    }
    if (identifier !== undefined && (!isObject(identifier) || JSON.stringify(identifier).length > MAX_TEXT)) throw invalidRequest('fhirContext identifier must be a FHIR Identifier object');
    return item as FhirContextItem;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && value.length <= MAX_TEXT;
  } catch {
    return false;
  }
}
