import { startDemoWithAssent, type DemoWithAssent } from '../support/demo.js';
import { storeBackends } from '../support/stores.js';

interface Bundle {
  resourceType: 'Bundle';
  entry: { resource: { resourceType: string; id: string } }[];
}

/**
 * Scope and compartment enforcement with real Assent tokens (aud = the demo FHIR base, SMART
 * context claims), introspected at Assent by the demo FHIR server's own client. Needs Assent's
 * introspection to show such tokens to the client whose fhir_base_urls holds their aud, with
 * `patient` and `fhirUser` (issue 11 point 11).
 */
describe.each(storeBackends)('demo FHIR server enforcing Assent tokens ($name store)', (backend) => {
  let setup: DemoWithAssent;
  let base: string;
  beforeAll(async () => {
    setup = await startDemoWithAssent(backend);
    base = setup.demo.address.base;
  });
  afterAll(() => setup?.stop());

  const get = (path: string, token: string) => fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const ids = async (response: Response) => ((await response.json()) as Bundle).entry.map((e) => e.resource.id).sort();
  const alice = (scopes: string[]) => setup.smartToken('alice@example.org', ['openid', 'fhirUser', 'launch/patient', ...scopes], { patient: 'alice' });

  it('patient/*.rs with alice in context: her Patient and her resources, Bundles for searches', async () => {
    const token = await alice(['patient/*.rs']);
    const patient = await get('/Patient/alice', token);
    expect(patient.status).toBe(200);
    expect(await patient.json()).toMatchObject({ resourceType: 'Patient', id: 'alice' });
    const observations = await get('/Observation?patient=alice', token);
    expect(observations.status).toBe(200);
    expect(await ids(observations)).toEqual(['alice-cholesterol', 'alice-hba1c', 'alice-heart-rate']);
    expect(await ids(await get('/Condition', token))).toEqual(['alice-asthma']);
  });

  it("keeps alice's token out of bob's compartment: a read is 403, a search finds nothing", async () => {
    const token = await alice(['patient/*.rs']);
    const read = await get('/Patient/bob', token);
    expect(read.status).toBe(403);
    expect(read.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(await ids(await get('/Observation?patient=bob', token))).toEqual([]);
  });

  it('a category-constrained scope shows that category only; a type without a scope is 403 insufficient_scope', async () => {
    const token = await alice(['patient/Observation.rs?category=laboratory']);
    expect(await ids(await get('/Observation?patient=alice', token))).toEqual(['alice-cholesterol', 'alice-hba1c']);
    expect(await ids(await get('/Observation?patient=alice&category=vital-signs', token))).toEqual([]);
    const conditions = await get('/Condition?patient=alice', token);
    expect(conditions.status).toBe(403);
    expect(conditions.headers.get('www-authenticate')).toBe('Bearer realm="assent-demo-fhir", error="insufficient_scope", scope="patient/Condition.s"');
  });

  it('v1 scopes: patient/Condition.read reads and searches Conditions', async () => {
    const token = await alice(['patient/Condition.read']);
    expect((await get('/Condition/alice-asthma', token)).status).toBe(200);
    expect(await ids(await get('/Condition?patient=alice', token))).toEqual(['alice-asthma']);
    expect((await get('/MedicationStatement?patient=alice', token)).status).toBe(403);
  });

  it("user/ scopes of a patient reach their own compartment (fhirUser): bob's token sees bob", async () => {
    const token = await setup.smartToken('bob@example.org', ['openid', 'fhirUser', 'user/*.rs']);
    expect(await ids(await get('/MedicationStatement', token))).toEqual(['bob-lisinopril']);
    expect((await get('/Patient/alice', token)).status).toBe(403);
  });
});
