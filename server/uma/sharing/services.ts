import type { Services } from '../../http/services.js';

/** What the owner's side of UMA (rules, preview, requests, RPTs, history) needs of the services. */
export type SharingServices = Pick<Services, 'config' | 'policy' | 'decisions' | 'accounts' | 'clients' | 'tokens' | 'resources' | 'sharingRules' | 'uma'>;
