// The demo SMART app: a standalone launch with fhirclient (FHIR.oauth2), then the patient's record.
const base = new URL('../fhir', location.href).href.replace(/\/$/, '');
const status = document.getElementById('status');

function say(text, isError) {
  status.textContent = text;
  status.className = isError ? 'error' : 'muted';
}

function launch() {
  say('Redirecting to Assent…');
  FHIR.oauth2.authorize({
    clientId: 'demo-smart-app',
    scope: 'launch/patient openid fhirUser patient/*.rs offline_access',
    iss: base,
    redirectUri: new URL('./', location.href).href,
  }).catch((err) => say(`Could not start the launch: ${err.message}`, true));
}

function text(concept) {
  return (concept && (concept.text || (concept.coding || []).map((c) => c.display || c.code).join(', '))) || '—';
}

function item(list, value) {
  const li = document.createElement('li');
  li.textContent = value;
  document.getElementById(list).appendChild(li);
}

function resources(bundle) {
  return (bundle.entry || []).map((e) => e.resource);
}

async function show(client) {
  say('Reading your record…');
  const patient = await client.patient.read();
  const name = (patient.name || [])[0] || {};
  document.getElementById('patient-name').textContent = `${(name.given || []).join(' ')} ${name.family || ''}`.trim();
  document.getElementById('patient-details').textContent = `Born ${patient.birthDate || 'unknown'} · ${patient.gender || ''} · Patient/${patient.id}`;
  const search = (type) => client.request(`${type}?patient=${encodeURIComponent(client.patient.id)}`).then(resources);
  const [observations, conditions, medications] = await Promise.all([search('Observation'), search('Condition'), search('MedicationStatement')]);
  for (const o of observations) {
    const row = document.createElement('tr');
    const value = o.valueQuantity ? `${o.valueQuantity.value} ${o.valueQuantity.unit || ''}` : '—';
    for (const cell of [text(o.code), (o.category || []).map(text).join(', '), value, o.effectiveDateTime || '']) {
      const td = document.createElement('td');
      td.textContent = cell;
      row.appendChild(td);
    }
    row.className = 'observation';
    document.getElementById('observations').appendChild(row);
  }
  for (const c of conditions) item('conditions', text(c.code));
  for (const m of medications) item('medications', text(m.medicationCodeableConcept));
  document.getElementById('start').hidden = true;
  document.getElementById('record').hidden = false;
  say(`Granted: ${client.state.tokenResponse.scope}`);
}

document.getElementById('launch').addEventListener('click', launch);
const query = new URLSearchParams(location.search);
if (query.has('code') || query.has('error')) {
  FHIR.oauth2.ready().then(show).catch((err) => say(`The launch failed: ${err.message}`, true));
}
