/** English and Chinese for every label; each person's choice is remembered in this browser. */
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import { alarmsEn } from './locales/alarms.en.ts';
import { alarmsZh } from './locales/alarms.zh.ts';
import { en } from './locales/en.ts';
import { factorsEn } from './locales/factors.en.ts';
import { factorsZh } from './locales/factors.zh.ts';
import { flowsEn } from './locales/flows.en.ts';
import { flowsZh } from './locales/flows.zh.ts';
import { frameworksEn } from './locales/frameworks.en.ts';
import { frameworksZh } from './locales/frameworks.zh.ts';
import { historyEn } from './locales/history.en.ts';
import { historyZh } from './locales/history.zh.ts';
import { incidentsEn } from './locales/incidents.en.ts';
import { incidentsZh } from './locales/incidents.zh.ts';
import { keysEn } from './locales/keys.en.ts';
import { keysZh } from './locales/keys.zh.ts';
import { pushEn } from './locales/push.en.ts';
import { pushZh } from './locales/push.zh.ts';
import { regimesEn } from './locales/regimes.en.ts';
import { regimesZh } from './locales/regimes.zh.ts';
import { zh } from './locales/zh.ts';

export const LANGUAGES = ['en', 'zh'] as const;
export type Lang = (typeof LANGUAGES)[number];

const LAST = 'hotline.lang';
const ofUser = (user: string) => `hotline.lang.${user}`;

function pick(value: string | null): Lang | undefined {
  return LANGUAGES.find((l) => l === value);
}

/** Before sign-in: the last language used here, else the browser's. */
function initial(): Lang {
  return pick(localStorage.getItem(LAST)) ?? (navigator.language.startsWith('zh') ? 'zh' : 'en');
}

void i18next.use(initReactI18next).init({
  // The incident, approvals and drills pages' labels live in their own files, under `inc`.
  resources: {
    en: {
      translation: {
        ...en,
        inc: incidentsEn,
        hist: historyEn,
        sf: factorsEn,
        push: pushEn,
        fw: frameworksEn,
        flow: flowsEn,
        reg: regimesEn,
        al: alarmsEn,
        keys: keysEn,
      },
    },
    zh: {
      translation: {
        ...zh,
        inc: incidentsZh,
        hist: historyZh,
        sf: factorsZh,
        push: pushZh,
        fw: frameworksZh,
        flow: flowsZh,
        reg: regimesZh,
        al: alarmsZh,
        keys: keysZh,
      },
    },
  },
  lng: initial(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  returnNull: false,
});
const htmlLang = (lang: string) => (lang === 'zh' ? 'zh-CN' : 'en');
document.documentElement.lang = htmlLang(i18next.language);

export function setLanguage(lang: Lang, user?: string): void {
  localStorage.setItem(LAST, lang);
  if (user) localStorage.setItem(ofUser(user), lang);
  document.documentElement.lang = htmlLang(lang);
  void i18next.changeLanguage(lang);
}

/** After sign-in: this person's own choice, if they made one here. */
export function languageOf(user: string): Lang | undefined {
  return pick(localStorage.getItem(ofUser(user)));
}

export default i18next;
