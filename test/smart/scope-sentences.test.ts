import { describeScope } from '../../server/smart/scope-sentences.js';

describe('describeScope (plain language on the connected-apps page)', () => {
  it.each([
    ['openid', 'confirm who you are'],
    ['launch/patient', 'be told which patient is chosen'],
    ['patient/Observation.rs', 'read and search the patient’s Observation records'],
    ['patient/*.read', 'read and search the patient’s records of every kind'],
    ['user/MedicationRequest.cruds', 'create, read, update, delete and search your MedicationRequest records'],
    ['system/Patient.write', 'create, update and delete any patient’s Patient records'],
    ['patient/Observation.rs?category=laboratory', 'read and search the patient’s Observation records (only some of them)'],
    ['patient/Observation.', 'patient/Observation.'],
    ['sharing_rules', 'sharing_rules'],
  ])('%s → %s', (raw, sentence) => {
    expect(describeScope(raw)).toBe(sentence);
  });
});
