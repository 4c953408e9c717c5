import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The few members of a FHIR R4 resource the demo server reads; the rest is served as stored. */
export interface FhirResource {
  resourceType: string;
  id: string;
  subject?: { reference?: string };
  category?: { coding?: { system?: string; code?: string }[] }[];
  meta?: { security?: { system?: string; code?: string }[] };
  [member: string]: unknown;
}

/** The demo's seeded resources (demo/data/*.json, one array per patient), held in memory, read-only. */
export class ResourceStore {
  private constructor(private readonly resources: FhirResource[]) {}

  static async load(dir: string): Promise<ResourceStore> {
    const files = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
    const lists = await Promise.all(files.map(async (name) => JSON.parse(await readFile(path.join(dir, name), 'utf8')) as FhirResource[]));
    return new ResourceStore(lists.flat());
  }

  read(type: string, id: string): FhirResource | undefined {
    return this.resources.find((r) => r.resourceType === type && r.id === id);
  }

  /** Every resource of the type; `patient` keeps those in that patient's compartment. */
  search(type: string, patient?: string): FhirResource[] {
    return this.resources.filter((r) => r.resourceType === type && (patient === undefined || patientOf(r) === patient));
  }

  /** The patients with resources here, in file order (what the demo registers over UMA). */
  patients(): string[] {
    return this.resources.filter((r) => r.resourceType === 'Patient').map((r) => r.id);
  }

  types(): string[] {
    return [...new Set(this.resources.map((r) => r.resourceType))];
  }
}

/** The patient whose compartment holds the resource: the Patient itself, or its subject. */
export function patientOf(resource: FhirResource): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  return /^Patient\/([^/]+)$/.exec(resource.subject?.reference ?? '')?.[1];
}

/** The resource's category codings as `system|code`. */
export function categoriesOf(resource: FhirResource): { system?: string; code?: string }[] {
  return (resource.category ?? []).flatMap((c) => c.coding ?? []);
}
