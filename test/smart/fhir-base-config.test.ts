import { ConfigError, loadConfig } from '../../server/config/config.js';
import { normalizeFhirBase } from '../../server/smart/fhir-base.js';

describe('the FHIR servers Assent protects (ASSENT_FHIR_BASE_URLS)', () => {
  it('reads a comma-separated list and drops one trailing slash of each', () => {
    expect(loadConfig({ ASSENT_FHIR_BASE_URLS: 'https://fhir.example.org/r4/, http://localhost:4400/fhir' }).fhirBaseUrls).toEqual(['https://fhir.example.org/r4', 'http://localhost:4400/fhir']);
  });

  it('is empty when unset', () => {
    expect(loadConfig({}).fhirBaseUrls).toEqual([]);
  });

  it('refuses an entry that is not an absolute http(s) URL, naming the key', () => {
    expect(() => loadConfig({ ASSENT_FHIR_BASE_URLS: 'fhir.example.org' })).toThrow(ConfigError);
    expect(() => loadConfig({ ASSENT_FHIR_BASE_URLS: 'fhir.example.org' })).toThrow(/fhirBaseUrls/);
  });

  it('normalises exactly one trailing slash', () => {
    expect(normalizeFhirBase('https://f.example/r4/')).toBe('https://f.example/r4');
    expect(normalizeFhirBase('https://f.example/r4')).toBe('https://f.example/r4');
  });
});
