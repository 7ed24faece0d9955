/** The console's calls to the history, search and report routes (docs/console.md § History). */
import type { IncidentReport, SearchHit } from '../../src/protocol/views.ts';
import { call } from './api.ts';

export interface SearchForm {
  q?: string;
  party?: string;
  precedence?: string;
  status?: string;
  category?: string;
  dir?: string;
  from?: string;
  to?: string;
  id?: string;
}

export const historyApi = {
  search: (form: SearchForm, lang: string) => {
    const params = new URLSearchParams({ lang });
    for (const [k, v] of Object.entries(form)) if (v?.trim()) params.set(k, v.trim());
    return call<SearchHit[]>('GET', `/api/v1/search?${params}`);
  },
  report: (incident: string) =>
    call<IncidentReport>('GET', `/api/v1/incidents/${encodeURIComponent(incident)}/report`),
  cap: (incident: string) =>
    call<{ xml: string }>('POST', `/api/v1/incidents/${encodeURIComponent(incident)}/cap`, {}),
};

/** Asks the node's machine-translation endpoint for a local translation of a received text. */
export function translateByMachine(party: string, id: string, lang: string, desk: string) {
  return call(
    'POST',
    `/api/v1/messages/${encodeURIComponent(party)}/${encodeURIComponent(id)}/translations/machine`,
    {
      lang,
      desk,
    },
  );
}

/** Offers `text` to the browser as a file download. */
export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
